"""MySys, the bank's system of record for contact data, simulated behind one interface (PRODUCT.md §7).

The simulator is a separate system: it keeps its own tables (``mysys_contact``, ``mysys_history``)
and commits in its own transactions, never in the caller's. Updates are idempotent on the operation
id (the change request id). Faults are injected by configuration:

* ``MYSYS_LATENCY_MS`` — delay before every update answer;
* ``MYSYS_ERROR_RATE`` — share of updates answered with an error, nothing applied;
* ``MYSYS_TIMEOUT_RATE`` — share of updates that time out *after* being applied, as a real timeout
  may: the caller cannot know, and must retry with the same operation id.
"""

from __future__ import annotations

import functools
import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from secure_phone.adapters import db
from secure_phone.adapters.models import MySysContact, MySysHistory


class MySysError(Exception):
    """MySys did not confirm the update."""


class MySysUnavailable(MySysError):
    """MySys answered with an error: nothing was applied; the call may be retried."""


class MySysTimeout(MySysError):
    """MySys did not answer in time: the update MAY have been applied; retry with the same id."""


class MySysUnknownCustomer(MySysError):
    """MySys has no contact record for this customer reference: retrying will not help."""


@dataclass(frozen=True)
class Contact:
    """A customer's contact data as MySys holds it."""

    customer_ref: str
    secure_phone_e164: str | None
    email: str
    updated_at: datetime


@dataclass(frozen=True)
class Receipt:
    """MySys's acknowledgement of an update; ``already_applied`` on a retried operation."""

    operation_id: str
    applied_at: datetime
    already_applied: bool


@dataclass(frozen=True)
class HistoryEntry:
    """One applied change of a customer's secure number, as MySys recorded it."""

    operation_id: str
    customer_ref: str
    old_e164: str | None
    new_e164: str
    source: str
    applied_at: datetime


class MySys(Protocol):
    """What the application may ask of the system of record."""

    def update_secure_phone(self, customer_ref: str, new_e164: str, operation_id: str, source: str) -> Receipt:
        """Set the secure number; idempotent on ``operation_id``. Raises :class:`MySysError`."""
        ...

    def get_customer_contact(self, customer_ref: str) -> Contact | None:
        """The customer's current contact data, or None when MySys does not know them."""
        ...


def read_fraction(environ: Mapping[str, str], name: str) -> float:
    """The variable ``name`` as a share between 0 and 1 (0 when unset); ValueError when it is not one."""
    raw = environ.get(name, "").strip()
    if not raw:
        return 0.0
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number between 0 and 1, got {raw!r}") from None
    return check_fraction(name, value)


def check_fraction(name: str, value: float) -> float:
    """``value`` unchanged if it lies in [0, 1]; a ValueError naming ``name`` otherwise (NaN included)."""
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1, got {value!r}")
    return value


@dataclass(frozen=True)
class Faults:
    """Fault injection of the simulator: latency in milliseconds, error and timeout shares (0..1)."""

    latency_ms: int = 0
    error_rate: float = 0.0
    timeout_rate: float = 0.0

    def __post_init__(self) -> None:
        """Refuse values that make no sense (negative latency, shares outside 0..1)."""
        if self.latency_ms < 0:
            raise ValueError(f"MYSYS_LATENCY_MS must be a non-negative integer, got {self.latency_ms!r}")
        check_fraction("MYSYS_ERROR_RATE", self.error_rate)
        check_fraction("MYSYS_TIMEOUT_RATE", self.timeout_rate)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Faults:
        """Read MYSYS_LATENCY_MS, MYSYS_ERROR_RATE and MYSYS_TIMEOUT_RATE (unset means no fault)."""
        env = os.environ if environ is None else environ
        raw_latency = env.get("MYSYS_LATENCY_MS", "").strip() or "0"
        try:
            latency_ms = int(raw_latency)
        except ValueError:
            raise ValueError(f"MYSYS_LATENCY_MS must be a non-negative integer, got {raw_latency!r}") from None
        return cls(
            latency_ms=latency_ms,
            error_rate=read_fraction(env, "MYSYS_ERROR_RATE"),
            timeout_rate=read_fraction(env, "MYSYS_TIMEOUT_RATE"),
        )


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _to_contact(row: MySysContact) -> Contact:
    return Contact(
        customer_ref=row.customer_ref,
        secure_phone_e164=row.secure_phone_e164,
        email=row.email,
        updated_at=row.updated_at,
    )


def _find_operation(session: Session, operation_id: str) -> MySysHistory | None:
    return session.exec(select(MySysHistory).where(MySysHistory.operation_id == operation_id)).first()


class SimulatedMySys:
    """The MySys simulator, on its own tables and in its own transactions.

    ``url`` is the database holding the ``mysys_`` tables (default: the app's database, which
    stands in for a separate server). ``rng`` and ``sleep`` are injectable so that tests decide
    the faults and never really wait.
    """

    def __init__(
        self,
        url: str | None = None,
        faults: Faults | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._url = url
        self.faults = faults or Faults()
        self._rng = rng or random.Random()  # fault simulation, not cryptography
        self._sleep = sleep

    # --- the MySys interface ------------------------------------------------------------------

    def update_secure_phone(self, customer_ref: str, new_e164: str, operation_id: str, source: str) -> Receipt:
        """Apply the new secure number once per ``operation_id`` and record it in the history.

        A retried operation returns the first receipt with ``already_applied=True``; another
        operation for the same customer applies on top. Raises :class:`MySysUnavailable` (nothing
        applied), :class:`MySysTimeout` (applied, answer lost) or :class:`MySysUnknownCustomer`.
        """
        if self.faults.latency_ms:
            self._sleep(self.faults.latency_ms / 1000)
        if self._rng.random() < self.faults.error_rate:
            raise MySysUnavailable("MySys answered with an error (injected fault)")
        times_out = self._rng.random() < self.faults.timeout_rate
        try:
            receipt = self._apply(customer_ref, new_e164, operation_id, source)
        except IntegrityError:
            # A concurrent call with the same operation id won the race on the unique constraint.
            existing = self._existing_receipt(operation_id)
            if existing is None:
                raise
            receipt = existing
        if times_out:
            raise MySysTimeout("MySys did not answer in time (injected fault)")
        return receipt

    def get_customer_contact(self, customer_ref: str) -> Contact | None:
        """The contact data MySys holds for ``customer_ref``, or None."""
        with db.transaction(self._url) as session:
            row = session.get(MySysContact, customer_ref)
            return None if row is None else _to_contact(row)

    # --- simulator administration (seed, back-office views, tests) ----------------------------

    def upsert_contact(self, customer_ref: str, secure_phone_e164: str | None, email: str) -> Contact:
        """Create or update a contact record (the seed); running it again changes nothing."""
        try:
            return self._upsert(customer_ref, secure_phone_e164, email)
        except IntegrityError:
            # Another seeder created the record between our read and our insert: update it.
            return self._upsert(customer_ref, secure_phone_e164, email)

    def history(self, customer_ref: str) -> list[HistoryEntry]:
        """Every change MySys applied to this customer's secure number, oldest first."""
        with db.transaction(self._url) as session:
            rows = session.exec(
                select(MySysHistory)
                .where(MySysHistory.customer_ref == customer_ref)
                .order_by(col(MySysHistory.applied_at), col(MySysHistory.id))
            ).all()
            return [
                HistoryEntry(
                    operation_id=row.operation_id,
                    customer_ref=row.customer_ref,
                    old_e164=row.old_e164,
                    new_e164=row.new_e164,
                    source=row.source,
                    applied_at=row.applied_at,
                )
                for row in rows
            ]

    # --- internals ----------------------------------------------------------------------------

    def _apply(self, customer_ref: str, new_e164: str, operation_id: str, source: str) -> Receipt:
        with db.transaction(self._url) as session:
            # Lock the contact first (PostgreSQL row lock; SQLite's BEGIN IMMEDIATE already
            # serialises writers), so that the look-up below sees any concurrent operation's commit.
            contact = session.exec(
                select(MySysContact).where(MySysContact.customer_ref == customer_ref).with_for_update()
            ).first()
            if contact is None:
                raise MySysUnknownCustomer("MySys knows no contact for this customer reference")
            done = _find_operation(session, operation_id)
            if done is not None:
                return Receipt(operation_id=operation_id, applied_at=done.applied_at, already_applied=True)
            now = _utcnow()
            session.add(
                MySysHistory(
                    customer_ref=customer_ref,
                    operation_id=operation_id,
                    old_e164=contact.secure_phone_e164,
                    new_e164=new_e164,
                    source=source,
                    applied_at=now,
                )
            )
            contact.secure_phone_e164 = new_e164
            contact.updated_at = now
            contact.version += 1
            session.add(contact)
            return Receipt(operation_id=operation_id, applied_at=now, already_applied=False)

    def _existing_receipt(self, operation_id: str) -> Receipt | None:
        with db.transaction(self._url) as session:
            done = _find_operation(session, operation_id)
            if done is None:
                return None
            return Receipt(operation_id=operation_id, applied_at=done.applied_at, already_applied=True)

    def _upsert(self, customer_ref: str, secure_phone_e164: str | None, email: str) -> Contact:
        with db.transaction(self._url) as session:
            row = session.exec(
                select(MySysContact).where(MySysContact.customer_ref == customer_ref).with_for_update()
            ).first()
            if row is None:
                row = MySysContact(
                    customer_ref=customer_ref, secure_phone_e164=secure_phone_e164, email=email, updated_at=_utcnow()
                )
            elif (row.secure_phone_e164, row.email) != (secure_phone_e164, email):
                row.secure_phone_e164 = secure_phone_e164
                row.email = email
                row.updated_at = _utcnow()
                row.version += 1
            else:
                return _to_contact(row)
            session.add(row)
            session.flush()
            return _to_contact(row)


@functools.cache
def get_mysys(url: str | None = None) -> MySys:
    """The process-wide MySys client: the simulator on the app's database (or on ``url``'s, a test's or a
    tool's), faults from the environment."""
    return SimulatedMySys(url, faults=Faults.from_env())
