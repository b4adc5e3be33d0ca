"""Row helpers the use cases share: the lock order, who holds a number, superseding pending requests.

Each is written once here and used by the change of number, the phone's approval, applying to MySys, the
advisor, the J4 activation and the dispatcher's repair loop.

**Lock order**: the customer's row first, then the request's (:func:`lock_customer`, :func:`lock_request`):
every use case that touches both takes them in this order, so two of them never deadlock (PostgreSQL).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, bindparam, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from secure_phone.adapters.models import ChangeRequest, Customer, Device
from secure_phone.domain.change_request import PENDING, Action, Channel, Status, transition
from secure_phone.domain.policy import Policy
from secure_phone.services.inputs import key
from secure_phone.services.unit_of_work import Refused, Tx


def lock_customer(session: Session, customer_id: int | None) -> Customer:
    """The customer's row, locked for the rest of the transaction (the first lock of every use case)."""
    customer = session.exec(select(Customer).where(Customer.id == customer_id).with_for_update()).first() \
        if customer_id is not None else None
    if customer is None:
        raise Refused("error.generic")
    return customer


_REQUESTS = ChangeRequest.__table__  # type: ignore[attr-defined]
_OTHER_APPLYING = sa_select(_REQUESTS.c.id).where(
    _REQUESTS.c.customer_id == bindparam("customer_id"), _REQUESTS.c.status == Status.APPLYING.value,
    _REQUESTS.c.id != bindparam("request_id")).limit(1)


def other_change_applying(session: Session, customer_id: int, *, excluding: str = "") -> str | None:
    """A request of the customer already approved and waiting for MySys (its id) other than ``excluding`` (any,
    when none is given), or None. One change at a time: read under the customer's lock by whatever starts or
    approves a change — a late MySys answer must not land on a newer change, and two writes to MySys could end in
    a different order there and in the bank's record."""
    return session.execute(_OTHER_APPLYING, {"customer_id": customer_id, "request_id": excluding}).scalar()


def lock_request(session: Session, request_id: str) -> tuple[ChangeRequest | None, Customer | None]:
    """A request and its customer, both locked, customer first."""
    request_id = key(request_id)
    customer_id = session.exec(select(ChangeRequest.customer_id).where(ChangeRequest.id == request_id)).first() \
        if request_id else None
    if customer_id is None:
        return None, None
    customer = lock_customer(session, customer_id)
    request = session.exec(select(ChangeRequest).where(ChangeRequest.id == request_id).with_for_update()).one()
    return request, customer


def move(request: ChangeRequest, action: Action, now: datetime) -> None:
    """The state machine's transition, with the time of the first decision."""
    request.status = transition(Status(request.status), action).value
    if action is not Action.PROVE:  # proving the new number is a step, not the request's decision
        request.decided_at = request.decided_at or now


def expire_if_due(session: Session, request: ChangeRequest, now: datetime) -> None:
    if Status(request.status) in PENDING and now >= request.expires_at:
        move(request, Action.EXPIRE, now)
        session.add(request)


_NOW_HELD = select(Customer.id).where(Customer.secure_phone_e164 == bindparam("e164"),
                                     Customer.id != bindparam("customer_id"))
_RECENTLY_RELEASED = and_(col(ChangeRequest.old_e164) == bindparam("e164"),
                          col(ChangeRequest.status) == Status.COMPLETED.value,
                          col(ChangeRequest.completed_at) >= bindparam("since"))
_BEING_GIVEN = and_(col(ChangeRequest.new_e164) == bindparam("e164"),
                    col(ChangeRequest.status) == Status.APPLYING.value)
_HELD_BEFORE = {
    True: select(ChangeRequest.customer_id).where(ChangeRequest.customer_id != bindparam("customer_id"),
                                                  or_(_RECENTLY_RELEASED, _BEING_GIVEN)),
    False: select(ChangeRequest.customer_id).where(ChangeRequest.customer_id != bindparam("customer_id"),
                                                   _RECENTLY_RELEASED),
}
"""Built once: the check runs at every step of a change (typed, proven, confirmed, applied)."""


def number_holder(session: Session, e164: str, customer_id: int | None, now: datetime, policy: Policy,
                  *, applying: bool = True) -> int | None:
    """Another customer whose secure number ``e164`` is, is being made (approved, waiting for MySys; unless
    ``applying`` is False), or was within ``policy.number_reuse_window`` — a number released by one customer
    is not free for the next (mule numbers, §12.2); None when nobody else."""
    asking = customer_id if customer_id is not None else -1  # ids are positive: nobody is -1
    held = session.execute(_NOW_HELD, {"e164": e164, "customer_id": asking}).scalar()
    if held is not None:
        return int(held)
    before = session.execute(_HELD_BEFORE[applying], {"e164": e164, "customer_id": asking,
                                                      "since": now - policy.number_reuse_window}).scalar()
    return int(before) if before is not None else None


def claimed_by_other(tx: Tx, holder: int, customer_id: int | None) -> None:
    """The number typed is another customer's (now or recently): a risk signal on that customer's sheet too."""
    tx.record("number_claimed_by_other", "refused", customer_id=holder, by_customer=customer_id,
              risk_signal="number_shared")
    tx.changed(holder)


def supersede_pending(tx: Tx, customer_id: int, *, online_only: bool = True) -> None:
    """Every request of the customer still waiting for a phone (or, with ``online_only`` False, for an advisor
    too) can no longer be approved: superseded, each audited."""
    query = select(ChangeRequest).where(ChangeRequest.customer_id == customer_id,
                                        col(ChangeRequest.status).in_([s.value for s in PENDING]))
    if online_only:
        query = query.where(ChangeRequest.channel != Channel.ADVISOR.value)
    for pending in tx.session.exec(query):
        move(pending, Action.SUPERSEDE, tx.now)
        tx.session.add(pending)
        tx.record("change_superseded", "ok", customer_id=customer_id, request_id=pending.id)


def enrolled_device(session: Session, customer_id: int) -> Device | None:
    """The customer's Sécur'Pass phone, if any."""
    return session.exec(select(Device).where(Device.customer_id == customer_id, Device.status == "enrolled")).first()
