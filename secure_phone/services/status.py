"""Read-only status for other bank channels (spec §2): masked number, last change, cooling-off."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import select

from secure_phone.adapters.models import Customer
from secure_phone.domain.phone import phone_from_e164
from secure_phone.services.unit_of_work import UnitOfWork


def secure_phone_status(uow: UnitOfWork, identifier: str) -> dict | None:
    now = uow.now
    with uow.read() as session:
        customer = session.exec(select(Customer).where(Customer.identifier == identifier)).first()
    if customer is None:
        return None
    cooling = customer.cooling_off_until if customer.cooling_off_until and customer.cooling_off_until > now else None
    return {
        "identifier": customer.identifier,
        "secure_phone_masked": (phone_from_e164(customer.secure_phone_e164).masked
                                if customer.secure_phone_e164 else None),
        "last_changed_at": customer.number_changed_at.isoformat() if customer.number_changed_at else None,
        "last_confirmed_at": customer.number_confirmed_at.isoformat() if customer.number_confirmed_at else None,
        "cooling_off_until": cooling.isoformat() if cooling else None,
    }


def mysys_contact(uow: UnitOfWork, identifier: str) -> dict | None:
    """What MySys holds for the customer, the number masked (the MySys simulator's read-only API)."""
    contact = uow.mysys.get_customer_contact(identifier)
    if contact is None:
        return None
    return {
        "customer_ref": contact.customer_ref,
        "secure_phone_masked": phone_from_e164(contact.secure_phone_e164).masked if contact.secure_phone_e164 else None,
        "updated_at": contact.updated_at.isoformat(),
    }


def database_ok(uow: UnitOfWork) -> bool:
    """The database answers (``/api/health``)."""
    with uow.read() as session:
        session.execute(text("SELECT 1"))
    return True
