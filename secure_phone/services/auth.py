"""Login and server-side sessions (customers on web and app, advisors).

The browser never holds the session secret: Reflex keeps it in a backend-only state variable.
The database keeps only its SHA-256, so a leaked table cannot be replayed. Sessions end after
``policy.session_idle_timeout`` without activity and after ``policy.session_max_age`` in all.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from secure_phone.adapters.db import read_only, transaction
from secure_phone.adapters.models import Advisor, Customer, Device, UserSession
from secure_phone.domain.policy import DEFAULT_POLICY, Policy
from secure_phone.services.audit import Actor, record
from secure_phone.services.inputs import key

_HASHER = PasswordHasher(
    time_cost=DEFAULT_POLICY.password_hash_iterations,
    memory_cost=DEFAULT_POLICY.password_hash_memory_kib,
    parallelism=DEFAULT_POLICY.password_hash_lanes,
)
# Verified when the identifier is unknown, so that the answer takes the same time either way.
_DUMMY_HASH = _HASHER.hash("not a password")
TOUCH_EVERY_SECONDS = 30


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


class LoginError(Exception):
    """Login refused; ``code`` is an i18n key that never says which of the two fields was wrong."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Principal:
    """Who a valid session belongs to."""

    kind: str  # customer | advisor
    id: int
    channel: str  # web | app | advisor
    device_id: str | None
    session_id: str


def _session_id(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


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


def _verify(query, password: str, now: datetime, url: str | None) -> _Verdict:  # type: ignore[no-untyped-def]
    """Read the account, then check the password outside any transaction (the dummy hash when the
    account is unknown or locked: the same time either way)."""
    with read_only(url) as session:
        seen = session.exec(query).first()
    verified_hash = seen.password_hash if seen is not None and not _locked(seen, now) else None
    ok = _password_ok(verified_hash, password)
    new_hash = hash_password(password) if ok and _HASHER.check_needs_rehash(verified_hash) else None
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

    A lock taken or a password changed since the check wins over its verdict. Raises LoginError after
    committing what the failure changed (counter, lock, audit).
    """
    if _locked(account, now):
        record(session, actor, "login", "locked", now=now, customer_id=customer_id)
        session.commit()
        raise LoginError("login.error.locked")
    if not verdict.ok or account is None or account.password_hash != verdict.verified_hash:
        if account is not None and account.password_hash == verdict.verified_hash:
            account.failed_logins += 1
            if account.failed_logins >= policy.login_max_failures:
                account.locked_until = now + policy.login_lockout
                account.failed_logins = 0
            session.add(account)
        record(session, actor, "login", "refused", now=now, customer_id=customer_id)
        session.commit()
        raise LoginError("login.error.invalid")
    account.failed_logins = 0
    account.locked_until = None
    if verdict.new_hash is not None:  # stored with older parameters
        account.password_hash = verdict.new_hash
    session.add(account)


def _open_session(
    session: Session, kind: str, principal_id: int, channel: str, device_id: str | None, now: datetime, policy: Policy
) -> str:
    secret = secrets.token_urlsafe(32)
    session.add(
        UserSession(
            id=_session_id(secret),
            principal_kind=kind,
            principal_id=principal_id,
            channel=channel,
            device_id=device_id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + policy.session_max_age,
        )
    )
    return secret


def login_customer(
    identifier: str,
    password: str,
    *,
    channel: str,
    actor: Actor,
    now: datetime,
    device_id: str | None = None,
    policy: Policy = DEFAULT_POLICY,
    url: str | None = None,
) -> str:
    """Check the credentials and open a session; returns the session secret (kept server-side)."""
    identifier = key(identifier).strip()
    if not identifier or not password:
        raise LoginError("login.error.empty")
    query = select(Customer).where(Customer.identifier == identifier)
    verdict = _verify(query, password, now, url)
    with transaction(url) as session:
        customer = session.exec(query.with_for_update()).first()
        _check_password(session, customer, verdict, actor, now, policy, customer.id if customer else None)
        assert customer is not None and customer.id is not None
        if device_id is not None and session.get(Device, device_id) is None:
            device_id = None
        secret = _open_session(session, "customer", customer.id, channel, device_id, now, policy)
        record(session, actor, "login", "ok", now=now, customer_id=customer.id, device=device_id)
        return secret


def login_advisor(
    login: str, password: str, *, actor: Actor, now: datetime, policy: Policy = DEFAULT_POLICY, url: str | None = None
) -> str:
    login = key(login).strip().lower()
    if not login or not password:
        raise LoginError("login.error.empty")
    query = select(Advisor).where(Advisor.login == login)
    verdict = _verify(query, password, now, url)
    with transaction(url) as session:
        advisor = session.exec(query.with_for_update()).first()
        _check_password(session, advisor, verdict, actor, now, policy, None)
        assert advisor is not None and advisor.id is not None
        secret = _open_session(session, "advisor", advisor.id, "advisor", None, now, policy)
        record(session, actor, "advisor_login", "ok", now=now, advisor=advisor.id)
        return secret


def authenticate(
    secret: str | None, *, now: datetime, policy: Policy = DEFAULT_POLICY, url: str | None = None
) -> Principal | None:
    """The principal of a live session, or None (unknown, ended, idle too long or too old)."""
    if not secret:
        return None
    session_id = _session_id(secret)
    with read_only(url) as session:
        row = session.get(UserSession, session_id)
    if row is None or row.ended_at is not None:
        return None
    expired = now >= row.expires_at or now - row.last_seen_at >= policy.session_idle_timeout
    if expired or (now - row.last_seen_at).total_seconds() >= TOUCH_EVERY_SECONDS:
        with transaction(url) as session:
            live = session.get(UserSession, session_id)
            if live is None:
                return None
            if expired:
                live.ended_at = live.ended_at or now
            else:
                live.last_seen_at = max(live.last_seen_at, now)
            session.add(live)
        if expired:
            return None
    return Principal(row.principal_kind, row.principal_id, row.channel, row.device_id, row.id)


def logout(secret: str | None, *, actor: Actor, now: datetime, url: str | None = None) -> None:
    if not secret:
        return
    with transaction(url) as session:
        row = session.get(UserSession, _session_id(secret))
        if row is not None and row.ended_at is None:
            row.ended_at = now
            session.add(row)
            record(session, actor, "logout", "ok", now=now, customer_id=row.principal_id if row.principal_kind == "customer" else None)
