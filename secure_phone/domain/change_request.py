"""Life cycle of a secure-number change request: statuses and the legal transitions between them."""

from __future__ import annotations

from datetime import datetime
from enum import Enum


class Status(str, Enum):
    """Status of a change request."""

    PENDING_PROOF = "pending_proof"  # the code sent to the new number is awaited (§12.3)
    PENDING_APPROVAL = "pending_approval"
    APPLYING = "applying"  # approved, being written to MySys
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REFUSED = "refused"
    SUPERSEDED = "superseded"
    BLOCKED = "blocked"
    FAILED = "failed"


PENDING: frozenset[Status] = frozenset({Status.PENDING_PROOF, Status.PENDING_APPROVAL})
"""Statuses of a request that is still waiting (for the new number's code, for the phone or an advisor)."""

TERMINAL: frozenset[Status] = frozenset(Status) - PENDING - {Status.APPLYING}
"""Statuses a request never leaves."""


class Action(str, Enum):
    """What can happen to a change request."""

    PROVE = "prove"  # the new number's code was typed (§12.3)
    APPROVE = "approve"
    COMPLETE = "complete"
    CANCEL = "cancel"
    EXPIRE = "expire"
    REFUSE = "refuse"
    SUPERSEDE = "supersede"
    BLOCK = "block"
    FAIL = "fail"


class RefusalReason(str, Enum):
    """Why the customer refused the approval on the phone; NOT_ME raises a fraud alert."""

    NOT_ME = "not_me"
    CHANGED_MIND = "changed_mind"


class Channel(str, Enum):
    """Where a change was made."""

    WEB = "web"
    APP = "app"
    ADVISOR = "advisor"


_TRANSITIONS: dict[tuple[Status, Action], Status] = {
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


class IllegalTransition(Exception):
    """`action` is not allowed on a request in `status`."""

    def __init__(self, status: Status, action: Action) -> None:
        super().__init__(f"cannot {action.value} a request that is {status.value}")
        self.status = status
        self.action = action


def transition(status: Status, action: Action) -> Status:
    """The status after `action`, or IllegalTransition."""
    try:
        return _TRANSITIONS[(status, action)]
    except KeyError:
        raise IllegalTransition(status, action) from None


def effective_status(status: Status, expires_at: datetime, now: datetime) -> Status:
    """The status as it stands at `now`: a pending request is expired from `expires_at` on."""
    if status in PENDING and now >= expires_at:
        return Status.EXPIRED
    return status
