"""The database adapter's own guarantees (SQLite: writers of one process queue in the process)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy import event

from secure_phone.adapters import db
from tests.integration.helpers import run_together


def test_writers_of_one_process_never_meet_sqlites_busy_handler(tmp_path: Path) -> None:
    """With SQLite's busy timeout at 0, a writer finding the write lock taken fails at once with
    "database is locked": none does, because this process's writers queue on their own lock first."""
    url = f"sqlite:///{tmp_path / 'w.db'}"
    engine = db.get_engine(url)
    engine.dispose()

    @event.listens_for(engine, "connect")
    def _no_busy_wait(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.execute("PRAGMA busy_timeout=0")

    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE hit (n INTEGER)")
    inside: list[int] = []
    overlap = threading.Lock()

    def write(n: int) -> int:
        with db.transaction(url) as session:
            session.execute(sqlalchemy.text("INSERT INTO hit (n) VALUES (:n)"), {"n": n})
            assert overlap.acquire(blocking=False), "two write transactions at once"
            inside.append(n)
            time.sleep(0.005)  # hold the write lock a while: the others must wait, not fail
            overlap.release()
        return n

    results = run_together(*(lambda n=n: write(n) for n in range(12)))
    assert results == list(range(12)), results  # no OperationalError among them
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM hit").scalar() == 12
    engine.dispose()


def test_a_failed_write_releases_the_process_lock(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'f.db'}"
    with db.get_engine(url).begin() as conn:
        conn.exec_driver_sql("CREATE TABLE hit (n INTEGER NOT NULL)")
    try:
        with db.transaction(url) as session:
            session.execute(sqlalchemy.text("INSERT INTO hit (n) VALUES (NULL)"))
    except sqlalchemy.exc.IntegrityError:
        pass
    done = threading.Event()

    def other() -> None:  # another thread writes at once: a lock left held would block it for ever
        with db.transaction(url) as session:
            session.execute(sqlalchemy.text("INSERT INTO hit (n) VALUES (1)"))
        done.set()
    thread = threading.Thread(target=other)
    thread.start()
    thread.join(timeout=10)
    assert done.is_set()
    db.get_engine(url).dispose()


def test_a_hot_read_on_postgresql_is_one_statement_outside_any_transaction(pg_server_url: str) -> None:
    """``reading()`` is autocommit on PostgreSQL: after its statement the connection is idle, not in a
    transaction waiting for its ROLLBACK (two round trips saved per hot read)."""
    import psycopg

    url = pg_server_url
    with db.reading(url) as connection:
        assert connection.execute(sqlalchemy.text("SELECT 1")).scalar() == 1
        status = connection.connection.dbapi_connection.info.transaction_status  # type: ignore[union-attr]
        assert status == psycopg.pq.TransactionStatus.IDLE
    with db.read_only(url) as session:  # a read of several statements stays one transaction
        session.execute(sqlalchemy.text("SELECT 1"))
        dbapi = session.connection().connection.dbapi_connection
        assert dbapi.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS  # type: ignore[union-attr]
    with db.transaction(url) as session:  # and a write too, the pooled connection's autocommit reset
        session.execute(sqlalchemy.text("SELECT 1"))
        dbapi = session.connection().connection.dbapi_connection
        assert dbapi.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS  # type: ignore[union-attr]


def test_postgresql_pings_a_connection_only_after_it_was_idle_and_replaces_a_dead_one(
        pg_server_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """No ping for a connection used a moment ago; one idle longer than ``IDLE_PING_SECONDS`` is pinged, and if
    its server side is gone (terminated here) the pool hands out a new one: the caller never sees the error."""
    url = pg_server_url
    engine = db.get_engine(url)
    engine.dispose()
    pings: list[int] = []
    real_ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: pings.append(1) or real_ping(conn))
    try:
        with db.reading(url) as connection:
            backend = connection.execute(sqlalchemy.text("SELECT pg_backend_pid()")).scalar()
        with db.reading(url) as connection:  # the same connection, used a moment ago: no ping
            assert connection.execute(sqlalchemy.text("SELECT pg_backend_pid()")).scalar() == backend
        assert pings == []

        admin = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
        with admin.connect() as other:
            assert other.execute(sqlalchemy.text("SELECT pg_terminate_backend(:pid)"), {"pid": backend}).scalar()
        admin.dispose()
        monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)  # as if it had been idle long
        with db.reading(url) as connection:
            fresh = connection.execute(sqlalchemy.text("SELECT pg_backend_pid()")).scalar()
        assert fresh != backend and len(pings) >= 1
    finally:
        engine.dispose()
