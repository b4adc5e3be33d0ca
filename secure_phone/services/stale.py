"""J7: a secure number not confirmed for ``policy.stale_number_after`` is checked at login."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select

from secure_phone.adapters.db import read_only, transaction
from secure_phone.adapters.models import Customer
from secure_phone.domain.policy import DEFAULT_POLICY, Policy
from secure_phone.services.audit import Actor, record
from secure_phone.services.sms_codes import SmsCodeError, check_code, send_code

PURPOSE = "confirm_number"


class StaleError(Exception):
    def __init__(self, code: str, tries_left: int | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.tries_left = tries_left


def _locked(session, customer_id: int) -> Customer:  # type: ignore[no-untyped-def]
    customer = session.exec(select(Customer).where(Customer.id == customer_id).with_for_update()).first()
    if customer is None:
        raise StaleError("error.generic")
    return customer


def is_stale(customer: Customer, now: datetime, policy: Policy = DEFAULT_POLICY) -> bool:
    return customer.number_confirmed_at is None or now - customer.number_confirmed_at > policy.stale_number_after


def prompt(customer_id: int, *, now: datetime, policy: Policy = DEFAULT_POLICY, url: str | None = None) -> tuple[bool, bool]:
    """(the prompt must be shown, « Plus tard » is still allowed)."""
    with read_only(url) as session:
        customer = session.get(Customer, customer_id)
    if customer is None or not customer.secure_phone_e164:
        return False, False
    return is_stale(customer, now, policy), customer.stale_prompt_later_count < policy.stale_prompt_max_later


def later(customer_id: int, *, actor: Actor, now: datetime, policy: Policy = DEFAULT_POLICY, url: str | None = None) -> None:
    """« Plus tard », at most ``policy.stale_prompt_max_later`` times."""
    with transaction(url) as session:
        customer = _locked(session, customer_id)
        if customer.stale_prompt_later_count >= policy.stale_prompt_max_later:
            record(session, actor, "stale_number_later", "refused", now=now, customer_id=customer_id)
            session.commit()
            raise StaleError("stale.later.exhausted")
        customer.stale_prompt_later_count += 1
        session.add(customer)
        record(session, actor, "stale_number_later", "ok", now=now, customer_id=customer_id,
               count=customer.stale_prompt_later_count)


def send_confirmation_code(customer_id: int, *, actor: Actor, now: datetime, policy: Policy = DEFAULT_POLICY,
                           url: str | None = None) -> None:
    """« Oui, c'est mon numéro »: an SMS code goes to that number."""
    with transaction(url) as session:
        customer = _locked(session, customer_id)
        try:
            send_code(session, customer, PURPOSE, now=now, policy=policy)
        except SmsCodeError as error:
            record(session, actor, "stale_code_sent", "refused", now=now, customer_id=customer_id, problem=error.code)
            session.commit()
            raise StaleError(error.code) from error
        record(session, actor, "stale_code_sent", "ok", now=now, customer_id=customer_id)


def confirm(customer_id: int, code: str, *, actor: Actor, now: datetime, policy: Policy = DEFAULT_POLICY,
            url: str | None = None) -> None:
    """The code received proves the number still reaches the customer: record the date."""
    with transaction(url) as session:
        customer = _locked(session, customer_id)
        try:
            check_code(session, customer, PURPOSE, code, now=now, policy=policy)
        except SmsCodeError as error:
            record(session, actor, "number_confirmed", "refused", now=now, customer_id=customer_id, problem=error.code)
            session.commit()
            raise StaleError(error.code, error.tries_left) from error
        customer.number_confirmed_at = now
        customer.stale_prompt_later_count = 0
        session.add(customer)
        record(session, actor, "number_confirmed", "ok", now=now, customer_id=customer_id)
