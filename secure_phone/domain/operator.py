"""The operator's fraud signals (PRODUCT.md §12.4): from the operator's answers to a verdict, with its reasons.

Pure rules: the services ask the operator (GSMA Open Gateway / CAMARA: SIM Swap, Call Forwarding Signal, KYC
Match, Number Recycling) and hand the answers in; an answer the operator did not give (an error, a timeout) is
named in ``unanswered``. The verdict says whether the online path stops (the customer goes to the advisor, J6)
and why, most decisive reason first; ``noted`` are the signals recorded without stopping anything (a missing
answer under the fail-open policy, a forwarding to warn an advisor about).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from secure_phone.domain.policy import DEFAULT_POLICY, Policy


class Check(str, Enum):
    """One question asked of the operator, about one number."""

    CURRENT_SIM_SWAP = "current_sim_swap"  # SIM Swap retrieve-date, the current secure number
    NEW_SIM_SWAP = "new_sim_swap"  # SIM Swap retrieve-date, the new number
    NEW_FORWARDING = "new_forwarding"  # Call Forwarding Signal, unconditional, the new number
    KYC_MATCH = "kyc_match"  # KYC Match, the customer's name against the new number's holder
    RECYCLING = "recycling"  # Number Recycling, the current secure number since it was confirmed
    FORWARDING = "forwarding"  # Call Forwarding Signal, unconditional, the number an advisor calls back


class Reason(str, Enum):
    """Why the operator's answers stop the online path, or what an advisor must be told; most decisive first."""

    CURRENT_SIM_SWAP = "current_sim_swap"
    RECYCLED = "recycled"
    NEW_SIM_SWAP = "new_sim_swap"
    NEW_FORWARDING = "new_forwarding"
    KYC_MISMATCH = "kyc_mismatch"
    FORWARDING = "forwarding"
    UNAVAILABLE = "unavailable"


ORDER: tuple[Reason, ...] = tuple(Reason)


@dataclass(frozen=True)
class Answers:
    """What the operator said. ``None`` for a SIM change: never changed (or not within what it keeps); for a
    forwarding or a match: not asked, or no answer (then its check is in ``unanswered``). ``kyc_name_match`` is
    None too when the operator has no name to compare (KYC Match's ``not_available``)."""

    current_sim_changed_at: datetime | None = None
    new_sim_changed_at: datetime | None = None
    new_forwarding: bool | None = None
    kyc_name_match: bool | None = None
    recycled: bool | None = None
    forwarding: bool | None = None
    unanswered: frozenset[Check] = frozenset()


@dataclass(frozen=True)
class Verdict:
    """``stopped``: the online path does not go on (to the advisor, with ``reasons``); ``noted``: recorded and
    shown, nothing stopped."""

    reasons: tuple[Reason, ...] = ()
    noted: tuple[Reason, ...] = ()

    @property
    def stopped(self) -> bool:
        return bool(self.reasons)

    @property
    def primary(self) -> Reason | None:
        return self.reasons[0] if self.reasons else None

    @property
    def signals(self) -> tuple[Reason, ...]:
        """Every reason and note, most decisive first (what the advisor's sheet shows)."""
        return _ordered({*self.reasons, *self.noted})


def _ordered(reasons: set[Reason]) -> tuple[Reason, ...]:
    return tuple(r for r in ORDER if r in reasons)


def recent_swap(changed_at: datetime | None, now: datetime, policy: Policy = DEFAULT_POLICY) -> bool:
    """The SIM was changed within ``policy.sim_swap_max_age`` of ``now`` (a change dated after ``now``, a clock
    ahead at the operator's, counts as recent)."""
    return changed_at is not None and now - changed_at <= policy.sim_swap_max_age


def _verdict(found: set[Reason], asked: frozenset[Check], unanswered: frozenset[Check], policy: Policy) -> Verdict:
    missing = unanswered & asked
    if missing and policy.operator_fail_closed:
        found.add(Reason.UNAVAILABLE)
        return Verdict(reasons=_ordered(found))
    return Verdict(reasons=_ordered(found), noted=(Reason.UNAVAILABLE,) if missing else ())


CHANGE_CHECKS = frozenset({Check.CURRENT_SIM_SWAP, Check.NEW_SIM_SWAP, Check.NEW_FORWARDING, Check.KYC_MATCH})


def assess_change(answers: Answers, now: datetime, policy: Policy = DEFAULT_POLICY) -> Verdict:
    """At a change of secure number (§12.4): the current number's SIM changed recently → no online change; the
    new number's SIM changed recently, an unconditional forwarding on it, or a name that is not the customer's
    → to the advisor; a missing answer → the advisor (fail closed) or noted (fail open). A signal the operator
    did give always counts, whatever the policy says of the missing ones."""
    found: set[Reason] = set()
    if recent_swap(answers.current_sim_changed_at, now, policy):
        found.add(Reason.CURRENT_SIM_SWAP)
    if recent_swap(answers.new_sim_changed_at, now, policy):
        found.add(Reason.NEW_SIM_SWAP)
    if answers.new_forwarding is True:
        found.add(Reason.NEW_FORWARDING)
    if answers.kyc_name_match is False:
        found.add(Reason.KYC_MISMATCH)
    return _verdict(found, CHANGE_CHECKS, answers.unanswered, policy)


def assess_activation(answers: Answers, now: datetime, policy: Policy = DEFAULT_POLICY) -> Verdict:
    """J4, Sécur'Pass on a new phone by an SMS code to the current number: that number's SIM changed recently
    (the code would go to whoever holds the new SIM) → no online activation, to the advisor."""
    found = {Reason.CURRENT_SIM_SWAP} if recent_swap(answers.current_sim_changed_at, now, policy) else set()
    return _verdict(found, frozenset({Check.CURRENT_SIM_SWAP}), answers.unanswered, policy)


def assess_recycling(answers: Answers, policy: Policy = DEFAULT_POLICY) -> Verdict:
    """J7 asks Number Recycling first: a number whose subscriber changed since the customer last confirmed it
    gets no SMS any more, and must be verified again with the advisor."""
    found = {Reason.RECYCLED} if answers.recycled is True else set()
    return _verdict(found, frozenset({Check.RECYCLING}), answers.unanswered, policy)


def assess_callback(answers: Answers) -> Verdict:
    """Before an advisor calls a customer back: a warning, never a stop (the advisor decides). An unconditional
    forwarding means the call reaches someone else's phone; no answer means it could not be checked."""
    noted = set()
    if answers.forwarding is True:
        noted.add(Reason.FORWARDING)
    if Check.FORWARDING in answers.unanswered:
        noted.add(Reason.UNAVAILABLE)
    return Verdict(noted=_ordered(noted))
