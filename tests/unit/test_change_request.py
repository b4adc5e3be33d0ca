"""The change request state machine: every (status, action) pair, and lazy expiry."""

from datetime import UTC, datetime, timedelta

import pytest

from secure_phone.domain.change_request import (
    TERMINAL,
    Action,
    Channel,
    IllegalTransition,
    RefusalReason,
    Status,
    effective_status,
    transition,
)

LEGAL: dict[tuple[Status, Action], Status] = {
    # §12.3: the new number's code, then the phone. Waiting for the code, nothing can approve, refuse or block.
    (Status.PENDING_PROOF, Action.PROVE): Status.PENDING_APPROVAL,
    (Status.PENDING_PROOF, Action.CANCEL): Status.CANCELLED,
    (Status.PENDING_PROOF, Action.EXPIRE): Status.EXPIRED,
    (Status.PENDING_PROOF, Action.SUPERSEDE): Status.SUPERSEDED,
    (Status.PENDING_PROOF, Action.FAIL): Status.FAILED,
    (Status.PENDING_APPROVAL, Action.APPROVE): Status.APPLYING,
    (Status.PENDING_APPROVAL, Action.CANCEL): Status.CANCELLED,
    (Status.PENDING_APPROVAL, Action.EXPIRE): Status.EXPIRED,
    (Status.PENDING_APPROVAL, Action.REFUSE): Status.REFUSED,
    (Status.PENDING_APPROVAL, Action.SUPERSEDE): Status.SUPERSEDED,
    (Status.PENDING_APPROVAL, Action.BLOCK): Status.BLOCKED,
    (Status.PENDING_APPROVAL, Action.FAIL): Status.FAILED,
    (Status.APPLYING, Action.COMPLETE): Status.COMPLETED,
    (Status.APPLYING, Action.FAIL): Status.FAILED,
}
ALL_PAIRS = [(status, action) for status in Status for action in Action]
ILLEGAL = [pair for pair in ALL_PAIRS if pair not in LEGAL]


@pytest.mark.parametrize(("status", "action"), list(LEGAL))
def test_legal_transitions(status: Status, action: Action) -> None:
    assert transition(status, action) is LEGAL[(status, action)]


@pytest.mark.parametrize(("status", "action"), ILLEGAL)
def test_illegal_transitions(status: Status, action: Action) -> None:
    with pytest.raises(IllegalTransition) as info:
        transition(status, action)
    assert info.value.status is status
    assert info.value.action is action
    assert status.value in str(info.value) and action.value in str(info.value)


def test_the_table_covers_every_pair() -> None:
    assert len(ALL_PAIRS) == len(Status) * len(Action) == len(LEGAL) + len(ILLEGAL)


def test_terminal_statuses() -> None:
    assert {
        Status.COMPLETED, Status.CANCELLED, Status.EXPIRED, Status.REFUSED,
        Status.SUPERSEDED, Status.BLOCKED, Status.FAILED,
    } == TERMINAL


@pytest.mark.parametrize("status", sorted(TERMINAL))
def test_nothing_leaves_a_terminal_status(status: Status) -> None:
    for action in Action:
        with pytest.raises(IllegalTransition):
            transition(status, action)


def test_an_approved_request_can_no_longer_be_cancelled_or_superseded() -> None:
    for action in (Action.CANCEL, Action.SUPERSEDE, Action.REFUSE, Action.EXPIRE, Action.APPROVE):
        with pytest.raises(IllegalTransition):
            transition(Status.APPLYING, action)


EXPIRES = datetime(2026, 11, 26, 15, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (EXPIRES - timedelta(minutes=5), Status.PENDING_APPROVAL),
        (EXPIRES - timedelta(microseconds=1), Status.PENDING_APPROVAL),
        (EXPIRES, Status.EXPIRED),
        (EXPIRES + timedelta(hours=1), Status.EXPIRED),
    ],
)
def test_a_pending_request_expires_lazily(now: datetime, expected: Status) -> None:
    assert effective_status(Status.PENDING_APPROVAL, EXPIRES, now) is expected
    proof = Status.PENDING_PROOF if expected is Status.PENDING_APPROVAL else expected
    assert effective_status(Status.PENDING_PROOF, EXPIRES, now) is proof  # waiting for the code: the same


@pytest.mark.parametrize("status", [s for s in Status if s not in (Status.PENDING_APPROVAL, Status.PENDING_PROOF)])
def test_only_pending_requests_expire(status: Status) -> None:
    assert effective_status(status, EXPIRES, EXPIRES + timedelta(days=1)) is status


def test_enum_values() -> None:
    for enum in (Status, Action):
        for member in enum:
            assert member.value == member.name.lower()
    assert [r.value for r in RefusalReason] == ["not_me", "changed_mind"]
    assert [c.value for c in Channel] == ["web", "app", "advisor"]
