"""« Point de vigilance »: the risk signals an advisor must see on a customer sheet (spec §8).

Pure rules over the customer's recent audit events and a few facts of the customer record: no
database, no UI. The services hand in :class:`Event` values built from the audit trail
(:meth:`Event.of` accepts the JSON ``details`` column as stored) and render the result through the
i18n keys of :data:`SIGNAL_LABELS` and :data:`CHECKS`.

Action, outcome and detail names are the ones the services write (``services/change.py``,
``activation.py``, ``contact.py``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from types import MappingProxyType

from secure_phone.domain.policy import DEFAULT_POLICY, Policy

RISK_WINDOW = timedelta(days=30)
"""How far back events count as "recent" for the warning (a ``Policy.risk_window``, if one is ever
added, takes precedence)."""


class RiskSignal(str, Enum):
    """A reason for the advisor to be careful, most severe first (see :data:`SEVERITY`)."""

    SECURPASS_FAILED = "securpass_failed"
    SECURPASS_BLOCKED = "securpass_blocked"
    NOT_ME = "not_me"
    RECENT_CHANGE = "recent_change"
    NEW_DEVICE = "new_device"
    NUMBER_SHARED = "number_shared"
    NOT_MY_NUMBER = "not_my_number"
    SECURPASS_MOVE_REFUSED = "securpass_move_refused"
    CALL_REPORTED = "call_reported"  # §12.5: the customer reported a call claiming to be the bank
    OPERATOR_SIGNAL = "operator_signal"  # the mobile operator reported a SIM change, a forwarding… (§12.4)


SEVERITY: tuple[RiskSignal, ...] = (
    RiskSignal.NOT_ME,
    RiskSignal.CALL_REPORTED,
    RiskSignal.SECURPASS_MOVE_REFUSED,
    RiskSignal.OPERATOR_SIGNAL,
    RiskSignal.SECURPASS_BLOCKED,
    RiskSignal.SECURPASS_FAILED,
    RiskSignal.NUMBER_SHARED,
    RiskSignal.NOT_MY_NUMBER,
    RiskSignal.NEW_DEVICE,
    RiskSignal.RECENT_CHANGE,
)
"""Every signal, most severe first: the order of :func:`risk_signals`' result."""

SECURPASS_FAILURES = frozenset({"wrong_code", "bad_signature", "wrong_device", "nonce_reused"})
"""Approval rejections that mean a wrong code or a wrong/forged device (not an expired request)."""


def _frozen(details: Mapping[str, object] | None) -> Mapping[str, object]:
    return MappingProxyType(dict(details or {}))


@dataclass(frozen=True)
class Event:
    """One audit entry of the customer, as the rules need it."""

    at: datetime
    action: str
    outcome: str
    details: Mapping[str, object] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "details", _frozen(self.details))

    @classmethod
    def of(cls, at: datetime, action: str, outcome: str, details: str | Mapping[str, object] | None) -> Event:
        """Build an event from an audit row's fields (``details`` as the stored JSON text or a mapping).

        Unreadable JSON gives empty details: the event still counts by its action and outcome.
        """
        if isinstance(details, str):
            try:
                parsed = json.loads(details) if details else {}
            except ValueError:
                parsed = {}
            details = parsed if isinstance(parsed, dict) else {}
        return cls(at=at, action=action, outcome=outcome, details=details or {})


def _utc(moment: datetime) -> datetime:
    """Naive datetimes are UTC (how the database keeps them)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _event_signals(event: Event) -> set[RiskSignal]:
    action, outcome, details = event.action, event.outcome, event.details
    found: set[RiskSignal] = set()
    if (action == "refusal" and outcome == "ok" and details.get("reason") == "not_me") or action == "fraud_alert":
        found.add(RiskSignal.NOT_ME)
    if action == "securpass_blocked" or (
        action == "approval" and outcome == "refused" and details.get("rejection") == "securpass_blocked"
    ):
        found.add(RiskSignal.SECURPASS_BLOCKED)
    if action in ("approval", "refusal") and outcome == "refused" and details.get("rejection") in SECURPASS_FAILURES:
        # A refusal ("Ce n'est pas moi" / "Annuler") sent with a bad signature or from another
        # device is a failed Sécur'Pass too.
        found.add(RiskSignal.SECURPASS_FAILED)
    if action in ("number_entered", "advisor_change") and outcome == "refused" \
            and details.get("risk_signal") == "number_shared":
        found.add(RiskSignal.NUMBER_SHARED)
    if action == "number_claimed_by_other":  # another customer typed this customer's (current or recent) number
        found.add(RiskSignal.NUMBER_SHARED)
    if action == "securpass_move" and outcome == "refused" and (
            details.get("problem") == "recent_number_change" or details.get("after_change")):
        found.add(RiskSignal.SECURPASS_MOVE_REFUSED)
    if action == "not_my_number" or (action == "contact_requested" and details.get("reason") == "not_my_number"):
        found.add(RiskSignal.NOT_MY_NUMBER)
    if action == "call_reported":  # « Signaler cet appel » in the app (§12.5), during a bank call or not
        found.add(RiskSignal.CALL_REPORTED)
    if action == "operator_check" and outcome == "stopped" and details.get("purpose") != "callback":
        found.add(RiskSignal.OPERATOR_SIGNAL)  # the operator's answers stopped an online change, move or J7
    if action == "securpass_activated" and outcome == "ok":
        found.add(RiskSignal.NEW_DEVICE)
    if action == "change_completed" and outcome == "ok":
        found.add(RiskSignal.RECENT_CHANGE)
    return found


def risk_signals(
    events: Iterable[Event],
    *,
    now: datetime,
    cooling_off_until: datetime | None,
    securpass_moved_at: datetime | None,
    securpass_blocked: bool,
    policy: Policy = DEFAULT_POLICY,
    window: timedelta | None = None,
) -> list[RiskSignal]:
    """The customer's risk signals, most severe first, each at most once.

    Only events at or after ``now - window`` count (the edge itself included); events dated after
    ``now`` (clocks of two servers) count as recent. ``window`` defaults to ``policy.risk_window``
    when the policy has one, else :data:`RISK_WINDOW`. The current state counts whatever the
    window: a blocked Sécur'Pass, a cooling-off still running.
    """
    window = window if window is not None else getattr(policy, "risk_window", RISK_WINDOW)
    if window <= timedelta(0):
        raise ValueError("the risk window must be positive")
    now = _utc(now)
    since = now - window
    found: set[RiskSignal] = set()
    for event in events:
        if _utc(event.at) >= since:
            found |= _event_signals(event)
    if securpass_blocked:
        found.add(RiskSignal.SECURPASS_BLOCKED)
    if securpass_moved_at is not None and _utc(securpass_moved_at) >= since:
        found.add(RiskSignal.NEW_DEVICE)
    if cooling_off_until is not None and _utc(cooling_off_until) > now:
        found.add(RiskSignal.RECENT_CHANGE)
    return [signal for signal in SEVERITY if signal in found]


def requires_second_advisor(signals: Iterable[RiskSignal]) -> bool:
    """An advisor change needs a second advisor's validation when any risk signal is present (§8)."""
    return any(True for _ in signals)


SIGNAL_LABELS: dict[RiskSignal, str] = {signal: f"risk.signal.{signal.value}" for signal in RiskSignal}
"""The i18n key of each signal's label on the warning."""

CHECKS: dict[RiskSignal, tuple[str, ...]] = {
    RiskSignal.NOT_ME: (
        "risk.check.identity_in_branch",
        "risk.check.never_by_phone",
        "risk.check.call_back_known_number",
        "risk.check.no_code_by_phone",
        "risk.check.password_reset",
    ),
    RiskSignal.CALL_REPORTED: (
        "risk.check.identity_in_branch",
        "risk.check.call_reported_call_back",
        "risk.check.no_code_by_phone",
        "risk.check.call_reported_operations",
        "risk.check.never_by_phone",
    ),
    RiskSignal.SECURPASS_BLOCKED: (
        "risk.check.identity_in_branch",
        "risk.check.no_code_by_phone",
        "risk.check.call_back_known_number",
    ),
    RiskSignal.SECURPASS_FAILED: (
        "risk.check.identity_in_branch",
        "risk.check.no_code_by_phone",
        "risk.check.call_back_known_number",
    ),
    RiskSignal.NUMBER_SHARED: (
        "risk.check.identity_in_branch",
        "risk.check.number_holder",
    ),
    RiskSignal.NOT_MY_NUMBER: (
        "risk.check.identity_in_branch",
        "risk.check.never_by_phone",
        "risk.check.lost_number_reason",
    ),
    RiskSignal.SECURPASS_MOVE_REFUSED: (
        "risk.check.identity_in_branch",
        "risk.check.never_by_phone",
        "risk.check.call_back_known_number",
        "risk.check.recent_change_confirmed",
    ),
    RiskSignal.OPERATOR_SIGNAL: (
        "risk.check.identity_in_branch",
        "risk.check.never_by_phone",
        "risk.check.operator_answer",
    ),
    RiskSignal.NEW_DEVICE: (
        "risk.check.identity_in_branch",
        "risk.check.never_by_phone",
        "risk.check.device_change_reason",
    ),
    RiskSignal.RECENT_CHANGE: (
        "risk.check.identity_in_branch",
        "risk.check.never_by_phone",
        "risk.check.recent_change_confirmed",
    ),
}
"""What an advisor must check for each signal (i18n keys)."""


def checks_for(signals: Iterable[RiskSignal]) -> tuple[str, ...]:
    """The checks of all the signals, without repeats, in the order of the signals then of each list."""
    seen: dict[str, None] = {}
    for signal in signals:
        for key in CHECKS[signal]:
            seen.setdefault(key, None)
    return tuple(seen)
