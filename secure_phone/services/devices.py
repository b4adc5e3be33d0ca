"""Smartphones: the demo phone picker and the public keys they hold.

Picking up « Smartphone de <persona> » is the demo's only shortcut (spec §6): the browser makes a
non-extractable key pair and the bank registers its public key for that persona's enrolled
device, as the real app does at enrolment. Everything after it is the real flow.

The picker offers the seeded personas' phones only (never the other customers' devices), each
named by its persona's identifier — a choice that does not depend on the database, so the page
can draw the picker before the server has answered — plus « Nouveau smartphone ». A device id
can still be picked up directly (the benchmark picks its own customers' phones that way): ids are
random, unguessable, and only an enrolled device can be picked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import select

from secure_phone.adapters.db import read_only, transaction
from secure_phone.adapters.models import Customer, Device
from secure_phone.domain.securpass import validate_public_jwk
from secure_phone.seed import personas
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


_SEEDED = personas(date(2000, 1, 1))  # their identifiers and names do not depend on the date
DEMO_IDENTIFIERS: tuple[str, ...] = tuple(sorted(p["identifier"] for p in _SEEDED))
"""The personas whose phones the picker may offer (spec §3): never another customer's."""

SEEDED_PHONES: tuple[PhoneChoice, ...] = tuple(
    PhoneChoice(p["identifier"], f"Smartphone de {p['first_name']} {p['last_name']}")
    for p in sorted(_SEEDED, key=lambda p: p["identifier"]) if p["securpass"] == "active"
) + (PhoneChoice(NEW_PHONE, NEW_PHONE_LABEL),)
"""The picker of a freshly seeded bank, known without the database (what ``demo_phones`` then returns)."""


def demo_phones(url: str | None = None) -> list[PhoneChoice]:
    """The seeded personas that hold an enrolled phone now (by identifier), then « Nouveau smartphone ».

    A persona who moved Sécur'Pass to a new phone (J4) is offered that phone; the other customers'
    phones, however many, are never listed.
    """
    with read_only(url) as session:
        rows = session.exec(
            select(Customer.identifier, Device.label).join(Device, Device.customer_id == Customer.id)  # type: ignore[arg-type]
            .where(Customer.identifier.in_(DEMO_IDENTIFIERS), Device.status == "enrolled")  # type: ignore[attr-defined]
            .order_by(Customer.identifier, Device.enrolled_at.desc())  # type: ignore[union-attr]
        ).all()
    choices: dict[str, PhoneChoice] = {}
    for identifier, label in rows:
        choices.setdefault(identifier, PhoneChoice(identifier, label))
    return [*choices.values(), PhoneChoice(NEW_PHONE, NEW_PHONE_LABEL)]


def _chosen_device(session, choice: str) -> Device | None:  # type: ignore[no-untyped-def]
    """The enrolled device a choice names: a demo persona's phone (by identifier), or a device id."""
    if choice in DEMO_IDENTIFIERS:
        return session.exec(
            select(Device).join(Customer, Device.customer_id == Customer.id)  # type: ignore[arg-type]
            .where(Customer.identifier == choice, Device.status == "enrolled")
            .order_by(Device.enrolled_at.desc())  # type: ignore[union-attr]
        ).first()
    return session.exec(select(Device).where(Device.id == choice, Device.status == "enrolled")).first()


def pick_up_phone(choice: str, public_jwk: object, *, actor: Actor, now: datetime, url: str | None = None) -> DeviceView:
    """Bind this browser's fresh public key to the chosen phone; returns the device.

    ``choice``: « new », a demo persona's identifier, or the id of an enrolled device. Anything
    else — another customer's identifier, an unenrolled or revoked device, an unknown id — is refused.
    """
    try:
        jwk = validate_public_jwk(public_jwk)
    except ValueError as error:
        raise DeviceError("picker.unsupported") from error
    choice = key(choice)
    with transaction(url) as session:
        if choice == NEW_PHONE:
            device = Device(label=NEW_PHONE_LABEL, status="unenrolled", created_at=now)
        else:
            device = _chosen_device(session, choice) if choice else None
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
