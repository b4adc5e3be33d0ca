"""Create bench customers in the *bench copy's* database (run with cwd = that copy, never /work/main).

Usage: python bench/customers.py COUNT OFFSET  → prints a JSON list of {identifier, device_id, new_number}.
Each customer: adult natural person, active Sécur'Pass on an enrolled phone (code 4827), password Demo1234!,
a unique current secure number and a unique new number to move to (one change per customer per run).
"""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, date, datetime, timedelta

sys.path.insert(0, os.getcwd())

from sqlmodel import select  # noqa: E402

from secure_phone.adapters.db import transaction  # noqa: E402
from secure_phone.adapters.models import Advisor, Agency, Customer, Device  # noqa: E402
from secure_phone.adapters.mysys import SimulatedMySys  # noqa: E402
from secure_phone.domain.securpass import hash_code  # noqa: E402
from secure_phone.seed import DEMO_CODE, DEMO_PASSWORD, _throwaway_public_jwk  # noqa: E402
from secure_phone.services.auth import hash_password  # noqa: E402
from secure_phone.settings import secret_key  # noqa: E402


def create(count: int, offset: int) -> list[dict]:
    now = datetime.now(UTC)
    password = hash_password(DEMO_PASSWORD)
    out: list[dict] = []
    with transaction() as session:
        agency = session.exec(select(Agency).where(Agency.code == "paris-opera")).one()
        advisor = session.exec(select(Advisor).where(Advisor.login == "sophie.lambert")).one()
        for i in range(offset, offset + count):
            identifier = f"2{i:09d}"
            customer = Customer(
                identifier=identifier, first_name="Bench", last_name=f"Client{i}", email=f"bench{i}@example.fr",
                person_type="natural", birth_date=date(1980, 1, 15), emancipated=False, subscription="particulier",
                legal_protection="none", agency_id=agency.id, advisor_id=advisor.id, password_hash=password,
                secure_phone_e164=f"+33650{i:06d}", number_confirmed_at=now - timedelta(days=30),
                securpass_status="active",
            )
            session.add(customer)
            session.flush()
            device = Device(label=f"Smartphone bench {i}", customer_id=customer.id, status="enrolled",
                            public_jwk=_throwaway_public_jwk(), created_at=now, enrolled_at=now, demo=True)
            session.add(device)
            session.flush()
            device.code_hash = hash_code(secret_key(), device.id, DEMO_CODE)
            out.append({"identifier": identifier, "device_id": device.id, "new_number": f"07 80 {i:06d}", "new_e164": f"+33780{i:06d}",
                        "phone": f"+33650{i:06d}", "email": f"bench{i}@example.fr"})
    mysys = SimulatedMySys()
    for c in out:
        mysys.upsert_contact(c["identifier"], c["phone"], c["email"])
    return out


if __name__ == "__main__":
    print(json.dumps(create(int(sys.argv[1]), int(sys.argv[2]))))
