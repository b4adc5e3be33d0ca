"""Smartphones: the app's first start on a phone, the demo phone picker, and the public keys they hold.

**A new phone** (:func:`register_new_phone`): the app's first start makes a key pair in the browser and
registers its public key as a phone that is nobody's yet; Sécur'Pass is bound to it only by the real
activation (J4, services.activation), which the phone signs with that key. Registrations are counted per
client address.

**The demo picker** (demo mode only, PRODUCT.md §6 and §12.1): picking up « Smartphone de <persona> » is
the demo's only shortcut — the browser makes a key pair and the bank registers its public key for that
persona's *demo* device (``Device.demo``, set by the seed only). A device enrolled by the real procedure is
never re-keyed that way: only the J4 activation (a new phone, its own key) or its holder can change it;
knowing a device id is worth nothing. The picker offers the seeded personas' phones (by identifier — a
choice that does not depend on the database, so the page can draw it before the server has answered) and
« Nouveau smartphone ». A demo device can also be named by its id (the benchmark's own customers).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, select

from secure_phone.adapters.db import read_only, transaction
from secure_phone.adapters.models import Customer, Device
from secure_phone.domain.policy import DEFAULT_POLICY, Policy
from secure_phone.domain.securpass import validate_public_jwk
from secure_phone.seed import personas
from secure_phone.services.audit import Actor, record
from secure_phone.services.auth import count_attempt
from secure_phone.services.inputs import key
from secure_phone.settings import demo_mode

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

_DEMO_DEVICE = (Device.status == "enrolled") & (Device.demo.is_(True))  # type: ignore[attr-defined]


def demo_phones(url: str | None = None) -> list[PhoneChoice]:
    """The seeded personas that hold a demo phone now (by identifier), then « Nouveau smartphone ».

    Only demo devices are listed: a persona who moved Sécur'Pass to a new phone (J4) is no longer offered
    (that phone's key is its holder's alone); the other customers' phones are never listed.
    """
    with read_only(url) as session:
        rows = session.exec(
            select(Customer.identifier, Device.label).join(Device, Device.customer_id == Customer.id)  # type: ignore[arg-type]
            .where(Customer.identifier.in_(DEMO_IDENTIFIERS), _DEMO_DEVICE)  # type: ignore[attr-defined]
            .order_by(Customer.identifier, Device.enrolled_at.desc())  # type: ignore[union-attr]
        ).all()
    choices: dict[str, PhoneChoice] = {}
    for identifier, label in rows:
        choices.setdefault(identifier, PhoneChoice(identifier, label))
    return [*choices.values(), PhoneChoice(NEW_PHONE, NEW_PHONE_LABEL)]


def _chosen_device(session: Session, choice: str) -> Device | None:
    """The demo device a choice names: a demo persona's phone (by identifier), or a demo device's id."""
    query = select(Device).where(_DEMO_DEVICE)
    if choice in DEMO_IDENTIFIERS:
        return session.exec(
            query.join(Customer, Device.customer_id == Customer.id)  # type: ignore[arg-type]
            .where(Customer.identifier == choice).order_by(Device.enrolled_at.desc())  # type: ignore[union-attr]
        ).first()
    return session.exec(query.where(Device.id == choice)).first()


def _jwk(public_jwk: object) -> dict[str, str]:
    try:
        return validate_public_jwk(public_jwk)
    except ValueError as error:
        raise DeviceError("picker.unsupported") from error


def _view(device: Device) -> DeviceView:
    return DeviceView(device.id, device.label, device.status == "enrolled", device.customer_id)


def _new_phone(session: Session, jwk: dict[str, str], actor: Actor, now: datetime, policy: Policy) -> Device:
    registered = count_attempt(session, "device", actor.ip, now, policy.device_registration_window)
    if registered > policy.device_registrations_per_address:
        record(session, actor, "device_registered", "throttled", now=now)
        session.commit()
        raise DeviceError("device.throttled")
    device = Device(label=NEW_PHONE_LABEL, status="unenrolled", created_at=now,
                    public_jwk=json.dumps(jwk, sort_keys=True), key_registered_at=now)
    session.add(device)
    session.flush()
    record(session, actor, "device_registered", "ok", now=now, device=device.id)
    return device


def register_new_phone(public_jwk: object, *, actor: Actor, now: datetime, policy: Policy = DEFAULT_POLICY,
                       url: str | None = None) -> DeviceView:
    """The app's first start on a phone: register the browser's fresh public key as a new, unenrolled
    phone (nobody's until a J4 activation signed with that key)."""
    jwk = _jwk(public_jwk)
    with transaction(url) as session:
        return _view(_new_phone(session, jwk, actor, now, policy))


def pick_up_phone(choice: str, public_jwk: object, *, actor: Actor, now: datetime, policy: Policy = DEFAULT_POLICY,
                  url: str | None = None) -> DeviceView:
    """Demo mode only: bind this browser's fresh public key to the chosen phone; returns the device.

    ``choice``: « new » (a new phone, as :func:`register_new_phone`), a demo persona's identifier, or the
    id of a demo device. Anything else — another customer's identifier, a device enrolled by the real
    procedure, an unenrolled or revoked device, an unknown id — is refused, and so is everything when
    demo mode is off.
    """
    if not demo_mode():
        raise DeviceError("error.generic")
    jwk = _jwk(public_jwk)
    choice = key(choice)
    with transaction(url) as session:
        if choice == NEW_PHONE:
            return _view(_new_phone(session, jwk, actor, now, policy))
        device = _chosen_device(session, choice) if choice else None
        if device is None:
            record(session, actor, "demo_phone_picked", "refused", now=now)
            session.commit()
            raise DeviceError("error.generic")
        device.public_jwk = json.dumps(jwk, sort_keys=True)
        device.key_registered_at = now
        session.add(device)
        record(session, actor, "demo_phone_picked", "ok", now=now, customer_id=device.customer_id, device=device.id)
        return _view(device)


def device_view(device_id: str | None, url: str | None = None) -> DeviceView | None:
    device_id = key(device_id)
    if not device_id:
        return None
    with read_only(url) as session:
        device = session.get(Device, device_id)
    if device is None or device.status == "revoked":
        return None
    return _view(device)
