"""Which browser tabs want to hear about one customer's requests (for pushing updates).

Stored in the database so that every backend worker (scale-out mode) sees every subscription.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import delete, select

from secure_phone.adapters.db import read_only, transaction
from secure_phone.adapters.models import LiveSubscription
from secure_phone.domain.policy import DEFAULT_POLICY, Policy


def subscribe(token: str, state: str, customer_id: int, *, now: datetime, policy: Policy = DEFAULT_POLICY,
              url: str | None = None) -> None:
    with transaction(url) as session:
        session.exec(delete(LiveSubscription).where(LiveSubscription.updated_at < now - policy.session_max_age))  # type: ignore[arg-type]
        row = session.get(LiveSubscription, (token, state))
        if row is None:
            row = LiveSubscription(token=token, state=state, customer_id=customer_id, updated_at=now)
        row.customer_id, row.updated_at = customer_id, now
        session.add(row)


def unsubscribe(token: str, state: str, *, url: str | None = None) -> None:
    with transaction(url) as session:
        session.exec(delete(LiveSubscription).where(LiveSubscription.token == token, LiveSubscription.state == state))  # type: ignore[arg-type]


def subscribers(customer_id: int, *, url: str | None = None) -> list[tuple[str, str]]:
    with read_only(url) as session:
        return [(r.token, r.state) for r in session.exec(
            select(LiveSubscription).where(LiveSubscription.customer_id == customer_id))]
