"""The operator's fraud signals (§12.4): every combination of answers, under both policies."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from secure_phone.domain.operator import (
    CHANGE_CHECKS,
    Answers,
    Check,
    Reason,
    assess_activation,
    assess_callback,
    assess_change,
    assess_recycling,
    recent_swap,
)
from secure_phone.domain.policy import DEFAULT_POLICY

NOW = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)
OPEN = replace(DEFAULT_POLICY, operator_fail_closed=False)
SWAPS = {"never": None, "2h": NOW - timedelta(hours=2), "72h": NOW - timedelta(hours=72),
         "72h+1s": NOW - timedelta(hours=72, seconds=1), "future": NOW + timedelta(minutes=5)}
RECENT = {"2h", "72h", "future"}


def test_the_policy_says_72_hours_and_fail_closed() -> None:
    assert DEFAULT_POLICY.sim_swap_max_age == timedelta(hours=72)
    assert DEFAULT_POLICY.operator_fail_closed is True


@pytest.mark.parametrize("age", sorted(SWAPS))
def test_recent_swap_at_the_boundary(age: str) -> None:
    assert recent_swap(SWAPS[age], NOW) is (age in RECENT)


@pytest.mark.parametrize("policy", [DEFAULT_POLICY, OPEN], ids=["fail-closed", "fail-open"])
@pytest.mark.parametrize(("current", "new", "forwarding", "kyc"), list(itertools.product(
    sorted(SWAPS), sorted(SWAPS), [None, False, True], [None, False, True])))
@pytest.mark.parametrize("unanswered", [frozenset(), *(frozenset({c}) for c in sorted(CHANGE_CHECKS)),
                                        CHANGE_CHECKS], ids=lambda u: "+".join(sorted(c.value for c in u)) or "all")
def test_every_combination_at_a_change(policy, current, new, forwarding, kyc, unanswered) -> None:  # noqa: ANN001
    answers = Answers(current_sim_changed_at=SWAPS[current], new_sim_changed_at=SWAPS[new], new_forwarding=forwarding,
                      kyc_name_match=kyc, unanswered=unanswered)
    verdict = assess_change(answers, NOW, policy)
    expected = [r for r, present in ((Reason.CURRENT_SIM_SWAP, current in RECENT), (Reason.NEW_SIM_SWAP, new in RECENT),
                                     (Reason.NEW_FORWARDING, forwarding is True), (Reason.KYC_MISMATCH, kyc is False),
                                     (Reason.UNAVAILABLE, bool(unanswered) and policy.operator_fail_closed)) if present]
    assert list(verdict.reasons) == expected
    assert verdict.stopped is bool(expected)
    assert verdict.noted == ((Reason.UNAVAILABLE,) if unanswered and not policy.operator_fail_closed else ())
    if current in RECENT:  # the current number's SIM change is the reason the customer is told first
        assert verdict.primary is Reason.CURRENT_SIM_SWAP


def test_fail_closed_never_lets_through_what_it_would_stop() -> None:
    """Whatever is answered or not: every change fail-closed lets through, fail-open lets through too, and every
    signal that was answered stops the change under both policies."""
    for current, new, forwarding, kyc in itertools.product(SWAPS, SWAPS, [None, False, True], [None, False, True]):
        for n in range(len(CHANGE_CHECKS) + 1):
            for missing in itertools.combinations(sorted(CHANGE_CHECKS), n):
                answers = Answers(SWAPS[current], SWAPS[new], forwarding, kyc, unanswered=frozenset(missing))
                closed, opened = assess_change(answers, NOW), assess_change(answers, NOW, OPEN)
                assert not closed.stopped or opened.stopped or Reason.UNAVAILABLE in closed.reasons
                assert set(opened.reasons) <= set(closed.reasons)
                if missing:
                    assert closed.stopped


@pytest.mark.parametrize("policy", [DEFAULT_POLICY, OPEN], ids=["fail-closed", "fail-open"])
@pytest.mark.parametrize("age", sorted(SWAPS))
@pytest.mark.parametrize("answered", [True, False])
def test_activation(policy, age, answered) -> None:  # noqa: ANN001
    answers = Answers(current_sim_changed_at=SWAPS[age] if answered else None,
                      unanswered=frozenset() if answered else frozenset({Check.CURRENT_SIM_SWAP}))
    verdict = assess_activation(answers, NOW, policy)
    if answered:
        assert verdict.reasons == ((Reason.CURRENT_SIM_SWAP,) if age in RECENT else ())
    else:
        assert verdict.stopped is policy.operator_fail_closed
        assert verdict.signals == (Reason.UNAVAILABLE,)


def test_activation_ignores_the_checks_it_does_not_ask() -> None:
    assert not assess_activation(Answers(unanswered=frozenset({Check.KYC_MATCH})), NOW).stopped


@pytest.mark.parametrize("policy", [DEFAULT_POLICY, OPEN], ids=["fail-closed", "fail-open"])
@pytest.mark.parametrize("recycled", [None, False, True])
def test_recycling(policy, recycled) -> None:  # noqa: ANN001
    unanswered = frozenset({Check.RECYCLING}) if recycled is None else frozenset()
    verdict = assess_recycling(Answers(recycled=recycled, unanswered=unanswered), policy)
    if recycled is True:
        assert verdict.reasons == (Reason.RECYCLED,)
    elif recycled is False:
        assert verdict.signals == ()
    else:
        assert verdict.stopped is policy.operator_fail_closed
        assert verdict.signals == (Reason.UNAVAILABLE,)


@pytest.mark.parametrize("forwarding", [None, False, True])
def test_callback_warns_and_never_stops(forwarding) -> None:  # noqa: ANN001
    unanswered = frozenset({Check.FORWARDING}) if forwarding is None else frozenset()
    verdict = assess_callback(Answers(forwarding=forwarding, unanswered=unanswered))
    assert not verdict.stopped
    assert verdict.noted == {None: (Reason.UNAVAILABLE,), False: (), True: (Reason.FORWARDING,)}[forwarding]
