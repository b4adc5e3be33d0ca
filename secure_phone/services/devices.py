"""Smartphones: the demo phone picker and the public keys they hold.

Picking up « Smartphone de <persona> » is the demo's only shortcut (spec §6): the browser makes a
non-extractable key pair and the bank registers its public key for that persona's enrolled
device, as the real app does at enrolment. Everything after it is the real flow.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import select

from secure_phone.adapters.db import read_only, transaction
from secure_phone.adapters.models import Customer, Device
from secure_phone.domain.securpass import validate_public_jwk
from secure_phone.services.audit import Actor, record
from secure_phone.services.inputs import key

NEW_PHONE = "new"
NEW_PHONE_LABEL = "Nouveau smartphone"


class DeviceError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class PhoneChoice:
    value: str
    label: str


@dataclass(frozen=True)
class DeviceView:
    id: str
    label: str
    enrolled: bool
    customer_id: int | None


def demo_phones(url: str | None = None) -> list[PhoneChoice]:
    """The enrolled phones of the personas, then « Nouveau smartphone »."""
    with read_only(url) as session:
        rows = session.exec(
            select(Device).join(Customer, Device.customer_id == Customer.id)  # type: ignore[arg-type]
            .where(Device.status == "enrolled").order_by(Customer.identifier)
        ).all()
    return [PhoneChoice(d.id, d.label) for d in rows] + [PhoneChoice(NEW_PHONE, NEW_PHONE_LABEL)]


def pick_up_phone(choice: str, public_jwk: object, *, actor: Actor, now: datetime, url: str | None = None) -> DeviceView:
    """Bind this browser's fresh public key to the chosen phone; returns the device."""
    try:
        jwk = validate_public_jwk(public_jwk)
    except ValueError as error:
        raise DeviceError("picker.unsupported") from error
    with transaction(url) as session:
        if choice == NEW_PHONE:
            device = Device(label=NEW_PHONE_LABEL, status="unenrolled", created_at=now)
        else:
            device = session.exec(select(Device).where(Device.id == key(choice), Device.status == "enrolled")).first()
            if device is None:
                raise DeviceError("error.generic")
        device.public_jwk = json.dumps(jwk, sort_keys=True)
        device.key_registered_at = now
        session.add(device)
        session.flush()
        record(session, actor, "demo_phone_picked", "ok", now=now, customer_id=device.customer_id, device=device.id)
        return DeviceView(device.id, device.label, device.status == "enrolled", device.customer_id)


def device_view(device_id: str | None, url: str | None = None) -> DeviceView | None:
    device_id = key(device_id)
    if not device_id:
        return None
    with read_only(url) as session:
        device = session.get(Device, device_id)
    if device is None or device.status == "revoked":
        return None
    return DeviceView(device.id, device.label, device.status == "enrolled", device.customer_id)
