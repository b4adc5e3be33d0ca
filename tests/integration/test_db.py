"""The database adapter's own guarantees (SQLite: writers of one process queue in the process)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

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
