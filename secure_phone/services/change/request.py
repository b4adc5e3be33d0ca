"""The request: the customer enters the new number (« Continuer »), confirms it (« Confirmer »), may cancel it;
its status as the customer's screens show it (J1 steps 2–4, J2).

The number rules are the domain's (§5.1); the database ones are here: eligibility (checked again at every
step, §5.2), a number another customer holds or held within 12 months (§12.2), one change at a time, at most
``policy.change_requests_per_day`` requests a day.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func
from sqlalchemy import select as sa_select
from sqlalchemy import update as sa_update
from sqlmodel import Session, select

from secure_phone.adapters.models import ChangeRequest, Customer, UserSession
from secure_phone.domain.change_request import PENDING, Action, Channel, Status, effective_status
from secure_phone.domain.phone import NumberRejected, PhoneNumber, parse_new_number, phone_from_e164, reject_unavailable
from secure_phone.services import operator, sms_codes
from secure_phone.services.audit import Actor
from secure_phone.services.customers import eligibility_of
from secure_phone.services.inputs import NUMBER_LIMIT, key
from secure_phone.services.rows import (
    claimed_by_other,
    expire_if_due,
    lock_customer,
    move,
    number_holder,
    other_change_applying,
    supersede_pending,
)
from secure_phone.services.unit_of_work import NumberRefused, Refused, Tx, UnitOfWork


@dataclass(frozen=True)
class RequestView:
    """A change request as its customer's screens show it."""

    id: str
    status: str
    new_national: str
    expires_at: datetime
    channel: str


def view(request: ChangeRequest, now: datetime) -> RequestView:
    return RequestView(
        id=request.id,
        status=effective_status(Status(request.status), request.expires_at, now).value,
        new_national=phone_from_e164(request.new_e164).national,
        expires_at=request.expires_at,
        channel=request.channel,
    )


def _validated_number(tx: Tx, customer: Customer, raw: str, region: str, action: str) -> PhoneNumber:
    """The number rules of §5.1 plus the database ones (eligibility, another customer's number), or a refusal
    recorded under ``action``."""
    eligibility = eligibility_of(tx.session, customer, tx.now, tx.uow.policy)
    if not eligibility.eligible:
        primary = eligibility.primary
        assert primary is not None  # not eligible: there is a reason
        code = f"ineligible.{primary.value}"
        raise Refused(code, action=action, customer_id=customer.id, problem=code)
    try:
        number = parse_new_number(key(raw, NUMBER_LIMIT), key(region, 8) or "FR",
                                  current_e164=customer.secure_phone_e164, policy=tx.uow.policy)
        holder = number_holder(tx.session, number.e164, customer.id, tx.now, tx.uow.policy)
        if holder is not None:
            claimed_by_other(tx, holder, customer.id)
            reject_unavailable()
    except NumberRejected as rejected:
        unavailable = rejected.problem.value == "unavailable"
        raise NumberRefused(rejected.problem, regions=getattr(rejected, "regions", ()), action=action,
                            customer_id=customer.id, announce=True,
                            problem=(rejected.problem.value if action == "number_entered"
                                     else f"number.{rejected.problem.value}"),
                            risk_signal="number_shared" if unavailable and action == "number_entered" else None) \
            from rejected
    return number


def check_new_number(uow: UnitOfWork, customer_id: int, raw: str, region: str, *, actor: Actor) -> PhoneNumber:
    """Step 2 « Continuer »: the number is acceptable, or refused (:class:`NumberRefused` for the number
    rules, :class:`Refused` otherwise). Audited either way."""
    with uow.write(actor) as tx:
        customer = lock_customer(tx.session, customer_id)
        number = _validated_number(tx, customer, raw, region, "number_entered")
        tx.record("number_entered", "ok", customer_id=customer_id, number=number.masked)
        return number


_SESSIONS = UserSession.__table__  # type: ignore[attr-defined]
_REQUESTS = ChangeRequest.__table__  # type: ignore[attr-defined]
# « Confirmer »'s statements, built once (issue 13: a statement built per call paid SQLAlchemy's construction and
# cache key at every « Confirmer », twice for the local rules); Core, no ORM object of these rows is loaded there.
_TOUCH = sa_update(_SESSIONS).where(
    _SESSIONS.c.id == bindparam("session_id"), _SESSIONS.c.principal_kind == "customer",
    _SESSIONS.c.principal_id == bindparam("customer_id"), _SESSIONS.c.ended_at.is_(None),
    _SESSIONS.c.last_seen_at < bindparam("now")).values(last_seen_at=bindparam("seen_at"))
_RECENT_ONLINE = sa_select(func.count()).select_from(_REQUESTS).where(
    _REQUESTS.c.customer_id == bindparam("customer_id"), _REQUESTS.c.created_at > bindparam("since"),
    _REQUESTS.c.channel != Channel.ADVISOR.value)


def _touch(session: Session, session_id: str, customer_id: int, now: datetime) -> None:
    """Waiting for the phone is the asking session's activity (its idle timer)."""
    session.execute(_TOUCH, {"session_id": session_id, "customer_id": customer_id, "now": now, "seen_at": now})


def _local_rules(tx: Tx, customer: Customer) -> None:
    """The request's own rules (the number's are :func:`_validated_number`'s): one change at a time, at most
    ``policy.change_requests_per_day`` requests a day, and the new number's code may be sent."""
    policy, customer_id = tx.uow.policy, customer.id or 0
    applying = other_change_applying(tx.session, customer_id)
    if applying is not None:  # one change at a time
        raise Refused("change.in_progress", action="change_requested", customer_id=customer_id,
                      request_id=applying, problem="change.in_progress")
    recent = tx.session.execute(_RECENT_ONLINE, {"customer_id": customer_id,
                                                 "since": tx.now - policy.rolling_window}).scalar_one()
    if recent >= policy.change_requests_per_day:
        raise Refused("limit.requests", action="change_requested", outcome="rate_limited", customer_id=customer_id)
    if policy.new_number_proof and (refusal := sms_codes.sending_refusal(tx, customer, sms_codes.NEW_NUMBER)):
        raise Refused(refusal, action="change_requested", customer_id=customer_id, problem=refusal)


def start_request(uow: UnitOfWork, customer_id: int, new_e164: str, *, channel: Channel, actor: Actor,
                  session_id: str | None = None) -> RequestView:
    """Step 3 « Confirmer », in two transactions with the operator's calls between them: every local rule first (a
    request they refuse never costs an operator call); then the operator's answers stored with the verdict
    (§12.4: a refusal ``operator.*`` sends the customer to the advisor), the local rules again and the pending
    request (superseding any other). With the new number's proof (§12.3,
    ``policy.new_number_proof``) a code goes to the new number and the request waits for it (``pending_proof``,
    :func:`prove_new_number`); without, it goes to the phone at once.

    ``session_id`` is the login session asking: it goes on when the change completes (the customer's
    other sessions end, §12.2), and waiting for the phone counts as its activity.
    """
    with uow.write(actor) as tx:  # every local rule first: a request they refuse is not worth asking about
        customer = lock_customer(tx.session, customer_id)
        number = _validated_number(tx, customer, new_e164, "FR", "change_requested")
        _local_rules(tx, customer)
        check = operator.prepare_change(tx, customer, number.e164)
    answers = operator.ask_change(uow, check)  # outside any transaction (§12.4)
    try:
        return _create_request(uow, customer_id, new_e164, check, answers, channel=channel, actor=actor,
                               session_id=session_id)
    except Refused:
        raise  # committed with the answers
    except Exception:
        operator.keep_answers(uow, check, answers, actor)  # every answer is stored (§12.4), even then
        raise


def _create_request(uow: UnitOfWork, customer_id: int, new_e164: str, check: operator.ChangeCheck,
                    answers: operator.Assessment, *, channel: Channel, actor: Actor,
                    session_id: str | None) -> RequestView:
    """« Confirmer »'s second transaction: the operator's answers, the local rules again, the pending request."""
    policy = uow.policy
    with uow.write(actor) as tx:
        customer = lock_customer(tx.session, customer_id)
        operator.record_change(tx, check, answers, customer)  # a stopping answer refuses here, with the answers
        number = _validated_number(tx, customer, new_e164, "FR", "change_requested")  # again: the answers took time
        _local_rules(tx, customer)
        proof = policy.new_number_proof
        supersede_pending(tx, customer_id)
        request = ChangeRequest(
            customer_id=customer_id, channel=channel.value, old_e164=customer.secure_phone_e164,
            new_e164=number.e164, status=(Status.PENDING_PROOF if proof else Status.PENDING_APPROVAL).value,
            nonce=secrets.token_urlsafe(16), created_at=tx.now,
            expires_at=tx.now + (policy.sms_code_ttl if proof else policy.approval_ttl),
            session_id=key(session_id) or None,
        )
        tx.session.add(request)
        if request.session_id:
            _touch(tx.session, request.session_id, customer_id, tx.now)
        tx.session.flush()
        tx.record("change_requested", "ok", customer_id=customer_id, request_id=request.id, number=number.masked,
                  proof=proof or None)
        if proof:
            sms_codes.send_code(tx, customer, sms_codes.NEW_NUMBER, action="proof_code_sent", request_id=request.id,
                                recipient=number.e164)
            tx.record("proof_code_sent", "ok", customer_id=customer_id, request_id=request.id, number=number.masked)
        tx.changed(customer_id)
        return view(request, tx.now)


def _waiting_for_proof(tx: Tx, customer: Customer, request_id: str, action: str) -> ChangeRequest:
    """The customer's own online request, still waiting for its new number's code (else « gone », recorded)."""
    request = _own_request(tx.session, customer.id or 0, request_id)
    expire_if_due(tx.session, request, tx.now)
    if Status(request.status) is not Status.PENDING_PROOF:
        raise Refused("sp.gone", action=action, customer_id=customer.id, request_id=request.id, problem="sp.gone",
                      status=request.status)
    return request


def prove_new_number(uow: UnitOfWork, customer_id: int, request_id: str, code: str, *, actor: Actor) -> RequestView:
    """§12.3: the code sent to the new number, typed by the customer. Right: the request goes to the phone
    (``pending_approval``, the approval's 5 minutes from now). Wrong: counted with the other SMS codes; the
    last wrong try ends the request (``failed``, the customer starts again or sees the advisor)."""
    policy = uow.policy
    with uow.write(actor) as tx:
        customer = lock_customer(tx.session, customer_id)
        request = _waiting_for_proof(tx, customer, request_id, "new_number_proof")
        try:
            sms_codes.check_code(tx, customer, sms_codes.NEW_NUMBER, code, action="new_number_proof",
                                 request_id=request.id)
        except Refused as refused:
            if refused.code == "sms.too_many_tries":
                move(request, Action.FAIL, tx.now)
                request.failure_reason = "proof_failed"
                tx.session.add(request)
                refused.announce = True
            raise
        try:  # held by nobody else still, and the customer still eligible (minutes may have passed)
            _validated_number(tx, customer, request.new_e164, "FR", "new_number_proof")
        except Refused as refused:
            move(request, Action.FAIL, tx.now)
            request.failure_reason = refused.code
            tx.session.add(request)
            raise
        move(request, Action.PROVE, tx.now)
        request.expires_at = tx.now + policy.approval_ttl
        tx.session.add(request)
        tx.record("new_number_proof", "ok", customer_id=customer_id, request_id=request.id)
        tx.changed(customer_id)
        return view(request, tx.now)


def resend_proof_code(uow: UnitOfWork, customer_id: int, request_id: str, *, actor: Actor) -> RequestView:
    """« Renvoyer le code »: a new code to the new number (the previous one dies; the tries are carried, the
    daily limit counts it), and 10 more minutes to type it."""
    policy = uow.policy
    with uow.write(actor) as tx:
        customer = lock_customer(tx.session, customer_id)
        request = _waiting_for_proof(tx, customer, request_id, "proof_code_sent")
        sms_codes.send_code(tx, customer, sms_codes.NEW_NUMBER, action="proof_code_sent", request_id=request.id,
                            recipient=request.new_e164)
        request.expires_at = tx.now + policy.sms_code_ttl
        tx.session.add(request)
        tx.record("proof_code_sent", "ok", customer_id=customer_id, request_id=request.id, resent=True)
        return view(request, tx.now)


def _own_request(session: Session, customer_id: int, request_id: str) -> ChangeRequest:
    request = session.exec(select(ChangeRequest).where(ChangeRequest.id == key(request_id)).with_for_update()).first()
    if request is None or request.customer_id != customer_id or request.channel == Channel.ADVISOR.value:
        raise Refused("sp.gone")  # the same answer whether it does not exist or is someone else's
    return request


def request_status(uow: UnitOfWork, customer_id: int, request_id: str) -> RequestView:
    with uow.read() as session:
        request = session.get(ChangeRequest, key(request_id))
        if request is None or request.customer_id != customer_id:
            raise Refused("sp.gone")
        return view(request, uow.now)


def cancel_request(uow: UnitOfWork, customer_id: int, request_id: str, *, actor: Actor) -> RequestView:
    """« Annuler » while the new number's code or the phone is awaited: the request dies at once and can no
    longer be proven or approved."""
    with uow.write(actor) as tx:
        lock_customer(tx.session, customer_id)  # the lock order: customer, then request
        request = _own_request(tx.session, customer_id, request_id)
        expire_if_due(tx.session, request, tx.now)
        if Status(request.status) in PENDING:
            move(request, Action.CANCEL, tx.now)
            tx.session.add(request)
            tx.record("change_cancelled", "ok", customer_id=customer_id, request_id=request.id)
            tx.changed(customer_id)
        return view(request, tx.now)


def flow_timed_out(uow: UnitOfWork, last_step: datetime | None) -> bool:
    """§5.3: the change flow (new number, confirmation) ends after ``policy.flow_inactivity_timeout`` without a
    step; ``last_step`` is when the customer last moved in it (None: not in it)."""
    return uow.policy.flow_timed_out(last_step, uow.now)
