"""Announcements between processes through PostgreSQL's LISTEN/NOTIFY (scale-out: the separate dispatcher tells
the app's workers whose screens must follow); nothing to relay on SQLite."""

from __future__ import annotations

import threading
import time

from secure_phone.adapters import db, relay


def test_customers_and_inboxes_announced_reach_a_listener_each_once(pg_server_url: str) -> None:
    customers: list[int] = []
    inboxes: list[int] = []
    stop = threading.Event()
    listener = threading.Thread(target=relay.listen_for_customers, daemon=True,
                                args=(pg_server_url, customers.append, stop, 0.1, lambda: inboxes.append(1)))
    listener.start()
    try:
        deadline = time.monotonic() + 10
        while not customers and time.monotonic() < deadline:  # until the listener is subscribed
            relay.notify_customers(pg_server_url, [999])
            time.sleep(0.1)
        assert customers, "the listener never heard an announcement"
        time.sleep(0.3)
        customers.clear()

        relay.notify_customers(pg_server_url, [3, 1, 3])  # one announcement per customer, however often named
        relay.notify_inboxes(pg_server_url)
        relay.notify_customers(pg_server_url, [])  # nothing to say: no statement
        deadline = time.monotonic() + 5
        while (len(customers) < 2 or not inboxes) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)
        assert sorted(customers) == [1, 3] and inboxes == [1]
    finally:
        stop.set()
        listener.join(timeout=5)


def test_nothing_is_relayed_on_sqlite(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'r.db'}"
    assert not relay.relays(url)
    relay.notify_customers(url, [1])  # no PostgreSQL to tell, and no error
    relay.notify_inboxes(url)
    assert url not in db._ENGINES  # not even an engine made for it
