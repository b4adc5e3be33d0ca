"""Reading a customer as the domain sees them (profile, eligibility, masked number)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, select

from secure_phone import i18n
from secure_phone.adapters.models import Agency, Customer, Device
from secure_phone.domain.eligibility import (
    CustomerProfile,
    Eligibility,
    LegalProtection,
    PersonType,
    SecurPassStatus,
    Subscription,
    check_eligibility,
)
from secure_phone.domain.phone import phone_from_e164
from secure_phone.domain.policy import DEFAULT_POLICY, Policy
from secure_phone.services.unit_of_work import UnitOfWork

PARIS = ZoneInfo("Europe/Paris")


def local_time(moment: datetime, lang: str) -> str:
    """A moment as a French customer reads it (Paris time)."""
    return moment.astimezone(PARIS).strftime(i18n.text("format.datetime", lang))


def profile_of(session: Session, customer: Customer) -> CustomerProfile:
    assert customer.id is not None
    has_device = session.execute(_ENROLLED_DEVICE, {"customer_id": customer.id}).first() is not None
    return _profile(customer, has_device)


def _profile(customer: Customer, has_enrolled_device: bool) -> CustomerProfile:
    return CustomerProfile(
        person_type=PersonType(customer.person_type),
        birth_date=customer.birth_date,
        emancipated=customer.emancipated,
        subscription=Subscription(customer.subscription),
        legal_protection=LegalProtection(customer.legal_protection),
        securpass=SecurPassStatus(customer.securpass_status),
        has_enrolled_device=has_enrolled_device,
        device_enrolled_at=customer.securpass_moved_at,
        frozen=customer.frozen_at is not None,
    )


def eligibility_of(session: Session, customer: Customer, now: datetime, policy: Policy = DEFAULT_POLICY) -> Eligibility:
    return check_eligibility(profile_of(session, customer), now, policy)


def is_stale(customer: Customer, now: datetime, policy: Policy = DEFAULT_POLICY) -> bool:
    """J7: the secure number was last confirmed longer ago than the policy allows (or never)."""
    return customer.number_confirmed_at is None or now - customer.number_confirmed_at > policy.stale_number_after


def display_name(customer: Customer) -> str:
    """« Camille MARTIN »: first name, last name in capitals (how the bank writes it)."""
    return f"{customer.first_name} {customer.last_name.upper()}"


@dataclass(frozen=True)
class Overview:
    """What « Mes coordonnées » shows."""

    customer_id: int
    first_name: str
    last_name: str
    masked: str
    masked_first: str
    masked_last_two: str
    eligible: bool
    reasons: tuple[str, ...]
    cooling_off_until: date | None
    agency_name: str
    agency_phone: str
    agency_hours_fr: str
    agency_hours_en: str
    stale_prompt: bool = False
    """J7: the number was not confirmed for a year (the prompt comes before anything else)."""
    stale_later_allowed: bool = True
    """J7: « Plus tard » is still allowed."""


_C, _A, _D = (Model.__table__ for Model in (Customer, Agency, Device))  # type: ignore[union-attr]
_OVERVIEW = (
    sa_select(
        _C.c.first_name, _C.c.last_name, _C.c.secure_phone_e164, _C.c.cooling_off_until, _C.c.number_confirmed_at,
        _C.c.stale_prompt_later_count, _C.c.person_type, _C.c.birth_date, _C.c.emancipated, _C.c.subscription,
        _C.c.legal_protection, _C.c.securpass_status, _C.c.securpass_moved_at, _C.c.frozen_at,
        _A.c.name.label("agency_name"), _A.c.phone.label("agency_phone"), _A.c.hours_fr.label("agency_hours_fr"),
        _A.c.hours_en.label("agency_hours_en"),
        sa_select(_D.c.id).where(_D.c.customer_id == _C.c.id, _D.c.status == "enrolled").exists()
        .label("has_enrolled_device"),
    )
    .join(_A, _A.c.id == _C.c.agency_id)
    .where(_C.c.id == bindparam("customer_id"))
)
"""« Mes coordonnées » in one Core statement built once, the columns it shows only (it is read at nearly every
step: loading two whole ORM entities showed in the profile)."""

_ENROLLED_DEVICE = select(Device.id).where(Device.customer_id == bindparam("customer_id"), Device.status == "enrolled")


def overview(uow: UnitOfWork, customer_id: int) -> Overview:
    now, policy = uow.now, uow.policy
    with uow.reading() as connection:
        row = connection.execute(_OVERVIEW, {"customer_id": customer_id}).first()
    if row is None:
        raise LookupError("customer")
    customer: Any = row  # the columns _profile and is_stale read, by the same names
    has_enrolled_device = row.has_enrolled_device
    eligibility = check_eligibility(_profile(customer, bool(has_enrolled_device)), now, policy)
    number = phone_from_e164(customer.secure_phone_e164) if customer.secure_phone_e164 else None
    cooling = customer.cooling_off_until if customer.cooling_off_until and customer.cooling_off_until > now else None
    return Overview(
        customer_id=customer_id,
        first_name=customer.first_name,
        last_name=customer.last_name,
        masked=number.masked if number else "",
        masked_first=number.masked_first if number else "",  # the digits the masked form shows
        masked_last_two=number.masked_last if number else "",
        eligible=eligibility.eligible,
        reasons=tuple(r.value for r in eligibility.reasons),
        cooling_off_until=cooling.astimezone(PARIS).date() if cooling else None,
        agency_name=row.agency_name,
        agency_phone=row.agency_phone,
        agency_hours_fr=row.agency_hours_fr,
        agency_hours_en=row.agency_hours_en,
        stale_prompt=bool(customer.secure_phone_e164) and is_stale(customer, now, policy),
        stale_later_allowed=customer.stale_prompt_later_count < policy.stale_prompt_max_later,
    )
