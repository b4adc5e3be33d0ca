"""Codes sent by SMS: 8 digits to the customer's current secure number (J4 activation, J7 check), 6 to the new
number to prove it before any Sécur'Pass request (§12.3, its last line ``@host #code`` binds it to the site).

Only a keyed hash of each code is stored, and the SMS that carries it is queued with the code as a
secret (``tx.notify(..., secrets=[code])``): the outbox keeps the text with the code
redacted, and the full text sealed until delivery — never the code in clear (PRODUCT.md §12.2).

At most ``policy.sms_codes_per_day`` codes per customer and purpose in the rolling window; the
failures are the customer's for that purpose, carried by every new code (a resend never resets
them, §5.3).
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

import pyotp
from sqlalchemy import bindparam, func
from sqlalchemy import select as sa_select
from sqlalchemy import update as sa_update
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
from secure_phone.settings import public_url, secret_key


def _subject(customer_id: int, purpose: str) -> str:
    return f"{customer_id}:{purpose}"


def _latest(session: Session, customer_id: int, purpose: str) -> SmsCode | None:
    """The code of the purpose that counts: the live one (a new code revokes the previous, so there is at most
    one), else the last one sent (two sent in the same instant: the live one still wins)."""
    return session.exec(
        select(SmsCode).where(SmsCode.customer_id == customer_id, SmsCode.purpose == purpose)
        .order_by(col(SmsCode.revoked_at).is_(None).desc(), col(SmsCode.issued_at).desc()).with_for_update()
    ).first()


NEW_NUMBER = "new_number"
"""The purpose of the code sent to the new number to prove it (§12.3); the others go to the current number."""


def new_sms_code(policy: Policy = DEFAULT_POLICY, digits: int | None = None) -> str:
    """A fresh code to send, from a random one-time secret that is then forgotten."""
    return sms_code_from(pyotp.random_base32(), policy, digits)


def digits_for(purpose: str, policy: Policy) -> int:
    return policy.proof_code_digits if purpose == NEW_NUMBER else policy.sms_code_digits


def origin_host() -> str:
    """The host the codes are bound to (``@host #code``, the last line of a proof SMS): the public URL's, or
    localhost (what a browser on the demo laptop serves)."""
    return urlsplit(public_url()).hostname or "localhost"


def _refusal(action: str, customer: Customer, code: str, device_id: str | None, request_id: str | None,
             tries_left: int | None = None) -> Refused:
    if device_id:
        return Refused(code, action=action, customer_id=customer.id, tries_left=tries_left, problem=code,
                       device=device_id)
    return Refused(code, action=action, customer_id=customer.id, request_id=request_id, tries_left=tries_left,
                   problem=code)


_CODES = SmsCode.__table__  # type: ignore[attr-defined]
# Built once (issue 13): every code sent, and every « Confirmer » with the new number's proof, counts them.
_SENT_SINCE = sa_select(func.count()).select_from(_CODES).where(
    _CODES.c.customer_id == bindparam("customer_id"), _CODES.c.purpose == bindparam("purpose"),
    _CODES.c.issued_at > bindparam("since"))


def sending_refusal(tx: Tx, customer: Customer, purpose: str) -> str | None:
    """Why no code of ``purpose`` may be sent now (its i18n key), or None: the daily limit, or the customer's
    failures for that purpose already at the maximum (a resend never resets them)."""
    assert customer.id is not None
    policy, now, session = tx.uow.policy, tx.now, tx.session
    if purpose != NEW_NUMBER and customer.number_recycled_at is not None:
        return "operator.recycled"  # §12.4: the number belongs to someone else now; nothing goes to it
    sent = session.execute(_SENT_SINCE, {"customer_id": customer.id, "purpose": purpose,
                                         "since": now - policy.rolling_window}).scalar_one()
    if not can_issue_code(sent, policy):
        return "sms.daily_limit"
    previous = _latest(session, customer.id, purpose)
    if previous is not None and previous.issued_at > now - policy.rolling_window and previous.used_at is None \
            and previous.failures >= policy.sms_code_max_tries:
        return "sms.too_many_tries"
    return None


def send_code(tx: Tx, customer: Customer, purpose: str, *, action: str, device_id: str | None = None,
              request_id: str | None = None, recipient: str | None = None, body: str | None = None) -> SmsCode:
    """Issue a code, revoke the previous one, and queue the SMS — to the current secure number, or to
    ``recipient`` (the new number, for the ``NEW_NUMBER`` proof of ``request_id``); a refusal is recorded
    under ``action`` (the caller's step). ``body``: the catalogue key of the text (default ``sms.body.<purpose>``)."""
    assert customer.id is not None
    policy, now, session = tx.uow.policy, tx.now, tx.session
    to = recipient or customer.secure_phone_e164
    if not to:
        raise _refusal(action, customer, "sms.no_number", device_id, request_id)
    refusal = sending_refusal(tx, customer, purpose)
    if refusal is not None:
        raise _refusal(action, customer, refusal, device_id, request_id)
    previous = _latest(session, customer.id, purpose)
    carried = 0
    if previous is not None and previous.issued_at > now - policy.rolling_window and previous.used_at is None:
        carried = previous.failures
        if previous.revoked_at is None:
            previous.revoked_at = now
            session.add(previous)
    code = new_sms_code(policy, digits_for(purpose, policy))
    row = SmsCode(customer_id=customer.id, purpose=purpose, device_id=device_id, request_id=request_id,
                  failures=carried, issued_at=now,
                  code_hash=hash_sms_code(secret_key(), _subject(customer.id, purpose), code))
    session.add(row)
    session.flush()
    text = i18n.text(body or f"sms.body.{purpose}", customer.lang, code=code, host=origin_host())
    tx.notify(key=f"sms-code:{row.id}", channel="sms", recipient=to, body=text, secrets=[code],
              customer_id=customer.id)
    return row


def check_code(tx: Tx, customer: Customer, purpose: str, entered: object, *, action: str,
               device_id: str | None = None, request_id: str | None = None) -> SmsCode:
    """The code row when ``entered`` is right (marked used); a refusal recorded under ``action`` otherwise
    (a wrong code's failure counted and kept).

    A code sent for one phone (``device_id``) is only good on that phone; one sent to prove a new number only
    for that request (``request_id``).
    """
    assert customer.id is not None
    policy, now, session = tx.uow.policy, tx.now, tx.session
    row = _latest(session, customer.id, purpose)
    if row is None or row.revoked_at is not None or row.device_id != device_id or row.request_id != request_id:
        raise _refusal(action, customer, "sms.expired", device_id, request_id)
    state = SmsCodeState(issued_at=row.issued_at, failures=row.failures, used=row.used_at is not None)
    matcher = code_matcher(secret_key(), _subject(customer.id, purpose), row.code_hash)
    problem = check_sms_code(state, key(entered, CODE_LIMIT), matcher, now, policy, digits_for(purpose, policy))
    if problem is SmsCodeProblem.WRONG:
        row.failures += 1
        session.add(row)
        left = max(0, policy.sms_code_max_tries - row.failures)
        raise _refusal(action, customer, "sms.wrong" if left else "sms.too_many_tries", device_id, request_id,
                       tries_left=left)
    if problem is not None:
        raise _refusal(action, customer, f"sms.{problem.value}", device_id, request_id)
    row.used_at = now
    session.add(row)
    return row


_REVOKE_LIVE = sa_update(_CODES).where(
    _CODES.c.customer_id == bindparam("whose"), _CODES.c.used_at.is_(None),
    _CODES.c.revoked_at.is_(None)).values(revoked_at=bindparam("revoke_at"))


def revoke_codes(session: Session, customer_id: int, now: datetime) -> None:
    """Old SMS codes die with a change of number (§7): one Core statement built once (the completion loads no
    code as an object, so none is left stale)."""
    session.execute(_REVOKE_LIVE, {"whose": customer_id, "revoke_at": now})
