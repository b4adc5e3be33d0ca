"""``python -m secure_phone.audit_cli``: verify the chain, purge past retention (spec §9).

On SQLite and PostgreSQL (``db_url``), in-process through ``main`` and as a real subprocess with
``REFLEX_DB_URL``, with explicit ``now`` values around the 12-month retention.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from secure_phone import audit_cli
from secure_phone.adapters.db import read_only, transaction
from secure_phone.adapters.models import AuditEntry, AuditHead
from secure_phone.domain.policy import DEFAULT_POLICY
from secure_phone.services.audit import (
    ANCHOR_ID,
    GENESIS,
    SYSTEM,
    ChainBroken,
    check_chain,
    purge,
    record,
    verify_chain,
)
from tests.integration.helpers import CAMILLE, T0, World, customer_actor, world  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[2]
NOW = T0  # the moment of the purge
RETENTION = DEFAULT_POLICY.audit_retention
CUTOFF = NOW - RETENTION
# Entries recorded this long before NOW, oldest first: three past retention, one exactly on the
# cutoff (kept: not *older* than 12 months), then recent ones.
AGES = [timedelta(days=500), timedelta(days=400), RETENTION + timedelta(seconds=1), RETENTION,
        timedelta(days=200), timedelta(days=10), timedelta(minutes=5)]
PAST_RETENTION = 3


def demo_trail(world: World, ages: list[timedelta] = AGES) -> list[AuditEntry]:
    """A few entries for Camille, recorded with ``record`` at the given ages before NOW."""
    cid = world.cid(CAMILLE)
    actor = customer_actor(cid)
    actions = ["login", "number_entered", "change_requested", "approval", "refusal", "fraud_alert", "logout"]
    for i, age in enumerate(ages):
        with transaction(world.url) as s:
            record(s, actor, actions[i % len(actions)], "ok", now=NOW - age, customer_id=cid, step=i,
                   number="07 •• •• •• 32")
    return world.audit()


def cli(*args: str) -> int:
    return audit_cli.main(list(args))


def intact(entries: int, file: Path, checkpoints: int = 0, newest: int | None = None) -> str:
    """What ``verify`` prints for an intact trail (with ``checkpoints`` signed lines in ``file``)."""
    if checkpoints == 0:
        return f"audit chain intact: {entries} entries; no checkpoint written yet ({file})"
    plural = "checkpoint" if checkpoints == 1 else "checkpoints"
    return (f"audit chain intact: {entries} entries; {checkpoints} signed {plural} verified, the newest at "
            f"entry #{newest} ({file})")


def run_cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REFLEX_DB_URL": url}
    return subprocess.run([sys.executable, "-m", "secure_phone.audit_cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def tamper_details(url: str, entry_id: int) -> None:
    with transaction(url) as s:
        row = s.get(AuditEntry, entry_id)
        assert row is not None
        row.details = json.dumps({**json.loads(row.details), "step": 99}, sort_keys=True)
        s.add(row)


def delete_entry(url: str, entry_id: int) -> None:
    with transaction(url) as s:
        s.delete(s.get(AuditEntry, entry_id))


def anchor(url: str) -> str | None:
    with read_only(url) as s:
        row = s.get(AuditHead, ANCHOR_ID)
    return row.last_hash if row is not None else None


# --- verify -----------------------------------------------------------------------------------


def test_verify_an_intact_chain(world: World, checkpoint_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    entries = demo_trail(world)

    assert cli("--db-url", world.url, "verify") == 0
    assert capsys.readouterr().out.strip() == intact(len(entries), checkpoint_file)


def test_verify_an_empty_trail(world: World, checkpoint_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert world.audit() == []
    assert cli("--db-url", world.url, "verify") == 0
    assert capsys.readouterr().out.strip() == intact(0, checkpoint_file)


def test_verify_names_the_altered_entry(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    entries = demo_trail(world)
    target = entries[4]
    tamper_details(world.url, target.id)  # type: ignore[arg-type]

    assert cli("--db-url", world.url, "verify") == 1
    out = capsys.readouterr().out.strip()
    assert out == (f"audit chain broken at entry #{target.id} "
                   f"(at {target.at.astimezone(UTC).isoformat()}, action {target.action})")


def test_verify_reports_entries_removed_at_the_end(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    entries = demo_trail(world)
    delete_entry(world.url, entries[-1].id)  # type: ignore[arg-type]

    assert cli("--db-url", world.url, "verify") == 1
    assert capsys.readouterr().out.strip() == (
        f"audit chain broken: entries removed at the end of the chain (last entry left: #{entries[-2].id})")


def test_verify_uses_reflex_db_url(world: World, checkpoint_file: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    entries = demo_trail(world)
    monkeypatch.setenv("REFLEX_DB_URL", world.url)

    assert cli("verify") == 0
    assert capsys.readouterr().out.strip() == intact(len(entries), checkpoint_file)


def test_subprocess_verify_intact_then_broken(world: World, checkpoint_file: Path) -> None:
    entries = demo_trail(world)

    done = run_cli(world.url, "verify")
    assert (done.returncode, done.stdout.strip()) == (0, intact(len(entries), checkpoint_file)), done.stderr

    tamper_details(world.url, entries[2].id)  # type: ignore[arg-type]
    done = run_cli(world.url, "verify")
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith(f"audit chain broken at entry #{entries[2].id} (at ")
    assert f"action {entries[2].action})" in done.stdout


# --- purge ------------------------------------------------------------------------------------


def test_purge_removes_only_entries_older_than_twelve_months(world: World, checkpoint_file: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    entries = demo_trail(world)

    assert cli("--db-url", world.url, "purge", "--now", NOW.isoformat()) == 0
    assert capsys.readouterr().out.strip() == (
        f"audit purge: {PAST_RETENTION} entries removed (recorded before {CUTOFF.isoformat()}, retention 365 days)")

    after = world.audit()
    # Then a checkpoint is signed, and recorded.
    signed = after.pop()
    assert (signed.action, json.loads(signed.details)) == ("audit_checkpoint", {"id": after[-1].id,
                                                                                "hash": after[-1].hash})
    kept = entries[PAST_RETENTION:]
    assert [e.id for e in after[:-1]] == [e.id for e in kept]
    assert all(e.at >= CUTOFF for e in after)
    assert after[0].at == CUTOFF  # exactly 12 months old: kept
    # The purge is itself audited, after the deletion, and names the new start of the chain.
    purged = after[-1]
    assert (purged.action, purged.outcome, purged.actor_kind, purged.channel) == ("audit_purged", "ok", "system", "cli")
    assert purged.at == NOW
    assert json.loads(purged.details) == {"count": PAST_RETENTION, "cutoff": CUTOFF.isoformat(),
                                          "anchor": kept[0].prev_hash}
    assert anchor(world.url) == kept[0].prev_hash == entries[PAST_RETENTION - 1].hash

    assert cli("--db-url", world.url, "verify") == 0
    assert capsys.readouterr().out.strip() == intact(len(kept) + 2, checkpoint_file, 1, purged.id)


def test_purge_with_nothing_to_remove_anchors_at_genesis(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    entries = demo_trail(world, [timedelta(days=100), timedelta(days=1)])

    assert cli("--db-url", world.url, "purge", "--now", NOW.isoformat()) == 0
    assert capsys.readouterr().out.startswith("audit purge: 0 entries removed")
    assert anchor(world.url) == GENESIS
    assert [e.id for e in world.audit()[:-2]] == [e.id for e in entries]
    assert cli("--db-url", world.url, "verify") == 0


def test_purge_on_an_empty_trail(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("--db-url", world.url, "purge", "--now", NOW.isoformat()) == 0
    assert capsys.readouterr().out.startswith("audit purge: 0 entries removed")
    assert [e.action for e in world.audit()] == ["audit_purged", "audit_checkpoint"]
    assert cli("--db-url", world.url, "verify") == 0


def test_purge_is_contiguous_from_the_oldest(world: World) -> None:
    """An old-dated entry recorded after a recent one (a server with a wrong clock) stays: no hole."""
    entries = demo_trail(world, [timedelta(days=500), timedelta(days=10), timedelta(days=450), timedelta(days=1)])

    with transaction(world.url) as s:
        assert purge(s, now=NOW, retention=RETENTION) == 1
    assert [e.id for e in world.audit()[:-1]] == [e.id for e in entries[1:]]
    assert chain_ok(world)


def test_repeated_purges_keep_a_verifiable_chain(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    demo_trail(world)
    later = NOW + timedelta(days=250)  # the entries on the first cutoff and of 200 days are then past

    assert cli("--db-url", world.url, "purge", "--now", NOW.isoformat()) == 0
    assert cli("--db-url", world.url, "purge", "--now", NOW.isoformat()) == 0  # again: nothing more
    assert cli("--db-url", world.url, "purge", "--now", later.isoformat()) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"audit purge: {PAST_RETENTION} entries")
    assert out[1].startswith("audit purge: 0 entries")
    assert out[2].startswith("audit purge: 2 entries")  # the one on the old cutoff, and the one of 200 days

    remaining = world.audit()
    assert all(e.at >= later - RETENTION for e in remaining)
    assert [e.action for e in remaining].count("audit_purged") == 3
    assert anchor(world.url) == remaining[0].prev_hash
    assert chain_ok(world)

    much_later = NOW + timedelta(days=800)  # everything is past retention, the purges' entries too
    assert cli("--db-url", world.url, "purge", "--now", much_later.isoformat()) == 0
    assert [e.action for e in world.audit()] == ["audit_purged", "audit_checkpoint"]
    assert chain_ok(world)
    assert cli("--db-url", world.url, "verify") == 0  # the checkpoints of purged entries included


def test_subprocess_purge(world: World, checkpoint_file: Path) -> None:
    demo_trail(world)

    done = run_cli(world.url, "purge", "--now", NOW.isoformat())
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"audit purge: {PAST_RETENTION} entries removed")
    done = run_cli(world.url, "verify")
    kept = len(AGES) - PAST_RETENTION + 2  # with the purge's own entry and its checkpoint's
    purged = world.audit(action="audit_purged")[-1]
    assert (done.returncode, done.stdout.strip()) == (0, intact(kept, checkpoint_file, 1, purged.id))


def test_purge_without_now_uses_the_current_time(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    demo_trail(world, [timedelta(days=1)])  # T0 (2025) + 1 day ago: long past retention today
    assert cli("--db-url", world.url, "purge") == 0
    assert capsys.readouterr().out.startswith("audit purge: 1 entry removed")
    purged = world.audit()[-2]
    assert purged.action == "audit_purged"
    assert abs(purged.at - datetime.now(UTC)) < timedelta(minutes=5)


# --- tampering after a purge --------------------------------------------------------------------


def chain_ok(world: World) -> bool:
    with read_only(world.url) as s:
        return verify_chain(s) is None


def purged_trail(world: World) -> list[AuditEntry]:
    demo_trail(world)
    with transaction(world.url) as s:
        assert purge(s, now=NOW, retention=RETENTION) == PAST_RETENTION
    assert chain_ok(world)
    return world.audit()


def test_altering_a_kept_entry_after_a_purge_is_detected(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    kept = purged_trail(world)
    for target in (kept[0], kept[2]):
        tamper_details(world.url, target.id)  # type: ignore[arg-type]
        assert cli("--db-url", world.url, "verify") == 1
        assert capsys.readouterr().out.startswith(f"audit chain broken at entry #{kept[0].id} (at ")


def test_deleting_the_oldest_kept_entry_is_detected_at_the_next_one(world: World) -> None:
    kept = purged_trail(world)
    delete_entry(world.url, kept[0].id)  # type: ignore[arg-type]

    with read_only(world.url) as s:
        assert verify_chain(s) == kept[1].id


def test_deleting_old_entries_and_moving_the_anchor_is_detected(world: World,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """Hiding a removal by moving the anchor: the last purge recorded the anchor it left."""
    kept = purged_trail(world)
    with transaction(world.url) as s:
        s.delete(s.get(AuditEntry, kept[0].id))
        s.get(AuditHead, ANCHOR_ID).last_hash = kept[1].prev_hash  # type: ignore[union-attr]

    assert cli("--db-url", world.url, "verify") == 1
    out = capsys.readouterr().out.strip()
    assert out.startswith(f"audit chain broken at entry #{kept[1].id} (at ")
    assert out.endswith("entries removed at the start of the chain, beyond the recorded purges")


def test_an_anchor_set_without_any_purge_is_detected(world: World) -> None:
    """Deleting the first entries and forging an anchor when no purge ever ran."""
    entries = demo_trail(world)
    with transaction(world.url) as s:
        s.delete(s.get(AuditEntry, entries[0].id))
        s.add(AuditHead(id=ANCHOR_ID, last_hash=entries[1].prev_hash))

    with read_only(world.url) as s:
        report = check_chain(s)
    assert (report.broken_at, report.problem) == (entries[1].id, "start")


def test_deleting_the_anchor_after_a_purge_is_detected(world: World) -> None:
    kept = purged_trail(world)
    with transaction(world.url) as s:
        s.delete(s.get(AuditHead, ANCHOR_ID))

    with read_only(world.url) as s:
        assert verify_chain(s) == kept[0].id


def test_removing_the_last_purge_entry_is_detected(world: World) -> None:
    kept = purged_trail(world)
    delete_entry(world.url, kept[-1].id)  # type: ignore[arg-type]

    with read_only(world.url) as s:
        assert verify_chain(s) == -1


def test_purge_refuses_a_broken_chain_and_removes_nothing(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    entries = demo_trail(world)
    tamper_details(world.url, entries[1].id)  # type: ignore[arg-type]  (an entry past retention)

    assert cli("--db-url", world.url, "purge", "--now", NOW.isoformat()) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"audit purge refused, nothing removed: audit chain broken at entry #{entries[1].id}")
    assert [e.id for e in world.audit()] == [e.id for e in entries]
    assert anchor(world.url) is None
    with transaction(world.url) as s, pytest.raises(ChainBroken):
        purge(s, now=NOW, retention=RETENTION)


# --- concurrency --------------------------------------------------------------------------------


def test_appends_during_a_purge_keep_the_chain_intact(world: World) -> None:
    """``record`` and ``purge`` both lock the head row: appends land before or after the purge."""
    demo_trail(world)
    errors: list[BaseException] = []

    def append(n: int) -> None:
        try:
            for i in range(5):
                with transaction(world.url) as s:
                    record(s, SYSTEM, "concurrent", "ok", now=NOW, worker=n, i=i)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    def purge_now() -> None:
        try:
            with transaction(world.url) as s:
                purge(s, now=NOW, retention=RETENTION)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=append, args=(n,)) for n in range(3)] + [threading.Thread(target=purge_now)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    entries = world.audit()
    assert len([e for e in entries if e.action == "concurrent"]) == 15
    assert [e.action for e in entries].count("audit_purged") == 1
    assert chain_ok(world)


# --- usage and errors ---------------------------------------------------------------------------


@pytest.mark.parametrize("args", [[], ["check"], ["purge", "--now", "yesterday"], ["verify", "--now", "x"]])
def test_usage_errors_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli(*args)
    assert exit_info.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_now_without_a_zone_is_utc(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    demo_trail(world)
    naive = NOW.replace(tzinfo=None).isoformat()
    assert cli("--db-url", world.url, "purge", "--now", naive) == 0
    assert capsys.readouterr().out.startswith(f"audit purge: {PAST_RETENTION} entries removed")


def test_a_database_without_the_tables_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    assert cli("--db-url", url, "verify") == 2
    assert capsys.readouterr().err.startswith("error: cannot use the audit trail database: no such table")
    assert cli("--db-url", url, "purge") == 2


def test_an_unknown_database_driver_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli("--db-url", "nosuchdb://nowhere/x", "verify") == 2
    assert capsys.readouterr().err.startswith("error: cannot use the audit trail database:")


def test_subprocess_usage_error(world: World) -> None:
    done = run_cli(world.url, "purge", "--now", "not-a-date")
    assert done.returncode == 2
    assert "invalid date-time 'not-a-date'" in done.stderr


def test_purged_entries_are_gone_from_the_table(world: World) -> None:
    entries = purged_trail(world)
    with read_only(world.url) as s:
        ids = set(s.exec(select(AuditEntry.id)))
    assert ids == {e.id for e in entries}
    assert min(ids) > PAST_RETENTION  # the three oldest rows are deleted, not hidden
