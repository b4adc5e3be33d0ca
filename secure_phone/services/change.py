"""The change of secure number: enter, confirm, approve or refuse on the phone, cancel, apply.

Each public function is one use case, applies its rules here and nowhere else, and runs in one
transaction. MySys is a separate system: it is called between two transactions (approval, then
completion) and is idempotent on the request id, so a crash or a timeout in between is repaired
by :func:`complete_change` (retried by the dispatcher loop) without applying twice.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from secure_phone import i18n
from secure_phone.adapters import notifications
from secure_phone.adapters.db import read_only, transaction
from secure_phone.adapters.models import Agency, ChangeRequest, Customer, Device, UsedNonce, UserSession
from secure_phone.adapters.mysys import MySys, MySysError, get_mysys
from secure_phone.domain.change_request import Action, Channel, RefusalReason, Status, effective_status, transition
from secure_phone.domain.phone import NumberRejected, PhoneNumber, parse_new_number, phone_from_e164, reject_unavailable
from secure_phone.domain.policy import DEFAULT_POLICY, Policy
from secure_phone.domain.securpass import (
    ApprovalFacts,
    Rejection,
    challenge_text,
    code_matches,
    decide_approval,
    verify_signature,
)
from secure_phone.services.audit import Actor, record
from secure_phone.services.auth import end_sessions
from secure_phone.services.customers import display_name, eligibility_of, local_time
from secure_phone.services.inputs import key
from secure_phone.services.sms_codes import revoke_codes
from secure_phone.settings import secret_key

log = logging.getLogger(__name__)

MYSYS_MAX_ATTEMPTS = 20


class ChangeError(Exception):
    """A refusal the customer can act on; ``code`` is an i18n key."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# --- views -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestView:
    """A change request as its customer's screens show it."""

    id: str
    status: str
    new_national: str
    expires_at: datetime
    channel: str


@dataclass(frozen=True)
class ApprovalView:
    """What the enrolled phone shows, and signs, for a pending request."""

    request_id: str
    requested_at: datetime
    expires_at: datetime
    new_national: str
    customer_name: str
    nonce: str
    text: str


@dataclass(frozen=True)
class ApprovalResult:
    accepted: bool
    rejection: str | None
    tries_left: int | None
    customer_id: int | None
    status: str | None  # the request's status afterwards, when known


def _view(request: ChangeRequest, now: datetime) -> RequestView:
    return RequestView(
        id=request.id,
        status=effective_status(Status(request.status), request.expires_at, now).value,
        new_national=phone_from_e164(request.new_e164).national,
        expires_at=request.expires_at,
        channel=request.channel,
    )


def _customer_for_update(session: Session, customer_id: int) -> Customer:
    customer = session.exec(select(Customer).where(Customer.id == customer_id).with_for_update()).first()
    if customer is None:
        raise ChangeError("error.generic")
    return customer


def _move(request: ChangeRequest, action: Action, now: datetime) -> None:
    request.status = transition(Status(request.status), action).value
    request.decided_at = request.decided_at or now


def _expire_if_due(session: Session, request: ChangeRequest, now: datetime) -> None:
    if Status(request.status) is Status.PENDING_APPROVAL and now >= request.expires_at:
        _move(request, Action.EXPIRE, now)
        session.add(request)


# --- entering and confirming the number ---------------------------------------------------


def number_holder(session: Session, e164: str, customer_id: int | None, now: datetime, policy: Policy) -> int | None:
    """Another customer whose secure number ``e164`` is, is being made (approved, waiting for MySys), or
    was within ``policy.number_reuse_window`` (a number released by one customer is not free for the next:
    mule numbers, §12.2); None when nobody else."""
    held = session.exec(select(Customer.id).where(Customer.secure_phone_e164 == e164, Customer.id != customer_id)).first()
    if held is not None:
        return held
    recent = session.exec(
        select(ChangeRequest.customer_id).where(
            ChangeRequest.customer_id != customer_id,
            or_(
                and_(ChangeRequest.new_e164 == e164, ChangeRequest.status == Status.APPLYING.value),
                and_(ChangeRequest.old_e164 == e164, ChangeRequest.status == Status.COMPLETED.value,
                     ChangeRequest.completed_at >= now - policy.number_reuse_window),  # type: ignore[operator]
            ),
        )
    ).first()
    return recent


def refuse_unavailable(session: Session, actor: Actor, holder: int, customer_id: int | None, now: datetime) -> None:
    """The number is another customer's (now or recently): a risk signal on that customer's sheet too,
    then the generic refusal (which never says why)."""
    record(session, actor, "number_claimed_by_other", "refused", now=now, customer_id=holder,
           by_customer=customer_id, risk_signal="number_shared")
    reject_unavailable()


def _validated_number(
    session: Session, customer: Customer, raw: str, region: str, now: datetime, policy: Policy, actor: Actor
) -> PhoneNumber:
    """The number rules of §5.1 plus the database ones (eligibility, number of another customer)."""
    eligibility = eligibility_of(session, customer, now, policy)
    if not eligibility.eligible:
        raise ChangeError(f"ineligible.{eligibility.primary.value}")  # type: ignore[union-attr]
    number = parse_new_number(raw, region, current_e164=customer.secure_phone_e164, policy=policy)
    holder = number_holder(session, number.e164, customer.id, now, policy)
    if holder is not None:
        refuse_unavailable(session, actor, holder, customer.id, now)
    return number


def check_new_number(
    customer_id: int,
    raw: str,
    region: str,
    *,
    actor: Actor,
    now: datetime,
    policy: Policy = DEFAULT_POLICY,
    url: str | None = None,
) -> PhoneNumber:
    """Step 2 « Continuer »: the number is acceptable, or NumberRejected / ChangeError. Audited."""
    with transaction(url) as session:
        customer = _customer_for_update(session, customer_id)
        try:
            number = _validated_number(session, customer, raw, region, now, policy, actor)
        except NumberRejected as rejected:
            risk = rejected.problem.value == "unavailable"
            record(session, actor, "number_entered", "refused", now=now, customer_id=customer_id,
                   problem=rejected.problem.value, risk_signal="number_shared" if risk else None)
            session.commit()
            raise
        except ChangeError as refused:
            record(session, actor, "number_entered", "refused", now=now, customer_id=customer_id, problem=refused.code)
            session.commit()
            raise
        record(session, actor, "number_entered", "ok", now=now, customer_id=customer_id, number=number.masked)
        return number


def start_request(
    customer_id: int,
    new_e164: str,
    *,
    channel: Channel,
    actor: Actor,
    now: datetime,
    session_id: str | None = None,
    policy: Policy = DEFAULT_POLICY,
    url: str | None = None,
) -> RequestView:
    """Step 3 « Confirmer »: create the pending request (superseding any other) and send it to the phone.

    ``session_id`` is the login session asking: it goes on when the change completes (the customer's
    other sessions end, §12.2), and waiting for the phone counts as its activity.
    """
    with transaction(url) as session:
        customer = _customer_for_update(session, customer_id)
        try:
            number = _validated_number(session, customer, new_e164, "FR", now, policy, actor)
        except (NumberRejected, ChangeError) as refused:
            code = refused.code if isinstance(refused, ChangeError) else f"number.{refused.problem.value}"
            record(session, actor, "change_requested", "refused", now=now, customer_id=customer_id, problem=code)
            session.commit()
            raise ChangeError(code) from refused
        applying = session.exec(select(ChangeRequest.id).where(
            ChangeRequest.customer_id == customer_id, ChangeRequest.status == Status.APPLYING.value)).first()
        if applying is not None:  # one change at a time: a late MySys answer must not land on a newer one
            record(session, actor, "change_requested", "refused", now=now, customer_id=customer_id,
                   problem="change.in_progress", request_id=applying)
            session.commit()
            raise ChangeError("change.in_progress")
        recent = session.exec(
            select(func.count()).select_from(ChangeRequest).where(
                ChangeRequest.customer_id == customer_id,
                ChangeRequest.created_at > now - policy.rolling_window,
                ChangeRequest.channel != Channel.ADVISOR.value,
            )
        ).one()
        if recent >= policy.change_requests_per_day:
            record(session, actor, "change_requested", "rate_limited", now=now, customer_id=customer_id)
            session.commit()
            raise ChangeError("limit.requests")
        for pending in session.exec(
            select(ChangeRequest).where(
                ChangeRequest.customer_id == customer_id, ChangeRequest.status == Status.PENDING_APPROVAL.value,
                ChangeRequest.channel != Channel.ADVISOR.value,
            )
        ):
            _move(pending, Action.SUPERSEDE, now)
            session.add(pending)
            record(session, actor, "change_superseded", "ok", now=now, customer_id=customer_id, request_id=pending.id)
        request = ChangeRequest(
            customer_id=customer_id,
            channel=channel.value,
            old_e164=customer.secure_phone_e164,
            new_e164=number.e164,
            status=Status.PENDING_APPROVAL.value,
            nonce=secrets.token_urlsafe(16),
            created_at=now,
            expires_at=now + policy.approval_ttl,
            session_id=key(session_id) or None,
        )
        session.add(request)
        if request.session_id:  # waiting for the phone is this session's activity (the idle timer)
            session.execute(update(UserSession).where(
                col(UserSession.id) == request.session_id, col(UserSession.principal_kind) == "customer",
                col(UserSession.principal_id) == customer_id, col(UserSession.ended_at).is_(None),
                col(UserSession.last_seen_at) < now).values(last_seen_at=now))
        session.flush()
        record(session, actor, "change_requested", "ok", now=now, customer_id=customer_id,
               request_id=request.id, number=number.masked)
        return _view(request, now)


def _own_request(session: Session, customer_id: int, request_id: str) -> ChangeRequest:
    request = session.exec(
        select(ChangeRequest).where(ChangeRequest.id == key(request_id)).with_for_update()
    ).first()
    if request is None or request.customer_id != customer_id or request.channel == Channel.ADVISOR.value:
        raise ChangeError("sp.gone")  # the same answer whether it does not exist or is someone else's
    return request


def request_status(customer_id: int, request_id: str, *, now: datetime, url: str | None = None) -> RequestView:
    with read_only(url) as session:
        request = session.get(ChangeRequest, key(request_id))
        if request is None or request.customer_id != customer_id:
            raise ChangeError("sp.gone")
        return _view(request, now)


def cancel_request(
    customer_id: int, request_id: str, *, actor: Actor, now: datetime, url: str | None = None
) -> RequestView:
    """« Annuler » at step 4: the request dies at once and can no longer be approved."""
    with transaction(url) as session:
        request = _own_request(session, customer_id, request_id)
        _expire_if_due(session, request, now)
        if Status(request.status) is Status.PENDING_APPROVAL:
            _move(request, Action.CANCEL, now)
            session.add(request)
            record(session, actor, "change_cancelled", "ok", now=now, customer_id=customer_id, request_id=request.id)
        return _view(request, now)


# --- the phone: pending approval, approve, refuse ------------------------------------------


def _number_free(session: Session, request: ChangeRequest, customer_id: int, now: datetime, policy: Policy) -> bool:
    """Nobody else holds the new number, nor is being given it, nor held it recently."""
    return number_holder(session, request.new_e164, customer_id, now, policy) is None


def _enrolled_device(session: Session, device_id: str | None, customer_id: int) -> Device | None:
    device_id = key(device_id)
    device = session.get(Device, device_id) if device_id else None
    if device is None or device.customer_id != customer_id or device.status != "enrolled" or not device.public_jwk:
        return None
    return device


def _approval_view(request: ChangeRequest, customer: Customer, lang: str) -> ApprovalView:
    national = phone_from_e164(request.new_e164).national
    name = display_name(customer)
    return ApprovalView(
        request_id=request.id,
        requested_at=request.created_at,
        expires_at=request.expires_at,
        new_national=national,
        customer_name=name,
        nonce=request.nonce,
        text=challenge_text(
            lang=lang,
            new_number_national=national,
            customer_name=name,
            request_id=request.id,
            nonce=request.nonce,
            expires_at=request.expires_at,
        ),
    )


def pending_approval(
    customer_id: int, device_id: str | None, *, lang: str, now: datetime, url: str | None = None
) -> ApprovalView | None:
    """The request waiting for this phone, if the phone is the customer's enrolled device."""
    with read_only(url) as session:
        if _enrolled_device(session, device_id, customer_id) is None:
            return None
        request = session.exec(
            select(ChangeRequest)
            .where(ChangeRequest.customer_id == customer_id, ChangeRequest.status == Status.PENDING_APPROVAL.value,
                   ChangeRequest.channel != Channel.ADVISOR.value)  # an advisor change waits for an advisor
            .order_by(ChangeRequest.created_at.desc())  # type: ignore[union-attr]
        ).first()
        if request is None or now >= request.expires_at:
            return None
        customer = session.get(Customer, customer_id)
        assert customer is not None
        return _approval_view(request, customer, i18n.normalize_lang(lang))


def _signed_text(request: ChangeRequest, customer: Customer, lang: str, suffix: str = "") -> str:
    return _approval_view(request, customer, lang).text + suffix


def approve(
    customer_id: int,
    device_id: str | None,
    request_id: str,
    *,
    code: str,
    signature: str,
    lang: str,
    actor: Actor,
    now: datetime,
    policy: Policy = DEFAULT_POLICY,
    mysys: MySys | None = None,
    session_id: str | None = None,
    url: str | None = None,
) -> ApprovalResult:
    """« Valider » on the phone: every check of §6, then MySys, then completion.

    ``session_id`` is the phone's session that approves: with the one that asked, it goes on after the
    change (the customer's other sessions end).

    A failure never tells whether the code or the device was wrong (one generic answer), and
    every failure is audited.
    """
    lang = i18n.normalize_lang(lang)
    request_id, device_id = key(request_id), key(device_id) or None
    with transaction(url) as session:
        customer = _customer_for_update(session, customer_id)
        request = session.exec(select(ChangeRequest).where(ChangeRequest.id == request_id).with_for_update()).first()
        if request is None or request.customer_id != customer_id or request.channel == Channel.ADVISOR.value:
            record(session, actor, "approval", "refused", now=now, customer_id=customer_id,
                   request_id=request_id, rejection=Rejection.NOT_FOUND.value)
            return ApprovalResult(False, Rejection.NOT_FOUND.value, None, customer_id, None)
        _expire_if_due(session, request, now)
        device = session.get(Device, device_id) if device_id else None
        # Only the customer's own enrolled phone can spend (or even test) this request's nonce.
        own = _enrolled_device(session, device_id, customer_id)
        signature_ok = bool(
            own and verify_signature(json.loads(own.public_jwk or "{}"), _signed_text(request, customer, lang), signature)
        )
        nonce_used = session.get(UsedNonce, request.nonce) is not None
        facts = ApprovalFacts(
            status=Status(request.status),
            device_belongs_to_customer=device is not None and device.customer_id == customer_id,
            device_active=device is not None and device.status == "enrolled",
            signature_valid=signature_ok,
            nonce_already_used=nonce_used,
            code_correct=bool(own and own.code_hash and code_matches(secret_key(), own.id, code, own.code_hash)),
            securpass_blocked=customer.securpass_status == "blocked",
            consecutive_wrong_codes=customer.securpass_wrong_codes,
            number_still_available=_number_free(session, request, customer_id, now, policy)
            and request.old_e164 == customer.secure_phone_e164,
            eligible=eligibility_of(session, customer, now, policy).eligible,
        )
        decision = decide_approval(facts, policy)
        if signature_ok and not nonce_used:
            # A signed nonce is spent whatever the outcome: the next try signs a fresh one.
            session.add(UsedNonce(nonce=request.nonce, request_id=request.id, used_at=now))
            if Status(request.status) is Status.PENDING_APPROVAL and not decision.accepted:
                request.nonce = secrets.token_urlsafe(16)
        if decision.accepted:
            customer.securpass_wrong_codes = 0
            request.device_id = device_id
            request.approved_session_id = key(session_id) or None
            _move(request, Action.APPROVE, now)
        elif decision.rejection is Rejection.WRONG_CODE:
            customer.securpass_wrong_codes += 1
            if decision.block_securpass:
                customer.securpass_status, customer.securpass_blocked_at = "blocked", now
                _move(request, Action.BLOCK, now)
                record(session, actor, "securpass_blocked", "ok", now=now, customer_id=customer_id, request_id=request.id)
        elif decision.rejection is Rejection.NOT_ELIGIBLE or decision.rejection is Rejection.NUMBER_CHANGED:
            _move(request, Action.FAIL, now)
            request.failure_reason = decision.rejection.value
        session.add_all([customer, request])
        record(session, actor, "approval", "ok" if decision.accepted else "refused", now=now,
               customer_id=customer_id, request_id=request.id, device=device_id,
               rejection=decision.rejection.value if decision.rejection else None, tries_left=decision.tries_left)
        status_after = request.status
    if decision.accepted:
        status_after = complete_change(request_id, now=now, mysys=mysys, policy=policy, url=url)
    return ApprovalResult(
        decision.accepted,
        decision.rejection.value if decision.rejection else None,
        decision.tries_left,
        customer_id,
        status_after,
    )


NOT_ME_WINDOW = timedelta(hours=1)
"""How long after a request was made a signed « not me » on it still counts, even when the request is no
longer pending: a fraudster who cancels or replaces his request the moment he is not approved must not turn
the customer's report into « not pending »."""
_NEVER_APPROVED = (Status.PENDING_APPROVAL, Status.CANCELLED, Status.SUPERSEDED, Status.EXPIRED)


def refuse(
    customer_id: int,
    device_id: str | None,
    request_id: str,
    *,
    reason: RefusalReason,
    signature: str,
    lang: str,
    actor: Actor,
    now: datetime,
    session_id: str | None = None,
    url: str | None = None,
) -> ApprovalResult:
    """« Refuser » on the phone, signed like an approval.

    « Je ne suis pas à l'origine de cette demande » raises a fraud alert, freezes the customer's online
    changes (number and Sécur'Pass move) until an advisor clears it, kills every pending request (they are
    the fraudster's), and ends every session of the customer but the phone's (``session_id``): the session
    that asked for the change is the fraudster's. It counts on a request the phone showed even when the
    fraudster cancelled or replaced it first (within ``NOT_ME_WINDOW``, never an approved one).
    """
    lang = i18n.normalize_lang(lang)
    request_id, device_id = key(request_id), key(device_id) or None
    with transaction(url) as session:
        customer = _customer_for_update(session, customer_id)
        request = session.exec(select(ChangeRequest).where(ChangeRequest.id == request_id).with_for_update()).first()
        device = _enrolled_device(session, device_id, customer_id)
        if request is None or request.customer_id != customer_id or device is None \
                or request.channel == Channel.ADVISOR.value:
            record(session, actor, "refusal", "refused", now=now, customer_id=customer_id, request_id=request_id,
                   rejection=Rejection.WRONG_DEVICE.value if request else Rejection.NOT_FOUND.value)
            return ApprovalResult(False, Rejection.NOT_FOUND.value, None, customer_id, None)
        _expire_if_due(session, request, now)
        text = _signed_text(request, customer, lang, suffix=f"\n{reason.value}")
        status = Status(request.status)
        reported_late = reason is RefusalReason.NOT_ME and status in _NEVER_APPROVED \
            and now - request.created_at <= NOT_ME_WINDOW
        if status is not Status.PENDING_APPROVAL and not reported_late:
            rejection = Rejection.NOT_PENDING
        elif not verify_signature(json.loads(device.public_jwk or "{}"), text, signature):
            rejection = Rejection.BAD_SIGNATURE
        elif session.get(UsedNonce, request.nonce) is not None:
            rejection = Rejection.NONCE_REUSED
        else:
            rejection = None
        if rejection is not None:
            record(session, actor, "refusal", "refused", now=now, customer_id=customer_id, request_id=request.id,
                   rejection=rejection.value)
            return ApprovalResult(False, rejection.value, None, customer_id, request.status)
        session.add(UsedNonce(nonce=request.nonce, request_id=request.id, used_at=now))
        if status is Status.PENDING_APPROVAL:
            _move(request, Action.REFUSE, now)
        request.refusal_reason = reason.value
        request.device_id = device.id
        session.add(request)
        record(session, actor, "refusal", "ok", now=now, customer_id=customer_id, request_id=request.id,
               reason=reason.value, status_before=status.value if status is not Status.PENDING_APPROVAL else None)
        if reason is RefusalReason.NOT_ME:
            _freeze_after_not_me(session, customer, request, actor, now, session_id)
        return ApprovalResult(True, None, None, customer_id, request.status)


def _freeze_after_not_me(session: Session, customer: Customer, request: ChangeRequest, actor: Actor,
                         now: datetime, kept_session: str | None) -> None:
    assert customer.id is not None
    record(session, actor, "fraud_alert", "raised", now=now, customer_id=customer.id, request_id=request.id,
           signal="not_me")
    customer.frozen_at, customer.frozen_reason = now, "not_me"
    session.add(customer)
    for pending in session.exec(select(ChangeRequest).where(
            ChangeRequest.customer_id == customer.id, ChangeRequest.status == Status.PENDING_APPROVAL.value)):
        _move(pending, Action.CANCEL, now)  # the fraudster's next request dies with his session
        session.add(pending)
        record(session, actor, "change_cancelled", "ok", now=now, customer_id=customer.id, request_id=pending.id,
               reason="not_me")
    ended = end_sessions(session, customer.id, reason="not_me", now=now, keep=(kept_session,))
    record(session, actor, "online_changes_frozen", "ok", now=now, customer_id=customer.id,
           request_id=request.id, reason="not_me", sessions_ended=ended)


# --- applying to MySys -----------------------------------------------------------------------


def _enqueue_notifications(session: Session, request: ChangeRequest, customer: Customer, now: datetime) -> None:
    agency = session.get(Agency, customer.agency_id)
    assert agency is not None
    lang = i18n.normalize_lang(customer.lang)
    new = phone_from_e164(request.new_e164)
    params = {
        "when": local_time(now, lang),
        "masked": _last_two_masked(new),
        "channel": i18n.text(f"channel.{request.channel}", lang),
        "advisor_phone": agency.phone,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "cooling_off": local_time(customer.cooling_off_until or now, lang),
    }
    notifications.enqueue(
        session, key=f"{request.id}:email", channel="email", recipient=customer.email,
        subject=i18n.text("notif.email.subject", lang), body=i18n.text("notif.email.body", lang, **params),
        customer_id=customer.id, now=now,
    )
    if request.old_e164:
        notifications.enqueue(
            session, key=f"{request.id}:sms-old", channel="sms", recipient=request.old_e164,
            body=i18n.text("notif.change", lang, **params), customer_id=customer.id, now=now,
        )
    notifications.enqueue(
        session, key=f"{request.id}:sms-new", channel="sms", recipient=request.new_e164,
        body=i18n.text("notif.welcome", lang), customer_id=customer.id, now=now,
    )


def _last_two_masked(number: PhoneNumber) -> str:
    """The new number masked except its last two digits: « •• •• •• •• 32 »."""
    return number.masked_but_last


def complete_change(
    request_id: str,
    *,
    now: datetime,
    mysys: MySys | None = None,
    policy: Policy = DEFAULT_POLICY,
    url: str | None = None,
) -> str:
    """Write an approved request to MySys, then complete it with its notifications in one
    transaction. Safe to call again at any time (MySys is idempotent on the request id)."""
    mysys = mysys or get_mysys()
    with transaction(url) as session:
        request, customer = _lock_request(session, request_id)
        if request is None or customer is None or Status(request.status) is not Status.APPLYING:
            return request.status if request else Status.FAILED.value
        # Nothing goes to MySys unless the change still applies to the number it replaces.
        if customer.secure_phone_e164 != request.old_e164:
            return _fail(session, request, "number_changed", now)
        if _taken_by_another(session, request, customer.id, now, policy):
            return _fail(session, request, "number_unavailable", now)
        identifier, old_e164, new_e164, channel = customer.identifier, request.old_e164, request.new_e164, request.channel
    try:
        mysys.update_secure_phone(identifier, new_e164, request_id, source=channel)
    except MySysError as error:
        with transaction(url) as session:
            live = session.exec(select(ChangeRequest).where(ChangeRequest.id == request_id).with_for_update()).one()
            live.mysys_attempts += 1
            if live.mysys_attempts >= MYSYS_MAX_ATTEMPTS and Status(live.status) is Status.APPLYING:
                _move(live, Action.FAIL, now)
                live.failure_reason = "mysys_unavailable"
            session.add(live)
            record(session, Actor("system"), "mysys_update", "error", now=now, customer_id=live.customer_id,
                   request_id=request_id, error=type(error).__name__, attempts=live.mysys_attempts)
            log.warning("MySys update failed for request %s (%s)", request_id, type(error).__name__)
            return live.status
    try:
        with transaction(url) as session:
            live, customer = _lock_request(session, request_id)
            assert live is not None and customer is not None
            if Status(live.status) is not Status.APPLYING:
                return live.status
            _move(live, Action.COMPLETE, now)
            live.completed_at = now
            customer.secure_phone_e164 = live.new_e164
            customer.number_changed_at = now
            customer.number_confirmed_at = now
            customer.cooling_off_until = now + policy.cooling_off
            customer.stale_prompt_later_count = 0
            session.add_all([live, customer])
            revoke_codes(session, customer.id, now)  # old SMS codes die with the change (§7)
            _enqueue_notifications(session, live, customer, now)
            # A factor changed: the customer's other sessions end; the one that asked goes on, and so does
            # the phone's session that approved (§12.2).
            end_sessions(session, customer.id, reason="factor_changed", now=now,
                         keep=(live.session_id, live.approved_session_id))
            record(session, Actor("system"), "change_completed", "ok", now=now, customer_id=customer.id,
                   request_id=request_id, number=phone_from_e164(live.new_e164).masked, channel_of_request=live.channel)
            return live.status
    except IntegrityError:
        # The number became another customer's secure number in the meantime (unique index):
        # put MySys back to the number it replaced (its own idempotent operation), then fail.
        if old_e164:
            mysys.update_secure_phone(identifier, old_e164, f"{request_id}:revert", source="revert")
        with transaction(url) as session:
            live = session.exec(select(ChangeRequest).where(ChangeRequest.id == request_id).with_for_update()).one()
            return _fail(session, live, "number_unavailable", now)


def _taken_by_another(session: Session, request: ChangeRequest, customer_id: int | None, now: datetime,
                      policy: Policy) -> bool:
    """Another customer holds the new number, or held it within the reuse window (the mule rule, checked
    again when a change is applied: an advisor's change waits for its validation meanwhile). A request
    being applied is not its own competitor."""
    held = session.exec(select(Customer.id).where(Customer.secure_phone_e164 == request.new_e164,
                                                  Customer.id != customer_id)).first()
    if held is not None:
        return True
    released = session.exec(select(ChangeRequest.id).where(
        ChangeRequest.customer_id != customer_id, ChangeRequest.old_e164 == request.new_e164,
        ChangeRequest.status == Status.COMPLETED.value,
        ChangeRequest.completed_at >= now - policy.number_reuse_window)).first()  # type: ignore[operator]
    return released is not None


def _lock_request(session: Session, request_id: str) -> tuple[ChangeRequest | None, Customer | None]:
    """Lock the customer, then the request: the order every service uses (no deadlock)."""
    customer_id = session.exec(select(ChangeRequest.customer_id).where(ChangeRequest.id == request_id)).first()
    if customer_id is None:
        return None, None
    customer = _customer_for_update(session, customer_id)
    request = session.exec(select(ChangeRequest).where(ChangeRequest.id == request_id).with_for_update()).one()
    return request, customer


def _fail(session: Session, request: ChangeRequest, reason: str, now: datetime) -> str:
    """An approved request that cannot be applied fails cleanly (nothing half-written)."""
    if Status(request.status) is Status.APPLYING:
        _move(request, Action.FAIL, now)
        request.failure_reason = reason
        session.add(request)
        record(session, Actor("system"), "change_completed", "failed", now=now, customer_id=request.customer_id,
               request_id=request.id, reason=reason)
    return request.status


def retry_applying(*, now: datetime, mysys: MySys | None = None, url: str | None = None) -> int:
    """Finish every approved request still waiting for MySys (run by the dispatcher loop)."""
    with read_only(url) as session:
        ids = list(session.exec(select(ChangeRequest.id).where(ChangeRequest.status == Status.APPLYING.value)
                                .order_by(ChangeRequest.created_at)))  # type: ignore[arg-type]
    for request_id in ids:
        complete_change(request_id, now=now, mysys=mysys, url=url)
    return len(ids)
