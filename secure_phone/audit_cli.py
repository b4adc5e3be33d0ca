"""Audit trail commands (spec §9): verify the hash chain, purge what is past retention.

    python -m secure_phone.audit_cli verify
    python -m secure_phone.audit_cli purge [--now 2026-06-02T08:00:00+00:00]

Both work on the app's database: ``--db-url``, else ``REFLEX_DB_URL``, else rxconfig's default.

Exit codes: 0 the chain is intact / the purge is done; 1 the chain is broken (the purge then
removes nothing: tampered entries are evidence); 2 usage error or the database cannot be used.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime, timezone

from sqlalchemy.exc import SQLAlchemyError

from secure_phone.adapters.db import default_url, read_only, transaction
from secure_phone.domain.policy import DEFAULT_POLICY
from secure_phone.services.audit import Actor, ChainBroken, ChainReport, check_chain, purge

OK, BROKEN, ERROR = 0, 1, 2
CLI_ACTOR = Actor(kind="system", id="audit_cli", channel="cli")


def _instant(text: str) -> datetime:
    """An ISO 8601 date-time; without a zone it is UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid date-time {text!r}: use ISO 8601, e.g. 2026-06-02T08:00:00+00:00") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def describe(report: ChainReport) -> str:
    """One line saying whether the chain is intact, or where it breaks."""
    if report.intact:
        return f"audit chain intact: {report.entries} entries"
    if report.problem == "end":
        left = f"last entry left: #{report.last_id}" if report.last_id is not None else "no entry left"
        return f"audit chain broken: entries removed at the end of the chain ({left})"
    at = report.at.astimezone(timezone.utc).isoformat() if report.at else "?"
    line = f"audit chain broken at entry #{report.broken_at} (at {at}, action {report.action})"
    if report.problem == "start":
        line += ": entries removed at the start of the chain, beyond the recorded purges"
    return line


def _verify(url: str) -> int:
    with read_only(url) as session:
        report = check_chain(session)
    print(describe(report))
    return OK if report.intact else BROKEN


def _purge(url: str, now: datetime | None) -> int:
    now = now or datetime.now(timezone.utc)
    retention = DEFAULT_POLICY.audit_retention
    try:
        with transaction(url) as session:
            removed = purge(session, now=now, retention=retention, actor=CLI_ACTOR)
    except ChainBroken as broken:
        print(f"audit purge refused, nothing removed: {describe(broken.report)}", file=sys.stderr)
        return BROKEN
    cutoff = (now.astimezone(timezone.utc) - retention).isoformat()
    print(f"audit purge: {removed} {'entry' if removed == 1 else 'entries'} removed "
          f"(recorded before {cutoff}, retention {retention.days} days)")
    return OK


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(prog="python -m secure_phone.audit_cli",
                                  description="Verify or purge the hash-chained audit trail.")
    cli.add_argument("--db-url", help="database URL (default: REFLEX_DB_URL, else the app's database)")
    commands = cli.add_subparsers(dest="command", required=True, metavar="{verify,purge}")
    commands.add_parser("verify", help="check every link of the chain; report the first broken one")
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
        return _purge(url, args.now)
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).splitlines()[0]
        print(f"error: cannot use the audit trail database: {reason}", file=sys.stderr)
        return ERROR


if __name__ == "__main__":
    sys.exit(main())
