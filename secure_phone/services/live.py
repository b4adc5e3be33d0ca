"""Which browser tabs want to hear about one customer's requests (for pushing updates).

Stored in the database so that every backend worker (scale-out mode) sees every subscription.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, delete

from secure_phone.adapters.models import LiveSubscription
from secure_phone.services.unit_of_work import Tx, UnitOfWork

PURGE_EVERY = timedelta(minutes=1)
_purged_at: list[datetime] = []  # this process's last purge of stale subscriptions


@dataclass(frozen=True)
class Follower:
    """A browser tab's state that follows a customer: its client token and the state's full name."""

    token: str
    state: str


def follow(tx: Tx, follower: Follower, customer_id: int) -> None:
    """In the caller's transaction: ``follower`` is refreshed when ``customer_id`` changes (and, once a minute at
    most, the stale subscriptions go)."""
    now, session = tx.now, tx.session
    if not _purged_at or now - _purged_at[0] >= PURGE_EVERY:  # not at every login: once a minute at most
        session.exec(delete(LiveSubscription).where(
            col(LiveSubscription.updated_at) < now - tx.uow.policy.session_max_age))
        _purged_at[:] = [now]
    session.execute(_upsert(session.get_bind().dialect.name),
                    {"token": follower.token, "state": follower.state, "customer_id": customer_id, "updated_at": now})


@functools.cache
def _upsert(dialect: str) -> Any:
    """One ``INSERT … ON CONFLICT (token, state) DO UPDATE`` per dialect, built once (a login writes it)."""
    table = LiveSubscription.__table__  # type: ignore[attr-defined]
    statement = (sqlite_insert if dialect == "sqlite" else postgresql_insert)(table).values(
        token=bindparam("token"), state=bindparam("state"), customer_id=bindparam("customer_id"),
        updated_at=bindparam("updated_at"))
    return statement.on_conflict_do_update(
        index_elements=[table.c.token, table.c.state],
        set_={"customer_id": statement.excluded.customer_id, "updated_at": statement.excluded.updated_at})


def subscribe(uow: UnitOfWork, token: str, state: str, customer_id: int) -> None:
    with uow.write() as tx:
        follow(tx, Follower(token, state), customer_id)


def unsubscribe(uow: UnitOfWork, token: str, state: str) -> None:
    with uow.write() as tx:
        tx.session.exec(delete(LiveSubscription).where(col(LiveSubscription.token) == token,
                                                       col(LiveSubscription.state) == state))


_SUBSCRIPTIONS = LiveSubscription.__table__  # type: ignore[attr-defined]
_SUBSCRIBERS = sa_select(_SUBSCRIPTIONS.c.token, _SUBSCRIPTIONS.c.state).where(
    _SUBSCRIPTIONS.c.customer_id == bindparam("customer_id"))


def subscribers(uow: UnitOfWork, customer_id: int) -> list[tuple[str, str]]:
    """The tabs following ``customer_id`` (every announcement asks: one Core statement built once)."""
    with uow.reading() as connection:
        return [(row.token, row.state) for row in connection.execute(_SUBSCRIBERS, {"customer_id": customer_id})]
