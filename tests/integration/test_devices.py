"""The demo phone picker and « pick up a phone » (spec §6, §12.1): what is offered, what may be picked.

The picker offers the seeded personas' phones (named by the persona's identifier) and « Nouveau
smartphone », however many other customers have enrolled phones; a demo device can still be picked by its
id (the benchmark picks its own customers' phones that way). Only demo devices — made by the seed or the
benchmark, never by the real enrolment — are ever re-keyed, and nothing at all outside demo mode.
"""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from sqlmodel import select

from secure_phone.adapters.db import read_only, transaction
from secure_phone.adapters.models import Customer, Device
from secure_phone.seed import _throwaway_public_jwk, personas
from secure_phone.services import devices
from secure_phone.services.unit_of_work import Refused
from tests.integration.helpers import (
    CAMILLE,
    CHLOE,
    HUGO,
    World,
    b64url,
    details,
    device_actor,
    world,  # noqa: F401  (fixture)
)

PERSONAS_WITH_SECURPASS = ["1000000001", "1000000002", "1000000003", "1000000004", "1000000006", "1000000007",
                           "1000000008", "1000000009", "1000000010", "1000000011"]


def fresh_jwk() -> dict[str, str]:
    numbers = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
    return {"kty": "EC", "crv": "P-256", "x": b64url(numbers.x.to_bytes(32, "big")),
            "y": b64url(numbers.y.to_bytes(32, "big"))}


def other_customers(url: str, count: int, now: datetime, demo: bool = True, offset: int = 0) -> list[str]:
    """Customers who are not personas, each with an enrolled phone — a demo one as bench/customers.py makes
    them, or (``demo=False``) one enrolled by the real procedure; their devices' ids."""
    ids = []
    with transaction(url) as session:
        camille = session.exec(select(Customer).where(Customer.identifier == CAMILLE)).one()
        for i in range(offset, offset + count):
            customer = Customer(
                identifier=f"2{i:09d}", first_name="Bench", last_name=f"Client{i}", email=f"bench{i}@example.fr",
                person_type="natural", birth_date=date(1980, 1, 15), subscription="particulier",
                legal_protection="none", agency_id=camille.agency_id, advisor_id=camille.advisor_id,
                password_hash=camille.password_hash, secure_phone_e164=f"+33650{i:06d}",
                number_confirmed_at=now, securpass_status="active",
            )
            session.add(customer)
            session.flush()
            device = Device(label=f"Smartphone bench {i}", customer_id=customer.id, status="enrolled",
                            public_jwk=_throwaway_public_jwk(), created_at=now, enrolled_at=now, demo=demo)
            session.add(device)
            session.flush()
            ids.append(device.id)
    return ids


def pick(world: World, choice: object, jwk: object | None = None) -> devices.DeviceView:
    return devices.pick_up_phone(world.uow(), choice, jwk or fresh_jwk(), actor=device_actor(None))  # type: ignore[arg-type]


# --- what the picker offers ----------------------------------------------------------------------


def test_the_picker_offers_the_seeded_personas_phones_and_a_new_one_only(world: World) -> None:
    bench_devices = other_customers(world.url, 40, world.clock.now)
    choices = devices.demo_phones(world.uow())
    assert [c.value for c in choices] == [*PERSONAS_WITH_SECURPASS, devices.NEW_PHONE]
    assert [c.label for c in choices] == [
        "Smartphone de Camille Martin", "Smartphone de Julien Petit", "Smartphone de Inès Garnier",
        "Smartphone de Léa Bernard", "Smartphone de Chloé Dubois", "Smartphone de Paul Laurent",
        "Smartphone de SARL Atelier Roux", "Smartphone de Marc Lefèvre", "Smartphone de Emma Leroy",
        "Smartphone de Lucas Fournier", "Nouveau smartphone"]
    offered = json.dumps([(c.value, c.label) for c in choices])
    assert "bench" not in offered
    assert not any(device_id in offered for device_id in bench_devices)
    # No device id is offered at all: the other customers' phones, and the personas' own, stay unnamed.
    with read_only(world.url) as session:
        assert not any(d.id in offered for d in session.exec(select(Device)))


def test_the_picker_known_without_the_database_is_the_freshly_seeded_one(world: World) -> None:
    """The page draws ``SEEDED_PHONES`` before the server has answered: it must be what the server says."""
    assert list(devices.SEEDED_PHONES) == devices.demo_phones(world.uow())
    assert set(devices.DEMO_IDENTIFIERS) == {p["identifier"] for p in personas(date(2025, 1, 1))}


def test_a_persona_who_moved_to_a_new_phone_is_no_longer_offered(world: World) -> None:
    """Chloé moved Sécur'Pass to a new phone by the real procedure (J4): that phone's key is its holder's
    alone. The picker no longer offers her, and neither her identifier nor the new device's id re-keys it."""
    with transaction(world.url) as session:
        customer = session.exec(select(Customer).where(Customer.identifier == CHLOE)).one()
        for old in session.exec(select(Device).where(Device.customer_id == customer.id)):
            old.status, old.revoked_at = "revoked", world.clock.now
            session.add(old)
        enrolled = Device(label="Smartphone de Chloé Dubois", customer_id=customer.id, status="enrolled",
                          public_jwk=_throwaway_public_jwk(), created_at=world.clock.now, enrolled_at=world.clock.now)
        session.add(enrolled)
        session.flush()
        enrolled_id, key_before = enrolled.id, enrolled.public_jwk
    choices = devices.demo_phones(world.uow())
    assert [c.value for c in choices] == [p for p in PERSONAS_WITH_SECURPASS if p != CHLOE] + [devices.NEW_PHONE]
    for choice in (CHLOE, enrolled_id):
        with pytest.raises(Refused, match="error.generic"):
            pick(world, choice)
    assert world.device(enrolled_id).public_jwk == key_before
    assert [e.outcome for e in world.audit(action="demo_phone_picked")] == ["refused", "refused"]


def test_no_phone_is_picked_up_outside_demo_mode(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECURE_PHONE_DEMO", "0")
    key_before = world.device(world.device_id(CAMILLE)).public_jwk
    for choice in (CAMILLE, world.device_id(CAMILLE), devices.NEW_PHONE):
        with pytest.raises(Refused, match="error.generic"):
            pick(world, choice)
    assert world.device(world.device_id(CAMILLE)).public_jwk == key_before
    # A new phone registers itself (the app's first start), always unenrolled and nobody's.
    view = devices.register_new_phone(world.uow(), fresh_jwk(), actor=device_actor(None))
    assert (view.enrolled, view.customer_id, view.label) == (False, None, "Nouveau smartphone")


def test_new_phones_are_counted_per_client_address(world: World) -> None:
    from secure_phone.domain.policy import DEFAULT_POLICY

    for _ in range(DEFAULT_POLICY.device_registrations_per_address):
        devices.register_new_phone(world.uow(), fresh_jwk(), actor=device_actor(None))
    with pytest.raises(Refused, match="device.throttled"):
        devices.register_new_phone(world.uow(), fresh_jwk(), actor=device_actor(None))
    with pytest.raises(Refused, match="device.throttled"):
        pick(world, devices.NEW_PHONE)
    # The window passes.
    world.clock.advance(seconds=DEFAULT_POLICY.device_registration_window.total_seconds())
    devices.register_new_phone(world.uow(), fresh_jwk(), actor=device_actor(None))


# --- what may be picked up -----------------------------------------------------------------------


def test_a_personas_choice_binds_the_fresh_key_to_that_personas_enrolled_phone(world: World) -> None:
    jwk = fresh_jwk()
    view = pick(world, CAMILLE, jwk)
    assert (view.id, view.label, view.enrolled, view.customer_id) == (
        world.device_id(CAMILLE), "Smartphone de Camille Martin", True, world.cid(CAMILLE))
    assert json.loads(world.device(view.id).public_jwk or "{}") == jwk
    picked = world.audit(CAMILLE, "demo_phone_picked")
    assert [(e.outcome, details(e)["device"]) for e in picked] == [("ok", view.id)]


def test_a_demo_phone_can_still_be_picked_by_its_id(world: World) -> None:
    """The benchmark's path: its own customer's (demo) phone, by device id (not offered by the picker)."""
    (bench_device,) = other_customers(world.url, 1, world.clock.now)
    jwk = fresh_jwk()
    view = pick(world, bench_device, jwk)
    assert (view.id, view.label, view.enrolled) == (bench_device, "Smartphone bench 0", True)
    assert json.loads(world.device(bench_device).public_jwk or "{}") == jwk
    # And a persona's phone by its id, as before.
    assert pick(world, world.device_id(CAMILLE)).id == world.device_id(CAMILLE)


def test_a_new_phone_is_an_unenrolled_device(world: World) -> None:
    view = pick(world, devices.NEW_PHONE)
    assert (view.label, view.enrolled, view.customer_id) == ("Nouveau smartphone", False, None)


def test_everything_else_is_refused_and_changes_nothing(world: World) -> None:
    (bench_device,) = other_customers(world.url, 1, world.clock.now)
    (real_device,) = other_customers(world.url, 1, world.clock.now, demo=False, offset=1)  # enrolled by the real J4
    unenrolled = pick(world, devices.NEW_PHONE).id  # someone's « Nouveau smartphone »
    with transaction(world.url) as session:
        revoked = Device(label="Smartphone de Camille Martin", customer_id=world.cid(CAMILLE), status="revoked",
                         public_jwk=_throwaway_public_jwk(), created_at=world.clock.now)
        session.add(revoked)
        session.flush()
        revoked_id = revoked.id
    with read_only(world.url) as session:
        before = sorted((d.id, d.status, d.public_jwk or "") for d in session.exec(select(Device)))
    refused = [
        "2000000000",  # another customer's identifier: identifiers are guessable, only personas' are choices
        HUGO,  # a persona without an enrolled phone
        unenrolled, revoked_id, real_device, "0" * 32, "", "new ", "NEW", CAMILLE + "\x00", bench_device + "x",
        None, 1000000001, {"value": CAMILLE}, [CAMILLE],
    ]
    for choice in refused:
        with pytest.raises(Refused) as error:
            pick(world, choice)
        assert error.value.code == "error.generic", choice
    with pytest.raises(Refused) as error:
        pick(world, CAMILLE, {"kty": "EC", "crv": "P-256", "x": "bad", "y": "bad"})
    assert error.value.code == "picker.unsupported"
    with read_only(world.url) as session:
        assert sorted((d.id, d.status, d.public_jwk or "") for d in session.exec(select(Device))) == before
    assert world.audit(CAMILLE, "demo_phone_picked") == []
