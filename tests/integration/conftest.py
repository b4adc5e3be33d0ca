"""A real, migrated database for each test: SQLite always, PostgreSQL when reachable.

Each test gets an empty schema (tables truncated), so tests are independent, and an audit checkpoint
file of its own (``checkpoint_file``: ``SECURE_PHONE_AUDIT_CHECKPOINTS`` in a temporary folder).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy
from sqlmodel import SQLModel

from secure_phone.adapters import db, models  # noqa: F401  (the tables)
from secure_phone.adapters.migrate import migrate
from tests.conftest import PG_ADMIN_URL, require_service

_PG_DATABASES: list[str] = []


def _fresh_pg_url() -> str:
    name = f"secure_phone_test_{uuid.uuid4().hex[:10]}"
    admin = sqlalchemy.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    _PG_DATABASES.append(name)
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def migrated_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    else:
        require_service("PostgreSQL", "127.0.0.1", 5432)
        url = _fresh_pg_url()
    migrate(url)
    yield url
    db.get_engine(url).dispose()
    if request.param == "postgresql":
        admin = sqlalchemy.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def db_url(migrated_url: str) -> Iterator[str]:
    """An empty, migrated database (SQLite, and PostgreSQL when reachable)."""
    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    with db.get_engine(migrated_url).begin() as conn:
        if migrated_url.startswith("postgresql"):
            conn.exec_driver_sql("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
        else:
            for table in tables:
                conn.exec_driver_sql(f'DELETE FROM "{table}"')
    yield migrated_url


@pytest.fixture(autouse=True)
def checkpoint_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where this test's audit checkpoints go (not written until a checkpoint is)."""
    path = tmp_path / "audit-checkpoints.jsonl"
    monkeypatch.setenv("SECURE_PHONE_AUDIT_CHECKPOINTS", str(path))
    return path


@pytest.fixture
def pg_server_url() -> Iterator[str]:
    """PostgreSQL itself, for what only it has (its pool, autocommit, LISTEN/NOTIFY): the server's own database,
    no table of the app's used."""
    require_service("PostgreSQL", "127.0.0.1", 5432)
    yield PG_ADMIN_URL
    db.get_engine(PG_ADMIN_URL).dispose()
