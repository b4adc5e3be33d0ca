"""J4: Sécur'Pass moves to a new smartphone, by an 8-digit SMS code sent to the current secure
number; or the customer says « Ce n'est plus mon numéro » and is sent to the advisor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import select

from secure_phone import i18n
from secure_phone.adapters import notifications
from secure_phone.adapters.db import transaction
from secure_phone.adapters.models import Agency, ChangeRequest, Customer, Device
from secure_phone.domain.change_request import Action, Status, transition
from secure_phone.domain.phone import phone_from_e164
from secure_phone.domain.policy import DEFAULT_POLICY, Policy
from secure_phone.domain.securpass import hash_code, is_valid_code_format
from secure_phone.services.audit import Actor, record
from secure_phone.services.customers import local_time
from secure_phone.services.sms_codes import SmsCodeError, check_code, send_code
from secure_phone.settings import secret_key

PURPOSE = "activation"


class ActivationError(Exception):
    def __init__(self, code: str, tries_left: int | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.tries_left = tries_left


@dataclass(frozen=True)
class ActivationStart:
    masked_number: str


def _new_device(session, device_id: str | None) -> Device:  # type: ignore[no-untyped-def]
    device = session.get(Device, device_id) if device_id else None
    if device is None or device.status != "unenrolled" or not device.public_jwk:
        raise ActivationError("activation.not_possible")
    return device


def _customer(session, customer_id: int) -> Customer:  # type: ignore[no-untyped-def]
    customer = session.exec(select(Customer).where(Customer.id == customer_id).with_for_update()).first()
    if customer is None:
        raise ActivationError("error.generic")
    if customer.securpass_status == "blocked":  # unblocking goes through the advisor (§5.3)
        raise ActivationError("ineligible.securpass_blocked")
    return customer


def send_activation_code(
    customer_id: int, device_id: str | None, *, actor: Actor, now: datetime, policy: Policy = DEFAULT_POLICY,
    url: str | None = None,
) -> ActivationStart:
    """Send the 8-digit code to the current secure number (shown masked)."""
    with transaction(url) as session:
        customer = _customer(session, customer_id)
        _new_device(session, device_id)
        try:
            send_code(session, customer, PURPOSE, now=now, device_id=device_id, policy=policy)
        except SmsCodeError as error:
            record(session, actor, "activation_code_sent", "refused", now=now, customer_id=customer_id,
                   device=device_id, problem=error.code)
            session.commit()
            raise ActivationError(error.code) from error
        record(session, actor, "activation_code_sent", "ok", now=now, customer_id=customer_id, device=device_id)
        return ActivationStart(phone_from_e164(customer.secure_phone_e164).masked if customer.secure_phone_e164 else "")


def activate(
    customer_id: int, device_id: str | None, *, sms_code: str, securpass_code: str, actor: Actor, now: datetime,
    policy: Policy = DEFAULT_POLICY, url: str | None = None,
) -> None:
    """Bind Sécur'Pass to this phone: the old binding is revoked, the customer notified on the
    independent channels, and no online number change is possible for ``policy.new_device_lock``."""
    if not is_valid_code_format(securpass_code):
        raise ActivationError("activation.code_format")
    with transaction(url) as session:
        customer = _customer(session, customer_id)
        device = _new_device(session, device_id)
        try:
            check_code(session, customer, PURPOSE, sms_code, now=now, device_id=device.id, policy=policy)
        except SmsCodeError as error:
            record(session, actor, "activation", "refused", now=now, customer_id=customer_id, device=device_id,
                   problem=error.code)
            session.commit()
            raise ActivationError(error.code, error.tries_left) from error
        old = session.exec(select(Device).where(Device.customer_id == customer_id, Device.status == "enrolled")).all()
        for previous in old:
            previous.status, previous.revoked_at = "revoked", now
            session.add(previous)
        moved = bool(old) or customer.securpass_status != "none"
        device.customer_id, device.status, device.enrolled_at = customer_id, "enrolled", now
        device.code_hash = hash_code(secret_key(), device.id, securpass_code)
        device.label = f"Smartphone de {customer.first_name} {customer.last_name}"
        customer.securpass_status, customer.securpass_wrong_codes = "active", 0
        customer.securpass_moved_at = now
        session.add_all([device, customer])
        # Requests waiting for the old phone can no longer be approved.
        for pending in session.exec(select(ChangeRequest).where(
                ChangeRequest.customer_id == customer_id, ChangeRequest.status == Status.PENDING_APPROVAL.value)):
            pending.status = transition(Status(pending.status), Action.SUPERSEDE).value
            pending.decided_at = now
            session.add(pending)
        _notify(session, customer, device, now)
        record(session, actor, "securpass_activated", "ok", now=now, customer_id=customer_id, device=device.id,
               revoked=[d.id for d in old], moved=moved)


def _notify(session, customer: Customer, device: Device, now: datetime) -> None:  # type: ignore[no-untyped-def]
    agency = session.get(Agency, customer.agency_id)
    lang = i18n.normalize_lang(customer.lang)
    params = {"when": local_time(now, lang), "advisor_phone": agency.phone if agency else ""}
    notifications.enqueue(
        session, key=f"activation:{device.id}:email", channel="email", recipient=customer.email,
        subject=i18n.text("notif.activation.subject", lang), body=i18n.text("notif.activation", lang, **params),
        customer_id=customer.id, now=now,
    )
    if customer.secure_phone_e164:
        notifications.enqueue(
            session, key=f"activation:{device.id}:sms", channel="sms", recipient=customer.secure_phone_e164,
            body=i18n.text("notif.activation", lang, **params), customer_id=customer.id, now=now,
        )


def not_my_number(customer_id: int, *, actor: Actor, now: datetime, url: str | None = None) -> None:
    """« Ce n'est plus mon numéro »: recorded for the advisor's timeline (the contact page follows)."""
    with transaction(url) as session:
        record(session, actor, "not_my_number", "ok", now=now, customer_id=customer_id)

