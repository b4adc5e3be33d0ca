"""8-digit SMS codes: generation, checking order, expiry, tries across resends, daily limit."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from secure_phone.domain.policy import DEFAULT_POLICY
from secure_phone.domain.sms_code import (
    SmsCodeProblem,
    SmsCodeState,
    can_issue_code,
    check_sms_code,
    code_matcher,
    hash_sms_code,
    sms_code_from,
)
from secure_phone.services.sms_codes import new_sms_code  # the random draw is the service's

ISSUED = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
FRESH = SmsCodeState(issued_at=ISSUED, failures=0, used=False)
KEY, SUBJECT = b"server-side key", "customer-1:confirm_number"
CODE, OTHER_CODE = "75292263", "06953265"
# What the services keep: a matcher over the stored keyed hash, never the code or its secret.
SECRET = code_matcher(KEY, SUBJECT, hash_sms_code(KEY, SUBJECT, CODE))
OTHER_SECRET = code_matcher(KEY, SUBJECT, hash_sms_code(KEY, SUBJECT, OTHER_CODE))


def test_new_code_has_eight_digits() -> None:
    code = new_sms_code()
    assert len(code) == DEFAULT_POLICY.sms_code_digits == 8
    assert code.isascii() and code.isdigit()


def test_codes_are_random() -> None:
    assert len({new_sms_code() for _ in range(50)}) > 45


def test_a_secret_gives_one_code_and_the_domain_draws_nothing() -> None:
    secret = "7FG7ZVPXFIQK6KFXCVHWNPQGSG6MLTYD"
    assert sms_code_from(secret) == sms_code_from(secret)
    assert sms_code_from(secret) != sms_code_from("RBJTML56J6XJVPFS5TEN2ZSK3EKFGD52")


def test_code_length_comes_from_the_policy() -> None:
    code = new_sms_code(replace(DEFAULT_POLICY, sms_code_digits=6))
    assert len(code) == 6


def test_the_hash_is_keyed_and_bound_to_its_subject() -> None:
    stored = hash_sms_code(KEY, SUBJECT, CODE)
    assert CODE not in stored
    assert stored != hash_sms_code(b"another key", SUBJECT, CODE)
    assert stored != hash_sms_code(KEY, "customer-2:confirm_number", CODE)
    assert code_matcher(KEY, SUBJECT, stored)(CODE)
    assert not code_matcher(KEY, "customer-2:confirm_number", stored)(CODE)


def test_a_fresh_code_checks_against_its_own_hash() -> None:
    code = new_sms_code()
    assert check_sms_code(FRESH, code, code_matcher(KEY, SUBJECT, hash_sms_code(KEY, SUBJECT, code)), ISSUED) is None


def test_the_right_code_is_accepted() -> None:
    assert check_sms_code(FRESH, CODE, SECRET, ISSUED + timedelta(minutes=1)) is None


def test_spaces_typed_in_the_code_are_ignored() -> None:
    assert check_sms_code(FRESH, " 7529 2263 ", SECRET, ISSUED) is None


@pytest.mark.parametrize(
    "entered", ["", "7529226", "752922630", "75292264", "7529226a", "0" * 2000, OTHER_CODE]
)
def test_anything_else_is_wrong(entered: str) -> None:
    assert check_sms_code(FRESH, entered, SECRET, ISSUED) is SmsCodeProblem.WRONG


def test_a_code_does_not_match_another_codes_secret() -> None:
    assert check_sms_code(FRESH, CODE, OTHER_SECRET, ISSUED) is SmsCodeProblem.WRONG


@pytest.mark.parametrize(
    ("after", "problem"),
    [
        (timedelta(0), None),
        (timedelta(minutes=9, seconds=59), None),
        (timedelta(minutes=10), SmsCodeProblem.EXPIRED),
        (timedelta(hours=1), SmsCodeProblem.EXPIRED),
    ],
)
def test_a_code_is_valid_ten_minutes(after: timedelta, problem: SmsCodeProblem | None) -> None:
    assert check_sms_code(FRESH, CODE, SECRET, ISSUED + after) is problem


@pytest.mark.parametrize(
    ("failures", "problem"),
    [(0, None), (1, None), (2, None), (3, SmsCodeProblem.TOO_MANY_TRIES),
     (4, SmsCodeProblem.TOO_MANY_TRIES)],
)
def test_three_tries(failures: int, problem: SmsCodeProblem | None) -> None:
    assert check_sms_code(replace(FRESH, failures=failures), CODE, SECRET, ISSUED) is problem


def test_failures_carried_over_from_the_previous_code_still_count() -> None:
    """Two failures on a first code, one on the resent code: the right code is then refused."""
    first = FRESH
    for failures in range(2):
        first = replace(first, failures=failures)
        assert check_sms_code(first, "00000000", OTHER_SECRET, ISSUED) is SmsCodeProblem.WRONG
    resent = SmsCodeState(issued_at=ISSUED + timedelta(minutes=2), failures=2, used=False)
    assert check_sms_code(resent, "00000000", SECRET, resent.issued_at) is SmsCodeProblem.WRONG
    resent = replace(resent, failures=3)
    assert check_sms_code(resent, CODE, SECRET, resent.issued_at) is SmsCodeProblem.TOO_MANY_TRIES


def test_a_used_code_cannot_be_used_again() -> None:
    assert check_sms_code(replace(FRESH, used=True), CODE, SECRET, ISSUED) is SmsCodeProblem.USED


@pytest.mark.parametrize(
    ("state", "now", "problem"),
    [
        (SmsCodeState(ISSUED, failures=3, used=True), ISSUED + timedelta(hours=1),
         SmsCodeProblem.USED),
        (SmsCodeState(ISSUED, failures=3, used=False), ISSUED + timedelta(hours=1),
         SmsCodeProblem.TOO_MANY_TRIES),
        (SmsCodeState(ISSUED, failures=0, used=False), ISSUED + timedelta(hours=1),
         SmsCodeProblem.EXPIRED),
    ],
)
def test_checking_order_used_tries_expiry_code(state: SmsCodeState, now: datetime,
                                               problem: SmsCodeProblem) -> None:
    assert check_sms_code(state, "wrong", SECRET, now) is problem


def test_limits_come_from_the_policy() -> None:
    policy = replace(DEFAULT_POLICY, sms_code_max_tries=5, sms_code_ttl=timedelta(minutes=30))
    state = replace(FRESH, failures=4)
    assert check_sms_code(state, CODE, SECRET, ISSUED + timedelta(minutes=20), policy) is None


@pytest.mark.parametrize(
    ("issued_in_window", "allowed"), [(0, True), (2, True), (3, False), (9, False)]
)
def test_at_most_three_codes_per_window(issued_in_window: int, allowed: bool) -> None:
    assert can_issue_code(issued_in_window) is allowed


def test_daily_limit_comes_from_the_policy() -> None:
    assert can_issue_code(3, replace(DEFAULT_POLICY, sms_codes_per_day=4))


def test_problem_values_are_lowercase_names() -> None:
    assert all(member.value == member.name.lower() for member in SmsCodeProblem)
