"""The gateways' common ground (PRODUCT.md §7): what a gateway is given and may raise, the simulated
gateways (the demo inboxes' SMS gateway, the log-only stand-in) and the one writer of the demo inboxes.

``notifications`` (the outbox and the dispatcher) and ``smtp`` (the email gateway and the local receiver)
build on it; everything here is re-exported by ``notifications``.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal, Protocol, get_args

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from secure_phone.adapters import db
from secure_phone.adapters.models import DemoMessage
from secure_phone.adapters.mysys import check_fraction
from secure_phone.domain.phone import MASK, phone_from_e164
from secure_phone.settings import ConfigurationError, demo_mode

logger = logging.getLogger("secure_phone.adapters.notifications")  # the gateways' lines, as before

Channel = Literal["sms", "email"]
CHANNELS: Final[tuple[str, ...]] = get_args(Channel)

FAIL_RATE_ENV: Final[Mapping[str, str]] = {"sms": "SMS_GATEWAY_FAIL_RATE", "email": "EMAIL_GATEWAY_FAIL_RATE"}
"""The variable injecting faults into each channel's gateway (0..1; 1 = gateway down)."""


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


_INSERTS_ONCE: dict[tuple[Any, str, str], Any] = {}


def _add_once(session: Session, table: Any, values: dict[str, Any], key: str) -> bool:
    """Insert the row ``values`` into ``table`` unless a row with its value of the unique column ``key`` exists;
    True when added. ``None`` values are left out (the column's default, or NULL).

    One ``INSERT … ON CONFLICT (key) DO NOTHING`` (SQLite and PostgreSQL alike): a concurrent
    transaction that commits the same key first makes this insert a no-op, and the caller's
    transaction goes on. Any other integrity error is raised. Whether it added is read from ``RETURNING``
    (psycopg's row count of such an insert is not 1 on PostgreSQL, where SQLAlchemy adds a ``RETURNING``).
    The statement is built once per table and dialect (issue 13: built per call, with an ORM row made only to
    read its values back, it showed in the dispatcher's and the completion's profiles); its columns are the
    values given.
    """
    unknown = values.keys() - table.c.keys()
    if unknown:  # a misspelt column would be left out without a word (a seal lost, say)
        raise ValueError(f"no such column in {table.name}: {', '.join(sorted(unknown))}")
    dialect = session.get_bind().dialect.name
    statement = _INSERTS_ONCE.get((table, key, dialect))
    if statement is None:
        dialect_insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
        statement = _INSERTS_ONCE[(table, key, dialect)] = (
            dialect_insert(table).on_conflict_do_nothing(index_elements=[key]).returning(table.c[key]))
    given = {name: value for name, value in values.items() if value is not None}
    return session.execute(statement, given).first() is not None


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
    lang: str | None = None  # the recipient's language, when known



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
        file_demo_message(self._url, key=message.key, channel=message.channel, recipient=message.recipient,
                          subject=message.subject, body=message.body)


_FILED: list[Callable[[], None]] = []


def on_filed(callback: Callable[[], None]) -> None:
    """Call ``callback()`` (from any thread) once a new message was committed into a demo inbox (idempotent).

    The services turn it into an announcement (``services.demo_inbox.announce_arrivals``): the open inbox
    pages are pushed to, nobody polls the table."""
    if callback not in _FILED:
        _FILED.append(callback)


_DEMO_MESSAGES = DemoMessage.__table__  # type: ignore[attr-defined]


def file_demo_message(url: str | None, *, key: str, channel: str, recipient: str, subject: str | None, body: str,
                      smtp_session: str | None = None) -> bool:
    """Put one message in the recipient's demo inbox, once per ``key``; True when it was not there yet.

    Demo mode only: what the demo SMS gateway and the local SMTP receiver (``adapters.smtp``) deliver.
    ``smtp_session`` is the JSON record of the SMTP session that carried an email. Once a new message is
    committed, the :func:`on_filed` callbacks are called.
    """
    if not demo_mode():
        raise ConfigurationError("the demo inboxes exist in demo mode only (SECURE_PHONE_DEMO=1)")
    with db.transaction(url) as session:
        added = _add_once(
            session, _DEMO_MESSAGES,
            {"outbox_key": key, "channel": channel, "recipient": recipient, "subject": subject, "body": body,
             "received_at": _utcnow(), "smtp_session": smtp_session},
            "outbox_key",
        )
    if added:
        for callback in list(_FILED):
            try:
                callback()
            except Exception:  # noqa: BLE001  (a listener's failure must not fail a delivery already filed)
                logger.exception("demo inbox listener failed")
    return added


class LogGateway(_SimulatedGateway):
    """The SMS gateway outside demo mode (and the email one with ``SECURE_PHONE_SMTP_URL=log:``): it accepts a
    message, logs one line (the outbox key and the masked recipient) and keeps nothing of the body.

    It stands in for the operator's real SMS provider, which a later issue plugs in here (idempotent on the
    outbox key, like it: it keeps nothing, so a redelivery adds nothing).
    """

    def deliver(self, message: OutboxMessage) -> None:
        """Accept the message (one log line), or raise :class:`GatewayError`."""
        self._accept(message)
        logger.info("%s gateway (log only, no provider plugged in): accepted %s for %s", self.channel,
                    message.key, mask_recipient(message.recipient))


