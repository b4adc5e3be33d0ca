"""J6: the customer's advisor, and « Être rappelé par mon conseiller »."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import select

from secure_phone.adapters.db import read_only, transaction
from secure_phone.adapters.models import Advisor, Agency, ChangeRequest, ContactRequest, Customer
from secure_phone.services.audit import Actor, record

REASONS = frozenset({
    "ineligible.legal_person", "ineligible.no_remote_banking", "ineligible.professional_subscription",
    "ineligible.minor", "ineligible.protected_adult", "ineligible.no_securpass", "ineligible.securpass_blocked",
    "ineligible.no_enrolled_device", "ineligible.recent_device_change", "ineligible.frozen",
    "changed_phone", "not_my_number", "securpass_blocked", "repeated_failure", "securpass_move_refused", "other",
})


@dataclass(frozen=True)
class AdvisorCard:
    advisor_name: str
    agency_name: str
    phone: str
    hours_fr: str
    hours_en: str


def advisor_of(customer_id: int, *, url: str | None = None) -> AdvisorCard:
    with read_only(url) as session:
        customer = session.get(Customer, customer_id)
        if customer is None:
            raise LookupError("customer")
        agency = session.get(Agency, customer.agency_id)
        advisor = session.get(Advisor, customer.advisor_id) if customer.advisor_id else None
    assert agency is not None
    return AdvisorCard(f"{advisor.first_name} {advisor.last_name}" if advisor else "", agency.name, agency.phone,
                       agency.hours_fr, agency.hours_en)


def request_callback(customer_id: int, reason: str, *, channel: str, actor: Actor, now: datetime,
                     url: str | None = None) -> str:
    """Create the contact request with its reason and the last change attempt's reference."""
    reason = reason if reason in REASONS else "other"
    with transaction(url) as session:
        # The customer's row lock serialises two clicks: the second finds the first's request.
        session.exec(select(Customer.id).where(Customer.id == customer_id).with_for_update()).first()
        last = session.exec(select(ChangeRequest.id).where(ChangeRequest.customer_id == customer_id)
                            .order_by(ChangeRequest.created_at.desc())).first()  # type: ignore[union-attr]
        already = session.exec(select(ContactRequest).where(
            ContactRequest.customer_id == customer_id, ContactRequest.status == "open",
            ContactRequest.reason == reason)).first()
        if already is not None:  # a double click or a second visit: one request in the queue
            return already.id
        request = ContactRequest(customer_id=customer_id, reason=reason, channel=channel, last_request_id=last,
                                 created_at=now)
        session.add(request)
        session.flush()
        record(session, actor, "contact_requested", "ok", now=now, customer_id=customer_id, request_id=last,
               reason=reason, contact=request.id)
        return request.id
