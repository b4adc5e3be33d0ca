"""The transactional outbox, the gateways and the dispatcher on a real database.

Time is passed explicitly (``now``): nothing here sleeps to wait for a backoff or a lease. The tests run
in demo mode (the demo gateways write into the demo inboxes, where deliveries are read), with a known
server secret (the outbox's seals are keyed by it), unless a test says otherwise.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from sqlmodel import select

from secure_phone.adapters import db
from secure_phone.adapters.models import Agency, Customer, DemoMessage, Outbox
from secure_phone.adapters.notifications import (
    REDACTED,
    Channel,
    DemoGateway,
    Dispatcher,
    Gateway,
    GatewayError,
    LogGateway,
    OutboxMessage,
    default_gateways,
    demo_gateways,
    enqueue,
    failed_notifications,
    mask_recipient,
    unseal,
)
from secure_phone.adapters.smtp import SmtpGateway, UnconfiguredEmailGateway
from secure_phone.domain.policy import DEFAULT_POLICY
from secure_phone.settings import ConfigurationError, secret_key

T0 = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
LEASE = timedelta(seconds=30)
NUMBER = "+33612345678"
BODY = "Votre numéro sécurisé a été modifié"
CODE = "40271983"
CODE_BODY = f"Ma Banque : votre code de confirmation est {CODE}. Il est valable 10 minutes."
SECRET = "notifications-test-secret-0123456789abcdef"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def demo_mode_and_secret(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("SECURE_PHONE_DEMO", "1")
    monkeypatch.setenv("SECURE_PHONE_SECRET", SECRET)
    secret_key.cache_clear()
    yield
    secret_key.cache_clear()


# --- helpers ----------------------------------------------------------------------------------


def queue(url: str, count: int = 1, *, channel: Channel = "sms", customer_id: int | None = None) -> list[str]:
    """Enqueue ``count`` notifications in one committed transaction; their keys."""
    keys = [f"req-{i}:{channel}" for i in range(count)]
    recipient = NUMBER if channel == "sms" else "jeanne@example.com"
    with db.transaction(url) as session:
        for key in keys:
            enqueue(session, key=key, channel=channel, recipient=recipient, body=BODY,
                    subject=None if channel == "sms" else "Changement", customer_id=customer_id, now=T0)
    return keys


def queue_code(url: str, key: str = "code-0:sms", code: str = CODE, recipient: str = NUMBER) -> str:
    """Enqueue, committed, an SMS carrying ``code`` as a secret; its key."""
    with db.transaction(url) as session:
        enqueue(session, key=key, channel="sms", recipient=recipient, body=CODE_BODY.replace(CODE, code),
                secrets=[code], now=T0)
    return key


def outbox(url: str) -> list[Outbox]:
    with db.transaction(url) as session:
        return list(session.exec(select(Outbox).order_by(Outbox.id)).all())


def inbox(url: str) -> list[DemoMessage]:
    with db.transaction(url) as session:
        return list(session.exec(select(DemoMessage).order_by(DemoMessage.id)).all())


class Recording:
    """Wraps a gateway and counts, thread-safely, how often each key was handed to it."""

    def __init__(self, inner: DemoGateway) -> None:
        self.channel = inner.channel
        self.inner = inner
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def deliver(self, message: OutboxMessage) -> None:
        with self._lock:
            self.calls[message.key] += 1
        self.inner.deliver(message)


class Crash(BaseException):
    """The dispatcher process dying (not an error it could catch and record)."""


class DeliverThenCrash:
    """Delivers the message, then the dispatcher dies before recording it."""

    channel = "sms"

    def __init__(self, url: str) -> None:
        self.inner = DemoGateway("sms", url)

    def deliver(self, message: OutboxMessage) -> None:
        self.inner.deliver(message)
        raise Crash


def dispatcher(url: str, gateway: Gateway | None = None, batch: int = 20) -> Dispatcher:
    """A dispatcher over the SMS channel (a demo gateway unless ``gateway`` is given)."""
    return Dispatcher(url, gateways={"sms": gateway or DemoGateway("sms", url)}, lease=LEASE, batch=batch)


@pytest.fixture
def customer_id(db_url: str) -> int:
    with db.transaction(db_url) as session:
        agency = Agency(code="PAR01", name="Paris Opéra", phone="+33140000000", hours_fr="9h-18h", hours_en="9am-6pm")
        session.add(agency)
        session.flush()
        customer = Customer(identifier="1234567890", first_name="Jeanne", last_name="Martin",
                            email="jeanne@example.com", person_type="individual", subscription="internet",
                            legal_protection="none", agency_id=agency.id, password_hash="x")
        session.add(customer)
        session.flush()
        assert customer.id is not None
        return customer.id


# --- the outbox -------------------------------------------------------------------------------


def test_enqueue_is_idempotent_on_key(db_url: str) -> None:
    queue(db_url)
    with db.transaction(db_url) as session:
        for _ in range(2):
            enqueue(session, key="req-0:sms", channel="sms", recipient="+33699999999", body="other", now=T0)

    [row] = outbox(db_url)
    assert (row.key, row.recipient, row.body, row.status, row.attempts) == ("req-0:sms", NUMBER, BODY, "pending", 0)
    assert row.next_attempt_at == T0 and row.claimed_until is None
    assert row.sealed_body is None  # no secret, no seal: the body is kept as written


def test_enqueue_rolls_back_with_the_callers_transaction(db_url: str) -> None:
    with pytest.raises(RuntimeError), db.transaction(db_url) as session:
        enqueue(session, key="req-0:sms", channel="sms", recipient=NUMBER, body=BODY, now=T0)
        raise RuntimeError("MySys refused: the change does not complete")

    assert outbox(db_url) == []
    assert dispatcher(db_url).run_once(T0) == 0
    assert inbox(db_url) == []


def test_enqueue_refuses_an_unknown_channel(db_url: str) -> None:
    with pytest.raises(ValueError, match="channel"), db.transaction(db_url) as session:
        enqueue(session, key="k", channel="fax", recipient=NUMBER, body=BODY, now=T0)  # type: ignore[arg-type]


# --- delivery ---------------------------------------------------------------------------------


def test_dispatcher_delivers_each_pending_row_exactly_once(db_url: str) -> None:
    queue(db_url, 3)
    queue(db_url, 1, channel="email")
    gateways = {channel: Recording(gateway) for channel, gateway in demo_gateways(db_url, {}).items()}
    d = Dispatcher(db_url, gateways=gateways)

    assert d.run_once(T0 - timedelta(seconds=1)) == 0  # not due yet
    assert d.run_once(T0) == 4
    assert d.run_once(T0 + timedelta(hours=1)) == 0

    assert {(r.status, r.attempts, r.sent_at, r.claimed_until) for r in outbox(db_url)} == {("sent", 1, T0, None)}
    messages = inbox(db_url)
    assert sorted(m.outbox_key for m in messages) == ["req-0:email", "req-0:sms", "req-1:sms", "req-2:sms"]
    assert {(m.channel, m.recipient, m.body) for m in messages if m.channel == "sms"} == {("sms", NUMBER, BODY)}
    assert sum(sum(g.calls.values()) for g in gateways.values()) == 4


def test_failing_gateway_is_retried_with_backoff_then_marked_failed(db_url: str, customer_id: int) -> None:
    queue(db_url, customer_id=customer_id)
    down = dispatcher(db_url, DemoGateway("sms", db_url, fail_rate=1.0))
    now = T0
    for attempt in range(1, DEFAULT_POLICY.notification_max_attempts):
        assert down.run_once(now) == 0
        [row] = outbox(db_url)
        assert (row.status, row.attempts, row.claimed_until) == ("pending", attempt, None)
        assert row.next_attempt_at - now == DEFAULT_POLICY.notification_backoff(attempt)
        assert down.run_once(row.next_attempt_at - timedelta(microseconds=1)) == 0  # waits for the backoff
        assert outbox(db_url)[0].attempts == attempt
        now = row.next_attempt_at

    assert down.run_once(now) == 0
    [row] = outbox(db_url)
    assert (row.status, row.attempts) == ("failed", DEFAULT_POLICY.notification_max_attempts)
    assert row.last_error and "unavailable" in row.last_error
    assert NUMBER not in row.last_error and BODY not in row.last_error
    with db.transaction(db_url) as session:
        assert [n.key for n in failed_notifications(session, customer_id)] == ["req-0:sms"]

    assert dispatcher(db_url).run_once(now + timedelta(days=1)) == 0  # a failed row stays failed
    assert inbox(db_url) == []


def test_a_transient_failure_is_delivered_at_the_next_attempt(db_url: str) -> None:
    queue(db_url)
    assert dispatcher(db_url, DemoGateway("sms", db_url, fail_rate=1.0)).run_once(T0) == 0
    retry_at = T0 + DEFAULT_POLICY.notification_backoff(1)

    assert dispatcher(db_url).run_once(retry_at) == 1
    [row] = outbox(db_url)
    assert (row.status, row.attempts, row.sent_at) == ("sent", 2, retry_at)
    assert len(inbox(db_url)) == 1


def test_a_row_without_gateway_is_retried_not_lost(db_url: str) -> None:
    queue(db_url, channel="email")
    assert dispatcher(db_url).run_once(T0) == 0  # this dispatcher only has an SMS gateway
    [row] = outbox(db_url)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error == "no gateway for channel 'email'"


# --- crashes and concurrency ------------------------------------------------------------------


def test_rows_claimed_by_a_dead_dispatcher_are_taken_again_after_the_lease(db_url: str) -> None:
    queue(db_url, 2)
    dead = dispatcher(db_url)
    assert len(dead.claim(T0)) == 2  # ... and the process dies here
    survivor = dispatcher(db_url)

    assert survivor.run_once(T0 + LEASE - timedelta(seconds=1)) == 0  # the lease still holds
    assert survivor.run_once(T0 + LEASE + timedelta(seconds=1)) == 2

    assert sorted(m.outbox_key for m in inbox(db_url)) == ["req-0:sms", "req-1:sms"]
    assert {r.status for r in outbox(db_url)} == {"sent"}


def test_redelivery_after_a_crash_before_recording_is_a_no_op(db_url: str) -> None:
    queue(db_url)
    with pytest.raises(Crash):
        dispatcher(db_url, DeliverThenCrash(db_url)).run_once(T0)
    assert len(inbox(db_url)) == 1
    assert outbox(db_url)[0].status == "pending"

    assert dispatcher(db_url).run_once(T0 + LEASE + timedelta(seconds=1)) == 1

    assert [m.outbox_key for m in inbox(db_url)] == ["req-0:sms"]  # the recipient saw it once
    [row] = outbox(db_url)
    assert (row.status, row.attempts) == ("sent", 1)


def test_a_dispatcher_that_lost_its_lease_does_not_overwrite_the_outcome(db_url: str) -> None:
    queue(db_url)
    late = T0 + LEASE + timedelta(seconds=1)

    class SlowFailing:
        """Fails after so long that the lease expired and another dispatcher delivered."""

        channel = "sms"

        def deliver(self, message: OutboxMessage) -> None:
            assert dispatcher(db_url).run_once(late) == 1
            raise GatewayError("sms gateway timed out")

    assert dispatcher(db_url, SlowFailing()).run_once(T0) == 0

    [row] = outbox(db_url)
    assert (row.status, row.attempts, row.last_error, row.sent_at) == ("sent", 1, None, late)
    assert len(inbox(db_url)) == 1


def test_an_outcome_is_recorded_only_by_the_claim_that_read_the_row_as_it_is(db_url: str) -> None:
    """The settle is fenced by the lease's end *and* by the attempts the claim read: a claim whose row was tried
    meanwhile (same lease end, another attempt count) records nothing, and the row is left as it is."""
    queue(db_url)
    d = dispatcher(db_url)
    [claim] = d.claim(T0)
    assert claim.attempts == 0
    with db.transaction(db_url) as session:  # another try was recorded under the same lease end
        row = session.exec(select(Outbox)).one()
        row.attempts = 1
        session.add(row)

    assert d._settle(claim, T0, None) is False
    [row] = outbox(db_url)
    assert (row.status, row.attempts, row.sent_at) == ("pending", 1, None)
    assert d._settle(dataclasses.replace(claim, attempts=1), T0, None) is True
    [row] = outbox(db_url)
    assert (row.status, row.attempts) == ("sent", 2)


def test_a_misspelt_column_is_refused_not_left_out(db_url: str) -> None:
    """The outbox's insert takes its columns from the values given: one that is not a column (a seal under a
    wrong name, say) is an error, never a row written without it."""
    from secure_phone.adapters.gateways import _add_once

    with pytest.raises(ValueError, match="no such column in outbox: sealed"), db.transaction(db_url) as session:
        _add_once(session, Outbox.__table__, {"key": "k", "channel": "sms", "recipient": "+33612345678",  # type: ignore[attr-defined]
                                              "body": "x", "sealed": "y", "next_attempt_at": T0, "created_at": T0},
                  "key")
    assert outbox(db_url) == []


def test_two_concurrent_dispatchers_deliver_each_row_once(db_url: str) -> None:
    keys = queue(db_url, 50)
    recorder = Recording(DemoGateway("sms", db_url))
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def work() -> None:
        d = dispatcher(db_url, recorder, batch=5)
        start.wait()
        try:
            while d.run_once() or any(r.status == "pending" for r in outbox(db_url)):
                pass
        except BaseException as exc:  # surfaced below: a thread's exception would be lost
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert recorder.calls == Counter(dict.fromkeys(keys, 1))
    assert sorted(m.outbox_key for m in inbox(db_url)) == sorted(keys)
    assert {(r.status, r.attempts) for r in outbox(db_url)} == {("sent", 1)}


# --- secrets at rest --------------------------------------------------------------------------


def opened(row: Outbox) -> str:
    """The full text of a sealed row, opened with the server's key (what the dispatcher hands over)."""
    assert row.sealed_body is not None
    return unseal(row.sealed_body, key=row.key, channel=row.channel, recipient=row.recipient)


def swap_sealed_bodies(url: str, first: str, second: str) -> None:
    """A database writer moves each row's sealed body to the other row."""
    with db.transaction(url) as session:
        a = session.exec(select(Outbox).where(Outbox.key == first)).one()
        b = session.exec(select(Outbox).where(Outbox.key == second)).one()
        a.sealed_body, b.sealed_body = b.sealed_body, a.sealed_body
        session.add_all([a, b])


def assert_safe(text: str, *codes: str) -> None:
    """Nothing of a body, a code or a full number in ``text`` (a last_error, the logs)."""
    for secret in (*codes, CODE_BODY[:20], NUMBER, "12345678", "+33"):
        assert secret not in text, f"{secret!r} in {text!r}"


def test_a_secret_is_redacted_at_rest_sealed_and_delivered_in_full(db_url: str) -> None:
    queue_code(db_url)

    [row] = outbox(db_url)
    assert row.body == CODE_BODY.replace(CODE, REDACTED) == (
        "Ma Banque : votre code de confirmation est ••••••. Il est valable 10 minutes.")
    assert row.sealed_body and CODE not in row.sealed_body
    assert opened(row) == CODE_BODY
    with db.transaction(db_url) as session:  # the seal is random: the same text seals differently
        enqueue(session, key="code-1:sms", channel="sms", recipient=NUMBER, body=CODE_BODY, secrets=[CODE], now=T0)
    assert outbox(db_url)[1].sealed_body != row.sealed_body

    assert dispatcher(db_url).run_once(T0) == 2

    assert {m.body for m in inbox(db_url)} == {CODE_BODY}
    assert [(r.status, r.body, r.sealed_body) for r in outbox(db_url)] == [
        ("sent", CODE_BODY.replace(CODE, REDACTED), None)] * 2


def test_enqueue_refuses_a_secret_it_could_not_redact(db_url: str) -> None:
    spaced = CODE_BODY.replace(CODE, f"{CODE[:4]} {CODE[4:]}")  # the code written otherwise than given
    with pytest.raises(ValueError, match="secret"), db.transaction(db_url) as session:
        enqueue(session, key="k", channel="sms", recipient=NUMBER, body=spaced, secrets=[CODE], now=T0)
    with pytest.raises(ValueError, match="secret"), db.transaction(db_url) as session:
        enqueue(session, key="k", channel="email", recipient="jeanne@example.com", subject=f"Code {CODE}",
                body=CODE_BODY, secrets=[CODE], now=T0)
    with pytest.raises(TypeError), db.transaction(db_url) as session:
        enqueue(session, key="k", channel="sms", recipient=NUMBER, body=CODE_BODY, secrets=CODE, now=T0)
    assert outbox(db_url) == []


def test_a_sealed_body_moved_to_another_row_is_never_delivered(db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    other = "19283746"
    queue_code(db_url, "code-0:sms", CODE)
    queue_code(db_url, "code-1:sms", other)
    swap_sealed_bodies(db_url, "code-0:sms", "code-1:sms")

    now = T0
    with caplog.at_level(logging.INFO, logger="secure_phone.adapters.notifications"):
        for attempt in range(1, DEFAULT_POLICY.notification_max_attempts + 1):
            assert dispatcher(db_url).run_once(now) == 0
            rows = outbox(db_url)
            assert {r.attempts for r in rows} == {attempt}
            now = max(r.next_attempt_at for r in rows)

    assert inbox(db_url) == []  # neither the other row's code nor a garbled text went out
    for row in outbox(db_url):
        assert (row.status, row.sealed_body) == ("failed", None)
        assert row.last_error and "does not open" in row.last_error
        assert_safe(row.last_error, CODE, other)
    assert_safe(caplog.text, CODE, other)


def test_a_sealed_sms_redirected_to_another_number_is_not_delivered(db_url: str) -> None:
    queue_code(db_url)
    with db.transaction(db_url) as session:  # a database writer puts their own number on the row
        row = session.exec(select(Outbox)).one()
        row.recipient = "+33699999999"
        session.add(row)

    assert dispatcher(db_url).run_once(T0) == 0

    assert inbox(db_url) == []
    [row] = outbox(db_url)
    assert (row.status, row.attempts) == ("pending", 1) and "does not open" in (row.last_error or "")


def test_a_seal_under_another_server_secret_is_retried_not_delivered(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue_code(db_url)
    monkeypatch.setenv("SECURE_PHONE_SECRET", "another-secret-for-another-deployment-0123")
    secret_key.cache_clear()

    assert dispatcher(db_url).run_once(T0) == 0
    assert inbox(db_url) == []
    [row] = outbox(db_url)
    assert (row.status, row.attempts) == ("pending", 1) and row.sealed_body is not None
    assert row.last_error and "does not open" in row.last_error
    assert_safe(row.last_error, CODE)

    monkeypatch.setenv("SECURE_PHONE_SECRET", SECRET)  # the operator sets the right secret again
    secret_key.cache_clear()
    assert dispatcher(db_url).run_once(row.next_attempt_at) == 1
    assert [m.body for m in inbox(db_url)] == [CODE_BODY]
    assert outbox(db_url)[0].sealed_body is None


def test_a_row_failed_for_good_drops_its_sealed_body(db_url: str) -> None:
    queue_code(db_url)
    down = dispatcher(db_url, DemoGateway("sms", db_url, fail_rate=1.0))
    now = T0
    for _ in range(1, DEFAULT_POLICY.notification_max_attempts):
        assert down.run_once(now) == 0
        [row] = outbox(db_url)
        assert row.status == "pending" and opened(row) == CODE_BODY  # kept while a retry may deliver it
        now = row.next_attempt_at

    assert down.run_once(now) == 0

    [row] = outbox(db_url)
    assert (row.status, row.sealed_body, row.body) == ("failed", None, CODE_BODY.replace(CODE, REDACTED))
    assert inbox(db_url) == []


@pytest.mark.parametrize("crash", ["after claiming", "after delivering"])
def test_a_crash_between_claim_and_settle_still_delivers_the_full_code_once(db_url: str, crash: str) -> None:
    queue_code(db_url)
    if crash == "after claiming":
        assert len(dispatcher(db_url).claim(T0)) == 1  # ... and the process dies here
    else:
        with pytest.raises(Crash):
            dispatcher(db_url, DeliverThenCrash(db_url)).run_once(T0)
    [row] = outbox(db_url)
    assert row.status == "pending" and opened(row) == CODE_BODY  # the seal outlives the crash

    assert dispatcher(db_url).run_once(T0 + LEASE + timedelta(seconds=1)) == 1

    assert [(m.outbox_key, m.body) for m in inbox(db_url)] == [("code-0:sms", CODE_BODY)]
    [row] = outbox(db_url)
    assert (row.status, row.attempts, row.sealed_body) == ("sent", 1, None)


# --- gateways, configuration, logs ------------------------------------------------------------


def test_demo_gateway_is_idempotent_and_channel_bound(db_url: str) -> None:
    message = OutboxMessage(key="k1", channel="email", recipient="jeanne@example.com", subject="S", body=BODY)
    gateway = DemoGateway("email", db_url)
    gateway.deliver(message)
    gateway.deliver(message)
    assert [(m.outbox_key, m.subject) for m in inbox(db_url)] == [("k1", "S")]
    with pytest.raises(GatewayError):
        DemoGateway("sms", db_url).deliver(message)


def test_demo_gateways_read_their_fail_rates(db_url: str) -> None:
    gateways = demo_gateways(db_url, {"SMS_GATEWAY_FAIL_RATE": "1", "EMAIL_GATEWAY_FAIL_RATE": "0.25"})
    assert {c: (type(g), g.fail_rate) for c, g in gateways.items()} == {
        "sms": (DemoGateway, 1.0), "email": (SmtpGateway, 0.25)}
    with pytest.raises(ValueError, match="SMS_GATEWAY_FAIL_RATE"):
        demo_gateways(db_url, {"SMS_GATEWAY_FAIL_RATE": "2"})


def test_the_dispatcher_picks_its_gateways_by_mode(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Demo mode: emails over SMTP, to the local receiver (filing into the demo inboxes) unless a server is named.
    assert {c: type(g) for c, g in Dispatcher(db_url).gateways.items()} == {"sms": DemoGateway, "email": SmtpGateway}

    monkeypatch.setenv("SECURE_PHONE_DEMO", "0")
    # No SMTP server named outside demo mode: emails are refused (then failed, for the advisors to see).
    assert {c: type(g) for c, g in Dispatcher(db_url).gateways.items()} == {
        "sms": LogGateway, "email": UnconfiguredEmailGateway}
    monkeypatch.setenv("SECURE_PHONE_SMTP_URL", "log:")
    assert {c: type(g) for c, g in Dispatcher(db_url).gateways.items()} == {"sms": LogGateway, "email": LogGateway}
    with pytest.raises(ConfigurationError, match="demo mode only"):
        DemoGateway("sms", db_url)
    with pytest.raises(ConfigurationError, match="demo mode only"):
        demo_gateways(db_url, {})


def test_without_demo_mode_a_delivery_keeps_nothing_of_the_message(
    db_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("SECURE_PHONE_DEMO", "0")
    queue(db_url)
    queue_code(db_url)
    queue(db_url, channel="email")

    with caplog.at_level(logging.INFO, logger="secure_phone.adapters.notifications"):
        gateways = default_gateways(db_url, {"SECURE_PHONE_SMTP_URL": "log:"})
        assert Dispatcher(db_url, gateways=gateways).run_once(T0) == 3

    assert inbox(db_url) == []  # no demo inbox outside demo mode
    assert {(r.status, r.sealed_body) for r in outbox(db_url)} == {("sent", None)}
    accepted = [r.getMessage() for r in caplog.records if "accepted" in r.getMessage()]
    assert len(accepted) == 3  # one line per message
    assert "req-0:sms for 06 •• •• •• 78" in accepted[0] and "code-0:sms for 06 •• •• •• 78" in accepted[1]
    assert "req-0:email for j•••@example.com" in accepted[2]
    assert BODY not in caplog.text and NUMBER not in caplog.text and "jeanne@" not in caplog.text
    assert_safe(caplog.text, CODE)


def test_log_gateways_read_their_fail_rates_and_are_channel_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECURE_PHONE_DEMO", "0")
    gateways = default_gateways(environ={"SMS_GATEWAY_FAIL_RATE": "1", "EMAIL_GATEWAY_FAIL_RATE": "0.25",
                                         "SECURE_PHONE_SMTP_URL": "log:"})
    assert {c: (type(g), g.fail_rate) for c, g in gateways.items()} == {
        "sms": (LogGateway, 1.0), "email": (LogGateway, 0.25)}
    message = OutboxMessage(key="k1", channel="sms", recipient=NUMBER, subject=None, body=BODY)
    with pytest.raises(GatewayError, match="unavailable"):
        gateways["sms"].deliver(message)
    with pytest.raises(GatewayError, match="cannot deliver"):
        LogGateway("email").deliver(message)
    LogGateway("sms").deliver(message)  # accepted
    with pytest.raises(ValueError, match="SMS_GATEWAY_FAIL_RATE"):
        default_gateways(environ={"SMS_GATEWAY_FAIL_RATE": "2"})


def test_logs_mask_the_recipient_and_omit_the_body(db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    assert mask_recipient(NUMBER) == "06 •• •• •• 78"
    assert mask_recipient("jeanne@example.com") == "j•••@example.com"
    assert mask_recipient("+447400123456") == "07••• ••••56"  # at most a third of the digits
    assert mask_recipient("0612345678") == "••78"  # not E.164: the last two only
    assert mask_recipient("12345") == "••"  # too short to show two digits
    queue(db_url)
    queue(db_url, channel="email")
    with caplog.at_level(logging.INFO, logger="secure_phone.adapters.notifications"):
        assert Dispatcher(db_url, gateways=demo_gateways(db_url, {})).run_once(T0) == 2

    delivered = [r.getMessage() for r in caplog.records if "delivered" in r.getMessage()]
    assert len(delivered) == 2
    text = "\n".join(delivered)
    assert "06 •• •• •• 78" in text and "j•••@example.com" in text
    assert NUMBER not in text and "12345678" not in text and "jeanne@" not in text and BODY not in text


# --- running ----------------------------------------------------------------------------------


def test_run_forever_delivers_when_woken_and_stops(db_url: str) -> None:
    async def scenario() -> None:
        d = dispatcher(db_url)
        stop = asyncio.Event()
        task = asyncio.create_task(d.run_forever(stop, poll_interval=3600))  # only a wake can start a pass
        await asyncio.sleep(0)
        queue(db_url)
        while not inbox(db_url):  # a wake sent before run_forever is listening is lost: wake again
            await asyncio.to_thread(d.wake)  # from another thread, as a completing change would
            await asyncio.sleep(0.05)
        stop.set()
        await task

    # Its own thread and loop: Playwright's sync API keeps a loop running in the main thread when the
    # browser tests ran first in this process.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, asyncio.wait_for(scenario(), timeout=30)).result()
    assert outbox(db_url)[0].status == "sent"


def test_when_woken_by_commits_an_idle_dispatcher_does_not_poll_but_keeps_its_retry_times(db_url: str) -> None:
    """Issue 13: with nothing pending it makes no pass until woken (an hour's safety net here); a retry
    that falls due is delivered on time without a wake, and the nap until then is its time, not a poll."""
    passes: list[datetime] = []

    async def scenario() -> None:
        d = dispatcher(db_url)
        real_pass = d._pass

        def counted(now: datetime) -> Any:
            passes.append(now)
            return real_pass(now)

        d._pass = counted  # type: ignore[method-assign]
        stop = asyncio.Event()
        task = asyncio.create_task(d.run_forever(stop, poll_interval=0.01, idle_interval=3600))
        await asyncio.sleep(0.5)  # idle: its first pass only, then it naps (an hour at most)
        assert len(passes) == 1, passes
        # A message whose retry falls due in 0.3 s (as after a failed attempt), queued without any wake:
        with db.transaction(db_url) as session:
            enqueue(session, key="retry-0:sms", channel="sms", recipient=NUMBER, body=BODY,
                    now=datetime.now(UTC) + timedelta(seconds=0.3))
        d.wake()  # the commit's wake (the dispatcher learns of the message, not yet due)
        deadline = time.monotonic() + 30  # a liveness bound, not a timing assertion
        while not inbox(db_url) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert [m.outbox_key for m in inbox(db_url)] == ["retry-0:sms"]
        # Two passes for it: the wake's (not due: it naps until the retry time) and the retry time's — no polling.
        assert len(passes) <= 4, passes
        settled = len(passes)
        await asyncio.sleep(0.5)
        assert len(passes) == settled  # nothing pending: no pass until woken
        stop.set()
        await task

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, asyncio.wait_for(scenario(), timeout=60)).result()


@pytest.fixture
def dispatcher_process(db_url: str) -> Iterator[subprocess.Popen[str]]:
    env = {**os.environ, "REFLEX_DB_URL": db_url, "SMS_GATEWAY_FAIL_RATE": "0", "EMAIL_GATEWAY_FAIL_RATE": "0"}
    process = subprocess.Popen(
        [sys.executable, "-m", "secure_phone.dispatcher", "--poll-interval", "0.05"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    yield process
    if process.poll() is None:
        process.kill()
        process.wait()


def test_dispatcher_process_delivers_and_stops_on_sigterm(
    db_url: str, dispatcher_process: subprocess.Popen[str]
) -> None:
    queue(db_url)  # due at T0, long past
    deadline = time.monotonic() + 60  # a liveness bound, not a timing assertion
    while not inbox(db_url) and dispatcher_process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    dispatcher_process.send_signal(signal.SIGTERM)
    output, _ = dispatcher_process.communicate(timeout=60)

    assert dispatcher_process.returncode == 0, output
    assert [m.outbox_key for m in inbox(db_url)] == ["req-0:sms"]
    assert "req-0:sms delivered to 06 •• •• •• 78" in output
    assert NUMBER not in output and BODY not in output and db_url not in output


def test_a_separate_dispatcher_is_woken_by_the_commit_on_postgresql(db_url: str) -> None:
    """Scale-out: the dispatcher process polls only every hour here, yet delivers at once, because
    the transaction that queues a notification wakes it (NOTIFY at commit). SQLite has no such thing
    (the embedded dispatcher is woken in-process): there, enqueue sends no NOTIFY."""
    statements: list[str] = []
    engine = db.get_engine(db_url)
    listener = lambda *args: statements.append(args[2])  # noqa: E731 (conn, cursor, statement, …)
    sqlalchemy.event.listen(engine, "before_cursor_execute", listener)
    try:
        if not db_url.startswith("postgresql"):
            queue(db_url)
            assert not any("NOTIFY" in s for s in statements)
            return
        env = {**os.environ, "REFLEX_DB_URL": db_url, "SMS_GATEWAY_FAIL_RATE": "0", "EMAIL_GATEWAY_FAIL_RATE": "0"}
        process = subprocess.Popen([sys.executable, "-m", "secure_phone.dispatcher", "--poll-interval", "3600"],
                                   cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")),
                                  daemon=True)  # type: ignore[union-attr]
        reader.start()
        try:
            deadline = time.monotonic() + 60  # liveness bounds, not timing assertions
            while (not any("woken by PostgreSQL notifications" in line for line in lines)
                   and time.monotonic() < deadline):
                time.sleep(0.05)
            time.sleep(0.5)  # its first pass is over: it naps for an hour now
            queue(db_url)
            assert any(s.startswith("NOTIFY") for s in statements)
            while not inbox(db_url) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert [m.outbox_key for m in inbox(db_url)] == ["req-0:sms"], "".join(lines)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
        assert process.returncode == 0, "".join(lines)
    finally:
        sqlalchemy.event.remove(engine, "before_cursor_execute", listener)
