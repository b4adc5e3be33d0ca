"""The phone's approval (J5): what the enrolled phone shows and signs, « Valider », « Refuser ».

An approval is accepted only if every check of §6 holds (the domain's ``decide_approval``); a failure never
tells whether the code or the device was wrong, and every failure is audited. « Je ne suis pas à l'origine de
cette demande » freezes the customer's online changes (§12.2).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from secure_phone import i18n
from secure_phone.adapters.models import ChangeRequest, Customer, Device, UsedNonce
from secure_phone.domain.change_request import PENDING, Action, Channel, RefusalReason, Status
from secure_phone.domain.phone import phone_from_e164
from secure_phone.domain.securpass import (
    ApprovalFacts,
    Rejection,
    challenge_text,
    code_matches,
    decide_approval,
    verify_signature,
)
from secure_phone.services.audit import Actor
from secure_phone.services.auth import end_sessions
from secure_phone.services.change.applying import Approved, apply_approved
from secure_phone.services.customers import display_name, eligibility_of
from secure_phone.services.inputs import CODE_LIMIT, key
from secure_phone.services.rows import expire_if_due, lock_customer, move, number_holder, other_change_applying
from secure_phone.services.unit_of_work import Tx, UnitOfWork
from secure_phone.settings import secret_key

NOT_ME_WINDOW = timedelta(hours=1)
"""How long after a request was made a signed « not me » on it still counts, even when the request is no
longer pending: a fraudster who cancels or replaces his request the moment he is not approved must not turn
the customer's report into « not pending »."""
_NEVER_APPROVED = (Status.PENDING_APPROVAL, Status.CANCELLED, Status.SUPERSEDED, Status.EXPIRED)


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


def _enrolled_device(session: Session, device_id: str | None, customer_id: int) -> Device | None:
    """The device, if it is this customer's enrolled phone with a key."""
    device_id = key(device_id)
    device = session.get(Device, device_id) if device_id else None
    if device is None or device.customer_id != customer_id or device.status != "enrolled" or not device.public_jwk:
        return None
    return device


def _approval_view(request: Any, customer: Any, lang: str) -> ApprovalView:
    """``request``: a :class:`ChangeRequest` or a row of its columns (``id``, ``created_at``, ``expires_at``,
    ``new_e164``, ``nonce``); ``customer``: what :func:`display_name` reads."""
    national = phone_from_e164(request.new_e164).national
    name = display_name(customer)
    return ApprovalView(
        request_id=request.id, requested_at=request.created_at, expires_at=request.expires_at,
        new_national=national, customer_name=name, nonce=request.nonce,
        text=challenge_text(lang=lang, new_number_national=national, customer_name=name, request_id=request.id,
                            nonce=request.nonce, expires_at=request.expires_at),
    )


def _signed_text(request: ChangeRequest, customer: Customer, lang: str, suffix: str = "") -> str:
    return _approval_view(request, customer, lang).text + suffix


_R, _C, _D = (Model.__table__ for Model in (ChangeRequest, Customer, Device))  # type: ignore[union-attr]
_PENDING = (
    sa_select(_R.c.id, _R.c.created_at, _R.c.expires_at, _R.c.new_e164, _R.c.nonce, _C.c.first_name, _C.c.last_name)
    .select_from(_D.join(_C, _C.c.id == _D.c.customer_id).join(_R, _R.c.customer_id == _C.c.id))
    .where(_D.c.id == bindparam("device_id"), _D.c.customer_id == bindparam("customer_id"),
           _D.c.status == "enrolled", _D.c.public_jwk.is_not(None), _D.c.public_jwk != "",
           _R.c.status == Status.PENDING_APPROVAL.value,
           _R.c.channel != Channel.ADVISOR.value)  # an advisor change waits for an advisor
    .order_by(_R.c.created_at.desc())
    .limit(1)
)
"""The newest request waiting for the phone's approval, with what it shows, if the phone is the customer's enrolled
device with a key (:func:`_enrolled_device`'s rule, in SQL: change both together): one Core statement built once
(the phone reads it at every push; three ORM reads showed in the profile)."""


def pending_approval(uow: UnitOfWork, customer_id: int, device_id: str | None, *, lang: str) -> ApprovalView | None:
    """The request waiting for this phone, if the phone is the customer's enrolled device."""
    device_id = key(device_id)
    if not device_id:
        return None
    with uow.reading() as connection:
        row = connection.execute(_PENDING, {"device_id": device_id, "customer_id": customer_id}).first()
    if row is None or uow.now >= row.expires_at:
        return None
    return _approval_view(row, row, i18n.normalize_lang(lang))


def approve(uow: UnitOfWork, customer_id: int, device_id: str | None, request_id: str, *, code: str, signature: str,
            lang: str, actor: Actor, session_id: str | None = None) -> ApprovalResult:
    """« Valider » on the phone: every check of §6, then MySys, then completion.

    ``session_id`` is the phone's session that approves: with the one that asked, it goes on after the
    change (the customer's other sessions end).
    """
    lang = i18n.normalize_lang(lang)
    request_id, device_id, code = key(request_id), key(device_id) or None, key(code, CODE_LIMIT)
    policy = uow.policy
    with uow.write(actor) as tx:
        customer = lock_customer(tx.session, customer_id)
        request = tx.session.exec(select(ChangeRequest).where(ChangeRequest.id == request_id).with_for_update()).first()
        if request is None or request.customer_id != customer_id or request.channel == Channel.ADVISOR.value:
            tx.record("approval", "refused", customer_id=customer_id, request_id=request_id,
                      rejection=Rejection.NOT_FOUND.value)
            return ApprovalResult(False, Rejection.NOT_FOUND.value, None, customer_id, None)
        expire_if_due(tx.session, request, tx.now)
        device = tx.session.get(Device, device_id) if device_id else None
        # Only the customer's own enrolled phone can spend (or even test) this request's nonce.
        own = _enrolled_device(tx.session, device_id, customer_id)
        signature_ok = bool(own and verify_signature(json.loads(own.public_jwk or "{}"),
                                                     _signed_text(request, customer, lang), str(signature)))
        nonce_used = tx.session.get(UsedNonce, request.nonce) is not None
        facts = ApprovalFacts(
            status=Status(request.status),
            device_belongs_to_customer=device is not None and device.customer_id == customer_id,
            device_active=device is not None and device.status == "enrolled",
            signature_valid=signature_ok,
            nonce_already_used=nonce_used,
            code_correct=bool(own and own.code_hash and code_matches(secret_key(), own.id, code, own.code_hash)),
            securpass_blocked=customer.securpass_status == "blocked",
            consecutive_wrong_codes=customer.securpass_wrong_codes,
            number_still_available=number_holder(tx.session, request.new_e164, customer_id, tx.now, policy) is None
            and request.old_e164 == customer.secure_phone_e164
            and other_change_applying(tx.session, customer_id, excluding=request.id) is None,  # an advisor's, validated
            eligible=eligibility_of(tx.session, customer, tx.now, policy).eligible,
        )
        decision = decide_approval(facts, policy)
        if signature_ok and not nonce_used:
            # A signed nonce is spent whatever the outcome: the next try signs a fresh one.
            tx.session.add(UsedNonce(nonce=request.nonce, request_id=request.id, used_at=tx.now))
            if Status(request.status) is Status.PENDING_APPROVAL and not decision.accepted:
                request.nonce = secrets.token_urlsafe(16)
        if decision.accepted:
            customer.securpass_wrong_codes = 0
            request.device_id = device_id
            request.approved_session_id = key(session_id) or None
            move(request, Action.APPROVE, tx.now)
            # Checked above under the customer's lock (the number replaced still theirs, the new one nobody
            # else's, nor being made so): MySys is told at once, without a transaction to check it all again.
            approved = Approved(request.id, customer.identifier, request.channel, request.old_e164,
                                request.new_e164)
        elif decision.rejection is Rejection.WRONG_CODE:
            customer.securpass_wrong_codes += 1
            if decision.block_securpass:
                customer.securpass_status, customer.securpass_blocked_at = "blocked", tx.now
                move(request, Action.BLOCK, tx.now)
                tx.record("securpass_blocked", "ok", customer_id=customer_id, request_id=request.id)
        elif decision.rejection is Rejection.NOT_ELIGIBLE or decision.rejection is Rejection.NUMBER_CHANGED:
            move(request, Action.FAIL, tx.now)
            request.failure_reason = decision.rejection.value
        tx.session.add_all([customer, request])
        tx.record("approval", "ok" if decision.accepted else "refused", customer_id=customer_id,
                  request_id=request.id, device=device_id,
                  rejection=decision.rejection.value if decision.rejection else None, tries_left=decision.tries_left)
        tx.changed(customer_id)
        status_after = request.status
    if decision.accepted:
        status_after = apply_approved(uow, approved)
    return ApprovalResult(decision.accepted, decision.rejection.value if decision.rejection else None,
                          decision.tries_left, customer_id, status_after)


def refuse(uow: UnitOfWork, customer_id: int, device_id: str | None, request_id: str, *, reason: RefusalReason,
           signature: str, lang: str, actor: Actor, session_id: str | None = None) -> ApprovalResult:
    """« Refuser » on the phone, signed like an approval.

    « Je ne suis pas à l'origine de cette demande » raises a fraud alert, freezes the customer's online
    changes (number and Sécur'Pass move) until an advisor clears it, kills every pending request (they are
    the fraudster's), and ends every session of the customer but the phone's (``session_id``): the session
    that asked for the change is the fraudster's. It counts on a request the phone showed even when the
    fraudster cancelled or replaced it first (within ``NOT_ME_WINDOW``, never an approved one).
    """
    lang = i18n.normalize_lang(lang)
    request_id, device_id = key(request_id), key(device_id) or None
    with uow.write(actor) as tx:
        customer = lock_customer(tx.session, customer_id)
        request = tx.session.exec(select(ChangeRequest).where(ChangeRequest.id == request_id).with_for_update()).first()
        device = _enrolled_device(tx.session, device_id, customer_id)
        if request is None or request.customer_id != customer_id or device is None \
                or request.channel == Channel.ADVISOR.value:
            tx.record("refusal", "refused", customer_id=customer_id, request_id=request_id,
                      rejection=Rejection.WRONG_DEVICE.value if request else Rejection.NOT_FOUND.value)
            return ApprovalResult(False, Rejection.NOT_FOUND.value, None, customer_id, None)
        expire_if_due(tx.session, request, tx.now)
        text = _signed_text(request, customer, lang, suffix=f"\n{reason.value}")
        status = Status(request.status)
        reported_late = reason is RefusalReason.NOT_ME and status in _NEVER_APPROVED \
            and tx.now - request.created_at <= NOT_ME_WINDOW
        if status is not Status.PENDING_APPROVAL and not reported_late:
            rejection: Rejection | None = Rejection.NOT_PENDING
        elif not verify_signature(json.loads(device.public_jwk or "{}"), text, str(signature)):
            rejection = Rejection.BAD_SIGNATURE
        elif tx.session.get(UsedNonce, request.nonce) is not None:
            rejection = Rejection.NONCE_REUSED
        else:
            rejection = None
        if rejection is not None:
            tx.record("refusal", "refused", customer_id=customer_id, request_id=request.id, rejection=rejection.value)
            tx.changed(customer_id)
            return ApprovalResult(False, rejection.value, None, customer_id, request.status)
        tx.session.add(UsedNonce(nonce=request.nonce, request_id=request.id, used_at=tx.now))
        if status is Status.PENDING_APPROVAL:
            move(request, Action.REFUSE, tx.now)
        request.refusal_reason = reason.value
        request.device_id = device.id
        tx.session.add(request)
        tx.record("refusal", "ok", customer_id=customer_id, request_id=request.id, reason=reason.value,
                  status_before=status.value if status is not Status.PENDING_APPROVAL else None)
        if reason is RefusalReason.NOT_ME:
            _freeze_after_not_me(tx, customer, request, session_id)
        tx.changed(customer_id)
        return ApprovalResult(True, None, None, customer_id, request.status)


def _freeze_after_not_me(tx: Tx, customer: Customer, request: ChangeRequest, kept_session: str | None) -> None:
    assert customer.id is not None
    tx.record("fraud_alert", "raised", customer_id=customer.id, request_id=request.id, signal="not_me")
    customer.frozen_at, customer.frozen_reason = tx.now, "not_me"
    tx.session.add(customer)
    for pending in tx.session.exec(select(ChangeRequest).where(
            ChangeRequest.customer_id == customer.id, col(ChangeRequest.status).in_([s.value for s in PENDING]))):
        move(pending, Action.CANCEL, tx.now)  # the fraudster's next request dies with his session
        tx.session.add(pending)
        tx.record("change_cancelled", "ok", customer_id=customer.id, request_id=pending.id, reason="not_me")
    ended = end_sessions(tx.session, customer.id, reason="not_me", now=tx.now, keep=(kept_session,))
    tx.record("online_changes_frozen", "ok", customer_id=customer.id, request_id=request.id, reason="not_me",
              sessions_ended=ended)
