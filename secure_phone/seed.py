"""Idempotent seed of the personas and advisors of spec §3, their phones and their codes.

Run by ``make run`` (``python -m secure_phone.seed``), in demo mode only (``SECURE_PHONE_DEMO=1``, §12.1); the
simulated operator's lines of the personas' numbers too (§12.4), demo data like the rest.
The personas' phones are *demo* devices: the demo picker may give them a fresh key. Running it again changes
nothing that is already there: a persona whose number was changed in a demo keeps it.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from cryptography.hazmat.primitives.asymmetric import ec
from sqlmodel import Session, SQLModel, select

from secure_phone.adapters.db import transaction
from secure_phone.adapters.models import Advisor, Agency, AuditHead, Customer, Device
from secure_phone.adapters.mysys import SimulatedMySys
from secure_phone.adapters.operator_sim import OperatorSimulator
from secure_phone.domain.securpass import hash_code
from secure_phone.personas import ADVISORS, AGENCIES, DEMO_CODE, DEMO_PASSWORD, PERSONAS, phone_label
from secure_phone.services.audit import GENESIS
from secure_phone.services.auth import hash_password
from secure_phone.settings import demo_mode, secret_key

__all__ = ["DEMO_CODE", "DEMO_PASSWORD", "personas", "seed"]



def personas(today: date) -> list[dict]:
    """Spec §3, as rows (``securpass``: active with an enrolled demo phone, or none)."""
    return [dict(vars(p), birth_date=p.birth_date(today), email=p.email) for p in PERSONAS]


def _throwaway_public_jwk() -> str:
    """A key whose private half is discarded: the persona's phone gets its real key when picked up."""
    numbers = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()

    def b64(n: int) -> str:
        return base64.urlsafe_b64encode(n.to_bytes(32, "big")).rstrip(b"=").decode()

    return json.dumps({"crv": "P-256", "kty": "EC", "x": b64(numbers.x), "y": b64(numbers.y)}, sort_keys=True)


_Row = TypeVar("_Row", bound=SQLModel)


def _ensure(session: Session, model: type[_Row], where: dict[str, Any], values: dict[str, Any]) -> _Row:
    row = session.exec(select(model).filter_by(**where)).first()
    if row is None:
        row = model(**where, **values)
        session.add(row)
        session.flush()
    return row


def seed(url: str | None = None, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    mysys = SimulatedMySys(url)
    password = hash_password(DEMO_PASSWORD)
    with transaction(url) as session:
        if session.get(AuditHead, 1) is None:
            session.add(AuditHead(id=1, last_hash=GENESIS))
        agencies = {a["code"]: _ensure(session, Agency, {"code": a["code"]},
                                       {k: v for k, v in a.items() if k != "code"})
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
            agency_id = agencies[p["agency"]].id
            assert agency_id is not None  # flushed by _ensure
            customer = Customer(
                identifier=p["identifier"], first_name=p["first_name"], last_name=p["last_name"], email=p["email"],
                person_type=p["person_type"], birth_date=p["birth_date"], emancipated=p["emancipated"],
                subscription=p["subscription"], legal_protection=p["legal_protection"],
                agency_id=agency_id, advisor_id=advisors[p["advisor"]].id, password_hash=password,
                secure_phone_e164=p["phone"], number_confirmed_at=now - timedelta(days=p["confirmed_days_ago"]),
                securpass_status="none" if p["securpass"] == "none" else "active",
            )
            session.add(customer)
            session.flush()
            if p["securpass"] == "active":
                device = Device(label=phone_label(p["first_name"], p["last_name"]), customer_id=customer.id,
                                status="enrolled", public_jwk=_throwaway_public_jwk(), created_at=now, enrolled_at=now,
                                demo=True)
                session.add(device)
                session.flush()
                device.code_hash = hash_code(secret_key(), device.id, DEMO_CODE)
    with transaction(url) as session:
        contacts = [(c.identifier, c.secure_phone_e164, c.email) for c in session.exec(select(Customer))]
    for identifier, phone, email in contacts:  # MySys is another system: its own transactions
        mysys.upsert_contact(identifier, phone, email)
    _seed_operator(url, now)


def _seed_operator(url: str | None, now: datetime) -> None:
    """The simulated operator's lines of the personas' numbers (§12.4): each subscriber's name and contract, Emma
    Leroy's SIM changed 2 h before the seed, Lucas Fournier's calls forwarded. A line already there is kept as it
    is (a demo may have changed it)."""
    operator = OperatorSimulator(url, clock=lambda: now)
    for p in PERSONAS:
        swapped = now - timedelta(hours=p.sim_swapped_hours_ago) if p.sim_swapped_hours_ago is not None else None
        operator.set_line(p.phone, given_name=p.first_name, family_name=p.last_name,
                          subscribed_since=(now - timedelta(days=p.confirmed_days_ago + 365)).date(),
                          sim_changed_at=swapped, device_changed_at=swapped,
                          forwarding="unconditional" if p.call_forwarding else "inactive", only_if_new=True)


if __name__ == "__main__":
    if demo_mode():
        seed()
        print("Seeded the personas and advisors (password Demo1234!, Sécur'Pass code 4827).")
    else:
        print("Demo mode is off (SECURE_PHONE_DEMO=0): no persona seeded.")
