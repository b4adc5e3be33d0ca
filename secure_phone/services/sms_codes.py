"""8-digit codes sent by SMS to the customer's current secure number (J4 activation, J7 check).

Only a keyed hash of each code is stored, and the SMS that carries it is queued with the code as a
secret (``tx.notify(..., secrets=[code])``): the outbox keeps the text with the code
redacted, and the full text sealed until delivery — never the code in clear (PRODUCT.md §12.2).

At most ``policy.sms_codes_per_day`` codes per customer and purpose in the rolling window; the
failures are the customer's for that purpose, carried by every new code (a resend never resets
them, §5.3).
"""

from __future__ import annotations

from datetime import datetime

import pyotp
from sqlalchemy import func
from sqlmodel import Session, col, select

from secure_phone import i18n
from secure_phone.adapters.models import Customer, SmsCode
from secure_phone.domain.policy import DEFAULT_POLICY, Policy
from secure_phone.domain.sms_code import (
    SmsCodeProblem,
    SmsCodeState,
    can_issue_code,
    check_sms_code,
    code_matcher,
    hash_sms_code,
    sms_code_from,
)
from secure_phone.services.inputs import CODE_LIMIT, key
from secure_phone.services.unit_of_work import Refused, Tx
from secure_phone.settings import secret_key


def _subject(customer_id: int, purpose: str) -> str:
    return f"{customer_id}:{purpose}"


def _latest(session: Session, customer_id: int, purpose: str) -> SmsCode | None:
    return session.exec(
        select(SmsCode).where(SmsCode.customer_id == customer_id, SmsCode.purpose == purpose)
        .order_by(col(SmsCode.issued_at).desc()).with_for_update()
    ).first()


def new_sms_code(policy: Policy = DEFAULT_POLICY) -> str:
    """A fresh code to send, from a random one-time secret that is then forgotten."""
    return sms_code_from(pyotp.random_base32(), policy)


def send_code(tx: Tx, customer: Customer, purpose: str, *, action: str, device_id: str | None = None) -> SmsCode:
    """Issue a code, revoke the previous one, and queue the SMS to the current secure number; a refusal is
    recorded under ``action`` (the caller's step)."""
    assert customer.id is not None
    policy, now, session = tx.uow.policy, tx.now, tx.session

    def refuse(code: str) -> Refused:
        if device_id:
            return Refused(code, action=action, customer_id=customer.id, problem=code, device=device_id)
        return Refused(code, action=action, customer_id=customer.id, problem=code)

    if not customer.secure_phone_e164:
        raise refuse("sms.no_number")
    sent = session.exec(
        select(func.count()).select_from(SmsCode).where(
            SmsCode.customer_id == customer.id, SmsCode.purpose == purpose,
            SmsCode.issued_at > now - policy.rolling_window)
    ).one()
    if not can_issue_code(sent, policy):
        raise refuse("sms.daily_limit")
    previous = _latest(session, customer.id, purpose)
    carried = 0
    if previous is not None and previous.issued_at > now - policy.rolling_window and previous.used_at is None:
        carried = previous.failures
        if previous.used_at is None and previous.revoked_at is None:
            previous.revoked_at = now
            session.add(previous)
    if carried >= policy.sms_code_max_tries:
        raise refuse("sms.too_many_tries")
    code = new_sms_code(policy)
    row = SmsCode(customer_id=customer.id, purpose=purpose, device_id=device_id, failures=carried, issued_at=now,
                  code_hash=hash_sms_code(secret_key(), _subject(customer.id, purpose), code))
    session.add(row)
    session.flush()
    tx.notify(key=f"sms-code:{row.id}", channel="sms", recipient=customer.secure_phone_e164,
              body=i18n.text(f"sms.body.{purpose}", customer.lang, code=code), secrets=[code],
              customer_id=customer.id)
    return row


def check_code(tx: Tx, customer: Customer, purpose: str, entered: object, *, action: str,
               device_id: str | None = None) -> SmsCode:
    """The code row when ``entered`` is right (marked used); a refusal recorded under ``action`` otherwise
    (a wrong code's failure counted and kept).

    A code sent for one phone (``device_id``) is only good on that phone.
    """
    assert customer.id is not None
    policy, now, session = tx.uow.policy, tx.now, tx.session

    def refuse(code: str, tries_left: int | None = None) -> Refused:
        if device_id:
            return Refused(code, action=action, customer_id=customer.id, tries_left=tries_left, problem=code,
                           device=device_id)
        return Refused(code, action=action, customer_id=customer.id, tries_left=tries_left, problem=code)

    row = _latest(session, customer.id, purpose)
    if row is None or row.revoked_at is not None or row.device_id != device_id:
        raise refuse("sms.expired")
    state = SmsCodeState(issued_at=row.issued_at, failures=row.failures, used=row.used_at is not None)
    matcher = code_matcher(secret_key(), _subject(customer.id, purpose), row.code_hash)
    problem = check_sms_code(state, key(entered, CODE_LIMIT), matcher, now, policy)
    if problem is SmsCodeProblem.WRONG:
        row.failures += 1
        session.add(row)
        left = max(0, policy.sms_code_max_tries - row.failures)
        raise refuse("sms.wrong" if left else "sms.too_many_tries", tries_left=left)
    if problem is not None:
        raise refuse(f"sms.{problem.value}")
    row.used_at = now
    session.add(row)
    return row


def revoke_codes(session: Session, customer_id: int, now: datetime) -> None:
    """Old SMS codes die with a change of number (§7)."""
    for row in session.exec(select(SmsCode).where(
            SmsCode.customer_id == customer_id, col(SmsCode.used_at).is_(None), col(SmsCode.revoked_at).is_(None))):
        row.revoked_at = now
        session.add(row)
