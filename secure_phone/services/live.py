"""Which browser tabs want to hear about one customer's requests (for pushing updates).

Stored in the database so that every backend worker (scale-out mode) sees every subscription.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import col, delete, select

from secure_phone.adapters.models import LiveSubscription
from secure_phone.services.unit_of_work import UnitOfWork

PURGE_EVERY = timedelta(minutes=1)
_purged_at: list[datetime] = []  # this process's last purge of stale subscriptions


def subscribe(uow: UnitOfWork, token: str, state: str, customer_id: int) -> None:
    now = uow.now
    with uow.write() as tx:
        session = tx.session
        if not _purged_at or now - _purged_at[0] >= PURGE_EVERY:  # not at every login: once a minute at most
            session.exec(delete(LiveSubscription).where(
                col(LiveSubscription.updated_at) < now - uow.policy.session_max_age))
            _purged_at[:] = [now]
        row = session.get(LiveSubscription, (token, state))
        if row is None:
            row = LiveSubscription(token=token, state=state, customer_id=customer_id, updated_at=now)
        row.customer_id, row.updated_at = customer_id, now
        session.add(row)


def unsubscribe(uow: UnitOfWork, token: str, state: str) -> None:
    with uow.write() as tx:
        tx.session.exec(delete(LiveSubscription).where(col(LiveSubscription.token) == token,
                                                       col(LiveSubscription.state) == state))


def subscribers(uow: UnitOfWork, customer_id: int) -> list[tuple[str, str]]:
    with uow.read() as session:
        return [(r.token, r.state) for r in session.exec(
            select(LiveSubscription).where(LiveSubscription.customer_id == customer_id))]
