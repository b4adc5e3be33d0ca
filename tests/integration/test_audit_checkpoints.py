"""A writer of the database, without the server secret, against the keyed trail and its signed
checkpoints (spec §12.2), on SQLite and PostgreSQL.

The attacker can run any SQL on the database, knows the format of the entries (the code is public)
and can compute plain SHA-256, but holds neither the MAC key nor the signing key, and cannot write
the checkpoint file (a separate test shows what verify says when that file is damaged anyway). Each
test tries one way to rewrite, remove, reorder or truncate entries and checks that
``python -m secure_phone.audit_cli verify`` exits 1 and names what was done.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, insert, update
from sqlmodel import select

from secure_phone import audit_cli
from secure_phone.adapters.db import is_sqlite, read_only, transaction
from secure_phone.adapters.models import AuditEntry, AuditHead
from secure_phone.dispatcher import write_checkpoints
from secure_phone.services.audit import (
    ANCHOR_ID,
    HEAD_ID,
    SYSTEM,
    _b64url,
    _canonical,
    _content,
    check_trail,
    checkpoint,
    public_key,
    purge,
    record,
)
from secure_phone.settings import secret_key
from tests.conftest import run_async
from tests.integration.helpers import T0, World, run_together, world  # noqa: F401  (fixture)

NOW = T0 + timedelta(days=1)


def trail(world: World, count: int = 8, start: datetime = NOW) -> list[AuditEntry]:
    """``count`` entries appended one transaction each, a minute apart."""
    for i in range(count):
        with transaction(world.url) as s:
            record(s, SYSTEM, ("login", "approval", "refusal", "change_completed")[i % 4], "ok",
                   now=start + timedelta(minutes=i), step=i, number="07 •• •• •• 32")
    return world.audit()


def sign(world: World, at: datetime = NOW) -> int:
    """Write a checkpoint; the id of the entry it names."""
    written = checkpoint(world.uow(now=at))
    assert written is not None
    return written.id


def verify(world: World, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = audit_cli.main(["--db-url", world.url, "verify"])
    return code, capsys.readouterr().out.strip()


def at(entry: AuditEntry) -> str:
    return entry.at.astimezone(UTC).isoformat()


def broken_at(entry: AuditEntry) -> str:
    return f"audit chain broken at entry #{entry.id} (at {at(entry)}, action {entry.action})"


def sha256(prev_hash: str, entry: AuditEntry) -> str:
    """What an attacker without the key can compute: plain SHA-256 over the very content the MAC covers."""
    return hashlib.sha256(_content(prev_hash, entry)).hexdigest()


def rechain_without_the_key(url: str, from_id: int, prev: str | None = None) -> None:
    """Recompute every hash from ``from_id`` on with plain SHA-256 (each over the previous entry's new
    hash, or ``prev`` for the first), and move the head: a chain consistent except for the key."""
    with transaction(url) as s:
        rows = list(s.exec(select(AuditEntry).where(AuditEntry.id >= from_id).order_by(AuditEntry.id)))
        if prev is None:
            prev = rows[0].prev_hash
        for row in rows:
            row.prev_hash = prev
            row.hash = prev = sha256(prev, row)
            s.add(row)
        s.get(AuditHead, HEAD_ID).last_hash = prev  # type: ignore[union-attr]


def edit(url: str, entry_id: int, **values: str) -> None:
    with transaction(url) as s:
        s.execute(update(AuditEntry).where(AuditEntry.id == entry_id).values(**values))  # type: ignore[arg-type]


def head(url: str) -> str:
    with read_only(url) as s:
        return s.get(AuditHead, HEAD_ID).last_hash  # type: ignore[union-attr]


# --- rewriting entries ------------------------------------------------------------------------------


def test_an_intact_trail_with_checkpoints_verifies(world: World, checkpoint_file: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    entries = trail(world, 4)
    first = sign(world)
    trail(world, 3)
    second = sign(world)

    assert (first, second) == (entries[-1].id, entries[-1].id + 4)
    assert verify(world, capsys) == (0, f"audit chain intact: 9 entries; 2 signed checkpoints verified, the newest "
                                        f"at entry #{second} ({checkpoint_file})")


def test_editing_a_row_and_rechaining_every_later_hash_with_sha256_names_that_row(
        world: World, capsys: pytest.CaptureFixture[str]) -> None:
    entries = trail(world)
    sign(world)
    target = entries[3]
    edit(world.url, target.id, outcome="refused")  # type: ignore[arg-type]
    rechain_without_the_key(world.url, target.id)  # type: ignore[arg-type]

    assert verify(world, capsys) == (1, broken_at(target))


def test_rechaining_the_whole_trail_without_the_key_fails_at_the_first_entry(
        world: World, capsys: pytest.CaptureFixture[str]) -> None:
    """Every stored hash rewritten: the first entry whose MAC does not match is the first one."""
    entries = trail(world)
    edit(world.url, entries[5].id, details=json.dumps({"step": 99}))  # type: ignore[arg-type]
    rechain_without_the_key(world.url, entries[0].id)  # type: ignore[arg-type]

    assert verify(world, capsys) == (1, broken_at(entries[0]))


def test_editing_the_newest_row_and_moving_the_head_names_it(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    entries = trail(world)
    newest = entries[-1]
    edit(world.url, newest.id, outcome="refused")  # type: ignore[arg-type]
    rechain_without_the_key(world.url, newest.id)  # type: ignore[arg-type]
    assert head(world.url) != newest.hash

    assert verify(world, capsys) == (1, broken_at(newest))


def test_appending_a_forged_entry_names_it(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    entries = trail(world)
    with transaction(world.url) as s:
        forged = AuditEntry(at=NOW + timedelta(hours=1), actor_kind="advisor", actor_id="7", action="freeze_cleared",
                            outcome="ok", details="{}", prev_hash=entries[-1].hash, hash="")
        forged.hash = sha256(forged.prev_hash, forged)
        s.add(forged)
        s.get(AuditHead, HEAD_ID).last_hash = forged.hash  # type: ignore[union-attr]
    forged_row = world.audit()[-1]

    assert verify(world, capsys) == (1, broken_at(forged_row))


def test_inserting_a_forged_entry_in_the_middle_names_it(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    entries = trail(world)
    before = entries[3]
    with transaction(world.url) as s:  # make room after `before`, then slip an entry in
        s.execute(update(AuditEntry).where(AuditEntry.id > before.id).values(id=AuditEntry.id + 1000))  # type: ignore[arg-type,operator]
        forged = AuditEntry(id=before.id + 1, at=before.at, actor_kind="system", action="freeze_cleared", outcome="ok",  # type: ignore[operator]
                            details="{}", prev_hash=before.hash, hash="")
        forged.hash = sha256(before.hash, forged)
        s.add(forged)
        s.flush()
        s.execute(update(AuditEntry).where(AuditEntry.id == entries[4].id + 1000).values(prev_hash=forged.hash))  # type: ignore[arg-type,operator]
    forged_row = next(e for e in world.audit() if e.action == "freeze_cleared")

    assert verify(world, capsys) == (1, broken_at(forged_row))


def test_swapping_two_entries_names_the_first(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    entries = trail(world)
    a, b = entries[2], entries[5]
    columns = [c for c in AuditEntry.__table__.columns.keys() if c != "id"]  # type: ignore[attr-defined]  # noqa: SIM118
    with transaction(world.url) as s:  # the hashes move with the rows (unique: through a placeholder)
        s.execute(update(AuditEntry).where(AuditEntry.id == b.id).values(hash="swap"))  # type: ignore[arg-type]
        s.execute(update(AuditEntry).where(AuditEntry.id == a.id).values({c: getattr(b,
                                                                                     c) for c in columns}))  # type: ignore[arg-type]
        s.execute(update(AuditEntry).where(AuditEntry.id == b.id).values({c: getattr(a,
                                                                                     c) for c in columns}))  # type: ignore[arg-type]
    moved = next(e for e in world.audit() if e.id == a.id)

    assert verify(world, capsys) == (1, broken_at(moved))


def test_removing_a_middle_entry_and_relinking_the_next_names_the_next(world: World,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    entries = trail(world)
    gone, following = entries[3], entries[4]
    with transaction(world.url) as s:
        s.execute(delete(AuditEntry).where(AuditEntry.id == gone.id))  # type: ignore[arg-type]
    rechain_without_the_key(world.url, following.id, prev=entries[2].hash)  # type: ignore[arg-type]

    assert verify(world, capsys) == (1, broken_at(following))


# --- truncating and replacing the trail --------------------------------------------------------------


def truncate(url: str, keep: AuditEntry | None) -> None:
    """Delete every entry after ``keep`` (all of them when None) and move the head back to it."""
    with transaction(url) as s:
        query = delete(AuditEntry)
        if keep is not None:
            query = query.where(AuditEntry.id > keep.id)  # type: ignore[arg-type]
        s.execute(query)
        if keep is None:
            s.execute(delete(AuditHead))
        else:
            s.get(AuditHead, HEAD_ID).last_hash = keep.hash  # type: ignore[union-attr]


def test_removing_the_newest_entries_and_moving_the_head_back_is_caught_by_the_checkpoint(
        world: World, checkpoint_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    entries = trail(world)
    signed = sign(world)
    keep = entries[4]  # three recorded entries, and the checkpoint's own, removed
    truncate(world.url, keep)

    assert verify(world, capsys) == (1, (
        f"audit chain broken: entries removed at the end of the chain (last entry left: #{keep.id}; "
        f"the checkpoint on line 1 of {checkpoint_file} names entry #{signed})"))


def test_truncating_then_recording_anew_is_still_caught(world: World, checkpoint_file: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """After the truncation the app goes on recording: on SQLite the removed ids are handed out again
    (the entry there is not the one signed), on PostgreSQL they are skipped (the entry is missing)."""
    entries = trail(world)
    signed = sign(world)
    truncate(world.url, entries[4])
    trail(world, 5, start=NOW + timedelta(hours=1))

    code, out = verify(world, capsys)
    assert code == 1
    if is_sqlite(world.url):
        reused = next(e for e in world.audit() if e.id == signed)
        assert out == (f"{broken_at(reused)}: it is not the entry signed by the checkpoint on line 1 of "
                       f"{checkpoint_file}")
    else:
        assert out == (f"audit chain broken: entry #{signed} is missing "
                       f"(the checkpoint on line 1 of {checkpoint_file} names entry #{signed})")


def test_emptying_the_whole_trail_is_caught_by_the_checkpoint(world: World, checkpoint_file: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    trail(world)
    signed = sign(world)
    truncate(world.url, None)  # entries, head and anchor rows: an empty database

    assert verify(world, capsys) == (1, (
        f"audit chain broken: entries removed at the end of the chain (no entry left; "
        f"the checkpoint on line 1 of {checkpoint_file} names entry #{signed})"))


def test_restoring_an_older_copy_of_the_trail_is_caught(world: World, checkpoint_file: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """The database rolled back to a copy taken before the latest checkpoints (a consistent, keyed
    trail, only older): the newest checkpoints name entries it does not have."""
    columns = AuditEntry.__table__.columns.keys()  # type: ignore[attr-defined]
    copy = [{c: getattr(e, c) for c in columns} for e in trail(world, 4)]
    copy_head = head(world.url)
    sign(world)  # line 1: the copy's newest entry, still there
    trail(world, 4, start=NOW + timedelta(hours=1))
    newest = sign(world)  # line 2
    with transaction(world.url) as s:
        s.execute(delete(AuditEntry))
        s.execute(insert(AuditEntry), copy)
        s.get(AuditHead, HEAD_ID).last_hash = copy_head  # type: ignore[union-attr]

    assert verify(world, capsys) == (1, (
        f"audit chain broken: entries removed at the end of the chain (last entry left: #{copy[-1]['id']}; "
        f"the checkpoint on line 2 of {checkpoint_file} names entry #{newest})"))


def test_deleting_the_newest_entries_and_the_head_row_is_detected(world: World,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Without any checkpoint: entries left without a head row are a removal at the end."""
    entries = trail(world)
    with transaction(world.url) as s:
        s.execute(delete(AuditEntry).where(AuditEntry.id > entries[4].id))  # type: ignore[arg-type]
        s.execute(delete(AuditHead).where(AuditHead.id == HEAD_ID))  # type: ignore[arg-type]

    assert verify(world, capsys) == (1, (
        f"audit chain broken: entries removed at the end of the chain (last entry left: #{entries[4].id})"))


def test_entries_after_the_newest_checkpoint_are_not_covered_yet(world: World,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """The known limit: what was recorded since the newest checkpoint (at most a minute of the
    dispatcher's interval) can be cut off, with the head moved back, unseen. What it signed cannot."""
    entries = trail(world)
    signed = sign(world)
    trail(world, 3, start=NOW + timedelta(hours=1))
    truncate(world.url, entries[-1])  # the checkpoint's own entry and what followed

    assert entries[-1].id == signed
    assert verify(world, capsys)[0] == 0


# --- the checkpoint file ----------------------------------------------------------------------------


def test_purge_then_verify_is_intact(world: World, checkpoint_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Checkpoints that name entries a later purge removed are still good (signed, and purged since)."""
    old = trail(world, 4, start=T0)
    sign(world, T0)
    trail(world, 3, start=T0 + timedelta(days=200))
    sign(world, T0 + timedelta(days=200))

    assert audit_cli.main(["--db-url", world.url, "purge", "--now", (T0 + timedelta(days=370)).isoformat()]) == 0
    assert capsys.readouterr().out.startswith("audit purge: 5 entries removed")  # the 4 and the first checkpoint's
    assert old[-1].id not in {e.id for e in world.audit()}
    purged = world.audit(action="audit_purged")[-1]
    assert verify(world, capsys) == (0, (
        f"audit chain intact: 6 entries; 3 signed checkpoints verified, the newest at entry #{purged.id} "
        f"({checkpoint_file})"))


def test_a_checkpoint_names_the_newest_entry_and_counts_the_trail(world: World, checkpoint_file: Path) -> None:
    entries = trail(world, 5)
    checkpoint(world.uow(now=NOW))
    trail(world, 2, start=NOW + timedelta(hours=1))
    with transaction(world.url) as s:
        purge(s, now=NOW + timedelta(days=365, minutes=2), retention=timedelta(days=365))  # the first two
    checkpoint(world.uow(now=NOW + timedelta(days=366)))

    lines = [json.loads(line) for line in checkpoint_file.read_text().splitlines()]
    audit = world.audit()
    assert [(c["v"], c["id"], c["hash"], c["count"], c["at"]) for c in lines] == [
        (1, entries[-1].id, entries[-1].hash, 5, NOW.isoformat()),
        (1, audit[-2].id, audit[-2].hash, 5 + 1 + 2 + 1 - 2, (NOW + timedelta(days=366)).isoformat()),
    ]
    with read_only(world.url) as s:
        anchor = s.get(AuditHead, ANCHOR_ID).last_hash  # type: ignore[union-attr]
    assert lines[0]["anchor"] == "0" * 64 and lines[1]["anchor"] == anchor == entries[1].hash
    recorded = world.audit(action="audit_checkpoint")
    assert [json.loads(e.details) for e in recorded] == [{"id": c["id"], "hash": c["hash"]} for c in lines]
    assert checkpoint_file.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("forgery", ["altered hash", "altered id", "another key", "not json", "unsigned"])
def test_a_line_that_does_not_verify_is_reported(world: World, checkpoint_file: Path, forgery: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    entries = trail(world)
    sign(world)
    genuine = json.loads(checkpoint_file.read_text().splitlines()[0])
    fields = {k: v for k, v in genuine.items() if k != "sig"}
    if forgery == "altered hash":
        line = {**genuine, "hash": entries[2].hash}
    elif forgery == "altered id":
        line = {**genuine, "id": entries[2].id}
    elif forgery == "another key":
        line = {**fields, "sig": _b64url(Ed25519PrivateKey.generate().sign(_canonical(fields)))}
    elif forgery == "unsigned":
        line = fields
    with checkpoint_file.open("a") as out:
        out.write("{not json\n" if forgery == "not json" else json.dumps(line) + "\n")

    assert verify(world, capsys) == (1, (
        f"audit checkpoints broken: line 2 of {checkpoint_file} is not a signed checkpoint (forged or damaged)"))


def test_deleting_the_checkpoint_file_after_checkpoints_were_written_is_detected(
        world: World, checkpoint_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    trail(world, 3)
    sign(world)
    trail(world, 2, start=NOW + timedelta(hours=1))
    sign(world, NOW + timedelta(hours=2))
    newest = world.audit()[-1]
    checkpoint_file.unlink()

    assert verify(world, capsys) == (1, (
        f"audit checkpoints broken: {checkpoint_file} is missing, yet the trail records 2 signed checkpoints "
        f"(the newest at entry #{newest.id}, at {at(newest)})"))


def test_removing_the_newest_lines_of_the_file_is_detected(world: World, checkpoint_file: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    trail(world, 3)
    sign(world)
    trail(world, 2, start=NOW + timedelta(hours=1))
    sign(world, NOW + timedelta(hours=2))
    checkpoint_file.write_text(checkpoint_file.read_text().splitlines(keepends=True)[0])
    newest = world.audit()[-1]

    assert verify(world, capsys) == (1, (
        f"audit checkpoints broken: {checkpoint_file} lacks the checkpoint recorded by entry #{newest.id} "
        f"(at {at(newest)}, action audit_checkpoint)"))


def test_a_missing_file_is_fine_while_no_checkpoint_was_written(world: World, checkpoint_file: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    trail(world, 3)
    assert not checkpoint_file.exists()
    assert verify(world, capsys) == (0, f"audit chain intact: 3 entries; no checkpoint written yet ({checkpoint_file})")


# --- writing checkpoints ------------------------------------------------------------------------------


def test_the_checkpoint_command(world: World, checkpoint_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert audit_cli.main(["--db-url", world.url, "checkpoint"]) == 0
    assert capsys.readouterr().out.strip() == "audit checkpoint: nothing to sign, the trail is empty"
    assert not checkpoint_file.exists()

    entries = trail(world, 3)
    assert audit_cli.main(["--db-url", world.url, "checkpoint"]) == 0
    assert capsys.readouterr().out.strip() == (
        f"audit checkpoint: entry #{entries[-1].id} signed (3 entries), appended to {checkpoint_file}")
    recorded = world.audit()[-1]
    assert (recorded.action, recorded.actor_kind, recorded.channel) == ("audit_checkpoint", "system", "cli")
    assert verify(world, capsys)[0] == 0


def test_a_checkpoint_file_that_cannot_be_written_is_an_error_and_records_nothing(
        world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    trail(world, 3)
    monkeypatch.setenv("SECURE_PHONE_AUDIT_CHECKPOINTS", str(tmp_path / "no-such-folder" / "checkpoints.jsonl"))

    assert audit_cli.main(["--db-url", world.url, "checkpoint"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: cannot use the audit checkpoint file: {tmp_path / 'no-such-folder' / 'checkpoints.jsonl'} "
        "(FileNotFoundError)")
    assert [e.action for e in world.audit()] == ["login", "approval", "refusal"]


def test_verify_without_the_server_secret_is_a_configuration_error(world: World, monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    trail(world, 2)
    monkeypatch.delenv("SECURE_PHONE_SECRET")
    monkeypatch.setenv("SECURE_PHONE_EXTERNAL_DISPATCHER", "1")  # the scale-out mode: no secret made up
    secret_key.cache_clear()

    assert audit_cli.main(["--db-url", world.url, "verify"]) == 2
    assert capsys.readouterr().err.startswith("error: SECURE_PHONE_SECRET (or SECURE_PHONE_SECRET_FILE) is required")


def test_two_concurrent_checkpoint_writers_write_whole_valid_lines(world: World, checkpoint_file: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    trail(world, 3)
    results = run_together(*[lambda: checkpoint(world.uow(now=NOW))] * 2)
    assert not [r for r in results if isinstance(r, BaseException)], results

    lines = checkpoint_file.read_bytes().splitlines(keepends=True)
    assert len(lines) == 2 and all(line.endswith(b"\n") for line in lines)
    first, second = sorted(results, key=lambda c: c.id)
    assert second.id == first.id + 1  # the second names the first's own entry: they did not interleave
    assert verify(world, capsys)[0] == 0

    # Two dispatchers' passes with nothing new since: one of them writes.
    trail(world, 1, start=NOW + timedelta(hours=1))
    results = run_together(*[lambda: checkpoint(world.uow(now=NOW), only_if_new=True)] * 2)
    assert sorted(r is None for r in results) == [False, True], results
    assert len(checkpoint_file.read_bytes().splitlines()) == 3
    assert verify(world, capsys)[0] == 0


def test_verify_while_entries_and_checkpoints_are_written(world: World, checkpoint_file: Path) -> None:
    """Verify reads the file, then one snapshot of the database: it never sees a checkpoint of an entry
    it cannot see, nor a recorded checkpoint whose line it missed."""
    trail(world, 3)

    def append() -> None:
        for i in range(20):
            with transaction(world.url) as s:
                record(s, SYSTEM, "concurrent", "ok", now=NOW, i=i)

    def checkpoints() -> None:
        for _ in range(10):
            checkpoint(world.uow(now=NOW))

    def verifications() -> list[str | None]:
        problems = []
        for _ in range(10):
            with read_only(world.url) as s:
                report = check_trail(s, checkpoint_file)
            problems.append(None if report.intact else f"{report.chain.problem} {report.problem}")
        return problems

    results = run_together(append, checkpoints, verifications)
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert results[2] == [None] * 10


def test_a_checkpoint_written_between_reading_the_file_and_the_database_is_no_false_alarm(
        world: World, checkpoint_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The worst moment: the file was read, then a checkpoint is written and committed, then the
    database is read (it shows the new audit_checkpoint entry whose line the first read missed)."""
    from secure_phone.services import audit

    trail(world, 3)
    sign(world)
    trail(world, 2, start=NOW + timedelta(hours=1))
    before_snapshot = audit._snapshot

    def checkpoint_then_snapshot(session):  # type: ignore[no-untyped-def]
        sign(world, NOW + timedelta(hours=2))
        before_snapshot(session)

    monkeypatch.setattr(audit, "_snapshot", checkpoint_then_snapshot)
    with read_only(world.url) as s:
        report = check_trail(s, checkpoint_file)
    assert (report.intact, report.recorded, report.checkpoints) == (True, 2, 1)


# --- the dispatcher's periodic checkpoints -----------------------------------------------------------


async def until(condition, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    """Wait (polling) until ``condition()`` holds; the passes' timing is the machine's."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


def lines_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_the_dispatcher_writes_a_checkpoint_when_entries_were_added(world: World, checkpoint_file: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from secure_phone.services import audit

    passes: list[object] = []
    real = checkpoint

    def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
        passes.append(None)
        return real(*args, **kwargs)

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(write_checkpoints(stop, world.url, interval=0.02))
        await until(lambda: len(passes) >= 3)  # passes over an empty trail: nothing to sign
        assert not checkpoint_file.exists()
        await asyncio.to_thread(trail, world, 1)
        await until(lambda: len(lines_of(checkpoint_file)) == 1)
        seen = len(passes)
        await until(lambda: len(passes) >= seen + 3)  # passes with nothing new: nothing more
        assert len(lines_of(checkpoint_file)) == 1
        await asyncio.to_thread(trail, world, 1, NOW + timedelta(hours=1))
        stop.set()  # the way out signs what came since (if no pass did)
        await asyncio.wait_for(task, 20)

    monkeypatch.setattr(audit, "checkpoint", counted)  # the task imports it at its start
    run_async(scenario())
    recorded = [e for e in world.audit() if e.action != "audit_checkpoint"]
    assert [c["id"] for c in lines_of(checkpoint_file)] == [recorded[0].id, recorded[1].id]
    with read_only(world.url) as s:
        assert check_trail(s, checkpoint_file).intact


def test_the_dispatcher_logs_a_failed_checkpoint_without_data_and_retries(
        world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    trail(world, 2)
    folder = tmp_path / "mounted-later"
    monkeypatch.setenv("SECURE_PHONE_AUDIT_CHECKPOINTS", str(folder / "checkpoints.jsonl"))

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(write_checkpoints(stop, world.url, interval=0.02))
        await until(lambda: len(caplog.records) >= 2)  # failed, and tried again
        folder.mkdir()  # the folder is back: a later pass writes
        await until(lambda: len(lines_of(folder / "checkpoints.jsonl")) == 1)
        stop.set()
        await asyncio.wait_for(task, 20)

    with caplog.at_level(logging.ERROR, logger="secure_phone.dispatcher"):
        run_async(scenario())
    assert {r.getMessage() for r in caplog.records} == {"audit checkpoint failed (FileNotFoundError); retrying"}
    assert len(lines_of(folder / "checkpoints.jsonl")) == 1
    assert [e.action for e in world.audit()].count("audit_checkpoint") == 1


def test_the_public_key_verifies_the_lines(world: World, checkpoint_file: Path) -> None:
    """An auditor holding only the public key can check the file."""
    trail(world, 2)
    sign(world)
    line = json.loads(checkpoint_file.read_text())
    signature = line.pop("sig")
    public_key().verify(base64.urlsafe_b64decode(signature + "=="), _canonical(line))  # raises if it does not
