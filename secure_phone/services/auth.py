"""Login and server-side sessions (customers on web and app, advisors).

A login opens a :class:`~secure_phone.adapters.models.UserSession` and returns two values:

* ``session_id``, the row's reference, which the UI keeps in Reflex's state. That state is pickled to
  disk or Redis, so the reference must be worth nothing there: an event is accepted only on the websocket
  that logged in, or on one that redeemed a one-time :func:`ticket <issue_ticket>`;
* ``binding``, a random value that only the browser keeps, as an HttpOnly cookie: it is what obtains a
  ticket when a reload opens a new websocket. The server keeps only its SHA-256.

Sessions end after ``policy.session_idle_timeout`` without activity (5 minutes, PSD2 RTS Art. 4(3)(d)),
after ``policy.session_max_age`` in all, at logout, and when something makes them unsafe
(:func:`end_sessions`: a change of secure number, a Sécur'Pass move, a « not me » refusal, an advisor).

Login refusals say nothing about the account: an unknown identifier, a wrong password and a locked account
get the same answer. Failures are counted per account (lockout) and per client address (throttling), so
that nobody can tell which identifiers exist, nor lock them all from one place.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, delete, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from secure_phone.adapters.models import Advisor, Customer, Device, RateCounter, SessionTicket, UserSession
from secure_phone.domain.policy import DEFAULT_POLICY, Policy
from secure_phone.domain.securpass import login_text, verify_signature
from secure_phone.services import live
from secure_phone.services.audit import Actor
from secure_phone.services.inputs import IDENTIFIER_LIMIT, PASSWORD_LIMIT, key
from secure_phone.services.unit_of_work import Refused, UnitOfWork
from secure_phone.settings import derived_key

_HASHER = PasswordHasher(
    time_cost=DEFAULT_POLICY.password_hash_iterations,
    memory_cost=DEFAULT_POLICY.password_hash_memory_kib,
    parallelism=DEFAULT_POLICY.password_hash_lanes,
)
# Verified when the identifier is unknown, so that the answer takes the same time either way.
_DUMMY_HASH = _HASHER.hash("not a password")
TOUCH_EVERY_SECONDS = 15
"""``last_seen_at`` is written at most this often: the idle timeout is exact to these seconds."""
TICKET_TTL = timedelta(seconds=30)

REFUSED = "login.error.invalid"
"""The one answer to a wrong password, an unknown identifier and a locked account."""
THROTTLED = "login.error.throttled"
"""Too many failures from this client address (says nothing about any account)."""


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


@dataclass(frozen=True)
class Principal:
    """Who a valid session belongs to."""

    kind: str  # customer | advisor
    id: int
    channel: str  # web | app | advisor
    device_id: str | None
    session_id: str
    ends_at: datetime | None = None  # when it ends without more activity (idle timeout or max age)


@dataclass(frozen=True)
class DeviceProof:
    """The app's login signed by its phone's key: the nonce the server gave the page, and the signature."""

    nonce: str
    signature: str


@dataclass(frozen=True)
class Login:
    """A session just opened: its reference (for the server's state), the browser's binding value, and who it is
    (what :func:`authenticate` would say right now, without asking the database again)."""

    session_id: str
    binding: str
    principal: Principal


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# --- per-address throttling ---------------------------------------------------------------------


def client_block(address: str | None) -> str:
    """The block a client address is counted in: the address itself for IPv4 (an IPv4-mapped IPv6 address
    included), its /64 for IPv6 (one household or server holds a whole /64 and may take a new address per
    attempt); ``unknown`` when there is none."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def _address_key(purpose: str, address: str | None) -> str:
    """The counter key of a client address (a keyed hash: the table does not list addresses)."""
    mac = hmac.new(derived_key("rate-limit"), client_block(address).encode(), hashlib.sha256).hexdigest()[:32]
    return f"{purpose}:{mac}"


def _counted(session: Session, counter_key: str, now: datetime, window: timedelta) -> int:
    row = session.get(RateCounter, counter_key)
    return row.count if row is not None and now - row.window_start < window else 0


def count_attempt(session: Session, purpose: str, address: str | None, now: datetime, window: timedelta) -> int:
    """Count one attempt of ``purpose`` from ``address`` in the current window; the count so far."""
    counter_key = _address_key(purpose, address)
    row = session.exec(select(RateCounter).where(RateCounter.key == counter_key).with_for_update()).first()
    if row is None:
        row = RateCounter(key=counter_key, window_start=now, count=0)
    elif now - row.window_start >= window:
        row.window_start, row.count = now, 0
    row.count += 1
    session.add(row)
    return row.count


# --- login --------------------------------------------------------------------------------------


def warm_up() -> None:
    """Verify a throwaway hash: the calling thread's allocator then holds argon2's working memory for the next
    verifications (``ui.runtime.warm_password_threads``)."""
    _password_ok(None, "warm-up")


def _password_ok(password_hash: str | None, password: str) -> bool:
    """Verify outside any transaction (argon2 is slow on purpose: no lock may wait for it)."""
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def _locked(account: Customer | Advisor | None, now: datetime) -> bool:
    return account is not None and account.locked_until is not None and account.locked_until > now


@dataclass(frozen=True)
class _Verdict:
    """The password check, made before the write transaction."""

    verified_hash: str | None  # the hash checked against (None: unknown or locked account)
    ok: bool
    new_hash: str | None  # the password hashed with the current parameters, when the stored hash is older


def _verify(uow: UnitOfWork, query: SelectOfScalar[Customer] | SelectOfScalar[Advisor], password: str,
            actor: Actor) -> _Verdict:
    """In one read: is the client address throttled (then refused outright, before any password check), and the
    account; then the password checked outside any transaction (the dummy hash when the account is unknown or
    locked: the same time either way)."""
    now, policy = uow.now, uow.policy
    with uow.read() as session:
        throttled = _counted(session, _address_key("login", actor.ip), now,
                             policy.login_address_window) >= policy.login_failures_per_address
        seen = None if throttled else session.exec(query).first()
    if throttled:
        with uow.write(actor):
            raise Refused(THROTTLED, action="login", outcome="throttled")
    verified_hash = seen.password_hash if seen is not None and not _locked(seen, now) else None
    ok = _password_ok(verified_hash, password)
    rehash = ok and verified_hash is not None and _HASHER.check_needs_rehash(verified_hash)  # never ok without one
    new_hash = hash_password(password) if rehash else None
    return _Verdict(verified_hash, ok, new_hash)


def _check_password(
    session: Session,
    account: Customer | Advisor | None,
    verdict: _Verdict,
    actor: Actor,
    now: datetime,
    policy: Policy,
    customer_id: int | None,
) -> None:
    """Apply the verdict of the password check to the account, now locked for update.

    A lock taken or a password changed since the check wins over its verdict. Refuses — committing what the
    failure changed (counters, lock) with the audit entry — with the same answer whether the account is
    locked, unknown, or the password wrong.
    """
    locked = _locked(account, now)
    if locked or not verdict.ok or account is None or account.password_hash != verdict.verified_hash:
        if account is not None and not locked and account.password_hash == verdict.verified_hash:
            account.failed_logins += 1
            if account.failed_logins >= policy.login_max_failures:
                account.locked_until = now + policy.login_lockout
                account.failed_logins = 0
            session.add(account)
        count_attempt(session, "login", actor.ip, now, policy.login_address_window)
        raise Refused(REFUSED, action="login", outcome="locked" if locked else "refused", customer_id=customer_id)
    account.failed_logins = 0
    account.locked_until = None
    if verdict.new_hash is not None:  # stored with older parameters
        account.password_hash = verdict.new_hash
    session.add(account)


def _open_session(
    session: Session, kind: str, principal_id: int, channel: str, device_id: str | None, now: datetime, policy: Policy
) -> Login:
    session_id = secrets.token_urlsafe(32)
    ends_at = min(now + policy.session_idle_timeout, now + policy.session_max_age)
    login = Login(session_id=session_id, binding=secrets.token_urlsafe(32),
                  principal=Principal(kind, principal_id, channel, device_id, session_id, ends_at))
    session.add(
        UserSession(
            id=login.session_id,
            principal_kind=kind,
            principal_id=principal_id,
            channel=channel,
            device_id=device_id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + policy.session_max_age,
            binding_hash=_digest(login.binding),
        )
    )
    return login


def _session_device(session: Session, device_id: str | None, customer_id: int, proof: DeviceProof | None) -> str | None:
    """The phone a login names, if it may be this session's: the customer's own enrolled phone, or a new
    phone that is nobody's yet — and only when the login is signed by that phone's key over
    :func:`~secure_phone.domain.securpass.login_text` (knowing a device id is worth nothing). Another
    customer's phone, a revoked one, an unknown id or a missing or wrong signature give none."""
    device_id = key(device_id) or None
    device = session.get(Device, device_id) if device_id else None
    if device is None or proof is None or not device.public_jwk:
        return None
    mine = (device.status == "enrolled" and device.customer_id == customer_id) or (
        device.status == "unenrolled" and device.customer_id in (None, customer_id))
    if not mine or not proof.nonce or len(proof.nonce) > 100:
        return None
    text = login_text(device_id=device.id, nonce=proof.nonce)
    return device.id if verify_signature(json.loads(device.public_jwk), text, proof.signature) else None


def _credentials(name: object, password: object) -> tuple[str, str]:
    name, password = key(name, IDENTIFIER_LIMIT).strip(), key(password, PASSWORD_LIMIT)
    if not name or not password:
        raise Refused("login.error.empty")
    return name, password


def login_customer(
    uow: UnitOfWork,
    identifier: str,
    password: str,
    *,
    channel: str,
    actor: Actor,
    device_id: str | None = None,
    device_proof: DeviceProof | None = None,
    follower: live.Follower | None = None,
) -> Login:
    """Check the credentials and open a session (on ``device_id``, the app's phone, when ``device_proof``
    shows the login was signed by that phone's key). ``follower``: the tab logging in, which then follows the
    customer's changes (its live subscription, written in the login's transaction)."""
    identifier, password = _credentials(identifier, password)
    query = select(Customer).where(Customer.identifier == identifier)
    verdict = _verify(uow, query, password, actor)
    with uow.write(actor) as tx:
        customer = tx.session.exec(query.with_for_update()).first()
        _check_password(tx.session, customer, verdict, actor, tx.now, uow.policy, customer.id if customer else None)
        assert customer is not None and customer.id is not None
        device = _session_device(tx.session, device_id, customer.id, device_proof)
        opened = _open_session(tx.session, "customer", customer.id, channel, device, tx.now, uow.policy)
        if follower is not None:
            live.follow(tx, follower, customer.id)
        tx.record("login", "ok", customer_id=customer.id, device=device,
                  device_refused=(bool(device_id) and device is None) or None)
        return opened


def login_advisor(uow: UnitOfWork, login: str, password: str, *, actor: Actor) -> Login:
    login, password = _credentials(login, password)
    login = login.lower()
    query = select(Advisor).where(Advisor.login == login)
    verdict = _verify(uow, query, password, actor)
    with uow.write(actor) as tx:
        advisor = tx.session.exec(query.with_for_update()).first()
        _check_password(tx.session, advisor, verdict, actor, tx.now, uow.policy, None)
        assert advisor is not None and advisor.id is not None
        opened = _open_session(tx.session, "advisor", advisor.id, "advisor", None, tx.now, uow.policy)
        tx.record("advisor_login", "ok", advisor=advisor.id)
        return opened


# --- sessions -----------------------------------------------------------------------------------


def _expired(row: Any, now: datetime, policy: Policy) -> str | None:
    """Why a live row is no longer valid at ``now``, or None."""
    if now >= row.expires_at:
        return "max_age"
    if now - row.last_seen_at >= policy.session_idle_timeout:
        return "idle"
    return None


_SESSIONS = UserSession.__table__  # type: ignore[attr-defined]
_SESSION_ROW = sa_select(_SESSIONS).where(_SESSIONS.c.id == bindparam("session_id"))


def authenticate(uow: UnitOfWork, session_id: str | None, *, touch: bool = True) -> Principal | None:
    """The principal of a live session, or None (unknown, ended, idle too long or too old).

    With ``touch`` (an event of the session's own), the call is activity: it moves the idle timer (written at
    most every ``TOUCH_EVERY_SECONDS``). A refresh pushed by another client, or a timer, is not: it checks
    without touching, so a tab nobody uses ends after the idle timeout however busy the customer is elsewhere.
    """
    session_id = key(session_id)
    if not session_id:
        return None
    now, policy = uow.now, uow.policy
    with uow.reading() as connection:  # every event asks: one Core statement built once, no ORM session
        row = connection.execute(_SESSION_ROW, {"session_id": session_id}).first()
    if row is None or row.ended_at is not None:
        return None
    expired = _expired(row, now, policy)
    last_seen = row.last_seen_at
    if expired or (touch and (now - row.last_seen_at).total_seconds() >= TOUCH_EVERY_SECONDS):
        with uow.write() as tx:
            live = tx.session.get(UserSession, session_id)
            if live is None or live.ended_at is not None:
                return None
            expired = _expired(live, now, policy)
            if expired:
                live.ended_at, live.end_reason = now, expired
            else:
                live.last_seen_at = last_seen = max(live.last_seen_at, now)
            tx.session.add(live)
        if expired:
            return None
    ends_at = min(last_seen + policy.session_idle_timeout, row.expires_at)
    return Principal(row.principal_kind, row.principal_id, row.channel, row.device_id, row.id, ends_at)


def end_reason(uow: UnitOfWork, session_id: str | None) -> str | None:
    """Why a session ended (``logout``, ``idle``, ``factor_changed``, ``not_me``, ``advisor``…), or None."""
    session_id = key(session_id)
    if not session_id:
        return None
    with uow.read() as session:
        row = session.get(UserSession, session_id)
    return row.end_reason if row is not None and row.ended_at is not None else None


_END_LIVE = update(_SESSIONS).where(
    _SESSIONS.c.principal_kind == "customer", _SESSIONS.c.principal_id == bindparam("whose"),
    _SESSIONS.c.ended_at.is_(None)).values(ended_at=bindparam("end_at"), end_reason=bindparam("why"))
# Built once (issue 13: every completed change ends sessions): all of them, or all but those kept.
_END_ALL_BUT = _END_LIVE.where(_SESSIONS.c.id.not_in(bindparam("kept", expanding=True)))


def end_sessions(
    session: Session, customer_id: int, *, reason: str, now: datetime, keep: tuple[str | None, ...] = ()
) -> int:
    """End every live session of the customer but those in ``keep``, in the caller's transaction; how many.

    The tabs that showed them are told by the push that follows the caller's change (their next check
    finds the session ended and says why). A Core statement: no session row is loaded as an object by the
    callers, so none is left stale.
    """
    kept = [k for k in keep if k]
    values: dict[str, Any] = {"whose": customer_id, "end_at": now, "why": reason}
    if kept:
        values["kept"] = kept
    result = session.execute(_END_ALL_BUT if kept else _END_LIVE, values)
    return int(getattr(result, "rowcount", 0) or 0)


def logout(uow: UnitOfWork, session_id: str | None, *, actor: Actor) -> None:
    session_id = key(session_id)
    if not session_id:
        return
    with uow.write(actor) as tx:
        row = tx.session.get(UserSession, session_id)
        if row is not None and row.ended_at is None:
            row.ended_at, row.end_reason = tx.now, "logout"
            tx.session.add(row)
            tx.record("logout", "ok", customer_id=row.principal_id if row.principal_kind == "customer" else None)


# --- rejoining a session from a reloaded page -----------------------------------------------------


def session_for_binding(uow: UnitOfWork, binding: str | None, channel: str) -> str | None:
    """The live session of ``channel`` that a binding cookie belongs to, or None."""
    binding = key(binding)
    if not binding:
        return None
    with uow.read() as session:
        row = session.exec(select(UserSession).where(UserSession.binding_hash == _digest(binding))).first()
    if row is None or row.channel != channel or row.ended_at is not None or _expired(row, uow.now, uow.policy):
        return None
    return row.id


def issue_ticket(uow: UnitOfWork, binding: str | None, channel: str) -> str | None:
    """A one-time ticket (valid ``TICKET_TTL``) for the holder of a live session's binding cookie."""
    session_id = session_for_binding(uow, binding, channel)
    if session_id is None:
        return None
    ticket = secrets.token_urlsafe(32)
    with uow.write() as tx:
        tx.session.execute(delete(SessionTicket).where(col(SessionTicket.expires_at) < tx.now - timedelta(hours=1)))
        tx.session.add(SessionTicket(id=_digest(ticket), session_id=session_id, created_at=tx.now,
                                     expires_at=tx.now + TICKET_TTL))
    return ticket


def redeem_ticket(uow: UnitOfWork, ticket: object, session_id: str | None) -> bool:
    """Spend a ticket for ``session_id`` (the session the page's state names); True when it was good."""
    ticket, session_id = key(ticket), key(session_id)
    if not ticket or not session_id:
        return False
    with uow.write() as tx:
        row = tx.session.exec(select(SessionTicket).where(SessionTicket.id == _digest(ticket))
                              .with_for_update()).first()
        if row is None or row.used_at is not None or tx.now >= row.expires_at or row.session_id != session_id:
            return False
        row.used_at = tx.now
        tx.session.add(row)
        return True
