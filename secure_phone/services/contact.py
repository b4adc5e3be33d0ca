"""J6: the customer's advisor, and « Être rappelé par mon conseiller »."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select

from secure_phone.adapters.models import Advisor, Agency, ChangeRequest, ContactRequest, Customer
from secure_phone.services.audit import Actor
from secure_phone.services.rows import lock_customer
from secure_phone.services.unit_of_work import UnitOfWork

REASONS = frozenset({
    "ineligible.legal_person", "ineligible.no_remote_banking", "ineligible.professional_subscription",
    "ineligible.minor", "ineligible.protected_adult", "ineligible.no_securpass", "ineligible.securpass_blocked",
    "ineligible.no_enrolled_device", "ineligible.recent_device_change", "ineligible.frozen",
    "changed_phone", "not_my_number", "securpass_blocked", "repeated_failure", "securpass_move_refused", "proof_failed",
    "suspicious_call",  # §12.5: the customer reported a call (services/calls.py puts it in the queue)
    "operator_sim_swap", "operator_new_number", "operator_unavailable", "operator_recycled",
    "other",
})


@dataclass(frozen=True)
class AdvisorCard:
    advisor_name: str
    agency_name: str
    phone: str
    hours_fr: str
    hours_en: str


def advisor_of(uow: UnitOfWork, customer_id: int) -> AdvisorCard:
    with uow.read() as session:
        customer = session.get(Customer, customer_id)
        if customer is None:
            raise LookupError("customer")
        agency = session.get(Agency, customer.agency_id)
        advisor = session.get(Advisor, customer.advisor_id) if customer.advisor_id else None
    assert agency is not None
    return AdvisorCard(f"{advisor.first_name} {advisor.last_name}" if advisor else "", agency.name, agency.phone,
                       agency.hours_fr, agency.hours_en)


def request_callback(uow: UnitOfWork, customer_id: int, reason: str, *, channel: str, actor: Actor) -> str:
    """Create the contact request with its reason and the last change attempt's reference."""
    reason = reason if reason in REASONS else "other"
    with uow.write(actor) as tx:
        session = tx.session
        lock_customer(session, customer_id)  # serialises two clicks: the second finds the first's request
        last = session.exec(select(ChangeRequest.id).where(ChangeRequest.customer_id == customer_id)
                            .order_by(col(ChangeRequest.created_at).desc())).first()
        already = session.exec(select(ContactRequest).where(
            ContactRequest.customer_id == customer_id, ContactRequest.status == "open",
            ContactRequest.reason == reason)).first()
        if already is not None:  # a double click or a second visit: one request in the queue
            return already.id
        request = ContactRequest(customer_id=customer_id, reason=reason, channel=channel, last_request_id=last,
                                 created_at=tx.now)
        session.add(request)
        session.flush()
        tx.record("contact_requested", "ok", customer_id=customer_id, request_id=last, reason=reason,
                  contact=request.id)
        tx.changed(customer_id)
        return request.id
