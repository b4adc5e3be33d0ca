"""Database access: one engine per URL, short transactions, the same code on SQLite and PostgreSQL.

SQLite (embedded default) runs every write transaction as ``BEGIN IMMEDIATE`` in WAL mode so that
two writers serialise instead of failing on a lock upgrade; PostgreSQL uses row locks
(``SELECT … FOR UPDATE``) taken by the services where a rule depends on the current row.

SQLite has one write lock per database, and a writer that finds it taken polls with growing sleeps
(up to 100 ms each) in its busy handler: with the event loop, the login threads and the dispatcher
all writing, those sleeps added up to seconds of stall under load (docs/benchmarks.md). Writers of
one process therefore queue on a lock of their own first, and meet SQLite's lock (and its busy
handler) only against other processes.

PostgreSQL: a pooled connection is pinged before use only when it has been idle a while
(``IDLE_PING_SECONDS``) — a ping at every checkout was a round trip more than the statements of most
events (docs/benchmarks.md) — and the hot single-statement reads (:func:`reading`) run in autocommit:
one round trip, without ``BEGIN`` and ``ROLLBACK`` around it.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import sqlalchemy
from sqlalchemy import event
from sqlmodel import Session

_ENGINES: dict[str, sqlalchemy.Engine] = {}
_WRITE_LOCKS: dict[str, threading.RLock] = {}
_READ_ONLY_ENGINES: dict[str, sqlalchemy.Engine] = {}
READ_ONLY = "secure_phone_read_only"


def default_url() -> str:
    """The database URL Reflex uses (``REFLEX_DB_URL`` overrides rxconfig's default)."""
    return os.environ.get("REFLEX_DB_URL") or _configured_url()


@functools.cache
def _configured_url() -> str:
    """rxconfig's URL, read once (loading the config on every transaction showed in the profiles)."""
    from reflex_base.config import get_config

    return get_config().db_url or "sqlite:///data/secure_phone.db"


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _sqlite_engine(url: str) -> sqlalchemy.Engine:
    engine = sqlalchemy.create_engine(
        url, connect_args={"check_same_thread": False, "timeout": 30, "isolation_level": None}
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


# A connection idle longer than this is pinged before it is handed out (a restarted server, a dropped link);
# one used more recently is trusted: if the server went away meanwhile, its first statement fails and SQLAlchemy
# invalidates the pool, so at most the transactions in flight see the error.
IDLE_PING_SECONDS = 10.0


def _postgres_engine(url: str) -> sqlalchemy.Engine:
    engine = sqlalchemy.create_engine(url, pool_size=10, max_overflow=20)

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return  # new, or used a moment ago
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as error:
            if engine.dialect.is_disconnect(error, dbapi_conn, None):
                raise sqlalchemy.exc.DisconnectionError() from error  # the pool replaces it and tries again
            raise

    return engine


def get_engine(url: str | None = None) -> sqlalchemy.Engine:
    """The engine for ``url`` (default: the app's database), created once per process."""
    url = url or default_url()
    engine = _ENGINES.get(url)
    if engine is None:
        if is_sqlite(url):
            path = url.removeprefix("sqlite:///")
            if path and path != ":memory:":
                os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            engine = _sqlite_engine(url)
            _WRITE_LOCKS[url] = threading.RLock()
        else:
            engine = _postgres_engine(url)
        _ENGINES[url] = engine
    return engine


@contextlib.contextmanager
def transaction(url: str | None = None) -> Iterator[Session]:
    """One unit of work: commits on success, rolls back on any exception."""
    url = url or default_url()
    engine = get_engine(url)
    with _WRITE_LOCKS.get(url) or contextlib.nullcontext():  # SQLite: this process's writers queue here
        with Session(engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise


def _read_only_engine(url: str | None) -> sqlalchemy.Engine:
    """The engine whose transactions only read, made once per URL (an option engine per call cost more than the
    query it ran)."""
    url = url or default_url()
    engine = _READ_ONLY_ENGINES.get(url)
    if engine is None:
        engine = _READ_ONLY_ENGINES[url] = get_engine(url).execution_options(**{READ_ONLY: True})
    return engine


@contextlib.contextmanager
def read_only(url: str | None = None) -> Iterator[Session]:
    """A transaction that only reads: on SQLite it does not take the write lock."""
    # Closing (not rolling back) ends the transaction without expiring what was read.
    with Session(_read_only_engine(url), expire_on_commit=False) as session:
        yield session


_READING_ENGINES: dict[str, sqlalchemy.Engine] = {}


def _reading_engine(url: str | None) -> sqlalchemy.Engine:
    """:func:`_read_only_engine`, in autocommit on PostgreSQL: each statement is its own transaction."""
    url = url or default_url()
    engine = _READING_ENGINES.get(url)
    if engine is None:
        engine = _read_only_engine(url)
        if not is_sqlite(url):
            engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        _READING_ENGINES[url] = engine
    return engine


@contextlib.contextmanager
def reading(url: str | None = None) -> Iterator[sqlalchemy.Connection]:
    """A bare connection for one Core statement built once (the hot reads: the per-event session check): no
    ORM session to set up, no identity map, no flush. On PostgreSQL in autocommit: one statement sees one
    snapshot, and needs neither ``BEGIN`` nor ``ROLLBACK`` — a caller wanting several statements consistent
    with each other uses :func:`read_only`."""
    with _reading_engine(url).connect() as connection:
        yield connection


def dispose_all() -> None:
    """Close every pooled connection (tests, and after a fork)."""
    for engine in _ENGINES.values():
        engine.dispose()
    _ENGINES.clear()
    _WRITE_LOCKS.clear()
    _READ_ONLY_ENGINES.clear()
    _READING_ENGINES.clear()
