"""8-digit codes sent by SMS to the customer's current secure number (J4 activation, J7 check).

Only a keyed hash of each code is stored, and the SMS that carries it is queued with the code as a
secret (``notifications.enqueue(..., secrets=[code])``): the outbox keeps the text with the code
redacted, and the full text sealed until delivery — never the code in clear (PRODUCT.md §12.2).

At most ``policy.sms_codes_per_day`` codes per customer and purpose in the rolling window; the
failures are the customer's for that purpose, carried by every new code (a resend never resets
them, §5.3).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from secure_phone import i18n
from secure_phone.adapters import notifications
from secure_phone.adapters.models import Customer, SmsCode
from secure_phone.domain.policy import DEFAULT_POLICY, Policy
from secure_phone.domain.sms_code import (
    SmsCodeProblem,
    SmsCodeState,
    can_issue_code,
    check_sms_code,
    code_matcher,
    hash_sms_code,
    new_sms_code,
)
from secure_phone.settings import secret_key


class SmsCodeError(Exception):
    """``code`` is an i18n key; ``tries_left`` when a wrong code was entered."""

    def __init__(self, code: str, tries_left: int | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.tries_left = tries_left


def _subject(customer_id: int, purpose: str) -> str:
    return f"{customer_id}:{purpose}"


def _latest(session: Session, customer_id: int, purpose: str) -> SmsCode | None:
    return session.exec(
        select(SmsCode).where(SmsCode.customer_id == customer_id, SmsCode.purpose == purpose)
        .order_by(SmsCode.issued_at.desc()).with_for_update()  # type: ignore[union-attr]
    ).first()


def send_code(
    session: Session, customer: Customer, purpose: str, *, now: datetime, device_id: str | None = None,
    policy: Policy = DEFAULT_POLICY,
) -> SmsCode:
    """Issue a code, revoke the previous one, and queue the SMS to the current secure number."""
    assert customer.id is not None
    if not customer.secure_phone_e164:
        raise SmsCodeError("sms.no_number")
    sent = session.exec(
        select(func.count()).select_from(SmsCode).where(
            SmsCode.customer_id == customer.id, SmsCode.purpose == purpose,
            SmsCode.issued_at > now - policy.rolling_window)
    ).one()
    if not can_issue_code(sent, policy):
        raise SmsCodeError("sms.daily_limit")
    previous = _latest(session, customer.id, purpose)
    carried = 0
    if previous is not None and previous.issued_at > now - policy.rolling_window and previous.used_at is None:
        carried = previous.failures
        if previous.used_at is None and previous.revoked_at is None:
            previous.revoked_at = now
            session.add(previous)
    if carried >= policy.sms_code_max_tries:
        raise SmsCodeError("sms.too_many_tries")
    code = new_sms_code(policy)
    row = SmsCode(customer_id=customer.id, purpose=purpose, device_id=device_id, failures=carried, issued_at=now,
                  code_hash=hash_sms_code(secret_key(), _subject(customer.id, purpose), code))
    session.add(row)
    session.flush()
    notifications.enqueue(
        session, key=f"sms-code:{row.id}", channel="sms", recipient=customer.secure_phone_e164,
        body=i18n.text(f"sms.body.{purpose}", customer.lang, code=code), secrets=[code],
        customer_id=customer.id, now=now,
    )
    return row


def check_code(
    session: Session, customer: Customer, purpose: str, entered: str, *, now: datetime,
    device_id: str | None = None, policy: Policy = DEFAULT_POLICY,
) -> SmsCode:
    """The code row when ``entered`` is right (marked used); SmsCodeError otherwise (failure counted).

    A code sent for one phone (``device_id``) is only good on that phone.
    """
    assert customer.id is not None
    row = _latest(session, customer.id, purpose)
    if row is None or row.revoked_at is not None:
        raise SmsCodeError("sms.expired")
    if row.device_id != device_id:
        raise SmsCodeError("sms.expired")
    state = SmsCodeState(issued_at=row.issued_at, failures=row.failures, used=row.used_at is not None)
    matcher = code_matcher(secret_key(), _subject(customer.id, purpose), row.code_hash)
    problem = check_sms_code(state, entered, matcher, now, policy)
    if problem is SmsCodeProblem.WRONG:
        row.failures += 1
        session.add(row)
        left = max(0, policy.sms_code_max_tries - row.failures)
        raise SmsCodeError("sms.wrong" if left else "sms.too_many_tries", tries_left=left)
    if problem is not None:
        raise SmsCodeError(f"sms.{problem.value}")
    row.used_at = now
    session.add(row)
    return row


def revoke_codes(session: Session, customer_id: int, now: datetime) -> None:
    """Old SMS codes die with a change of number (§7)."""
    for row in session.exec(select(SmsCode).where(
            SmsCode.customer_id == customer_id, SmsCode.used_at.is_(None), SmsCode.revoked_at.is_(None))):  # type: ignore[union-attr]
        row.revoked_at = now
        session.add(row)
