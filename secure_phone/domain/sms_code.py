"""One-time codes sent by SMS: to the current secure number (J4 activation, J7 confirmation), to the new
number (§12.3, its proof; ``digits``: the policy's ``proof_code_digits``)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

import pyotp

from secure_phone.domain.policy import DEFAULT_POLICY, Policy

_COUNTER = 0  # each code has its own secret, so the HOTP counter never moves


class SmsCodeProblem(str, Enum):
    """Why an entered SMS code is refused, or (DAILY_LIMIT) why no new code can be sent."""

    EXPIRED = "expired"
    TOO_MANY_TRIES = "too_many_tries"
    USED = "used"
    WRONG = "wrong"
    DAILY_LIMIT = "daily_limit"


@dataclass(frozen=True)
class SmsCodeState:
    """The stored facts about the code being checked.

    `failures` is the customer's count of wrong entries for this purpose, carried across resends
    (sending a new code does not reset it, §5.3) — not the count of this code alone.
    """

    issued_at: datetime
    failures: int
    used: bool


def sms_code_from(secret: str, policy: Policy = DEFAULT_POLICY, digits: int | None = None) -> str:
    """The code of a one-time secret (base32), ``digits`` long (default: ``policy.sms_code_digits``). The caller
    draws the secret at random and forgets it once the code is made: only a keyed hash of the code is stored
    (the domain draws nothing itself)."""
    return pyotp.HOTP(secret, digits=digits or policy.sms_code_digits).at(_COUNTER)


def hash_sms_code(key: bytes, subject: str, code: str) -> str:
    """Keyed hash of a code (``subject`` binds it to one customer and purpose)."""
    return hmac.new(key, f"{subject}:{code}".encode(), hashlib.sha256).hexdigest()


def code_matcher(key: bytes, subject: str, stored_hash: str) -> Callable[[str], bool]:
    """A constant-time check of an entered code against the stored hash."""
    return lambda code: hmac.compare_digest(hash_sms_code(key, subject, code), stored_hash)


def check_sms_code(
    state: SmsCodeState,
    entered: str,
    matches: Callable[[str], bool],
    now: datetime,
    policy: Policy = DEFAULT_POLICY,
    digits: int | None = None,
) -> SmsCodeProblem | None:
    """None if `entered` is the right code and still usable, else the problem.

    Checked in this order: used, too many tries, expired, wrong. The caller counts a WRONG.
    """
    if state.used:
        return SmsCodeProblem.USED
    if state.failures >= policy.sms_code_max_tries:
        return SmsCodeProblem.TOO_MANY_TRIES
    if now >= state.issued_at + policy.sms_code_ttl:
        return SmsCodeProblem.EXPIRED
    code = "".join(entered.split())  # tolerate "1234 5678"
    if not (code.isascii() and code.isdigit() and len(code) == (digits or policy.sms_code_digits) and matches(code)):
        return SmsCodeProblem.WRONG
    return None


def can_issue_code(issued_in_window: int, policy: Policy = DEFAULT_POLICY) -> bool:
    """Whether another code may be sent, given how many were sent in the rolling window."""
    return issued_in_window < policy.sms_codes_per_day
