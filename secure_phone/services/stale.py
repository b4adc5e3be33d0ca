"""J7: a secure number not confirmed for ``policy.stale_number_after`` is checked at login."""

from __future__ import annotations

from secure_phone.services import operator
from secure_phone.services.audit import Actor
from secure_phone.services.customers import overview
from secure_phone.services.rows import lock_customer
from secure_phone.services.sms_codes import check_code, send_code, sending_refusal
from secure_phone.services.unit_of_work import Refused, UnitOfWork

PURPOSE = "confirm_number"


def prompt(uow: UnitOfWork, customer_id: int) -> tuple[bool, bool]:
    """(the prompt must be shown, « Plus tard » is still allowed): what « Mes coordonnées » reads with it."""
    try:
        view = overview(uow, customer_id)
    except LookupError:
        return False, False
    return view.stale_prompt, view.stale_later_allowed


def later(uow: UnitOfWork, customer_id: int, *, actor: Actor) -> None:
    """« Plus tard », at most ``policy.stale_prompt_max_later`` times."""
    with uow.write(actor) as tx:
        customer = lock_customer(tx.session, customer_id)
        if customer.stale_prompt_later_count >= uow.policy.stale_prompt_max_later:
            raise Refused("stale.later.exhausted", action="stale_number_later", customer_id=customer_id)
        customer.stale_prompt_later_count += 1
        tx.session.add(customer)
        tx.record("stale_number_later", "ok", customer_id=customer_id, count=customer.stale_prompt_later_count)


def send_confirmation_code(uow: UnitOfWork, customer_id: int, *, actor: Actor) -> None:
    """« Oui, c'est mon numéro »: an SMS code goes to that number — once the operator said it was not recycled
    (§12.4: Number Recycling first; ``operator.recycled`` stops every SMS to it, to the advisor)."""
    with uow.write(actor) as tx:  # the local rules first: a code that may not be sent costs no operator call
        customer = lock_customer(tx.session, customer_id)
        if not customer.secure_phone_e164:
            raise Refused("sms.no_number", action="stale_code_sent", customer_id=customer_id, problem="sms.no_number")
        if (refusal := sending_refusal(tx, customer, PURPOSE)) is not None:
            raise Refused(refusal, action="stale_code_sent", customer_id=customer_id, problem=refusal)
    operator.guard_recycling(uow, customer_id, actor=actor)
    with uow.write(actor) as tx:
        customer = lock_customer(tx.session, customer_id)
        send_code(tx, customer, PURPOSE, action="stale_code_sent")
        tx.record("stale_code_sent", "ok", customer_id=customer_id)


def confirm(uow: UnitOfWork, customer_id: int, code: str, *, actor: Actor) -> None:
    """The code received proves the number still reaches the customer: record the date."""
    with uow.write(actor) as tx:
        customer = lock_customer(tx.session, customer_id)
        check_code(tx, customer, PURPOSE, code, action="number_confirmed")
        customer.number_confirmed_at = tx.now
        customer.stale_prompt_later_count = 0
        tx.session.add(customer)
        tx.record("number_confirmed", "ok", customer_id=customer_id)
