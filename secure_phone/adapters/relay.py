"""Announcements between processes, through PostgreSQL (``LISTEN``/``NOTIFY``; scale-out mode only).

The separate notification dispatcher has no Reflex app to refresh the customers' tabs with: what it changes
(a change finished after MySys came back, say) is relayed to the app's workers, which listen and refresh the
tabs they can reach. On SQLite (the embedded mode: one process) there is nothing to relay.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

import sqlalchemy

from secure_phone.adapters import db

logger = logging.getLogger(__name__)

CUSTOMER_CHANNEL = "secure_phone_customer"
"""PostgreSQL notification channel: a customer's screens must follow (the payload is the customer id), or a
demo inbox received a message (the payload is :data:`INBOX_PAYLOAD`)."""
INBOX_PAYLOAD = "inbox"


def _conninfo(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def relays(url: str) -> bool:
    return url.startswith("postgresql")


_NOTIFY = sqlalchemy.text("SELECT pg_notify(:channel, payload) FROM unnest(CAST(:payloads AS text[])) AS payload")


def _notify(url: str, payloads: list[str]) -> None:
    """One statement on a pooled connection, in autocommit (a connection made for each announcement cost the
    dispatcher a connection set-up and PostgreSQL a backend started and ended: docs/benchmarks.md)."""
    with db.get_engine(url).connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(_NOTIFY, {"channel": CUSTOMER_CHANNEL, "payloads": payloads})


def notify_customers(url: str, customer_ids: Iterable[int]) -> None:
    """Tell every listening app worker that these customers' screens must follow."""
    ids = sorted({int(i) for i in customer_ids})
    if ids and relays(url):
        _notify(url, [str(customer_id) for customer_id in ids])


def notify_inboxes(url: str) -> None:
    """Tell every listening app worker that a demo inbox received a message (demo mode)."""
    if relays(url):
        _notify(url, [INBOX_PAYLOAD])


def listen_for_customers(url: str, callback: Callable[[int], None], stop: threading.Event,
                         timeout: float = 1.0, on_inbox: Callable[[], None] | None = None) -> None:
    """Call ``callback(customer_id)`` for every relayed announcement (and ``on_inbox()`` for every relayed
    demo inbox arrival) until ``stop`` is set (blocking: for a thread of its own). A lost connection is
    retried; an announcement missed meanwhile only delays a refresh (the tab's next event reads the database
    anyway)."""
    import psycopg

    while not stop.is_set():
        try:
            with psycopg.connect(_conninfo(url), autocommit=True) as conn:
                conn.execute(f"LISTEN {CUSTOMER_CHANNEL}")
                while not stop.is_set():
                    for note in conn.notifies(timeout=timeout, stop_after=1):
                        if note.payload.isdigit():
                            callback(int(note.payload))
                        elif note.payload == INBOX_PAYLOAD and on_inbox is not None:
                            on_inbox()
        except psycopg.Error as exc:
            logger.warning("customer relay listener: %s; retrying", type(exc).__name__)
            stop.wait(timeout)
