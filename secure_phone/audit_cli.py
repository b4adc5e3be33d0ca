"""Audit trail commands (spec §9, §12.2): verify the keyed chain and its signed checkpoints, write a
checkpoint, purge what is past retention.

    python -m secure_phone.audit_cli verify
    python -m secure_phone.audit_cli checkpoint
    python -m secure_phone.audit_cli purge [--now 2026-06-02T08:00:00+00:00]

They work on the app's database: ``--db-url``, else ``REFLEX_DB_URL``, else rxconfig's default; the
keys derive from the server secret (``SECURE_PHONE_SECRET``…, see ``secure_phone.settings``) and the
checkpoints go to ``SECURE_PHONE_AUDIT_CHECKPOINTS``, else a file of the keys folder per database.

``verify`` checks every entry's MAC from the purge anchor to the head, then every line of the
checkpoint file (signed, naming an entry that is there with that hash or was purged since, every
recorded checkpoint present), and prints one line: intact, or the first entry that does not match
(id, date, action), or what is wrong with the checkpoints and in which file. ``purge`` writes a
checkpoint once it is done.

Exit codes: 0 the trail is intact / the checkpoint or the purge is done; 1 the trail is broken (the
purge then removes nothing: tampered entries are evidence); 2 usage error, the database or the
checkpoint file cannot be used, or the configuration is incomplete.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError

from secure_phone.adapters.db import default_url, read_only, transaction
from secure_phone.domain.policy import DEFAULT_POLICY
from secure_phone.services.audit import (
    Actor,
    ChainBroken,
    ChainReport,
    TrailReport,
    check_trail,
    checkpoint,
    purge,
)
from secure_phone.services.unit_of_work import UnitOfWork
from secure_phone.settings import ConfigurationError, audit_checkpoint_file

OK, BROKEN, ERROR = 0, 1, 2
CLI_ACTOR = Actor(kind="system", id="audit_cli", channel="cli")


def _instant(text: str) -> datetime:
    """An ISO 8601 date-time; without a zone it is UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid date-time {text!r}: use ISO 8601, e.g. 2026-06-02T08:00:00+00:00") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _at(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat() if moment else "?"


def describe(report: ChainReport) -> str:
    """One line saying whether the chain is intact, or where it breaks."""
    if report.intact:
        return f"audit chain intact: {report.entries} entries"
    if report.problem == "end":
        left = f"last entry left: #{report.last_id}" if report.last_id is not None else "no entry left"
        return f"audit chain broken: entries removed at the end of the chain ({left})"
    line = f"audit chain broken at entry #{report.broken_at} (at {_at(report.at)}, action {report.action})"
    if report.problem == "start":
        line += ": entries removed at the start of the chain, beyond the recorded purges"
    return line


def _checkpoints(count: int) -> str:
    return f"{count} signed checkpoint" + ("" if count == 1 else "s")


def describe_trail(report: TrailReport) -> str:
    """One line for ``verify``: the chain's (see :func:`describe`), or what the checkpoints say."""
    if not report.chain.intact:
        return describe(report.chain)
    file, problem = report.path, report.problem
    if problem is None:
        if report.checkpoints == 0 and report.recorded == 0:
            return f"{describe(report.chain)}; no checkpoint written yet ({file})"
        return (f"{describe(report.chain)}; {_checkpoints(report.checkpoints)} verified, the newest at entry "
                f"#{report.newest} ({file})")
    if problem == "differs":
        return (f"audit chain broken at entry #{report.entry_id} (at {_at(report.at)}, action {report.action}): "
                f"it is not the entry signed by the checkpoint on line {report.line} of {file}")
    if problem == "missing":
        named = f"the checkpoint on line {report.line} of {file} names entry #{report.entry_id}"
        last = report.chain.last_id
        assert report.entry_id is not None  # a "missing" report names the entry
        if last is None or report.entry_id > last:
            left = f"last entry left: #{last}" if last is not None else "no entry left"
            return f"audit chain broken: entries removed at the end of the chain ({left}; {named})"
        return f"audit chain broken: entry #{report.entry_id} is missing ({named})"
    if problem == "signature":
        return f"audit checkpoints broken: line {report.line} of {file} is not a signed checkpoint (forged or damaged)"
    if problem == "file_missing":
        return (f"audit checkpoints broken: {file} is missing, yet the trail records {_checkpoints(report.recorded)} "
                f"(the newest at entry #{report.entry_id}, at {_at(report.at)})")
    return (f"audit checkpoints broken: {file} lacks the checkpoint recorded by entry #{report.entry_id} "
            f"(at {_at(report.at)}, action {report.action})")


def _verify(url: str) -> int:
    path = audit_checkpoint_file(url)
    with read_only(url) as session:
        report = check_trail(session, path)
    print(describe_trail(report))
    return OK if report.intact else BROKEN


def _checkpoint(url: str, now: datetime | None = None, quiet: bool = False) -> int:
    written = checkpoint(UnitOfWork(url, now=now), actor=CLI_ACTOR)
    if not quiet:
        if written is None:
            print("audit checkpoint: nothing to sign, the trail is empty")
        else:
            print(f"audit checkpoint: entry #{written.id} signed ({written.count} entries), "
                  f"appended to {audit_checkpoint_file(url)}")
    return OK


def _purge(url: str, now: datetime | None) -> int:
    now = now or datetime.now(UTC)
    retention = DEFAULT_POLICY.audit_retention
    try:
        with transaction(url) as session:
            removed = purge(session, now=now, retention=retention, actor=CLI_ACTOR)
    except ChainBroken as broken:
        print(f"audit purge refused, nothing removed: {describe(broken.report)}", file=sys.stderr)
        return BROKEN
    cutoff = (now.astimezone(UTC) - retention).isoformat()
    print(f"audit purge: {removed} {'entry' if removed == 1 else 'entries'} removed "
          f"(recorded before {cutoff}, retention {retention.days} days)")
    return _checkpoint(url, now, quiet=True)  # once committed: a checkpoint names committed entries only


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(prog="python -m secure_phone.audit_cli",
                                  description="Verify, checkpoint or purge the keyed audit trail.")
    cli.add_argument("--db-url", help="database URL (default: REFLEX_DB_URL, else the app's database)")
    commands = cli.add_subparsers(dest="command", required=True, metavar="{verify,checkpoint,purge}")
    commands.add_parser("verify", help="check every entry and every signed checkpoint; report the first problem")
    commands.add_parser("checkpoint", help="sign the newest entry and append it to the checkpoint file")
    purge_cmd = commands.add_parser(
        "purge", help=f"delete the entries older than the retention ({DEFAULT_POLICY.audit_retention.days} days)")
    purge_cmd.add_argument("--now", type=_instant, default=None,
                           help="the reference instant, ISO 8601 (default: the current time; UTC if no zone)")
    return cli


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        url = args.db_url or default_url()
        if args.command == "verify":
            return _verify(url)
        if args.command == "checkpoint":
            return _checkpoint(url)
        return _purge(url, args.now)
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        print(f"error: cannot use the audit trail database: {reason}", file=sys.stderr)
        return ERROR
    except OSError as error:
        print(f"error: cannot use the audit checkpoint file: {error.filename or ''} ({type(error).__name__})",
              file=sys.stderr)
        return ERROR
    except ConfigurationError as error:
        print(f"error: {error}", file=sys.stderr)
        return ERROR


if __name__ == "__main__":
    sys.exit(main())
