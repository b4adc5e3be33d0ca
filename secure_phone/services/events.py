"""What the services announce once a change is committed (collected by the unit of work, published after it).

The services do not know who listens. The app installs one subscriber at start
(:func:`secure_phone.ui.runtime.install`) that refreshes the customer's open tabs and wakes the notification
dispatcher; a process without it (the separate dispatcher of the scale-out mode) has its announcements
relayed to the app's workers through PostgreSQL (``NOTIFY``, see :mod:`secure_phone.adapters.relay`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CustomerChanged:
    """Something a customer's screens show changed (a request, a session, a freeze, the number…)."""

    customer_id: int


@dataclass(frozen=True)
class OutboxHasWork:
    """A notification was queued: the dispatcher may deliver it now rather than at its next poll."""


@dataclass(frozen=True)
class AuditRecorded:
    """An audit entry about a customer was committed: what the demo's « behind the scenes » pane follows."""

    customer_id: int


@dataclass(frozen=True)
class InboxChanged:
    """A demo inbox received a message (demo mode): the open inbox pages must follow."""


@dataclass(frozen=True)
class ChangeWaiting:
    """An approved change is left waiting for MySys (it failed to answer): the repair may retry it soon."""


Event = CustomerChanged | OutboxHasWork | AuditRecorded | InboxChanged | ChangeWaiting
Subscriber = Callable[[list[Event]], None]

_SUBSCRIBERS: list[Subscriber] = []


def subscribe(subscriber: Subscriber) -> None:
    """Hear every announcement of this process (idempotent)."""
    if subscriber not in _SUBSCRIBERS:
        _SUBSCRIBERS.append(subscriber)


def unsubscribe(subscriber: Subscriber) -> None:
    if subscriber in _SUBSCRIBERS:
        _SUBSCRIBERS.remove(subscriber)


def listened() -> bool:
    """True when this process has a subscriber (the app does; the separate dispatcher does not)."""
    return bool(_SUBSCRIBERS)


def publish(events: Iterable[Event]) -> None:
    """Hand committed announcements to the subscribers, once each; a failing subscriber stops nobody."""
    unique = list(dict.fromkeys(events))
    if not unique:
        return
    for subscriber in list(_SUBSCRIBERS):
        try:
            subscriber(unique)
        except Exception:  # noqa: BLE001  (a listener's failure must not undo or hide a committed change)
            log.exception("event subscriber failed")


# --- between processes (scale-out) ----------------------------------------------------------------


def relay_to_other_processes(url: str) -> None:
    """In a process without the app (the separate dispatcher): relay the customers' announcements to the app's
    workers through the database (PostgreSQL only; nothing to do on SQLite, one process)."""
    from secure_phone.adapters import relay

    if not relay.relays(url):
        return

    def relay_customers(published: list[Event]) -> None:
        relay.notify_customers(url, [e.customer_id for e in published if isinstance(e, CustomerChanged)])
        if any(isinstance(e, InboxChanged) for e in published):
            relay.notify_inboxes(url)

    subscribe(relay_customers)


def listen_to_other_processes(url: str, callback: Callable[[int], None], stop: threading.Event,
                              on_inbox: Callable[[], None] | None = None) -> None:
    """In an app worker: call ``callback(customer_id)`` (and ``on_inbox()`` for a demo inbox's new message) for
    what other processes relay (blocking; PostgreSQL only, returns at once otherwise)."""
    from secure_phone.adapters import relay

    if relay.relays(url):
        relay.listen_for_customers(url, callback, stop, on_inbox=on_inbox)
