"""SQLModel tables of the application and of the MySys and operator simulators.

The MySys tables (prefixed ``mysys_``) belong to the simulated system of record: only
:mod:`secure_phone.adapters.mysys` touches them; ``operator_line`` belongs to the simulated mobile operator
(:mod:`secure_phone.adapters.operator_sim`). Every datetime is stored as UTC and read back
timezone-aware.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import reflex as rx
import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class UTCDateTime(sa.types.TypeDecorator):
    """A datetime stored as naive UTC, returned timezone-aware (SQLite keeps no zone)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _dt(nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_column=sa.Column(UTCDateTime(), nullable=nullable, index=index))


def new_id() -> str:
    return uuid.uuid4().hex


class Agency(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=32)
    name: str
    phone: str
    hours_fr: str
    hours_en: str


class Advisor(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(unique=True, max_length=64)
    first_name: str
    last_name: str
    agency_id: int = Field(foreign_key="agency.id", index=True)
    password_hash: str
    failed_logins: int = 0
    locked_until: datetime | None = _dt(nullable=True)


class Customer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    identifier: str = Field(unique=True, max_length=10)
    first_name: str
    last_name: str
    email: str
    lang: str = "fr"
    person_type: str  # domain.PersonType
    birth_date: date | None = None
    emancipated: bool = False
    subscription: str  # domain.Subscription
    legal_protection: str  # domain.LegalProtection
    agency_id: int = Field(foreign_key="agency.id", index=True)
    advisor_id: int | None = Field(default=None, foreign_key="advisor.id")
    password_hash: str
    failed_logins: int = 0
    locked_until: datetime | None = _dt(nullable=True)
    # The app's copy of the secure number (MySys is the system of record); unique so that one
    # number can never be the secure number of two customers, even under a race.
    secure_phone_e164: str | None = Field(default=None, unique=True)
    number_confirmed_at: datetime | None = _dt(nullable=True)
    number_changed_at: datetime | None = _dt(nullable=True)
    cooling_off_until: datetime | None = _dt(nullable=True)
    stale_prompt_later_count: int = 0
    securpass_status: str = "none"  # domain.SecurPassStatus
    securpass_wrong_codes: int = 0
    securpass_moved_at: datetime | None = _dt(nullable=True)
    securpass_blocked_at: datetime | None = _dt(nullable=True)
    # « Je ne suis pas à l'origine de cette demande »: online changes (number, Sécur'Pass move) are
    # frozen until an advisor clears it (§12.2).
    frozen_at: datetime | None = _dt(nullable=True)
    frozen_reason: str | None = None
    # The operator said the secure number now belongs to another subscriber (Number Recycling, §12.4): no SMS
    # goes to it until the number is verified again with the advisor (a new secure number clears it).
    number_recycled_at: datetime | None = _dt(nullable=True)


class Device(SQLModel, table=True):
    """A smartphone running the app. Enrolled devices carry the Sécur'Pass binding."""

    id: str = Field(default_factory=new_id, primary_key=True)
    label: str
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    status: str = "unenrolled"  # unenrolled | enrolled | revoked
    public_jwk: str | None = None  # JSON {"kty","crv","x","y"}; the private key never leaves the phone
    code_hash: str | None = None  # keyed hash of the 4-digit Sécur'Pass code
    created_at: datetime = _dt()
    enrolled_at: datetime | None = _dt(nullable=True)
    revoked_at: datetime | None = _dt(nullable=True)
    key_registered_at: datetime | None = _dt(nullable=True)
    # A seeded persona's phone: the demo picker may give it a fresh key (demo mode only). Never set on a
    # device enrolled by the real procedure (J4), whose key only its holder can replace (§12.1).
    demo: bool = False


class UserSession(SQLModel, table=True):
    """A server-side login session.

    Reflex's state (pickled to disk or Redis) holds only ``id``, which is worth nothing on its own: an
    event is accepted only on the websocket that logged in, or on one that redeemed a
    :class:`SessionTicket`, which only the HttpOnly binding cookie can obtain (``binding_hash`` is the
    SHA-256 of that cookie's value, which the server never keeps).
    """

    id: str = Field(primary_key=True)  # random reference (32 bytes, url-safe)
    principal_kind: str  # customer | advisor
    principal_id: int = Field(index=True)
    channel: str  # web | app | advisor
    device_id: str | None = Field(default=None, foreign_key="device.id")
    created_at: datetime = _dt()
    last_seen_at: datetime = _dt()
    expires_at: datetime = _dt()
    ended_at: datetime | None = _dt(nullable=True)
    binding_hash: str | None = Field(default=None, index=True)
    end_reason: str | None = None  # logout | idle | max_age | factor_changed | not_me | advisor


class SessionTicket(SQLModel, table=True):
    """A one-time, short-lived ticket that lets a reloaded page's new websocket rejoin its session.

    Issued over HTTP to the holder of the binding cookie (``POST /api/session/ticket``), redeemed once
    on the websocket; only its SHA-256 is kept.
    """

    id: str = Field(primary_key=True)  # sha256 of the ticket
    session_id: str = Field(foreign_key="usersession.id", index=True)
    created_at: datetime = _dt()
    expires_at: datetime = _dt()
    used_at: datetime | None = _dt(nullable=True)


class RateCounter(SQLModel, table=True):
    """Failures or actions counted per key (a client address, say) in a fixed window."""

    key: str = Field(primary_key=True)  # e.g. "login:ip:<keyed hash of the address>"
    window_start: datetime = _dt()
    count: int = 0


class ChangeRequest(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    channel: str  # domain.Channel
    old_e164: str | None = Field(default=None, index=True)
    new_e164: str
    status: str = Field(index=True)  # domain.Status
    nonce: str = Field(unique=True)
    created_at: datetime = _dt(index=True)
    expires_at: datetime = _dt()
    decided_at: datetime | None = _dt(nullable=True)
    completed_at: datetime | None = _dt(nullable=True)
    device_id: str | None = Field(default=None, foreign_key="device.id")
    refusal_reason: str | None = None
    failure_reason: str | None = None
    mysys_attempts: int = 0
    advisor_id: int | None = Field(default=None, foreign_key="advisor.id")  # advisor change: who entered it
    validator_id: int | None = Field(default=None, foreign_key="advisor.id")  # the second advisor, if required
    risk_signals: str | None = None  # JSON list: the signals that required a second advisor
    session_id: str | None = None  # the login session that asked for it (it goes on after the change)
    approved_session_id: str | None = None  # the phone's session that approved it (it goes on too)


class AdvisorOperation(SQLModel, table=True):
    """An in-branch advisor action on a customer's Sécur'Pass or freeze (§12.2): identity checked, and
    validated by a second advisor of the agency when a risk signal is present."""

    id: str = Field(default_factory=new_id, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    kind: str  # unblock_securpass | clear_freeze
    status: str = Field(index=True)  # pending_validation | done | expired
    advisor_id: int = Field(foreign_key="advisor.id")
    validator_id: int | None = Field(default=None, foreign_key="advisor.id")
    document_type: str
    document_number_masked: str
    document_number_hash: str
    risk_signals: str | None = None  # JSON list
    # When the freeze or the block this operation answers began: a later one is another matter, which this
    # operation (and its identity check) cannot clear.
    subject_at: datetime | None = _dt(nullable=True)
    created_at: datetime = _dt()
    expires_at: datetime = _dt()
    decided_at: datetime | None = _dt(nullable=True)


class IdentityCheck(SQLModel, table=True):
    """The in-branch identity check an advisor change requires (never a phone call)."""

    id: int | None = Field(default=None, primary_key=True)
    change_request_id: str = Field(foreign_key="changerequest.id", unique=True)
    advisor_id: int = Field(foreign_key="advisor.id")
    document_type: str  # cni | passeport | titre_sejour
    document_number_masked: str  # the last 4 characters only
    document_number_hash: str  # keyed hash, to compare without keeping the number
    checked_at: datetime = _dt()


class SmsCode(SQLModel, table=True):
    """A code sent by SMS (to the current secure number, or to the new one to prove it); only its keyed hash
    is kept."""

    id: str = Field(default_factory=new_id, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    purpose: str  # activation (J4) | confirm_number (J7) | new_number (§12.3)
    device_id: str | None = Field(default=None, foreign_key="device.id")
    request_id: str | None = Field(default=None, foreign_key="changerequest.id")  # new_number: the request it proves
    code_hash: str
    issued_at: datetime = _dt(index=True)
    failures: int = 0  # the customer's failures for this purpose when the code was sent, plus this code's
    used_at: datetime | None = _dt(nullable=True)
    revoked_at: datetime | None = _dt(nullable=True)


class ContactRequest(SQLModel, table=True):
    """« Être rappelé par mon conseiller »: a request for the advisor, with its reason and context."""

    id: str = Field(default_factory=new_id, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    reason: str
    channel: str
    last_request_id: str | None = None  # the last change attempt's reference
    created_at: datetime = _dt(index=True)
    status: str = Field(default="open", index=True)  # open | taken | closed
    advisor_id: int | None = Field(default=None, foreign_key="advisor.id")
    note: str | None = None
    taken_at: datetime | None = _dt(nullable=True)
    closed_at: datetime | None = _dt(nullable=True)


class BankCall(SQLModel, table=True):
    """§12.5 « Is my bank calling me? »: an advisor's call to a customer, from « Appeler le client » on the sheet
    to « Raccrocher » (or, forgotten, until ``Policy.call_max_duration``); what the customer's app shows live.
    One open call per customer (the customer's row lock serialises the starts)."""

    id: str = Field(default_factory=new_id, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    advisor_id: int = Field(foreign_key="advisor.id")
    started_at: datetime = _dt()
    ended_at: datetime | None = _dt(nullable=True)
    end_reason: str | None = None  # advisor (« Raccrocher ») | expired (the policy's limit)
    reported_at: datetime | None = _dt(nullable=True)  # the customer reported this call from the app


class UsedNonce(SQLModel, table=True):
    """Every approval nonce ever presented with a valid signature: a replay hits the primary key."""

    nonce: str = Field(primary_key=True)
    request_id: str = Field(foreign_key="changerequest.id")
    used_at: datetime = _dt()


class Outbox(SQLModel, table=True):
    """Transactional outbox: written in the transaction that completes a change."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)  # e.g. "<request id>:email" — one notification per purpose
    channel: str  # sms | email
    recipient: str  # E.164 or email address
    subject: str | None = None
    body: str  # what may be read at rest: a code the message carries is shown as ••••••
    # The full body, sealed (AES-GCM, a key derived from the server secret); dropped once settled.
    sealed_body: str | None = None
    status: str = Field(default="pending", index=True)  # pending | sent | failed
    attempts: int = 0
    next_attempt_at: datetime = _dt(index=True)
    claimed_until: datetime | None = _dt(nullable=True)
    last_error: str | None = None
    created_at: datetime = _dt()
    sent_at: datetime | None = _dt(nullable=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    lang: str | None = None  # the recipient's language (fr | en) when known: an email's HTML part says it


class DemoMessage(SQLModel, table=True):
    """What the demo SMS/email gateways delivered: the phones' and mailboxes' inboxes."""

    id: int | None = Field(default=None, primary_key=True)
    outbox_key: str = Field(unique=True)  # the gateway is idempotent on the outbox key
    channel: str
    recipient: str = Field(index=True)
    subject: str | None = None
    body: str
    received_at: datetime = _dt()
    # How it came: for an email, the SMTP session that carried it to the local receiver (JSON: session id,
    # peer, MAIL FROM, RCPT TO, Message-ID, parts, time); None for what a demo gateway filed directly.
    smtp_session: str | None = None


class LiveSubscription(SQLModel, table=True):
    """A browser tab that wants to be pushed when one customer's requests change."""

    token: str = Field(primary_key=True)  # Reflex client token of the tab
    state: str = Field(primary_key=True)  # full name of the state class to refresh
    customer_id: int = Field(index=True)
    updated_at: datetime = _dt()


class AuditEntry(SQLModel, table=True):
    """Append-only audit trail; each entry's hash is a keyed MAC that covers the previous one (services.audit)."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _dt(index=True)
    actor_kind: str  # customer | device | advisor | system
    actor_id: str | None = None
    customer_id: int | None = Field(default=None, index=True)
    action: str = Field(index=True)
    outcome: str
    channel: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = Field(default=None, index=True)
    details: str = "{}"  # JSON, phone numbers masked
    prev_hash: str
    hash: str = Field(unique=True)


class AuditHead(SQLModel, table=True):
    """Row 1 holds the last hash (locking it serialises appends and checkpoints); row 2 the purge anchor."""

    id: int = Field(default=1, primary_key=True)
    last_hash: str


# --- MySys simulator (system of record) -------------------------------------------------------


class MySysContact(SQLModel, table=True):
    __tablename__ = "mysys_contact"
    customer_ref: str = Field(primary_key=True)
    secure_phone_e164: str | None = None
    email: str
    updated_at: datetime = _dt()
    version: int = 0


class MySysHistory(SQLModel, table=True):
    __tablename__ = "mysys_history"
    id: int | None = Field(default=None, primary_key=True)
    customer_ref: str = Field(index=True)
    operation_id: str = Field(unique=True)  # the change request id: idempotency key
    old_e164: str | None = None
    new_e164: str
    source: str
    applied_at: datetime = _dt()


# --- The operator's answers (§12.4), kept by the bank ---------------------------------------------


class OperatorCheck(SQLModel, table=True):
    """One answer of the mobile operator (GSMA Open Gateway / CAMARA), or its absence, with its provenance."""

    __tablename__ = "operator_check"
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    operator: str  # the operator's name, as configured
    api: str  # e.g. sim-swap/v2/retrieve-date
    correlator: str  # the x-correlator sent (and echoed)
    at: datetime = _dt(index=True)
    latency_ms: int = 0
    attempts: int = 1
    purpose: str  # change | advisor_change | activation | stale_number | callback
    subject: str  # which number: current | new | callback
    number: str  # masked
    result: str | None = None  # the answer's JSON body
    error: str | None = None  # the CAMARA error code, or timeout / unreachable


# --- The simulated operator (GSMA Open Gateway / CAMARA), its own state -----------------------------


class OperatorLine(SQLModel, table=True):
    """A mobile line as the simulated operator knows it: only :mod:`secure_phone.adapters.operator_sim` touches it."""

    __tablename__ = "operator_line"
    phone_e164: str = Field(primary_key=True)
    given_name: str | None = None  # the subscriber's name (KYC Match)
    family_name: str | None = None
    subscribed_since: date | None = None  # the current subscriber's contract (Number Recycling)
    sim_changed_at: datetime | None = _dt(nullable=True)  # SIM Swap
    device_changed_at: datetime | None = _dt(nullable=True)  # Device Swap
    forwarding: str = "inactive"  # Call Forwarding Signal: comma-separated CAMARA states
    updated_at: datetime = _dt()


# Every table shares ``SQLModel.metadata``: registering one model hands Reflex (``reflex db``)
# that whole metadata, without the per-model merge that would copy each table again.
rx.ModelRegistry.register(Agency)
