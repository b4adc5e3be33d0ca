"""Notifications: a transactional outbox, the SMS/email gateways and the dispatcher (PRODUCT.md §7).

A completed change calls :func:`enqueue` in its own transaction, so the notifications exist if and
only if the change committed. A :class:`Dispatcher` (in the app's process, or as its own process:
``python -m secure_phone.dispatcher``) then delivers them:

1. it claims due rows in one short transaction, leasing them (``claimed_until``) so that no other
   dispatcher takes them meanwhile (PostgreSQL: ``FOR UPDATE SKIP LOCKED``; SQLite: its write
   transactions are exclusive);
2. it hands each message to its channel's gateway, outside any transaction;
3. it records each outcome in its own transaction: sent, or retried later with exponential backoff,
   or ``failed`` (visible to advisors) after the policy's maximum number of attempts.

A dispatcher that dies after claiming loses nothing: the lease expires and another one takes the row
again. Gateways are idempotent on the outbox key, so a redelivery is never seen twice by the
recipient. Logs name the outbox key and a masked recipient, never the body or the full address.

**Secrets at rest** (PRODUCT.md §12.2). A message may carry a secret (an SMS code): the caller names it
(``enqueue(..., secrets=[code])``). ``Outbox.body`` then holds only the redacted text, each secret
replaced by :data:`REDACTED`, and ``Outbox.sealed_body`` the full text sealed with AES-GCM under a key
derived from the server secret (which never lies in the data folder), bound to the row's key, channel and
recipient. The dispatcher opens the seal at delivery and drops it (NULL) in the transaction that settles
the row for good (sent, or failed after the last attempt). A seal that does not open (another key, an
altered or moved value) is never delivered: the row is retried, then failed, with a safe ``last_error``.
A copy of the database alone therefore never shows a code. Messages without secrets (a masked number, a
date) keep their body in clear and no seal.

**Gateways**: in demo mode (``SECURE_PHONE_DEMO=1``) the :class:`DemoGateway` s write what they deliver,
in full, into the demo inboxes (``DemoMessage``, shown at ``/demo/messages``): the demo inbox keeps its own
copy in demo mode only. Otherwise :class:`LogGateway` s stand for the operator's SMS and SMTP providers.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import logging
import os
import random
import socket
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal, Protocol, get_args

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, SQLModel, col, or_, select

from secure_phone.adapters import db
from secure_phone.adapters.models import DemoMessage, Outbox
from secure_phone.adapters.mysys import check_fraction, read_fraction
from secure_phone.domain.phone import MASK, phone_from_e164
from secure_phone.domain.policy import DEFAULT_POLICY, Policy
from secure_phone.settings import ConfigurationError, demo_mode, derived_key

logger = logging.getLogger(__name__)

Channel = Literal["sms", "email"]
CHANNELS: Final[tuple[str, ...]] = get_args(Channel)

PENDING: Final = "pending"
SENT: Final = "sent"
FAILED: Final = "failed"

FAIL_RATE_ENV: Final[Mapping[str, str]] = {"sms": "SMS_GATEWAY_FAIL_RATE", "email": "EMAIL_GATEWAY_FAIL_RATE"}
"""The variable injecting faults into each channel's gateway (0..1; 1 = gateway down)."""

REDACTED: Final = MASK * 6
"""What ``Outbox.body`` shows in place of a secret: six bullets whatever its length (which it hides too)."""

SEAL_KEY_LABEL: Final = "outbox-seal"
_NONCE_BYTES = 12
_MAX_ERROR_LENGTH = 200


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _check_channel(channel: str) -> None:
    if channel not in CHANNELS:
        raise ValueError(f"unknown notification channel {channel!r} (expected one of {CHANNELS})")


def mask_recipient(recipient: str) -> str:
    """A recipient fit for logs: "06 •• •• •• 78" for a number, "j•••@example.com" for an address."""
    if "@" in recipient:
        local, _, domain = recipient.rpartition("@")
        return f"{local[:1]}{MASK * 3}@{domain}"
    try:
        return phone_from_e164(recipient).masked
    except ValueError:
        return MASK * 2 + recipient[-2:] if len(recipient) >= 6 else MASK * 2  # never more than a third


def _add_once(session: Session, row: SQLModel, key_column: Any) -> bool:
    """Add ``row`` unless a row with its value of the unique ``key_column`` exists; True when added.

    One ``INSERT … ON CONFLICT (key) DO NOTHING`` (SQLite and PostgreSQL alike): a concurrent
    transaction that commits the same key first makes this insert a no-op, and the caller's
    transaction goes on. Any other integrity error is raised.
    """
    table = type(row).__table__  # type: ignore[attr-defined]
    values = {c.name: getattr(row, c.name) for c in table.columns if getattr(row, c.name) is not None}
    dialect = session.get_bind().dialect.name
    dialect_insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
    statement = dialect_insert(table).values(**values).on_conflict_do_nothing(index_elements=[key_column.key])
    return session.exec(statement).rowcount == 1


# --- sealing the secrets a message carries -----------------------------------------------------


class SealError(Exception):
    """A sealed body does not open. The message is safe for ``last_error`` and logs (no body, no recipient)."""


def _associated_data(key: str, channel: str, recipient: str) -> bytes:
    """What a seal is bound to: the row's outbox key (so it cannot be moved to another row), and its
    channel and recipient (so a database writer cannot redirect the code to another number)."""
    return json.dumps([key, channel, recipient]).encode()


def _cipher() -> AESGCM:
    return AESGCM(derived_key(SEAL_KEY_LABEL))


def seal(body: str, *, key: str, channel: str, recipient: str) -> str:
    """``body`` sealed with AES-GCM (random 12-byte nonce): base64url of nonce ‖ ciphertext ‖ tag."""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = _cipher().encrypt(nonce, body.encode(), _associated_data(key, channel, recipient))
    return base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def unseal(sealed: str, *, key: str, channel: str, recipient: str) -> str:
    """The body :func:`seal` sealed for this very row; :class:`SealError` if it does not open."""
    try:
        cipher = _cipher()
    except ConfigurationError:
        raise SealError("sealed body not opened: the server secret is not configured") from None
    try:
        raw = base64.urlsafe_b64decode(sealed.encode("ascii"))
        aad = _associated_data(key, channel, recipient)
        return cipher.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], aad).decode()
    except (InvalidTag, ValueError):  # ValueError: not base64, too short, not UTF-8
        raise SealError("sealed body does not open (another server secret, or an altered row)") from None


def _redact(body: str, secrets: Collection[str]) -> str:
    """``body`` with every occurrence of each secret replaced by :data:`REDACTED`."""
    if isinstance(secrets, str):
        raise TypeError("secrets is a collection of strings, e.g. [code]")
    redacted = body
    for secret in sorted(secrets, key=len, reverse=True):  # a secret inside another goes with it
        if not secret or secret not in body:
            # e.g. the code written "1234 5678" in the body: it would stay readable
            raise ValueError("each secret must appear in the body exactly as given")
        redacted = redacted.replace(secret, REDACTED)
    if any(secret in redacted for secret in secrets):
        raise ValueError("a secret is still readable once redacted")
    return redacted


# --- the outbox -------------------------------------------------------------------------------


def enqueue(
    session: Session,
    *,
    key: str,
    channel: Channel,
    recipient: str,
    body: str,
    secrets: Collection[str] = (),
    subject: str | None = None,
    customer_id: int | None = None,
    now: datetime,
) -> None:
    """Queue one notification in the caller's transaction; nothing if ``key`` is already queued.

    ``key`` names the notification's purpose (e.g. ``"<request id>:email"``): enqueuing it twice
    queues it once. If the caller's transaction rolls back, the notification is never sent.

    ``secrets`` lists the parts of ``body`` nobody may read at rest (e.g. ``[code]``), each written in
    ``body`` exactly as given (else ValueError), never in ``subject``. With secrets, ``Outbox.body``
    holds the body with each of them replaced by :data:`REDACTED` (six bullets, whatever the secret's
    length) and ``Outbox.sealed_body`` the full body, sealed (see the module's documentation); the
    recipient gets the full body.
    """
    _check_channel(channel)
    stored, sealed = body, None
    if secrets:
        if subject and any(secret in subject for secret in secrets):
            raise ValueError("a secret may be carried by the body only")
        stored = _redact(body, secrets)
        sealed = seal(body, key=key, channel=channel, recipient=recipient)
    if session.get_bind().dialect.name == "postgresql":
        # Wakes a separate dispatcher at commit (a rolled-back transaction notifies nobody; PostgreSQL
        # folds the notifications of one transaction into one).
        session.execute(text(f"NOTIFY {OUTBOX_CHANNEL}"))
    _add_once(
        session,
        Outbox(
            key=key,
            channel=channel,
            recipient=recipient,
            subject=subject,
            body=stored,
            sealed_body=sealed,
            status=PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            customer_id=customer_id,
        ),
        Outbox.key,
    )


def failed_notifications(session: Session, customer_id: int) -> list[Outbox]:
    """The customer's notifications given up after every attempt, newest first (advisor view)."""
    return list(
        session.exec(
            select(Outbox)
            .where(Outbox.customer_id == customer_id, Outbox.status == FAILED)
            .order_by(col(Outbox.created_at).desc(), col(Outbox.id).desc())
        ).all()
    )


# --- gateways ---------------------------------------------------------------------------------


class GatewayError(Exception):
    """A gateway did not take the message; it will be retried.

    The message becomes the outbox row's ``last_error`` and a log line: it must never contain
    the message body or the recipient.
    """


@dataclass(frozen=True)
class OutboxMessage:
    """What a gateway needs to deliver one notification."""

    key: str
    channel: str
    recipient: str
    subject: str | None
    body: str


def _message(row: Outbox) -> OutboxMessage:
    return OutboxMessage(key=row.key, channel=row.channel, recipient=row.recipient, subject=row.subject, body=row.body)


class Gateway(Protocol):
    """Delivers messages of one channel; must be idempotent on ``message.key``."""

    channel: str

    def deliver(self, message: OutboxMessage) -> None:
        """Deliver the message, or raise :class:`GatewayError`."""
        ...


class _SimulatedGateway:
    """What the simulated gateways share: one channel, and injected refusals (``fail_rate``, 0..1;
    1 means "down")."""

    def __init__(self, channel: str, fail_rate: float = 0.0, rng: random.Random | None = None) -> None:
        _check_channel(channel)
        self.channel = channel
        self.fail_rate = check_fraction(FAIL_RATE_ENV[channel], fail_rate)
        self._rng = rng or random.Random()  # fault simulation, not cryptography

    def _accept(self, message: OutboxMessage) -> None:
        """Raise :class:`GatewayError` for a message of another channel, or an injected fault."""
        if message.channel != self.channel:
            raise GatewayError(f"{self.channel} gateway cannot deliver a {message.channel} message")
        if self._rng.random() < self.fail_rate:
            raise GatewayError(f"{self.channel} gateway unavailable (injected fault)")


class DemoGateway(_SimulatedGateway):
    """The demo SMS or email provider: delivering writes the message into the demo inboxes.

    Demo mode only (``SECURE_PHONE_DEMO=1``; ConfigurationError otherwise): it writes the full text,
    codes included, into ``DemoMessage`` — the demo inbox's own copy, which exists in demo mode only.
    Idempotent on the outbox key, like a real provider given an idempotency key: a redelivery after
    a dispatcher crash changes nothing.
    """

    def __init__(
        self, channel: str, url: str | None = None, fail_rate: float = 0.0, rng: random.Random | None = None
    ) -> None:
        if not demo_mode():
            raise ConfigurationError("the demo gateways exist in demo mode only (SECURE_PHONE_DEMO=1)")
        super().__init__(channel, fail_rate, rng)
        self._url = url

    def deliver(self, message: OutboxMessage) -> None:
        """Put the message in the recipient's demo inbox (once), or raise :class:`GatewayError`."""
        self._accept(message)
        with db.transaction(self._url) as session:
            _add_once(
                session,
                DemoMessage(
                    outbox_key=message.key,
                    channel=message.channel,
                    recipient=message.recipient,
                    subject=message.subject,
                    body=message.body,
                    received_at=_utcnow(),
                ),
                DemoMessage.outbox_key,
            )


class LogGateway(_SimulatedGateway):
    """The gateway outside demo mode: it accepts a message, logs one line (the outbox key and the masked
    recipient) and keeps nothing of the body.

    It stands in for the operator's real SMS and SMTP providers, which a later issue plugs in here
    (idempotent on the outbox key, like them: it keeps nothing, so a redelivery adds nothing).
    """

    def deliver(self, message: OutboxMessage) -> None:
        """Accept the message (one log line), or raise :class:`GatewayError`."""
        self._accept(message)
        logger.info("%s gateway (log only, no provider plugged in): accepted %s for %s", self.channel,
                    message.key, mask_recipient(message.recipient))


def demo_gateways(url: str | None = None, environ: Mapping[str, str] | None = None) -> dict[str, Gateway]:
    """One demo gateway per channel, with the fail rates of SMS_GATEWAY_FAIL_RATE / EMAIL_GATEWAY_FAIL_RATE.

    Demo mode only (see :class:`DemoGateway`).
    """
    env = os.environ if environ is None else environ
    return {
        channel: DemoGateway(channel, url=url, fail_rate=read_fraction(env, variable))
        for channel, variable in FAIL_RATE_ENV.items()
    }


def default_gateways(url: str | None = None, environ: Mapping[str, str] | None = None) -> dict[str, Gateway]:
    """The gateways of this run: :func:`demo_gateways` in demo mode (``settings.demo_mode()``), one
    :class:`LogGateway` per channel otherwise; both with the fail rates read from ``environ``."""
    if demo_mode():
        return demo_gateways(url, environ)
    env = os.environ if environ is None else environ
    return {channel: LogGateway(channel, fail_rate=read_fraction(env, variable))
            for channel, variable in FAIL_RATE_ENV.items()}


# --- waking a dispatcher in another process ---------------------------------------------------

OUTBOX_CHANNEL: Final = "secure_phone_outbox"
"""PostgreSQL notification channel: an outbox row was committed (see :func:`enqueue`)."""


def listen_for_outbox(url: str, wake: Any, stop: Any, timeout: float = 1.0) -> None:
    """Call ``wake()`` whenever a transaction that queued a notification commits, until ``stop`` is set.

    PostgreSQL only (LISTEN/NOTIFY); blocking, for a thread of its own. A lost connection is retried;
    the dispatcher's polling covers the meantime, so a missed notification only delays a message.
    """
    import psycopg

    conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1)
    while not stop.is_set():
        try:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                conn.execute(f"LISTEN {OUTBOX_CHANNEL}")
                logger.info("outbox listener: woken by PostgreSQL notifications")
                wake()  # what was queued before we listened
                while not stop.is_set():
                    for _ in conn.notifies(timeout=timeout, stop_after=1):
                        wake()
        except psycopg.Error as exc:
            logger.warning("outbox listener: %s; retrying", type(exc).__name__)
            stop.wait(timeout)


# --- the dispatcher ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """A leased outbox row: ``until`` is the lease end this claim wrote, which fences its outcome.

    ``message.body`` is the row's body as stored (redacted when the message carries a secret);
    ``sealed`` is the sealed full body, opened only at delivery.
    """

    outbox_id: int
    until: datetime
    message: OutboxMessage
    sealed: str | None = None


@dataclass(frozen=True)
class _Pass:
    claimed: int
    delivered: int


def _error_text(exc: Exception) -> str:
    """A short, safe ``last_error``: a gateway's own message, or only the type of anything else."""
    if isinstance(exc, GatewayError):
        return str(exc)[:_MAX_ERROR_LENGTH] or "GatewayError"
    return f"unexpected {type(exc).__name__}"


class Dispatcher:
    """Delivers due outbox rows through the gateways, with leases, retries and backoff.

    Several dispatchers may run at once (threads, processes, hosts) on the same database: a row is
    handed to a gateway by one of them at a time. Without ``gateways``, those of
    :func:`default_gateways` (demo inboxes in demo mode only).
    """

    def __init__(
        self,
        url: str | None = None,
        gateways: Mapping[str, Gateway] | None = None,
        policy: Policy = DEFAULT_POLICY,
        worker_id: str | None = None,
        lease: timedelta = timedelta(seconds=30),
        batch: int = 20,
    ) -> None:
        if lease <= timedelta(0):
            raise ValueError("the lease must be positive")
        if batch < 1:
            raise ValueError("the batch must hold at least one message")
        self._url = url
        self.gateways: dict[str, Gateway] = dict(default_gateways(url) if gateways is None else gateways)
        self.policy = policy
        self.worker_id = worker_id or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.lease = lease
        self.batch = batch
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake_event: asyncio.Event | None = None

    @property
    def url(self) -> str | None:
        """The database this dispatcher delivers from (None: the app's)."""
        return self._url

    # --- one pass -----------------------------------------------------------------------------

    def run_once(self, now: datetime | None = None) -> int:
        """Claim, deliver and settle one batch of due messages; the number delivered."""
        return self._pass(_utcnow() if now is None else now).delivered

    def claim(self, now: datetime) -> list[Claim]:
        """Lease up to ``batch`` due rows to this dispatcher until ``now + lease`` (one short transaction)."""
        until = now + self.lease
        with db.transaction(self._url) as session:
            rows = session.exec(
                select(Outbox)
                .where(
                    Outbox.status == PENDING,
                    Outbox.next_attempt_at <= now,
                    or_(col(Outbox.claimed_until).is_(None), col(Outbox.claimed_until) < now),
                )
                .order_by(col(Outbox.next_attempt_at), col(Outbox.id))
                .limit(self.batch)
                .with_for_update(skip_locked=True)  # PostgreSQL; SQLite renders nothing and needs nothing
            ).all()
            claims = []
            for row in rows:
                assert row.id is not None
                row.claimed_until = until
                session.add(row)
                claims.append(Claim(outbox_id=row.id, until=until, message=_message(row), sealed=row.sealed_body))
            return claims

    def _pass(self, now: datetime) -> _Pass:
        claims = self.claim(now)
        delivered = 0
        for claim in claims:
            error = self._deliver(claim)
            if self._settle(claim, now, error) and error is None:
                delivered += 1
        return _Pass(claimed=len(claims), delivered=delivered)

    def _deliver(self, claim: Claim) -> str | None:
        """Hand the full message to its gateway, outside any transaction; the error text, or None.

        A sealed body that does not open is not delivered at all (never a redacted or garbled text).
        """
        message = claim.message
        gateway = self.gateways.get(message.channel)
        if gateway is None:
            return f"no gateway for channel {message.channel!r}"
        if claim.sealed is not None:
            try:
                body = unseal(claim.sealed, key=message.key, channel=message.channel, recipient=message.recipient)
            except SealError as exc:
                return str(exc)
            message = dataclasses.replace(message, body=body)
        try:
            gateway.deliver(message)
        except Exception as exc:  # any gateway failure is retried, never fatal to the dispatcher
            return _error_text(exc)
        return None

    def _settle(self, claim: Claim, now: datetime, error: str | None) -> bool:
        """Record the outcome of one delivery attempt; False if this claim's lease was lost meanwhile."""
        key, masked = claim.message.key, mask_recipient(claim.message.recipient)
        with db.transaction(self._url) as session:
            row = session.exec(
                select(Outbox)
                .where(Outbox.id == claim.outbox_id, Outbox.status == PENDING, Outbox.claimed_until == claim.until)
                .with_for_update()
            ).first()
            if row is None:
                logger.warning("%s: lease on %s lost before recording the outcome; left to its new holder",
                               self.worker_id, key)
                return False
            row.attempts += 1
            row.claimed_until = None
            if error is None:
                row.status, row.sent_at, row.last_error = SENT, now, None
            else:
                row.last_error = error
                if row.attempts >= self.policy.notification_max_attempts:
                    row.status = FAILED
                else:
                    row.next_attempt_at = now + self.policy.notification_backoff(row.attempts)
            if row.status != PENDING:
                row.sealed_body = None  # settled for good: nothing left to deliver, nothing to keep
            session.add(row)
            attempts, status, retry_at = row.attempts, row.status, row.next_attempt_at
        if error is None:
            logger.info("%s: %s %s delivered to %s (attempt %d)", self.worker_id, claim.message.channel, key,
                        masked, attempts)
        elif status == FAILED:
            logger.error("%s: %s %s to %s failed for good after %d attempts: %s", self.worker_id,
                         claim.message.channel, key, masked, attempts, error)
        else:
            logger.warning("%s: %s %s to %s not delivered (attempt %d): %s; next try at %s", self.worker_id,
                           claim.message.channel, key, masked, attempts, error, retry_at.isoformat())
        return True

    # --- running ------------------------------------------------------------------------------

    async def run_forever(self, stop: asyncio.Event, poll_interval: float = 0.5) -> None:
        """Deliver until ``stop`` is set, then return after the pass in progress.

        Each pass runs in a worker thread; between passes the loop naps ``poll_interval`` seconds,
        cut short by :meth:`wake` or ``stop``. A full batch is followed by another pass at once.
        """
        self._loop, self._wake_event = asyncio.get_running_loop(), asyncio.Event()
        logger.info("%s: dispatcher started", self.worker_id)
        try:
            while not stop.is_set():
                self._wake_event.clear()  # before the pass: a wake during it triggers another pass
                try:
                    claimed = (await asyncio.to_thread(self._pass, _utcnow())).claimed
                except Exception as exc:  # e.g. database unreachable: log (without data) and retry
                    logger.error("%s: dispatch pass failed (%s); retrying", self.worker_id, type(exc).__name__)
                    claimed = 0
                if claimed < self.batch:
                    await self._nap(stop, self._wake_event, poll_interval)
        finally:
            self._loop = self._wake_event = None
            logger.info("%s: dispatcher stopped", self.worker_id)

    def wake(self) -> None:
        """Ask a running :meth:`run_forever` for a pass now (e.g. a change just completed).

        Safe from any thread; does nothing when the dispatcher is not running in this process.
        """
        loop, event = self._loop, self._wake_event
        if loop is None or event is None:
            return
        try:
            loop.call_soon_threadsafe(event.set)
        except RuntimeError:  # the loop closed meanwhile: nothing left to wake
            pass

    @staticmethod
    async def _nap(stop: asyncio.Event, wake: asyncio.Event, timeout: float) -> None:
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
