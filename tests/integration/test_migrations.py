"""The Alembic chain on SQLite and PostgreSQL: the schema, and the audit trail's re-keying (000496519408)."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import alembic.config
import alembic.script
import pytest
import sqlalchemy
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.runtime.environment import EnvironmentContext
from sqlmodel import SQLModel, select

from secure_phone import audit_cli
from secure_phone.adapters import db, models  # noqa: F401  (the tables)
from secure_phone.adapters.db import read_only, transaction
from secure_phone.adapters.migrate import ROOT, migrate
from secure_phone.adapters.models import AuditEntry, AuditHead
from secure_phone.services.audit import ANCHOR_ID, GENESIS, HEAD_ID, _content, check_chain
from secure_phone.settings import secret_key
from tests.conftest import PG_ADMIN_URL, require_service


def test_migration_chain_creates_every_table(db_url: str) -> None:
    names = set(sqlalchemy.inspect(db.get_engine(db_url)).get_table_names())
    assert {t.name for t in SQLModel.metadata.sorted_tables} <= names
    assert "alembic_version" in names


def test_the_migrations_make_exactly_what_the_models_say(db_url: str) -> None:
    """Columns, types, indexes, foreign keys: a model changed without its migration (or the reverse) fails here."""
    with db.get_engine(db_url).connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert differences == []


# --- 000496519408: the audit trail re-keyed from plain SHA-256 to the keyed MAC ---------------------

BEFORE, REKEY = "df2fc2cc0f31", "000496519408"
T0 = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def old_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A database of its own, migrated to the revision before the re-keying, with a known server secret."""
    monkeypatch.setenv("SECURE_PHONE_SECRET", "migration-test-secret-0123456789abcdef")
    secret_key.cache_clear()
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        require_service("PostgreSQL", "127.0.0.1", 5432)
        name = f"secure_phone_mig_{uuid.uuid4().hex[:10]}"
        admin = sqlalchemy.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    migrate(url, BEFORE)
    try:
        yield url
    finally:
        db.get_engine(url).dispose()
        secret_key.cache_clear()
        if request.param == "postgresql":
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()


def version(url: str) -> str:
    with db.get_engine(url).connect() as conn:
        return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one()


def downgrade(url: str, target: str) -> None:
    config = alembic.config.Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    script = alembic.script.ScriptDirectory.from_config(config)
    with db.get_engine(url).connect() as connection:
        with EnvironmentContext(config, script, fn=lambda rev, _: script._downgrade_revs(target, rev)) as env:
            env.configure(connection=connection)
            with env.begin_transaction():
                env.run_migrations()
        connection.commit()


def sha256_trail(url: str, count: int = 12, purged: int = 4) -> list[AuditEntry]:
    """A trail as the app wrote it before: each hash plain SHA-256; the ``purged`` oldest entries
    removed by a purge (anchor row and ``audit_purged`` entry), as ``services.audit.purge`` did."""
    prev = GENESIS
    with transaction(url) as s:
        def append(action: str, at: datetime, **details: object) -> AuditEntry:
            nonlocal prev
            entry = AuditEntry(at=at, actor_kind="system", action=action, outcome="ok", channel="cli",
                               details=json.dumps(details, sort_keys=True), prev_hash=prev, hash="")
            entry.hash = prev = hashlib.sha256(_content(prev, entry)).hexdigest()
            s.add(entry)
            return entry

        made = [append("login", T0 + timedelta(minutes=i), step=i, number="07 •• •• •• 32") for i in range(count)]
        s.flush()
        anchor = made[purged - 1].hash
        s.execute(sqlalchemy.delete(AuditEntry).where(AuditEntry.id <= made[purged - 1].id))
        s.add(AuditHead(id=ANCHOR_ID, last_hash=anchor))
        append("audit_purged", T0 + timedelta(days=1), count=purged, cutoff=T0.isoformat(), anchor=anchor)
        append("logout", T0 + timedelta(days=2))
        s.add(AuditHead(id=HEAD_ID, last_hash=prev))
        s.flush()
    return rows(url)


def rows(url: str) -> list[AuditEntry]:
    with read_only(url) as s:
        return list(s.exec(select(AuditEntry).order_by(AuditEntry.id)))


def heads(url: str) -> dict[int, str]:
    with read_only(url) as s:
        return {h.id: h.last_hash for h in s.exec(select(AuditHead))}


def test_the_rekeying_rechains_an_intact_sha256_trail(old_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    before = sha256_trail(old_url)
    anchor = heads(old_url)[ANCHOR_ID]

    migrate(old_url, REKEY)

    assert version(old_url) == REKEY
    after = rows(old_url)
    content = ("id", "at", "action", "outcome", "details")
    assert [[getattr(e, c) for c in content] for e in after] == [[getattr(e, c) for c in content] for e in before]
    assert not {e.hash for e in after} & {e.hash for e in before}
    assert after[0].prev_hash == anchor == heads(old_url)[ANCHOR_ID]  # the anchor stays the chain's start
    assert heads(old_url)[HEAD_ID] == after[-1].hash
    with read_only(old_url) as s:
        report = check_chain(s)
    assert (report.intact, report.entries) == (True, len(before))
    assert audit_cli.main(["--db-url", old_url, "verify"]) == 0
    assert capsys.readouterr().out.startswith(f"audit chain intact: {len(before)} entries; no checkpoint")

    downgrade(old_url, BEFORE)  # and back: exactly the old SHA-256 chain
    assert [(e.prev_hash, e.hash) for e in rows(old_url)] == [(e.prev_hash, e.hash) for e in before]


def _edit_a_row(url: str, entries: list[AuditEntry]) -> None:
    with transaction(url) as s:
        row = s.get(AuditEntry, entries[2].id)
        row.details = json.dumps({"step": 99})  # type: ignore[union-attr]


def _remove_the_newest(url: str, entries: list[AuditEntry]) -> None:
    with transaction(url) as s:
        s.delete(s.get(AuditEntry, entries[-1].id))


def _move_the_anchor(url: str, entries: list[AuditEntry]) -> None:
    with transaction(url) as s:
        s.delete(s.get(AuditEntry, entries[0].id))
        s.get(AuditHead, ANCHOR_ID).last_hash = entries[1].prev_hash  # type: ignore[union-attr]


@pytest.mark.parametrize("tamper, reason", [
    (_edit_a_row, "broken at entry #7, action login"),
    (_remove_the_newest, "entries removed at the end of the chain"),
    (_move_the_anchor, "entries removed at the start of the chain"),
])
def test_the_rekeying_refuses_a_tampered_trail_and_changes_nothing(old_url: str, tamper, reason: str) -> None:  # type: ignore[no-untyped-def]
    entries = sha256_trail(old_url)
    tamper(old_url, entries)
    tampered, tampered_heads = rows(old_url), heads(old_url)

    with pytest.raises(Exception, match="the SHA-256 chain does not verify") as refused:
        migrate(old_url)

    assert reason in str(refused.value) and "launder" in str(refused.value)
    assert version(old_url) == BEFORE
    assert [(e.id, e.details, e.prev_hash, e.hash) for e in rows(old_url)] == [
        (e.id, e.details, e.prev_hash, e.hash) for e in tampered]
    assert heads(old_url) == tampered_heads


def test_the_rekeying_of_an_empty_trail_changes_nothing(old_url: str) -> None:
    with transaction(old_url) as s:
        s.add(AuditHead(id=HEAD_ID, last_hash=GENESIS))  # as the seed leaves it

    migrate(old_url, REKEY)

    assert version(old_url) == REKEY
    assert rows(old_url) == [] and heads(old_url) == {HEAD_ID: GENESIS}


def test_the_rekeying_works_in_batches(old_url: str) -> None:
    """More entries than two batches of the migration (1000): every one re-chained, the chain verifies."""
    before = sha256_trail(old_url, count=2500, purged=3)

    migrate(old_url)

    with read_only(old_url) as s:
        report = check_chain(s)
    assert (report.intact, report.entries, report.last_id) == (True, len(before), before[-1].id)
