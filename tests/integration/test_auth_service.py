"""Login, lockout and server-side sessions through the services, on SQLite and PostgreSQL (spec §10)."""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlmodel import select

from secure_phone.adapters.db import read_only, transaction
from secure_phone.adapters.models import Advisor, Customer, Device, RateCounter, SessionTicket, UserSession
from secure_phone.domain.policy import DEFAULT_POLICY
from secure_phone.services import auth, live
from secure_phone.services.audit import Actor
from secure_phone.services.unit_of_work import Refused
from tests.integration.helpers import (
    CAMILLE,
    JULIEN,
    PASSWORD,
    SoftPhone,
    World,
    details,
    run_together,
    world,  # noqa: F401  (fixture)
)

ANON = Actor(kind="anonymous", channel="web", ip="192.0.2.30", user_agent="pytest-browser")
POLICY = DEFAULT_POLICY


def opened(world: World, identifier: str = CAMILLE, password: str = PASSWORD, channel: str = "web",
           actor: Actor = ANON) -> auth.Login:
    return auth.login_customer(world.uow(), identifier, password, channel=channel, actor=actor)


def login(world: World, identifier: str = CAMILLE, password: str = PASSWORD, channel: str = "web",
          actor: Actor = ANON) -> str:
    """The session's reference (what the server's state keeps)."""
    return opened(world, identifier, password, channel, actor).session_id


def session_row(world: World, session_id: str) -> UserSession:
    with read_only(world.url) as s:
        row = s.get(UserSession, session_id)
    assert row is not None
    return row


def test_login_returns_a_secret_for_a_live_session(world: World) -> None:
    session = opened(world)
    secret = session.session_id

    assert isinstance(secret, str) and len(secret) >= 32
    principal = auth.authenticate(world.uow(), secret)
    assert principal is not None
    assert (principal.kind, principal.id, principal.channel) == ("customer", world.cid(CAMILLE), "web")
    # The database keeps only a digest of the browser's binding value, which alone can rejoin the session.
    assert isinstance(session.binding, str) and len(session.binding) >= 32 and session.binding != secret
    with read_only(world.url) as s:
        rows = list(s.exec(select(UserSession)))
    assert [r.binding_hash for r in rows] == [hashlib.sha256(session.binding.encode()).hexdigest()]
    assert session.binding not in repr([r.model_dump() for r in rows])
    assert world.customer(CAMILLE).failed_logins == 0
    [entry] = world.audit(CAMILLE, "login")
    assert entry.outcome == "ok" and PASSWORD not in entry.details and secret not in entry.details
    assert session.binding not in entry.details
    # Two logins give two independent sessions.
    other = login(world, channel="app")
    assert other != secret
    assert auth.authenticate(world.uow(), other).channel == "app"  # type: ignore[union-attr]


def test_wrong_password_is_refused_and_the_failure_is_committed(world: World) -> None:
    with pytest.raises(Refused) as refused:
        login(world, password="Demo1234?")
    assert refused.value.code == "login.error.invalid"

    # Read back in a fresh session: the counter survived the exception.
    assert world.customer(CAMILLE).failed_logins == 1
    assert [(e.action, e.outcome) for e in world.audit(CAMILLE, "login")] == [("login", "refused")]
    with read_only(world.url) as s:
        assert s.exec(select(UserSession)).all() == []

    with pytest.raises(Refused):
        login(world, password="")
    assert world.customer(CAMILLE).failed_logins == 1  # an empty field is not an attempt
    login(world)
    assert world.customer(CAMILLE).failed_logins == 0  # a success resets the counter


def test_unknown_identifier_gets_the_same_error(world: World) -> None:
    with pytest.raises(Refused) as unknown:
        login(world, identifier="9999999999")
    with pytest.raises(Refused) as wrong:
        login(world, password="nope")
    assert unknown.value.code == wrong.value.code == "login.error.invalid"
    refusals = [e for e in world.audit() if e.action == "login" and e.outcome == "refused"]
    assert len(refusals) == 2


def test_five_failures_lock_the_account_until_the_lockout_passes(world: World) -> None:
    for attempt in range(POLICY.login_max_failures):
        with pytest.raises(Refused) as refused:
            login(world, password=f"wrong-{attempt}")
        assert refused.value.code == "login.error.invalid"
        world.clock.advance(seconds=5)
    t_locked = world.clock.now - timedelta(seconds=5)
    assert world.customer(CAMILLE).locked_until == t_locked + POLICY.login_lockout

    with pytest.raises(Refused) as locked:
        login(world)  # the right password
    assert locked.value.code == "login.error.invalid"  # the same answer as a wrong password (§12.2)
    world.clock.now = t_locked + POLICY.login_lockout - timedelta(seconds=1)
    with pytest.raises(Refused, match="login.error.invalid"):
        login(world)
    with read_only(world.url) as s:
        assert s.exec(select(UserSession)).all() == []
    assert world.audit(CAMILLE, "login")[-1].outcome == "locked"
    # Julien is not affected.
    assert auth.authenticate(world.uow(), login(world, identifier=JULIEN)) is not None

    world.clock.now = t_locked + POLICY.login_lockout
    secret = login(world)
    assert auth.authenticate(world.uow(), secret) is not None
    customer = world.customer(CAMILLE)
    assert customer.locked_until is None and customer.failed_logins == 0


def test_session_ends_after_the_idle_timeout(world: World) -> None:
    t0 = world.clock.now
    secret = login(world)
    assert auth.authenticate(world.uow(now=t0 + POLICY.session_idle_timeout - timedelta(seconds=1)), secret) is not None
    # That activity moved last_seen forward: idle is counted from it.
    last_seen = session_row(world, secret).last_seen_at
    assert last_seen == t0 + POLICY.session_idle_timeout - timedelta(seconds=1)

    assert auth.authenticate(world.uow(now=last_seen + POLICY.session_idle_timeout), secret) is None
    assert session_row(world, secret).ended_at == last_seen + POLICY.session_idle_timeout
    # Once ended, it stays ended.
    assert auth.authenticate(world.uow(now=last_seen + timedelta(seconds=1)), secret) is None


def test_session_ends_after_its_max_age_even_when_active(world: World) -> None:
    t0 = world.clock.now
    secret = login(world)
    moment = t0
    step = POLICY.session_idle_timeout - timedelta(minutes=1)
    while moment + step < t0 + POLICY.session_max_age:
        moment += step
        assert auth.authenticate(world.uow(now=moment), secret) is not None
    assert auth.authenticate(world.uow(now=t0 + POLICY.session_max_age - timedelta(seconds=1)), secret) is not None

    assert auth.authenticate(world.uow(now=t0 + POLICY.session_max_age), secret) is None
    assert session_row(world, secret).ended_at is not None


def test_logout_ends_the_session(world: World) -> None:
    secret = login(world)
    other = login(world, channel="app")
    auth.logout(world.uow(now=world.clock.advance(minutes=1)), secret, actor=ANON)

    assert auth.authenticate(world.uow(), secret) is None
    assert session_row(world, secret).ended_at == world.clock.now
    assert auth.authenticate(world.uow(), other) is not None  # only that one
    assert ("logout", "ok") in world.audit_pairs(CAMILLE)
    auth.logout(world.uow(now=world.clock.advance(minutes=1)), secret, actor=ANON)  # twice is harmless
    assert len(world.audit(CAMILLE, "logout")) == 1
    assert auth.authenticate(world.uow(), "forged-secret") is None
    assert auth.authenticate(world.uow(), None) is None


def test_a_customer_session_is_not_an_advisor_session(world: World) -> None:
    customer_secret = login(world)
    advisor_secret = auth.login_advisor(world.uow(), "sophie.lambert", PASSWORD, actor=ANON).session_id

    customer = auth.authenticate(world.uow(), customer_secret)
    advisor = auth.authenticate(world.uow(), advisor_secret)
    assert customer is not None and advisor is not None
    assert (customer.kind, customer.channel) == ("customer", "web")
    assert (advisor.kind, advisor.channel) == ("advisor", "advisor")
    with read_only(world.url) as s:
        sophie = s.exec(select(Advisor).where(Advisor.login == "sophie.lambert")).one()
    assert advisor.id == sophie.id
    # A customer's credentials do not open the back-office.
    with pytest.raises(Refused, match="login.error.invalid"):
        auth.login_advisor(world.uow(), CAMILLE, PASSWORD, actor=ANON)
    with pytest.raises(Refused, match="login.error.invalid"):
        login(world, identifier="sophie.lambert")


def test_no_write_waits_for_the_password_check(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 runs outside any transaction: while it runs, another writer goes through at once (on SQLite
    a login used to hold the database's only write lock for the whole hash)."""
    real_check = auth._password_ok
    writer_done: list[float] = []

    def check_while_someone_writes(password_hash: str | None, password: str) -> bool:
        def write() -> None:
            t0 = time.perf_counter()
            live.subscribe(world.uow(), "another-tab", "SomeState", world.cid(JULIEN))
            writer_done.append(time.perf_counter() - t0)

        writer = threading.Thread(target=write)
        writer.start()
        writer.join(timeout=10)
        return real_check(password_hash, password)

    monkeypatch.setattr(auth, "_password_ok", check_while_someone_writes)
    assert auth.authenticate(world.uow(), login(world)) is not None
    assert len(writer_done) == 1 and writer_done[0] < 5, "the other writer waited for the password check"


def test_a_lock_taken_during_the_password_check_wins(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The verdict is applied to the account as it is after the check: locked meanwhile → refused."""
    real_check = auth._password_ok

    def check_then_lock(password_hash: str | None, password: str) -> bool:
        with transaction(world.url) as s:
            camille = s.exec(select(Customer).where(Customer.identifier == CAMILLE)).one()
            camille.locked_until = world.clock.now + POLICY.login_lockout
            s.add(camille)
        return real_check(password_hash, password)

    monkeypatch.setattr(auth, "_password_ok", check_then_lock)
    with pytest.raises(Refused, match="login.error.invalid"):
        login(world)  # the right password
    assert world.audit(CAMILLE, "login")[-1].outcome == "locked"
    with read_only(world.url) as s:
        assert s.exec(select(UserSession)).all() == []


def test_concurrent_wrong_passwords_still_lock_the_account(world: World) -> None:
    attempts = POLICY.login_max_failures + 3
    results = run_together(*(lambda i=i: login(world, password=f"wrong-{i}") for i in range(attempts)))
    assert all(isinstance(r, Refused) for r in results)
    assert world.customer(CAMILLE).locked_until == world.clock.now + POLICY.login_lockout
    with pytest.raises(Refused, match="login.error.invalid"):
        login(world)  # the right password, during the lockout
    assert world.audit(CAMILLE, "login")[-1].outcome == "locked"


def test_a_hash_with_older_parameters_is_upgraded_at_the_next_login(world: World) -> None:
    old_hash = PasswordHasher().hash(PASSWORD)  # argon2-cffi's defaults: 64 MiB, 3 passes, 4 lanes
    with transaction(world.url) as s:
        camille = s.exec(select(Customer).where(Customer.identifier == CAMILLE)).one()
        camille.password_hash = old_hash
        s.add(camille)

    with pytest.raises(Refused):
        login(world, password="not it")
    assert world.customer(CAMILLE).password_hash == old_hash  # a failure changes no hash
    login(world)
    upgraded = world.customer(CAMILLE).password_hash
    assert upgraded != old_hash
    memory, passes, lanes = POLICY.password_hash_memory_kib, POLICY.password_hash_iterations, POLICY.password_hash_lanes
    assert f"m={memory},t={passes},p={lanes}" in upgraded
    assert auth.authenticate(world.uow(), login(world)) is not None  # still her password


# --- §12.2: the lockout says nothing, failures are throttled per client address -------------------------


def test_a_locked_account_an_unknown_identifier_and_a_wrong_password_get_the_same_answer(world: World) -> None:
    for attempt in range(POLICY.login_max_failures):
        with pytest.raises(Refused):
            login(world, password=f"wrong-{attempt}")
    answers = set()
    for identifier, password in ((CAMILLE, PASSWORD), ("9999999999", PASSWORD), (JULIEN, "wrong")):
        with pytest.raises(Refused) as refused:
            login(world, identifier=identifier, password=password)
        answers.add(refused.value.code)
    assert answers == {auth.REFUSED}
    assert world.audit(CAMILLE, "login")[-1].outcome == "locked"  # the audit knows; the screen does not say


def test_failures_from_one_address_are_throttled_whatever_the_identifiers(world: World) -> None:
    """An attacker trying identifiers from one place is stopped before locking them all (and before any
    password is checked); another address is not affected."""
    attacker = Actor(kind="anonymous", channel="web", ip="203.0.113.66", user_agent="curl")
    for i in range(POLICY.login_failures_per_address):
        with pytest.raises(Refused, match=auth.REFUSED):
            login(world, identifier=f"90000000{i:02d}", password="guess", actor=attacker)
    calls: list[str] = []
    real = auth._password_ok
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(auth, "_password_ok", lambda h, p: calls.append(p) or real(h, p))
        with pytest.raises(Refused, match=auth.THROTTLED):
            login(world, identifier=JULIEN, password=PASSWORD, actor=attacker)  # even the right password
    assert calls == [], "a throttled address must not get a password checked"
    assert world.customer(JULIEN).failed_logins == 0 and world.customer(JULIEN).locked_until is None
    assert any(e.outcome == "throttled" and e.ip == "203.0.113.66" for e in world.audit(action="login"))
    # Julien, from his own address, logs in.
    assert auth.authenticate(world.uow(), login(world, identifier=JULIEN)) is not None
    # The window passes: the address may try again.
    world.clock.advance(seconds=POLICY.login_address_window.total_seconds())
    assert auth.authenticate(world.uow(), login(world, identifier=JULIEN, actor=attacker)) is not None


def test_the_counters_keep_no_client_address_in_clear(world: World) -> None:
    attacker = Actor(kind="anonymous", channel="web", ip="203.0.113.66", user_agent="curl")
    with pytest.raises(Refused):
        login(world, password="wrong", actor=attacker)
    with read_only(world.url) as s:
        keys = [row.key for row in s.exec(select(RateCounter))]
    assert len(keys) == 1 and "203.0.113.66" not in keys[0]


# --- §12.2: a login names its phone; only the customer's own or a new one is accepted -----------------------


def test_a_login_does_not_take_another_customers_or_a_revoked_phone(world: World) -> None:
    julien = world.phone(JULIEN)
    julien.customer_id = world.cid(CAMILLE)
    session = session_row(world, julien.login(CAMILLE))  # Julien's phone, even signed by its key: not hers
    assert session.device_id is None
    assert details(world.audit(CAMILLE, "login")[-1])["device_refused"] is True
    # Her own enrolled phone is hers, when the login is signed by it.
    phone = world.phone(CAMILLE)
    camille_phone = phone.device_id
    assert session_row(world, phone.login(CAMILLE)).device_id == camille_phone
    # Once revoked, it is nobody's phone any more.
    with transaction(world.url) as s:
        device = s.get(Device, camille_phone)
        assert device is not None
        device.status = "revoked"
        s.add(device)
    assert session_row(world, phone.login(CAMILLE)).device_id is None


def test_a_device_id_without_its_keys_signature_gives_no_phone(world: World) -> None:
    """Knowing a device id is worth nothing (§12.2): the login must be signed by that phone's key."""
    from secure_phone.domain.securpass import login_text

    phone = world.phone(CAMILLE)
    impostor = SoftPhone(world, phone.device_id, world.cid(CAMILLE))  # the same id, another key
    text = login_text(device_id=phone.device_id, nonce="n1")
    for proof in (None, auth.DeviceProof("n1", impostor.sign(text)), auth.DeviceProof("n1", "A" * 86),
                  auth.DeviceProof("n2", phone.sign(text)),  # signed for another nonce
                  auth.DeviceProof("", phone.sign(text))):
        opened = auth.login_customer(world.uow(), CAMILLE, PASSWORD, channel="app", actor=ANON,
                                     device_id=phone.device_id, device_proof=proof)
        assert session_row(world, opened.session_id).device_id is None, proof
    good = auth.DeviceProof("n1", phone.sign(text))
    opened = auth.login_customer(world.uow(), CAMILLE, PASSWORD, channel="app", actor=ANON,
                                 device_id=phone.device_id, device_proof=good)
    assert session_row(world, opened.session_id).device_id == phone.device_id


# --- §12.2: sessions that end because something made them unsafe --------------------------------------------


def test_end_sessions_ends_every_session_of_the_customer_but_those_kept(world: World) -> None:
    web, app, kept = login(world), login(world, channel="app"), login(world, channel="app")
    julien = login(world, identifier=JULIEN)
    with transaction(world.url) as s:
        assert auth.end_sessions(s, world.cid(CAMILLE), reason="factor_changed", now=world.clock.now,
                                 keep=(kept, None)) == 2
    for ended in (web, app):
        assert auth.authenticate(world.uow(), ended) is None
        assert auth.end_reason(world.uow(), ended) == "factor_changed"
    assert auth.authenticate(world.uow(), kept) is not None
    assert auth.authenticate(world.uow(), julien) is not None
    assert auth.end_reason(world.uow(), kept) is None


def test_the_idle_timeout_is_five_minutes_and_says_why(world: World) -> None:
    assert POLICY.session_idle_timeout == timedelta(minutes=5)
    secret = login(world)
    assert auth.authenticate(world.uow(now=world.clock.now + timedelta(minutes=4, seconds=59)), secret)
    assert auth.authenticate(world.uow(now=world.clock.now + timedelta(minutes=9, seconds=59)), secret) is None
    assert auth.end_reason(world.uow(), secret) == "idle"


# --- rejoining a session after a reload: the binding cookie gets a one-time ticket --------------------------


def test_a_ticket_needs_the_binding_and_is_good_once_for_its_session(world: World) -> None:
    session = opened(world)
    other = opened(world, identifier=JULIEN)
    now = world.clock.now
    assert auth.issue_ticket(world.uow(now=now), "not-the-binding", "web") is None
    assert auth.issue_ticket(world.uow(now=now), session.binding, "app") is None  # another channel's cookie
    ticket = auth.issue_ticket(world.uow(now=now), session.binding, "web")
    assert ticket
    assert not auth.redeem_ticket(world.uow(now=now), ticket, other.session_id)  # not Julien's session
    assert auth.redeem_ticket(world.uow(now=now), ticket, session.session_id)
    assert not auth.redeem_ticket(world.uow(now=now), ticket, session.session_id)  # once
    late = auth.issue_ticket(world.uow(now=now), session.binding, "web")
    assert not auth.redeem_ticket(world.uow(now=now + auth.TICKET_TTL), late, session.session_id)
    with read_only(world.url) as s:
        stored = [row.id for row in s.exec(select(SessionTicket))]
    assert ticket not in stored and hashlib.sha256(ticket.encode()).hexdigest() in stored
    # An ended session gets no ticket.
    auth.logout(world.uow(now=now), session.session_id, actor=ANON)
    assert auth.issue_ticket(world.uow(now=now), session.binding, "web") is None


# --- what the login returns and writes with the session (issue 13: no re-read, one transaction) --------


def test_the_principal_a_login_returns_is_what_authenticate_says(world: World) -> None:
    made = opened(world)
    # Read at the same instant, without touching (touching moves nothing at t0 anyway).
    assert auth.authenticate(world.uow(), made.session_id, touch=False) == made.principal


def test_a_login_subscribes_its_tab_in_its_transaction_and_a_refused_one_does_not(world: World) -> None:
    tab = live.Follower("tab-token", "reflex___state____state.web")
    with pytest.raises(Refused):
        auth.login_customer(world.uow(), CAMILLE, "wrong", channel="web", actor=ANON, follower=tab)
    # A refused login is committed (its failure counts) but follows nobody.
    assert live.subscribers(world.uow(), world.cid(CAMILLE)) == []
    auth.login_customer(world.uow(), CAMILLE, PASSWORD, channel="web", actor=ANON, follower=tab)
    assert live.subscribers(world.uow(), world.cid(CAMILLE)) == [(tab.token, tab.state)]
    # The same tab logging in as someone else follows them only (one row per tab and state).
    auth.login_customer(world.uow(), JULIEN, PASSWORD, channel="web", actor=ANON, follower=tab)
    assert live.subscribers(world.uow(), world.cid(CAMILLE)) == []
    assert live.subscribers(world.uow(), world.cid(JULIEN)) == [(tab.token, tab.state)]


def test_a_throttled_address_is_refused_before_any_password_check(world: World,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    for _ in range(POLICY.login_failures_per_address):
        with pytest.raises(Refused, match="login.error.invalid"):
            login(world, password="wrong")
    checked: list[str | None] = []
    real_check = auth._password_ok
    monkeypatch.setattr(auth, "_password_ok", lambda h, p: checked.append(h) or real_check(h, p))
    with pytest.raises(Refused, match="login.error.throttled"):
        login(world)
    assert checked == []


def test_waiting_for_the_phone_is_the_asking_sessions_activity_and_nobody_elses(world: World) -> None:
    """« Confirmer » moves the asking session's idle timer (the customer now waits for the phone): that session
    only — not another session of the customer, not another customer's, and never an ended one."""
    from secure_phone.domain.change_request import Channel
    from secure_phone.services import change
    from tests.integration.helpers import NEW_RAW, customer_actor

    t0 = world.clock.now
    asking, other, julien = login(world), login(world), login(world, JULIEN)
    ended = login(world)
    auth.logout(world.uow(), ended, actor=ANON)
    cid = world.cid(CAMILLE)
    later = t0 + timedelta(minutes=4)
    number = change.check_new_number(world.uow(now=later), cid, NEW_RAW, "FR", actor=customer_actor(cid))
    change.start_request(world.uow(now=later), cid, number.e164, channel=Channel.WEB, actor=customer_actor(cid),
                         session_id=asking)

    assert session_row(world, asking).last_seen_at == later
    assert session_row(world, other).last_seen_at == t0
    assert session_row(world, julien).last_seen_at == t0
    assert session_row(world, ended).last_seen_at == t0
    # Another customer's session named as the asker is not touched either (the request is Camille's).
    change.start_request(world.uow(now=later + timedelta(seconds=30)), cid, number.e164, channel=Channel.WEB,
                         actor=customer_actor(cid), session_id=julien)
    assert session_row(world, julien).last_seen_at == t0
