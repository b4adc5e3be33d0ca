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

from sqlmodel import Session, col, select

from secure_phone.adapters.models import Customer, Device
from secure_phone.domain.securpass import validate_public_jwk
from secure_phone.personas import PERSONAS, phone_label
from secure_phone.services.audit import Actor
from secure_phone.services.auth import count_attempt
from secure_phone.services.inputs import key
from secure_phone.services.unit_of_work import Refused, Tx, UnitOfWork
from secure_phone.settings import demo_mode

NEW_PHONE = "new"
NEW_PHONE_LABEL = "Nouveau smartphone"


@dataclass(frozen=True)
class PhoneChoice:
    value: str
    label: str  # the bank's record (French), for the picker before the catalogue applies
    holder: str = ""  # « Camille Martin »: the page says « Smartphone de … » / « …'s smartphone » (picker.phone.of)


@dataclass(frozen=True)
class DeviceView:
    id: str
    label: str
    enrolled: bool
    customer_id: int | None
    holder: str = ""  # the enrolled holder's name (the page names the phone with it, in its language)


DEMO_IDENTIFIERS: tuple[str, ...] = tuple(sorted(p.identifier for p in PERSONAS))
"""The personas whose phones the picker may offer (spec §3): never another customer's."""

SEEDED_PHONES: tuple[PhoneChoice, ...] = tuple(
    PhoneChoice(p.identifier, phone_label(p.first_name, p.last_name), f"{p.first_name} {p.last_name}")
    for p in sorted(PERSONAS, key=lambda p: p.identifier) if p.securpass == "active"
) + (PhoneChoice(NEW_PHONE, NEW_PHONE_LABEL),)
"""The picker of a freshly seeded bank, known without the database (what ``demo_phones`` then returns)."""

_DEMO_DEVICE = (col(Device.status) == "enrolled") & (col(Device.demo).is_(True))


def demo_phones(uow: UnitOfWork) -> list[PhoneChoice]:
    """The seeded personas that hold a demo phone now (by identifier), then « Nouveau smartphone ».

    Only demo devices are listed: a persona who moved Sécur'Pass to a new phone (J4) is no longer offered
    (that phone's key is its holder's alone); the other customers' phones are never listed.
    """
    with uow.read() as session:
        rows = session.exec(
            select(Customer.identifier, Device.label, Customer.first_name, Customer.last_name)
            .join(Device, col(Device.customer_id) == Customer.id)
            .where(col(Customer.identifier).in_(DEMO_IDENTIFIERS), _DEMO_DEVICE)
            .order_by(col(Customer.identifier), col(Device.enrolled_at).desc())
        ).all()
    choices: dict[str, PhoneChoice] = {}
    for identifier, label, first_name, last_name in rows:
        choices.setdefault(identifier, PhoneChoice(identifier, label, f"{first_name} {last_name}"))
    return [*choices.values(), PhoneChoice(NEW_PHONE, NEW_PHONE_LABEL)]


def _chosen_device(session: Session, choice: str) -> Device | None:
    """The demo device a choice names: a demo persona's phone (by identifier), or a demo device's id."""
    query = select(Device).where(_DEMO_DEVICE)
    if choice in DEMO_IDENTIFIERS:
        return session.exec(
            query.join(Customer, col(Device.customer_id) == Customer.id)
            .where(Customer.identifier == choice).order_by(col(Device.enrolled_at).desc())
        ).first()
    return session.exec(query.where(Device.id == choice)).first()


def _jwk(public_jwk: object) -> dict[str, str]:
    try:
        return validate_public_jwk(public_jwk)
    except ValueError as error:
        raise Refused("picker.unsupported") from error


def _view(device: Device, holder: Customer | None = None) -> DeviceView:
    enrolled = device.status == "enrolled"
    name = f"{holder.first_name} {holder.last_name}" if holder is not None and enrolled else ""
    return DeviceView(device.id, device.label, enrolled, device.customer_id, name)


def _new_phone(tx: Tx, jwk: dict[str, str]) -> Device:
    policy = tx.uow.policy
    registered = count_attempt(tx.session, "device", tx.actor.ip, tx.now, policy.device_registration_window)
    if registered > policy.device_registrations_per_address:
        raise Refused("device.throttled", action="device_registered", outcome="throttled")
    device = Device(label=NEW_PHONE_LABEL, status="unenrolled", created_at=tx.now,
                    public_jwk=json.dumps(jwk, sort_keys=True), key_registered_at=tx.now)
    tx.session.add(device)
    tx.session.flush()
    tx.record("device_registered", "ok", device=device.id)
    return device


def register_new_phone(uow: UnitOfWork, public_jwk: object, *, actor: Actor) -> DeviceView:
    """The app's first start on a phone: register the browser's fresh public key as a new, unenrolled
    phone (nobody's until a J4 activation signed with that key)."""
    jwk = _jwk(public_jwk)
    with uow.write(actor) as tx:
        return _view(_new_phone(tx, jwk))


def pick_up_phone(uow: UnitOfWork, choice: str, public_jwk: object, *, actor: Actor) -> DeviceView:
    """Demo mode only: bind this browser's fresh public key to the chosen phone; returns the device.

    ``choice``: « new » (a new phone, as :func:`register_new_phone`), a demo persona's identifier, or the
    id of a demo device. Anything else — another customer's identifier, a device enrolled by the real
    procedure, an unenrolled or revoked device, an unknown id — is refused, and so is everything when
    demo mode is off.
    """
    if not demo_mode():
        raise Refused("error.generic")
    jwk = _jwk(public_jwk)
    choice = key(choice)
    with uow.write(actor) as tx:
        if choice == NEW_PHONE:
            return _view(_new_phone(tx, jwk))
        device = _chosen_device(tx.session, choice) if choice else None
        if device is None:
            raise Refused("error.generic", action="demo_phone_picked")
        device.public_jwk = json.dumps(jwk, sort_keys=True)
        device.key_registered_at = tx.now
        tx.session.add(device)
        tx.record("demo_phone_picked", "ok", customer_id=device.customer_id, device=device.id)
        return _view(device, tx.session.get(Customer, device.customer_id) if device.customer_id else None)


def device_view(uow: UnitOfWork, device_id: str | None) -> DeviceView | None:
    device_id = key(device_id)
    if not device_id:
        return None
    with uow.read() as session:
        device = session.get(Device, device_id)
        if device is None or device.status == "revoked":
            return None
        return _view(device, session.get(Customer, device.customer_id) if device.customer_id else None)
