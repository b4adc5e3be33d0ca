"""J4: Sécur'Pass moves to a new smartphone, by an 8-digit SMS code sent to the current secure number; or
the customer says « Ce n'est plus mon numéro » and is sent to the advisor.

The move is refused online (the customer goes to the advisor, J6) while the customer's online changes are
frozen (a « not me » refusal), while Sécur'Pass is blocked, and for ``policy.securpass_move_lock_after_change``
after a change of secure number: a customer talked by a fake adviser into approving a change to the
fraudster's number must not lose Sécur'Pass to the code that number now receives. That refusal is told to
the **previous** number by SMS and to the customer by email (§12.2).

The new phone proves it holds the key it registered: the activation is signed by that key, over a text
naming the phone and the code sent for it. Knowing a phone's id is worth nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from secure_phone import i18n
from secure_phone.adapters.models import Agency, ChangeRequest, Customer, Device, SmsCode
from secure_phone.domain.change_request import Status
from secure_phone.domain.eligibility import MoveRefusal, securpass_move_refusal
from secure_phone.domain.phone import phone_from_e164
from secure_phone.domain.policy import Policy
from secure_phone.domain.securpass import activation_text, hash_code, is_valid_code_format, verify_signature
from secure_phone.personas import phone_label
from secure_phone.services import operator
from secure_phone.services.audit import Actor
from secure_phone.services.auth import end_sessions
from secure_phone.services.customers import display_name, local_time
from secure_phone.services.inputs import CODE_LIMIT, key
from secure_phone.services.rows import lock_customer, supersede_pending
from secure_phone.services.sms_codes import check_code, send_code, sending_refusal
from secure_phone.services.unit_of_work import Refused, Tx, UnitOfWork
from secure_phone.settings import secret_key

PURPOSE = "activation"
REFUSAL_CODES = {
    MoveRefusal.FROZEN: "ineligible.frozen",
    MoveRefusal.SECURPASS_BLOCKED: "ineligible.securpass_blocked",
    MoveRefusal.RECENT_NUMBER_CHANGE: "activation.refused.recent_number_change",
}
"""The i18n key telling the customer why Sécur'Pass cannot move online (each with the way to the advisor)."""


@dataclass(frozen=True)
class ActivationStart:
    masked_number: str


def _new_device(tx: Tx, device_id: str | None, customer: Customer, action: str) -> Device:
    """The new phone of a J4; refused (and audited) for an enrolled, revoked, unknown or keyless one."""
    device_id = key(device_id)
    device = tx.session.get(Device, device_id) if device_id else None
    if device is None or device.status != "unenrolled" or not device.public_jwk \
            or device.customer_id not in (None, customer.id):
        raise Refused("activation.not_possible", action=action, customer_id=customer.id, device=device_id or None,
                      problem="activation.not_possible")
    return device


def _refusal(customer: Customer, now: datetime, policy: Policy) -> MoveRefusal | None:
    return securpass_move_refusal(frozen=customer.frozen_at is not None,
                                  securpass_blocked=customer.securpass_status == "blocked",
                                  number_changed_at=customer.number_changed_at, now=now, policy=policy)


def _right_after_a_change(customer: Customer, now: datetime, policy: Policy) -> bool:
    return customer.number_changed_at is not None \
        and now - customer.number_changed_at < policy.securpass_move_lock_after_change


def _refuse_move(tx: Tx, customer: Customer, refusal: MoveRefusal, device_id: str | None) -> None:
    """Record a refused move. Right after a change of number — whatever reason is shown first (a freeze,
    a block) — the previous number and the email are told, and the advisor sees the signal."""
    after_change = _right_after_a_change(customer, tx.now, tx.uow.policy)
    tx.record("securpass_move", "refused", customer_id=customer.id, device=device_id, problem=refusal.value,
              after_change=after_change or None)
    tx.changed(customer.id)
    if after_change:
        _notify_refused_move(tx, customer, device_id)


def _refuse_if_not_allowed(tx: Tx, customer: Customer, device_id: str | None) -> None:
    refusal = _refusal(customer, tx.now, tx.uow.policy)
    if refusal is not None:
        _refuse_move(tx, customer, refusal, key(device_id) or None)
        raise Refused(REFUSAL_CODES[refusal])  # recorded above (with its notifications)


def move_refusal(uow: UnitOfWork, customer_id: int) -> str | None:
    """Whether Sécur'Pass may move to a new phone online now: None, or the i18n key saying why not."""
    with uow.read() as session:
        customer = session.get(Customer, customer_id)
        if customer is None:
            return "error.generic"
        refusal = _refusal(customer, uow.now, uow.policy)
    return REFUSAL_CODES[refusal] if refusal else None


def on_new_phone(uow: UnitOfWork, customer_id: int, device_id: str | None, *, actor: Actor,
                 ask_operator: bool = True) -> str | None:
    """The customer logged in on a phone that is not their Sécur'Pass phone (J4 starts): None when the move
    may go on, else the i18n key of the reason, recorded (and told to the previous number after a recent
    change of number). The local rules first; then, unless ``ask_operator`` is False (the caller asks it
    itself, off its event loop: :func:`new_phone_operator_check`), the operator."""
    with uow.write(actor) as tx:
        customer = lock_customer(tx.session, customer_id)
        refusal = _refusal(customer, tx.now, uow.policy)
        if refusal is not None:
            _refuse_move(tx, customer, refusal, key(device_id) or None)
            return REFUSAL_CODES[refusal]
    if not ask_operator:
        return None
    return new_phone_operator_check(uow, customer_id, actor=actor)


def new_phone_operator_check(uow: UnitOfWork, customer_id: int, *, actor: Actor) -> str | None:
    """J4, the operator's part: a new SIM on the number the code goes to (§12.4)? None, or the refusal's key."""
    return operator.guard_activation(uow, customer_id, actor=actor)


def send_activation_code(uow: UnitOfWork, customer_id: int, device_id: str | None, *, actor: Actor) -> ActivationStart:
    """Send the 8-digit code to the current secure number (shown masked) — unless the operator says that number's
    SIM was changed recently (§12.4: ``operator.current_sim_swap``, to the advisor)."""
    with uow.write(actor) as tx:  # the local rules first: a refused move never costs an operator call
        customer = lock_customer(tx.session, customer_id)
        _refuse_if_not_allowed(tx, customer, device_id)
        _new_device(tx, device_id, customer, "activation_code_sent")
        if (sending := sending_refusal(tx, customer, PURPOSE)) is not None:
            raise Refused(sending, action="activation_code_sent", customer_id=customer_id,
                          device=key(device_id) or None, problem=sending)
    refusal = operator.guard_activation(uow, customer_id, actor=actor)
    if refusal is not None:
        raise Refused(refusal)  # recorded with the operator's answer
    with uow.write(actor) as tx:
        customer = lock_customer(tx.session, customer_id)
        _refuse_if_not_allowed(tx, customer, device_id)
        device = _new_device(tx, device_id, customer, "activation_code_sent")
        send_code(tx, customer, PURPOSE, action="activation_code_sent", device_id=device.id)
        tx.record("activation_code_sent", "ok", customer_id=customer_id, device=device.id)
        return ActivationStart(phone_from_e164(customer.secure_phone_e164).masked if customer.secure_phone_e164 else "")


def _latest_code(session: Session, customer_id: int, device_id: str) -> SmsCode | None:
    return session.exec(
        select(SmsCode).where(SmsCode.customer_id == customer_id, SmsCode.purpose == PURPOSE,
                              SmsCode.device_id == device_id, col(SmsCode.revoked_at).is_(None))
        .order_by(col(SmsCode.issued_at).desc())
    ).first()


def challenge(uow: UnitOfWork, customer_id: int, device_id: str | None, *, lang: str) -> str:
    """The text the new phone signs to activate: it names the customer, the phone and the code sent for it
    (empty when no code was sent for this phone)."""
    device_id = key(device_id)
    with uow.read() as session:
        customer = session.get(Customer, customer_id)
        code = _latest_code(session, customer_id, device_id) if device_id and customer else None
        if customer is None or code is None:
            return ""
        return activation_text(lang=i18n.normalize_lang(lang), customer_name=display_name(customer),
                               device_id=device_id, reference=code.id)


def activate(uow: UnitOfWork, customer_id: int, device_id: str | None, *, sms_code: str, securpass_code: str,
             signature: str, lang: str, actor: Actor, session_id: str | None = None) -> None:
    """Bind Sécur'Pass to this phone: the old binding is revoked, the customer notified on the independent
    channels, the customer's other sessions end (``session_id``, this phone's, goes on), and no online
    number change is possible for ``policy.new_device_lock``."""
    securpass_code = key(securpass_code, CODE_LIMIT)
    if not is_valid_code_format(securpass_code):
        raise Refused("activation.code_format")
    with uow.write(actor) as tx:
        customer = lock_customer(tx.session, customer_id)
        _refuse_if_not_allowed(tx, customer, device_id)
        device = _new_device(tx, device_id, customer, "activation")
        code_row = _latest_code(tx.session, customer_id, device.id)
        text = activation_text(lang=i18n.normalize_lang(lang), customer_name=display_name(customer),
                               device_id=device.id, reference=code_row.id) if code_row else ""
        if not text or not verify_signature(json.loads(device.public_jwk or "{}"), text, str(signature or "")):
            # Not the phone that registered this key: no code is even tried.
            raise Refused("activation.not_possible", action="activation", customer_id=customer_id, device=device.id,
                          problem="bad_signature")
        check_code(tx, customer, PURPOSE, sms_code, action="activation", device_id=device.id)
        old = tx.session.exec(select(Device).where(Device.customer_id == customer_id,
                                                   Device.status == "enrolled")).all()
        for previous in old:
            previous.status, previous.revoked_at = "revoked", tx.now
            tx.session.add(previous)
        moved = bool(old) or customer.securpass_status != "none"
        device.customer_id, device.status, device.enrolled_at = customer_id, "enrolled", tx.now
        device.code_hash = hash_code(secret_key(), device.id, securpass_code)
        device.label = phone_label(customer.first_name, customer.last_name)
        device.demo = False  # enrolled by the real procedure: only its holder's key can ever re-key it
        customer.securpass_status, customer.securpass_wrong_codes = "active", 0
        customer.securpass_moved_at = tx.now
        tx.session.add_all([device, customer])
        supersede_pending(tx, customer_id, online_only=False)  # requests waiting for the old phone die
        _notify(tx, customer, device)
        ended = end_sessions(tx.session, customer_id, reason="factor_changed", now=tx.now,
                             keep=(key(session_id) or None,))
        tx.record("securpass_activated", "ok", customer_id=customer_id, device=device.id,
                  revoked=[d.id for d in old], moved=moved, sessions_ended=ended)
        tx.changed(customer_id)


def _params(tx: Tx, customer: Customer) -> tuple[str, dict[str, str]]:
    agency = tx.session.get(Agency, customer.agency_id)
    lang = i18n.normalize_lang(customer.lang)
    return lang, {"when": local_time(tx.now, lang), "advisor_phone": agency.phone if agency else ""}


def _notify(tx: Tx, customer: Customer, device: Device) -> None:
    lang, params = _params(tx, customer)
    tx.notify(key=f"activation:{device.id}:email", channel="email", recipient=customer.email,
              subject=i18n.text("notif.activation.subject", lang), body=i18n.text("notif.activation", lang, **params),
              customer_id=customer.id, lang=lang)
    if customer.secure_phone_e164:
        tx.notify(key=f"activation:{device.id}:sms", channel="sms", recipient=customer.secure_phone_e164,
                  body=i18n.text("notif.activation", lang, **params), customer_id=customer.id)


def _last_change(session: Session, customer: Customer) -> ChangeRequest | None:
    """The customer's last completed change (its ``old_e164`` is the previous number)."""
    return session.exec(
        select(ChangeRequest).where(ChangeRequest.customer_id == customer.id,
                                    ChangeRequest.status == Status.COMPLETED.value)
        .order_by(col(ChangeRequest.completed_at).desc())
    ).first()


def _notify_refused_move(tx: Tx, customer: Customer, device_id: str | None) -> None:
    """Tell the previous number (SMS) and the customer (email) that a Sécur'Pass move was refused right after
    the change of number: once per customer, change and phone (the outbox key), however many tries."""
    lang, params = _params(tx, customer)
    last = _last_change(tx.session, customer)
    tag = f"{customer.id}:{last.id if last else 'none'}:{device_id or 'no-phone'}"
    tx.notify(key=f"move-refused:{tag}:email", channel="email", recipient=customer.email,
              subject=i18n.text("notif.move.refused.subject", lang),
              body=i18n.text("notif.move.refused", lang, **params), customer_id=customer.id, lang=lang)
    previous = last.old_e164 if last else None
    if previous and previous != customer.secure_phone_e164:
        tx.notify(key=f"move-refused:{tag}:sms-old", channel="sms", recipient=previous,
                  body=i18n.text("notif.move.refused", lang, **params), customer_id=customer.id)


def not_my_number(uow: UnitOfWork, customer_id: int, *, actor: Actor) -> None:
    """« Ce n'est plus mon numéro »: recorded for the advisor's timeline (the contact page follows)."""
    with uow.write(actor) as tx:
        tx.record("not_my_number", "ok", customer_id=customer_id)
        tx.changed(customer_id)
