"""Applying an approved change: MySys, then the completion with its notifications (§7).

MySys is another system: it is called between two transactions (the approval, then the completion) and is
idempotent on the request id, so a crash or a timeout in between is repaired by :func:`complete_change`
(retried by the dispatcher loop, :func:`retry_applying`) without applying twice. The completion writes the
new number, the cooling-off, the email and the two SMS (transactional outbox) and ends the customer's other
sessions (§12.2) in one transaction.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from secure_phone import i18n
from secure_phone.adapters.models import Agency, ChangeRequest, Customer
from secure_phone.adapters.mysys import MySysError
from secure_phone.domain.change_request import Action, Status
from secure_phone.domain.phone import phone_from_e164
from secure_phone.services.audit import SYSTEM
from secure_phone.services.auth import end_sessions
from secure_phone.services.customers import local_time
from secure_phone.services.rows import lock_request, move, number_holder
from secure_phone.services.sms_codes import revoke_codes
from secure_phone.services.unit_of_work import Tx, UnitOfWork

log = logging.getLogger(__name__)

MYSYS_MAX_ATTEMPTS = 20
_T = TypeVar("_T")


def notify_change(tx: Tx, request: ChangeRequest, customer: Customer) -> None:
    """The email to the customer, the SMS to the **old** number, the welcome SMS to the new one (§7): the date
    and time, the channel, the new number masked but its last two digits, the advisor's phone."""
    agency = tx.session.get(Agency, customer.agency_id)
    assert agency is not None
    lang = i18n.normalize_lang(customer.lang)
    params = {
        "when": local_time(tx.now, lang),
        "masked": phone_from_e164(request.new_e164).masked_but_last,
        "channel": i18n.text(f"channel.{request.channel}", lang),
        "advisor_phone": agency.phone,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "cooling_off": local_time(customer.cooling_off_until or tx.now, lang),
    }
    tx.notify(key=f"{request.id}:email", channel="email", recipient=customer.email,
              subject=i18n.text("notif.email.subject", lang), body=i18n.text("notif.email.body", lang, **params),
              customer_id=customer.id, lang=lang)
    if request.old_e164:
        tx.notify(key=f"{request.id}:sms-old", channel="sms", recipient=request.old_e164,
                  body=i18n.text("notif.change", lang, **params), customer_id=customer.id)
    tx.notify(key=f"{request.id}:sms-new", channel="sms", recipient=request.new_e164,
              body=i18n.text("notif.welcome", lang), customer_id=customer.id)


def _fail(tx: Tx, request: ChangeRequest, reason: str) -> str:
    """An approved request that cannot be applied fails cleanly (nothing half-written)."""
    if Status(request.status) is Status.APPLYING:
        move(request, Action.FAIL, tx.now)
        request.failure_reason = reason
        tx.session.add(request)
        tx.record("change_completed", "failed", customer_id=request.customer_id, request_id=request.id, reason=reason)
        tx.changed(request.customer_id)
    return request.status


@dataclass(frozen=True)
class Approved:
    """What MySys is told of an approved change, read in the transaction that checked it still applies."""

    request_id: str
    identifier: str
    channel: str
    old_e164: str | None
    new_e164: str


def complete_change(uow: UnitOfWork, request_id: str) -> str:
    """Write an approved request to MySys, then complete it with its notifications in one transaction. Safe to
    call again at any time (MySys is idempotent on the request id). The request's status afterwards.

    If it fails on the way (the database, the revert call), the request is still approved and waiting: the
    repair is woken for it (at best), as when MySys does not answer, rather than finding it at its safety net."""
    return _waking_repair_on_failure(_complete_change, uow, request_id)


def apply_approved(uow: UnitOfWork, approved: Approved) -> str:
    """:func:`complete_change` for a request the caller's transaction has just approved, under the customer's
    lock and with the same checks (the number it replaces is still the customer's, the new one nobody else's,
    nor being made anybody else's): MySys, then the completion, without reading and checking it all again."""
    return _waking_repair_on_failure(_apply, uow, approved)


def _waking_repair_on_failure(step: Callable[[UnitOfWork, _T], str], uow: UnitOfWork, arg: _T) -> str:
    try:
        return step(uow, arg)
    except Exception:
        with contextlib.suppress(Exception), uow.write(SYSTEM) as tx:
            tx.waiting_for_mysys()
        raise


def _complete_change(uow: UnitOfWork, request_id: str) -> str:
    with uow.write(SYSTEM) as tx:
        request, customer = lock_request(tx.session, request_id)
        if request is None or customer is None or Status(request.status) is not Status.APPLYING:
            return request.status if request else Status.FAILED.value
        # Nothing goes to MySys unless the change still applies to the number it replaces, and the new number
        # is nobody else's — now or within the reuse window (an advisor's change waited for its validation).
        if customer.secure_phone_e164 != request.old_e164:
            return _fail(tx, request, "number_changed")
        if number_holder(tx.session, request.new_e164, customer.id, tx.now, uow.policy, applying=False) is not None:
            return _fail(tx, request, "number_unavailable")
        approved = Approved(request_id, customer.identifier, request.channel, request.old_e164, request.new_e164)
    return _apply(uow, approved)


def _apply(uow: UnitOfWork, approved: Approved) -> str:
    request_id, identifier, old_e164 = approved.request_id, approved.identifier, approved.old_e164
    live: ChangeRequest | None  # the request read again, locked, in each transaction below
    try:
        uow.mysys.update_secure_phone(identifier, approved.new_e164, request_id, source=approved.channel)
    except MySysError as error:
        with uow.write(SYSTEM) as tx:
            live = tx.session.exec(select(ChangeRequest).where(ChangeRequest.id == request_id).with_for_update()).one()
            live.mysys_attempts += 1
            if live.mysys_attempts >= MYSYS_MAX_ATTEMPTS and Status(live.status) is Status.APPLYING:
                move(live, Action.FAIL, tx.now)
                live.failure_reason = "mysys_unavailable"
                tx.changed(live.customer_id)
            elif Status(live.status) is Status.APPLYING:
                tx.waiting_for_mysys()  # the repair retries it
            tx.session.add(live)
            tx.record("mysys_update", "error", customer_id=live.customer_id, request_id=request_id,
                      error=type(error).__name__, attempts=live.mysys_attempts)
            log.warning("MySys update failed for request %s (%s)", request_id, type(error).__name__)
            return live.status
    try:
        with uow.write(SYSTEM) as tx:
            live, customer = lock_request(tx.session, request_id)
            assert live is not None and customer is not None and customer.id is not None
            if Status(live.status) is not Status.APPLYING:
                return live.status
            move(live, Action.COMPLETE, tx.now)
            live.completed_at = tx.now
            customer.secure_phone_e164 = live.new_e164
            customer.number_recycled_at = None  # a new secure number: the operator's recycling was the old one's
            customer.number_changed_at = customer.number_confirmed_at = tx.now
            customer.cooling_off_until = tx.now + uow.policy.cooling_off
            customer.stale_prompt_later_count = 0
            tx.session.add_all([live, customer])
            revoke_codes(tx.session, customer.id, tx.now)  # old SMS codes die with the change (§7)
            notify_change(tx, live, customer)
            # A factor changed: the customer's other sessions end; the one that asked goes on, and so does
            # the phone's session that approved (§12.2).
            end_sessions(tx.session, customer.id, reason="factor_changed", now=tx.now,
                         keep=(live.session_id, live.approved_session_id))
            tx.record("change_completed", "ok", customer_id=customer.id, request_id=request_id,
                      number=phone_from_e164(live.new_e164).masked, channel_of_request=live.channel)
            tx.changed(customer.id)
            return live.status
    except IntegrityError:
        # The number became another customer's secure number in the meantime (unique index):
        # put MySys back to the number it replaced (its own idempotent operation), then fail.
        if old_e164:
            uow.mysys.update_secure_phone(identifier, old_e164, f"{request_id}:revert", source="revert")
        with uow.write(SYSTEM) as tx:
            live = tx.session.exec(select(ChangeRequest).where(ChangeRequest.id == request_id).with_for_update()).one()
            return _fail(tx, live, "number_unavailable")


def retry_applying(uow: UnitOfWork) -> int:
    """Finish every approved request still waiting for MySys (run by the dispatcher loop); how many."""
    with uow.read() as session:
        ids = list(session.exec(select(ChangeRequest.id).where(ChangeRequest.status == Status.APPLYING.value)
                                .order_by(col(ChangeRequest.created_at))))
    for request_id in ids:
        complete_change(uow, request_id)
    return len(ids)
