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

**Gateways**: emails go over SMTP (``adapters/smtp.py``): to the server of ``SECURE_PHONE_SMTP_URL`` when
set; in demo mode without it, to a local SMTP receiver that files what it receives into the demo inboxes
(``DemoMessage``, shown at ``/demo/messages``); outside demo mode without it, nowhere (refused, then
``failed``). In demo mode the SMS :class:`DemoGateway` writes what it delivers, in full, into the demo inboxes:
the demo inbox keeps its own copy in demo mode only. Otherwise a :class:`LogGateway` stands for the
operator's SMS provider.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import logging
import os
import socket
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Integer, bindparam, case, func, text
from sqlalchemy import select as sa_select
from sqlalchemy import update as sa_update
from sqlmodel import Session, col, or_, select

from secure_phone.adapters import db, smtp
from secure_phone.adapters.gateways import (
    FAIL_RATE_ENV,
    Channel,
    DemoGateway,
    Gateway,
    GatewayError,
    LogGateway,
    OutboxMessage,
    _add_once,
    _check_channel,
    _utcnow,
    mask_recipient,
)
from secure_phone.adapters.models import Outbox
from secure_phone.adapters.mysys import read_fraction
from secure_phone.domain.phone import MASK
from secure_phone.domain.policy import DEFAULT_POLICY, Policy
from secure_phone.settings import ConfigurationError, demo_mode, derived_key

logger = logging.getLogger(__name__)

_OUTBOX = Outbox.__table__  # type: ignore[attr-defined]

PENDING: Final = "pending"
SENT: Final = "sent"
FAILED: Final = "failed"

REDACTED: Final = MASK * 6
"""What ``Outbox.body`` shows in place of a secret: six bullets whatever its length (which it hides too)."""

SEAL_KEY_LABEL: Final = "outbox-seal"
_NONCE_BYTES = 12
_MAX_ERROR_LENGTH = 200


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
    lang: str | None = None,
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

    ``lang`` is the recipient's language when known (``fr`` / ``en``): an email's HTML part declares it.
    """
    _check_channel(channel)
    stored, sealed = body, None
    if secrets:
        if subject and any(secret in subject for secret in secrets):
            raise ValueError("a secret may be carried by the body only")
        stored = _redact(body, secrets)
        sealed = seal(body, key=key, channel=channel, recipient=recipient)
    wake_dispatchers(session)
    _add_once(
        session, _OUTBOX,
        {"key": key, "channel": channel, "recipient": recipient, "subject": subject, "body": stored,
         "sealed_body": sealed, "status": PENDING, "attempts": 0, "next_attempt_at": now, "created_at": now,
         "customer_id": customer_id, "lang": lang},
        "key",
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


def demo_gateways(url: str | None = None, environ: Mapping[str, str] | None = None) -> dict[str, Gateway]:
    """The gateways of demo mode: SMS into the demo inboxes (:class:`DemoGateway`), email over SMTP
    (:func:`secure_phone.adapters.smtp.email_gateway`: to ``SECURE_PHONE_SMTP_URL`` when set, else to the local
    receiver, which files what it receives into the demo inboxes); with the fail rates of SMS_GATEWAY_FAIL_RATE /
    EMAIL_GATEWAY_FAIL_RATE, all read from ``environ`` (default: the process's environment).

    Demo mode only (see :class:`DemoGateway`).
    """
    env = os.environ if environ is None else environ
    return {"sms": DemoGateway("sms", url=url, fail_rate=read_fraction(env, FAIL_RATE_ENV["sms"])),
            "email": smtp.email_gateway(url, env)}


def default_gateways(url: str | None = None, environ: Mapping[str, str] | None = None) -> dict[str, Gateway]:
    """The gateways of this run: :func:`demo_gateways` in demo mode (``settings.demo_mode()``); otherwise a
    :class:`LogGateway` for SMS and :func:`secure_phone.adapters.smtp.email_gateway` for email (SMTP to
    ``SECURE_PHONE_SMTP_URL``; without it, a gateway that refuses every email, so that they end ``failed``,
    visible to advisors, rather than lost)."""
    if demo_mode():
        return demo_gateways(url, environ)
    env = os.environ if environ is None else environ
    return {"sms": LogGateway("sms", fail_rate=read_fraction(env, FAIL_RATE_ENV["sms"])),
            "email": smtp.email_gateway(url, env)}


# --- waking a dispatcher in another process ---------------------------------------------------

OUTBOX_CHANNEL: Final = "secure_phone_outbox"


def wake_dispatchers(session: Session) -> None:
    """On PostgreSQL: wake the separate dispatchers when ``session``'s transaction commits (a rolled-back one
    notifies nobody; PostgreSQL folds the notifications of one transaction into one) — for its outbox, and
    for a change left waiting for MySys."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"NOTIFY {OUTBOX_CHANNEL}"))
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
    attempts: int  # the row's attempts when claimed: nobody else's lease can change them meanwhile
    sealed: str | None = None


def _aware(value: datetime | str) -> datetime:
    """An aggregate's datetime (SQLite may hand back its text), as UTC."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class _Pass:
    claimed: int
    delivered: int
    next_due: datetime | None = None  # when the next pending message falls due (a retry, another's lease)


def _error_text(exc: Exception) -> str:
    """A short, safe ``last_error``: a gateway's own message, or only the type of anything else."""
    if isinstance(exc, GatewayError):
        return str(exc)[:_MAX_ERROR_LENGTH] or "GatewayError"
    return f"unexpected {type(exc).__name__}"


_O = _OUTBOX.c
_UNCLAIMED = or_(_O.claimed_until.is_(None), _O.claimed_until < bindparam("now"))
# The dispatcher's statements, built once (issue 13: built per pass and per message, through the ORM, they were
# half of the separate dispatcher's CPU in the profile). Core rows: no ORM object of the outbox is loaded here.
_DUE = (sa_select(_O.id, _O.key, _O.channel, _O.recipient, _O.subject, _O.body, _O.lang, _O.sealed_body,
                  _O.attempts)
        .where(_O.status == PENDING, _O.next_attempt_at <= bindparam("now"), _UNCLAIMED)
        .order_by(_O.next_attempt_at, _O.id)
        .limit(bindparam("batch", type_=Integer))
        .with_for_update(skip_locked=True))  # PostgreSQL; SQLite renders nothing and needs nothing
_LEASE = (sa_update(_OUTBOX).where(_O.id.in_(bindparam("ids", expanding=True)))
          .values(claimed_until=bindparam("until")))
_LEASED = (_O.id == bindparam("outbox_id"), _O.status == PENDING, _O.claimed_until == bindparam("until"),
           _O.attempts == bindparam("attempts_before"))
_SETTLE_FOR_GOOD = sa_update(_OUTBOX).where(*_LEASED).values(  # nothing left to deliver, nothing to keep
    attempts=bindparam("attempts_after"), claimed_until=None, status=bindparam("status_after"),
    sent_at=bindparam("sent_at"), last_error=bindparam("error"), sealed_body=None)
_SETTLE_FOR_RETRY = sa_update(_OUTBOX).where(*_LEASED).values(  # the seal stays for the next attempt
    attempts=bindparam("attempts_after"), claimed_until=None, last_error=bindparam("error"),
    next_attempt_at=bindparam("retry_at"))
_NEXT_DUE = sa_select(
    func.min(case((_UNCLAIMED, _O.next_attempt_at))),
    func.min(case((_O.claimed_until >= bindparam("now"), _O.claimed_until))),
).where(_O.status == PENDING)


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
            rows = session.execute(_DUE, {"now": now, "batch": self.batch}).all()
            if rows:
                session.execute(_LEASE, {"ids": [row.id for row in rows], "until": until})
            return [Claim(outbox_id=row.id, until=until, sealed=row.sealed_body, attempts=row.attempts,
                          message=OutboxMessage(key=row.key, channel=row.channel, recipient=row.recipient,
                                                subject=row.subject, body=row.body, lang=row.lang))
                    for row in rows]

    def _pass(self, now: datetime) -> _Pass:
        claims = self.claim(now)
        delivered = 0
        for claim in claims:
            error = self._deliver(claim)
            if self._settle(claim, now, error) and error is None:
                delivered += 1
        return _Pass(claimed=len(claims), delivered=delivered, next_due=self.next_due(now))

    def next_due(self, now: datetime) -> datetime | None:
        """When the next pending message may be claimed: its retry time, or the end of the lease another
        dispatcher holds on it; None when nothing is pending."""
        with db.read_only(self._url) as session:
            retry, lease = session.execute(_NEXT_DUE, {"now": now}).one()
        due = [_aware(v) for v in (retry, lease) if v is not None]
        return min(due) if due else None

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
        """Record the outcome of one delivery attempt; False if this claim's lease was lost meanwhile.

        One ``UPDATE`` fenced by the lease (the row still pending, still leased until this claim's ``until``,
        its attempts those the claim read): a lease another dispatcher took over after it expired changes
        nothing here."""
        key, masked = claim.message.key, mask_recipient(claim.message.recipient)
        attempts = claim.attempts + 1
        retry_at = now + self.policy.notification_backoff(attempts)
        status = SENT if error is None else FAILED if attempts >= self.policy.notification_max_attempts else PENDING
        fence = {"outbox_id": claim.outbox_id, "until": claim.until, "attempts_before": claim.attempts,
                 "attempts_after": attempts, "error": error}
        with db.transaction(self._url) as session:
            if status == PENDING:
                settled = session.connection().execute(_SETTLE_FOR_RETRY, {**fence, "retry_at": retry_at})
            else:
                settled = session.connection().execute(_SETTLE_FOR_GOOD, {
                    **fence, "status_after": status, "sent_at": now if status == SENT else None})
            if settled.rowcount != 1:
                logger.warning("%s: lease on %s lost before recording the outcome; left to its new holder",
                               self.worker_id, key)
                return False
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

    async def run_forever(self, stop: asyncio.Event, poll_interval: float = 0.5,
                          idle_interval: float | None = None) -> None:
        """Deliver until ``stop`` is set, then return after the pass in progress.

        Each pass runs in a worker thread; between passes the loop naps ``poll_interval`` seconds,
        cut short by :meth:`wake` or ``stop``. A full batch is followed by another pass at once.

        ``idle_interval``: when every commit that queues a message wakes this dispatcher (in-process in the
        embedded mode, PostgreSQL's NOTIFY for a separate one), it does not poll: it naps until the next
        pending message falls due (a retry, a lease to take over), or ``idle_interval`` at most (the safety
        net), or until woken.
        """
        self._loop, self._wake_event = asyncio.get_running_loop(), asyncio.Event()
        logger.info("%s: dispatcher started", self.worker_id)
        try:
            while not stop.is_set():
                self._wake_event.clear()  # before the pass: a wake during it triggers another pass
                nap = poll_interval
                try:
                    done = await asyncio.to_thread(self._pass, _utcnow())
                    claimed = done.claimed
                    if idle_interval is not None:
                        nap = idle_interval if done.next_due is None else min(
                            idle_interval, max(poll_interval, (done.next_due - _utcnow()).total_seconds()))
                except Exception as exc:  # e.g. database unreachable: log (without data) and retry
                    logger.error("%s: dispatch pass failed (%s); retrying", self.worker_id, type(exc).__name__)
                    claimed = 0
                if claimed == 0 and self._holding():
                    await asyncio.to_thread(self.end_sessions)  # nothing to send: no session held open
                if claimed < self.batch:
                    if self._holding():  # the pass that ends the session kept comes within its reuse window
                        nap = min(nap, self._reuse_window(nap))
                    await self._nap(stop, self._wake_event, nap)
        finally:
            self._loop = self._wake_event = None
            await asyncio.to_thread(self.end_sessions, final=True)
            logger.info("%s: dispatcher stopped", self.worker_id)

    def _holding(self) -> bool:
        return any(getattr(gateway, "holding", False) for gateway in self.gateways.values())

    def _reuse_window(self, default: float) -> float:
        """How long the sessions kept wait for a next message (the shortest), ``default`` if none says."""
        return min((float(getattr(gateway, "REUSE_SECONDS", default)) for gateway in self.gateways.values()
                    if getattr(gateway, "holding", False)), default=default)

    def end_sessions(self, *, final: bool = False) -> None:
        """End what the gateways keep open between messages (the SMTP session): after a pass that found nothing
        to send, and when the dispatcher stops (``final``: a pass still running in its thread keeps none)."""
        for gateway in self.gateways.values():
            close = getattr(gateway, "close", None)
            if close is not None:
                try:
                    close(final=final)
                except Exception as exc:  # a session that ends badly is gone all the same
                    logger.warning("%s: %s gateway's session ended badly (%s)", self.worker_id,
                                   getattr(gateway, "channel", "?"), type(exc).__name__)

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
