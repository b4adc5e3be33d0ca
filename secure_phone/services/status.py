"""Read-only status for other bank channels (spec §2): masked number, last change, cooling-off."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select

from secure_phone.adapters.db import read_only
from secure_phone.adapters.models import Customer
from secure_phone.domain.phone import phone_from_e164


def secure_phone_status(identifier: str, *, now: datetime, url: str | None = None) -> dict | None:
    with read_only(url) as session:
        customer = session.exec(select(Customer).where(Customer.identifier == identifier)).first()
    if customer is None:
        return None
    cooling = customer.cooling_off_until if customer.cooling_off_until and customer.cooling_off_until > now else None
    return {
        "identifier": customer.identifier,
        "secure_phone_masked": phone_from_e164(customer.secure_phone_e164).masked if customer.secure_phone_e164 else None,
        "last_changed_at": customer.number_changed_at.isoformat() if customer.number_changed_at else None,
        "last_confirmed_at": customer.number_confirmed_at.isoformat() if customer.number_confirmed_at else None,
        "cooling_off_until": cooling.isoformat() if cooling else None,
    }
