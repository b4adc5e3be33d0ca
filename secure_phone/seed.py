"""Idempotent seed of the personas and advisors of spec §3, their phones and their codes.

Run by ``make run`` (``python -m secure_phone.seed``), in demo mode only (``SECURE_PHONE_DEMO=1``, §12.1).
The personas' phones are *demo* devices: the demo picker may give them a fresh key. Running it again changes nothing that is
already there: a persona whose number was changed in a demo keeps it.
"""

from __future__ import annotations

import base64
import json
from datetime import date, datetime, timedelta, timezone

from cryptography.hazmat.primitives.asymmetric import ec
from sqlmodel import Session, select

from secure_phone.adapters.db import transaction
from secure_phone.adapters.models import Advisor, Agency, AuditHead, Customer, Device
from secure_phone.adapters.mysys import SimulatedMySys
from secure_phone.domain.securpass import hash_code
from secure_phone.services.audit import GENESIS
from secure_phone.services.auth import hash_password
from secure_phone.settings import demo_mode, secret_key

DEMO_PASSWORD = "Demo1234!"
DEMO_CODE = "4827"

AGENCIES = [
    dict(code="paris-opera", name="Agence Paris Opéra", phone="01 42 68 00 00",
         hours_fr="du lundi au vendredi, 9 h – 18 h", hours_en="Monday to Friday, 9 am – 6 pm"),
    dict(code="lyon-bellecour", name="Agence Lyon Bellecour", phone="04 78 37 00 00",
         hours_fr="du mardi au samedi, 9 h – 17 h 30", hours_en="Tuesday to Saturday, 9 am – 5.30 pm"),
]

ADVISORS = [
    dict(login="sophie.lambert", first_name="Sophie", last_name="Lambert", agency="paris-opera"),
    dict(login="nadia.benali", first_name="Nadia", last_name="Benali", agency="paris-opera"),
    dict(login="karim.haddad", first_name="Karim", last_name="Haddad", agency="lyon-bellecour"),
]


def _born(age: int, today: date) -> date:
    return date(today.year - age, 1, 15) if (today.month, today.day) >= (1, 15) else date(today.year - age - 1, 1, 15)


def personas(today: date) -> list[dict]:
    """Spec §3. ``securpass``: active with an enrolled phone, none, or bound to an old phone."""
    base = dict(person_type="natural", emancipated=False, subscription="particulier", legal_protection="none",
                securpass="active", agency="paris-opera", advisor="sophie.lambert", confirmed_days_ago=30)
    rows = [
        dict(identifier="1000000001", first_name="Camille", last_name="Martin", age=34, phone="+33612345678"),
        dict(identifier="1000000002", first_name="Julien", last_name="Petit", age=45, phone="+33623456789",
             subscription="entrepreneur_individuel"),
        dict(identifier="1000000003", first_name="Inès", last_name="Garnier", age=17, phone="+33634567890",
             emancipated=True),
        dict(identifier="1000000004", first_name="Léa", last_name="Bernard", age=16, phone="+33645678901"),
        dict(identifier="1000000005", first_name="Hugo", last_name="Moreau", age=29, phone="+33656789012",
             securpass="none"),
        dict(identifier="1000000006", first_name="Chloé", last_name="Dubois", age=38, phone="+33667890123"),
        dict(identifier="1000000007", first_name="Paul", last_name="Laurent", age=61, phone="+33678901234",
             confirmed_days_ago=400, advisor="nadia.benali"),
        dict(identifier="1000000008", first_name="SARL", last_name="Atelier Roux", age=None, phone="+33689012345",
             person_type="legal", subscription="professionnel", agency="lyon-bellecour", advisor="karim.haddad"),
        dict(identifier="1000000009", first_name="Marc", last_name="Lefèvre", age=52, phone="+33690123456",
             legal_protection="tutelle", agency="lyon-bellecour", advisor="karim.haddad"),
    ]
    out = []
    for row in rows:
        merged = {**base, **row}
        merged["birth_date"] = _born(merged.pop("age"), today) if row.get("age") else None
        merged["email"] = f"{merged['first_name'].lower()}.{merged['last_name'].lower().replace(' ', '-')}@example.fr"
        merged["email"] = merged["email"].replace("è", "e").replace("é", "e").replace("ï", "i")
        out.append(merged)
    return out


def _throwaway_public_jwk() -> str:
    """A key whose private half is discarded: the persona's phone gets its real key when picked up."""
    numbers = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()

    def b64(n: int) -> str:
        return base64.urlsafe_b64encode(n.to_bytes(32, "big")).rstrip(b"=").decode()

    return json.dumps({"crv": "P-256", "kty": "EC", "x": b64(numbers.x), "y": b64(numbers.y)}, sort_keys=True)


def _ensure(session: Session, model: type, where: dict, values: dict):  # type: ignore[no-untyped-def]
    row = session.exec(select(model).filter_by(**where)).first()
    if row is None:
        row = model(**where, **values)
        session.add(row)
        session.flush()
    return row


def seed(url: str | None = None, now: datetime | None = None) -> None:
    now = now or datetime.now(timezone.utc)
    mysys = SimulatedMySys(url)
    password = hash_password(DEMO_PASSWORD)
    with transaction(url) as session:
        if session.get(AuditHead, 1) is None:
            session.add(AuditHead(id=1, last_hash=GENESIS))
        agencies = {a["code"]: _ensure(session, Agency, {"code": a["code"]}, {k: v for k, v in a.items() if k != "code"})
                    for a in AGENCIES}
        advisors = {
            a["login"]: _ensure(session, Advisor, {"login": a["login"]}, dict(
                first_name=a["first_name"], last_name=a["last_name"], agency_id=agencies[a["agency"]].id,
                password_hash=password))
            for a in ADVISORS
        }
        for p in personas(now.date()):
            customer = session.exec(select(Customer).where(Customer.identifier == p["identifier"])).first()
            if customer is not None:
                continue
            customer = Customer(
                identifier=p["identifier"], first_name=p["first_name"], last_name=p["last_name"], email=p["email"],
                person_type=p["person_type"], birth_date=p["birth_date"], emancipated=p["emancipated"],
                subscription=p["subscription"], legal_protection=p["legal_protection"],
                agency_id=agencies[p["agency"]].id, advisor_id=advisors[p["advisor"]].id, password_hash=password,
                secure_phone_e164=p["phone"], number_confirmed_at=now - timedelta(days=p["confirmed_days_ago"]),
                securpass_status="none" if p["securpass"] == "none" else "active",
            )
            session.add(customer)
            session.flush()
            if p["securpass"] == "active":
                device = Device(label=f"Smartphone de {p['first_name']} {p['last_name']}", customer_id=customer.id,
                                status="enrolled", public_jwk=_throwaway_public_jwk(), created_at=now, enrolled_at=now,
                                demo=True)
                session.add(device)
                session.flush()
                device.code_hash = hash_code(secret_key(), device.id, DEMO_CODE)
    with transaction(url) as session:
        contacts = [(c.identifier, c.secure_phone_e164, c.email) for c in session.exec(select(Customer))]
    for identifier, phone, email in contacts:  # MySys is another system: its own transactions
        mysys.upsert_contact(identifier, phone, email)


if __name__ == "__main__":
    if demo_mode():
        seed()
        print("Seeded the personas and advisors (password Demo1234!, Sécur'Pass code 4827).")
    else:
        print("Demo mode is off (SECURE_PHONE_DEMO=0): no persona seeded.")
