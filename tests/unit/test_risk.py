"""« Point de vigilance »: each rule, the window edge, the order of severity, no repeats (spec §8)."""

from __future__ import annotations

import json
from dataclasses import FrozenInstanceError
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from secure_phone.domain.policy import DEFAULT_POLICY
from secure_phone.domain.risk import (
    CHECKS,
    RISK_WINDOW,
    SEVERITY,
    SIGNAL_LABELS,
    Event,
    RiskSignal,
    checks_for,
    requires_second_advisor,
    risk_signals,
)

NOW = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)
S = RiskSignal


def ev(action: str, outcome: str = "ok", ago: timedelta = timedelta(hours=1), **details: object) -> Event:
    return Event(at=NOW - ago, action=action, outcome=outcome, details=details)


def signals(*events: Event, cooling_off_until: datetime | None = None, securpass_moved_at: datetime | None = None,
            securpass_blocked: bool = False, **kwargs: object) -> list[RiskSignal]:
    return risk_signals(events, now=NOW, cooling_off_until=cooling_off_until, securpass_moved_at=securpass_moved_at,
                        securpass_blocked=securpass_blocked, **kwargs)  # type: ignore[arg-type]


# --- nothing to report ------------------------------------------------------------------------


def test_a_quiet_customer_has_no_signal() -> None:
    assert signals() == []
    assert signals(ev("login"), ev("number_entered", "ok", number="07 •• •• •• 32"), ev("change_requested"),
                   ev("approval", "ok", rejection=None), ev("change_cancelled"), ev("demo_phone_picked"),
                   ev("refusal", "ok", reason="cancel"), ev("change_completed", "failed", reason="number_taken"),
                   ev("number_confirmed"), ev("contact_requested", reason="changed_phone")) == []


# --- each rule --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        # "Ce n'est pas moi" on the phone, and the fraud alert it raises.
        (ev("refusal", "ok", reason="not_me"), S.NOT_ME),
        (ev("fraud_alert", "raised", signal="not_me"), S.NOT_ME),
        # « Signaler cet appel » in the app (§12.5): during a bank call, or claiming to be the bank without one.
        (ev("call_reported", "raised", during_call=True, call="c1"), S.CALL_REPORTED),
        (ev("call_reported", "raised", during_call=False), S.CALL_REPORTED),
        # Sécur'Pass blocked by the third wrong code, or an approval refused because it is blocked.
        (ev("securpass_blocked", "ok"), S.SECURPASS_BLOCKED),
        (ev("approval", "refused", rejection="securpass_blocked"), S.SECURPASS_BLOCKED),
        # Failed approvals: wrong code, forged signature, another device, replayed nonce.
        (ev("approval", "refused", rejection="wrong_code", tries_left=2), S.SECURPASS_FAILED),
        (ev("approval", "refused", rejection="bad_signature"), S.SECURPASS_FAILED),
        (ev("approval", "refused", rejection="wrong_device"), S.SECURPASS_FAILED),
        (ev("approval", "refused", rejection="nonce_reused"), S.SECURPASS_FAILED),
        (ev("refusal", "refused", rejection="bad_signature"), S.SECURPASS_FAILED),
        (ev("refusal", "refused", rejection="wrong_device"), S.SECURPASS_FAILED),
        # Someone tried to register a number that is another customer's secure number.
        (ev("number_entered", "refused", problem="number.unavailable", risk_signal="number_shared"),
         S.NUMBER_SHARED),
        # « Ce n'est plus mon numéro », and the contact request that follows it.
        (ev("not_my_number", "ok"), S.NOT_MY_NUMBER),
        (ev("contact_requested", "ok", reason="not_my_number", contact="c1"), S.NOT_MY_NUMBER),
        # Sécur'Pass (re)activated on a phone.
        (ev("securpass_activated", "ok", device="d1", revoked=["d0"], moved=True), S.NEW_DEVICE),
        (ev("securpass_activated", "ok", device="d1", revoked=[], moved=False), S.NEW_DEVICE),
        # A completed change of the secure number.
        (ev("change_completed", "ok", number="07 •• •• •• 32", channel_of_request="web"), S.RECENT_CHANGE),
    ],
    ids=lambda value: value.action if isinstance(value, Event) else value.value,
)
def test_each_event_rule(event: Event, expected: RiskSignal) -> None:
    assert signals(event) == [expected]


@pytest.mark.parametrize(
    "event",
    [
        ev("refusal", "ok", reason="cancel"),  # the customer cancelled: not a "not me"
        ev("refusal", "refused", reason="not_me", rejection="expired"),  # "not me" never accepted
        ev("approval", "refused", rejection="expired"),
        ev("approval", "refused", rejection="superseded"),
        ev("approval", "refused", rejection="not_pending"),
        ev("approval", "refused", rejection="not_found"),
        ev("approval", "refused", rejection="number_changed"),
        ev("approval", "refused", rejection="not_eligible"),
        ev("approval", "ok", rejection=None),
        ev("number_entered", "refused", problem="number.landline", risk_signal=None),
        ev("number_entered", "refused", problem="number.same"),
        ev("securpass_activated", "refused"),
        ev("activation", "refused", problem="code.wrong"),
        ev("change_completed", "failed", reason="number_taken"),
        ev("change_requested", "rate_limited"),
        ev("contact_requested", "ok", reason="securpass_blocked"),  # the flag says whether it still is
        ev("login", "refused"),
    ],
    ids=lambda e: f"{e.action}-{e.outcome}-{'-'.join(str(v) for v in e.details.values())}",
)
def test_events_that_are_not_signals(event: Event) -> None:
    assert signals(event) == []


def test_blocked_securpass_flag_counts_without_any_event() -> None:
    assert signals(securpass_blocked=True) == [S.SECURPASS_BLOCKED]
    # However long ago it was blocked.
    assert signals(ev("securpass_blocked", ago=timedelta(days=400)), securpass_blocked=True) == [S.SECURPASS_BLOCKED]


def test_securpass_moved_within_the_window_is_a_new_device() -> None:
    assert signals(securpass_moved_at=NOW - timedelta(days=3)) == [S.NEW_DEVICE]
    assert signals(securpass_moved_at=NOW - RISK_WINDOW) == [S.NEW_DEVICE]  # the edge is included
    assert signals(securpass_moved_at=NOW - RISK_WINDOW - timedelta(seconds=1)) == []


def test_cooling_off_still_running_is_a_recent_change() -> None:
    assert signals(cooling_off_until=NOW + timedelta(hours=71)) == [S.RECENT_CHANGE]
    assert signals(cooling_off_until=NOW + timedelta(seconds=1)) == [S.RECENT_CHANGE]
    assert signals(cooling_off_until=NOW) == []  # over at that very moment
    assert signals(cooling_off_until=NOW - timedelta(days=1)) == []


# --- the window -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "action, outcome, details",
    [
        ("fraud_alert", "raised", {"signal": "not_me"}),
        ("approval", "refused", {"rejection": "wrong_code"}),
        ("securpass_blocked", "ok", {}),
        ("number_entered", "refused", {"risk_signal": "number_shared"}),
        ("not_my_number", "ok", {}),
        ("securpass_activated", "ok", {"moved": True}),
        ("change_completed", "ok", {}),
    ],
)
def test_window_edge(action: str, outcome: str, details: dict) -> None:
    at_edge = Event(NOW - RISK_WINDOW, action, outcome, details)
    just_before = Event(NOW - RISK_WINDOW - timedelta(microseconds=1), action, outcome, details)
    assert len(signals(at_edge)) == 1
    assert signals(just_before) == []


def test_a_custom_window() -> None:
    old = ev("fraud_alert", "raised", ago=timedelta(days=10))
    assert signals(old) == [S.NOT_ME]
    assert signals(old, window=timedelta(days=7)) == []
    assert signals(old, window=timedelta(days=10)) == [S.NOT_ME]
    with pytest.raises(ValueError):
        signals(old, window=timedelta(0))


def test_the_default_window_is_30_days_and_the_default_policy_is_accepted() -> None:
    assert timedelta(days=30) == RISK_WINDOW
    event = ev("change_completed", ago=timedelta(days=29, hours=23))
    assert signals(event, policy=DEFAULT_POLICY) == [S.RECENT_CHANGE]
    assert signals(ev("change_completed", ago=timedelta(days=31))) == []


def test_a_policy_risk_window_is_honoured_when_present() -> None:
    class WithWindow:
        risk_window = timedelta(days=2)

    event = ev("not_my_number", ago=timedelta(days=3))
    assert signals(event) == [S.NOT_MY_NUMBER]
    assert signals(event, policy=WithWindow()) == []
    assert signals(event, policy=WithWindow(), window=timedelta(days=5)) == [S.NOT_MY_NUMBER]  # explicit wins


def test_events_after_now_count_as_recent() -> None:
    """Two servers' clocks: an event stamped a second after ``now`` is recent, not ignored."""
    assert signals(Event(NOW + timedelta(seconds=1), "fraud_alert", "raised", {})) == [S.NOT_ME]


def test_time_zones_and_naive_utc_are_compared_as_instants() -> None:
    paris = ZoneInfo("Europe/Paris")
    edge_in_paris = (NOW - RISK_WINDOW).astimezone(paris)
    assert signals(Event(edge_in_paris, "not_my_number", "ok", {})) == [S.NOT_MY_NUMBER]
    naive_edge = (NOW - RISK_WINDOW).replace(tzinfo=None)  # as SQLite hands them back without the decorator
    assert signals(Event(naive_edge, "not_my_number", "ok", {})) == [S.NOT_MY_NUMBER]
    assert signals(Event(naive_edge - timedelta(seconds=1), "not_my_number", "ok", {})) == []
    assert risk_signals([], now=NOW.astimezone(paris), cooling_off_until=(NOW + timedelta(minutes=1)).replace(
        tzinfo=None), securpass_moved_at=None, securpass_blocked=False) == [S.RECENT_CHANGE]


# --- ordering and repeats -----------------------------------------------------------------------


def test_all_signals_are_ordered_by_severity() -> None:
    events = [  # deliberately in the reverse order
        ev("change_completed", ago=timedelta(days=1)),
        ev("securpass_activated", moved=True),
        ev("not_my_number"),
        ev("number_entered", "refused", risk_signal="number_shared"),
        ev("approval", "refused", rejection="wrong_code"),
        ev("securpass_blocked"),
        ev("securpass_move", "refused", problem="recent_number_change"),
        ev("call_reported", "raised", during_call=False),
        ev("refusal", "ok", reason="not_me"),
        ev("operator_check", "stopped", purpose="change"),
    ]
    expected = [S.NOT_ME, S.CALL_REPORTED, S.SECURPASS_MOVE_REFUSED, S.OPERATOR_SIGNAL, S.SECURPASS_BLOCKED,
                S.SECURPASS_FAILED,
                S.NUMBER_SHARED, S.NOT_MY_NUMBER, S.NEW_DEVICE, S.RECENT_CHANGE]
    assert signals(*events) == expected
    assert signals(*reversed(events)) == expected
    assert list(SEVERITY) == expected
    assert set(SEVERITY) == set(RiskSignal)


def test_each_signal_at_most_once() -> None:
    events = [
        ev("approval", "refused", rejection="wrong_code", tries_left=2),
        ev("approval", "refused", rejection="wrong_code", tries_left=1),
        ev("approval", "refused", rejection="wrong_code", tries_left=0),
        ev("securpass_blocked"),
        ev("approval", "refused", rejection="securpass_blocked"),
        ev("refusal", "ok", reason="not_me"),
        ev("fraud_alert", "raised", signal="not_me"),
        ev("securpass_activated"),
        ev("change_completed"),
    ]
    result = signals(*events, securpass_blocked=True, securpass_moved_at=NOW - timedelta(hours=2),
                     cooling_off_until=NOW + timedelta(hours=70))
    assert result == [S.NOT_ME, S.SECURPASS_BLOCKED, S.SECURPASS_FAILED, S.NEW_DEVICE, S.RECENT_CHANGE]
    assert len(result) == len(set(result))


def test_a_one_shot_iterator_is_enough() -> None:
    assert signals(*iter([ev("fraud_alert", "raised")])) == [S.NOT_ME]
    assert risk_signals((e for e in [ev("not_my_number")]), now=NOW, cooling_off_until=None, securpass_moved_at=None,
                        securpass_blocked=False) == [S.NOT_MY_NUMBER]


# --- second advisor, checks ---------------------------------------------------------------------


def test_a_second_advisor_is_required_when_any_signal_is_present() -> None:
    assert requires_second_advisor([]) is False
    assert requires_second_advisor(iter([])) is False
    for signal in RiskSignal:
        assert requires_second_advisor([signal]) is True
    assert requires_second_advisor(iter([S.RECENT_CHANGE])) is True


def test_every_signal_has_checks_and_a_label() -> None:
    assert set(CHECKS) == set(RiskSignal) == set(SIGNAL_LABELS)
    for signal, keys in CHECKS.items():
        assert keys, signal
        assert keys[0] == "risk.check.identity_in_branch"  # always in the branch, with a document
        assert len(keys) == len(set(keys))
        assert all(key.startswith("risk.check.") for key in keys)
        assert SIGNAL_LABELS[signal] == f"risk.signal.{signal.value}"
    assert "risk.check.never_by_phone" in CHECKS[S.NOT_ME]
    assert "risk.check.no_code_by_phone" in CHECKS[S.SECURPASS_FAILED]
    assert "risk.check.device_change_reason" in CHECKS[S.NEW_DEVICE]
    # A customer who says the number is no longer theirs must not be called back on it.
    assert "risk.check.call_back_known_number" not in CHECKS[S.NOT_MY_NUMBER]


def test_checks_for_several_signals_come_once_in_severity_order() -> None:
    keys = checks_for([S.NOT_ME, S.NEW_DEVICE])
    assert keys == ("risk.check.identity_in_branch", "risk.check.never_by_phone",
                    "risk.check.call_back_known_number", "risk.check.no_code_by_phone",
                    "risk.check.password_reset", "risk.check.device_change_reason")
    assert checks_for([]) == ()
    assert set(checks_for(RiskSignal)) == {key for keys in CHECKS.values() for key in keys}


# --- the Event value ----------------------------------------------------------------------------


def test_event_from_the_stored_json_details() -> None:
    stored = json.dumps({"reason": "not_me"}, sort_keys=True)
    event = Event.of(NOW, "refusal", "ok", stored)
    assert event.details == {"reason": "not_me"}
    assert signals(event) == [S.NOT_ME]
    assert Event.of(NOW, "not_my_number", "ok", "").details == {}
    assert Event.of(NOW, "not_my_number", "ok", None).details == {}
    assert Event.of(NOW, "not_my_number", "ok", "{broken").details == {}
    assert Event.of(NOW, "not_my_number", "ok", "[1, 2]").details == {}
    assert Event.of(NOW, "refusal", "ok", {"reason": "not_me"}) == event


def test_events_are_immutable() -> None:
    source = {"reason": "not_me"}
    event = Event(NOW, "refusal", "ok", source)
    source["reason"] = "cancel"  # the caller's dict changing afterwards does not change the event
    assert event.details["reason"] == "not_me"
    with pytest.raises(FrozenInstanceError):
        event.action = "login"  # type: ignore[misc]
    with pytest.raises(TypeError):
        event.details["reason"] = "cancel"  # type: ignore[index]
    assert hash(event) == hash(Event(NOW, "refusal", "ok", {"reason": "not_me"}))


def test_a_number_claimed_by_another_customer_and_a_refused_move_are_signals() -> None:
    assert signals(ev("number_claimed_by_other", "refused", risk_signal="number_shared")) == [S.NUMBER_SHARED]
    assert signals(ev("advisor_change", "refused", risk_signal="number_shared")) == [S.NUMBER_SHARED]
    assert signals(ev("securpass_move", "refused", problem="recent_number_change")) == [S.SECURPASS_MOVE_REFUSED]
    # A move refused for another reason (frozen, blocked) is already told by that reason's own signal —
    # unless it also came right after a change of number.
    assert signals(ev("securpass_move", "refused", problem="frozen")) == []
    assert signals(ev("securpass_move", "refused", problem="frozen", after_change=True)) == [
        S.SECURPASS_MOVE_REFUSED]
