"""Shared fixtures and helpers for the service-layer integration tests.

* ``world``: the seeded personas (spec §3) on the ``db_url`` database (SQLite and PostgreSQL), in demo
  mode, with a controllable clock, a healthy simulated MySys and row readers for the assertions (and
  :meth:`World.sms_received`: an SMS as its recipient reads it, in the demo inbox);
* :func:`database_dump`: every value of every table, as an attacker who copied the data folder reads them;
* :class:`SoftPhone`: a software smartphone holding a P-256 key made with ``cryptography``. It registers
  its public key with ``devices.pick_up_phone`` (the demo's only shortcut) and signs exactly the text
  the server shows (``ApprovalView.text``), WebCrypto-style: base64url of the 64-byte r‖s.

Test modules import ``world`` (and anything else they need) from here; pytest picks the fixture up
from the module namespace.
"""

from __future__ import annotations

import base64
import functools
import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy
from argon2 import PasswordHasher
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from sqlmodel import select

from secure_phone import seed as seed_module
from secure_phone.adapters import db
from secure_phone.adapters.db import read_only
from secure_phone.adapters.models import (
    Advisor,
    AuditEntry,
    ChangeRequest,
    Customer,
    DemoMessage,
    Device,
    MySysContact,
    MySysHistory,
    Outbox,
    UsedNonce,
)
from secure_phone.adapters.mysys import Faults, SimulatedMySys
from secure_phone.adapters.notifications import Dispatcher, demo_gateways
from secure_phone.adapters.operator import OperatorClient
from secure_phone.adapters.operator_sim import InProcessTransport, OperatorSimulator
from secure_phone.domain.change_request import Channel, RefusalReason
from secure_phone.domain.phone import phone_from_e164
from secure_phone.domain.policy import DEFAULT_POLICY, Policy
from secure_phone.domain.securpass import challenge_text
from secure_phone.services import change, devices
from secure_phone.services.audit import Actor
from secure_phone.services.customers import display_name
from secure_phone.services.unit_of_work import UnitOfWork
from secure_phone.settings import secret_key

SEED_JOURNEY = replace(DEFAULT_POLICY, new_number_proof=False)
"""The journey of the bank's original sheet: « Confirmer » sends the request to the phone at once (§12.3's
policy switch). The tests of the rules around the phone run it; the proof has its own tests."""

T0 = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
"""The moment the personas are seeded; every service call gets an explicit ``now`` from the clock."""

TEST_SECRET = "integration-test-secret-0123456789abcdef"
CODE = seed_module.DEMO_CODE  # "4827"
PASSWORD = seed_module.DEMO_PASSWORD

CAMILLE = "1000000001"
JULIEN = "1000000002"
INES = "1000000003"
LEA = "1000000004"
HUGO = "1000000005"
CHLOE = "1000000006"
PAUL = "1000000007"
SARL = "1000000008"
MARC = "1000000009"
EMMA = "1000000010"
LUCAS = "1000000011"
EMMA_NUMBER = "+33611223344"
LUCAS_NUMBER = "+33622334455"
OPERATOR_TOKEN = "integration-test-operator-token"

CAMILLE_OLD = "+33612345678"
JULIEN_NUMBER = "+33623456789"
NEW_RAW = "07 98 76 54 32"
NEW_E164 = "+33798765432"
NEW_MASKED_LAST_TWO = "•• •• •• •• 32"
OTHER_RAW = "07 81 22 33 44"
OTHER_E164 = "+33781223344"
THIRD_E164 = "+33755443321"
PARIS_OPERA_PHONE = "01 42 68 00 00"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def number_forms(e164: str) -> list[str]:
    """Every way a full French number might be written: +33…, 0…, grouped national, grouped international."""
    assert e164.startswith("+33") and len(e164) == 12
    nsn = e164[3:]
    national = "0" + nsn
    grouped = " ".join(national[i:i + 2] for i in range(0, 10, 2))
    return [e164, national, grouped, grouped.replace(" ", "."), f"+33 {nsn[0]} " + grouped[3:], "0033" + nsn, nsn]


# A full phone number written out, in any of the usual shapes; hex ids cannot match (word boundaries).
FULL_NUMBER = re.compile(r"\+\d[\d .]{7,}\d|\b0\d(?:[ .]?\d\d){4}\b")


class Clock:
    """A controllable clock: tests move time forward instead of sleeping."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def __call__(self) -> datetime:
        return self.now


def customer_actor(customer_id: int, channel: str = "web") -> Actor:
    return Actor(kind="customer", id=str(customer_id), channel=channel, ip="192.0.2.10", user_agent="pytest")


def device_actor(device_id: str | None) -> Actor:
    return Actor(kind="device", id=device_id, channel="app", ip="192.0.2.20", user_agent="pytest-phone")


@dataclass
class World:
    """The seeded bank on one database, its clock, and readers of its rows."""

    url: str
    clock: Clock
    mysys: SimulatedMySys
    operator_sim: OperatorSimulator = field(default=None)  # type: ignore[assignment]
    operator: OperatorClient = field(default=None)  # type: ignore[assignment]
    ids: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """The simulated operator on this bank's database, on the world's clock, never really waiting."""
        if self.operator_sim is None:
            self.operator_sim = OperatorSimulator(self.url, clock=self.clock, token=OPERATOR_TOKEN)
        if self.operator is None:
            self.operator = self.operator_client(self.operator_sim)

    @staticmethod
    def operator_client(simulator: OperatorSimulator, **options: Any) -> OperatorClient:
        return OperatorClient("http://operator.test/api/operator", OPERATOR_TOKEN, name="Opérateur simulé (CAMARA)",
                              transport=InProcessTransport(simulator, sleep=lambda s: None), sleep=lambda s: None,
                              **options)

    def uow(self, *, now: datetime | None = None, mysys: Any = None, policy: Policy = SEED_JOURNEY,
            operator: Any = None) -> UnitOfWork:
        """One use case's unit of work on this bank: its database, the clock's time, the healthy MySys, and the
        seed's journey (no proof of the new number) unless ``policy`` says otherwise (tests/integration/
        test_new_number_proof.py runs the product's default, with the proof)."""
        return UnitOfWork(self.url, now=now or self.clock.now, mysys=mysys or self.mysys, policy=policy,
                          operator=operator or self.operator)

    # --- look-ups ---------------------------------------------------------------------------

    def cid(self, identifier: str) -> int:
        if identifier not in self.ids:
            self.ids[identifier] = self.customer(identifier).id  # type: ignore[assignment]
        return self.ids[identifier]

    def customer(self, identifier: str) -> Customer:
        with read_only(self.url) as s:
            row = s.exec(select(Customer).where(Customer.identifier == identifier)).one()
        return row

    def device(self, device_id: str) -> Device:
        with read_only(self.url) as s:
            row = s.get(Device, device_id)
        assert row is not None
        return row

    def device_id(self, identifier: str) -> str:
        with read_only(self.url) as s:
            row = s.exec(
                select(Device).where(Device.customer_id == self.cid(identifier), Device.status == "enrolled")
            ).one()
        return row.id

    def request(self, request_id: str) -> ChangeRequest:
        with read_only(self.url) as s:
            row = s.get(ChangeRequest, request_id)
        assert row is not None
        return row

    def requests(self, identifier: str | None = None) -> list[ChangeRequest]:
        with read_only(self.url) as s:
            query = select(ChangeRequest).order_by(ChangeRequest.created_at, ChangeRequest.id)
            if identifier is not None:
                query = query.where(ChangeRequest.customer_id == self.cid(identifier))
            return list(s.exec(query))

    def outbox(self) -> list[Outbox]:
        with read_only(self.url) as s:
            return list(s.exec(select(Outbox).order_by(Outbox.id)))

    def sms_received(self, key: str, at: datetime | None = None) -> str:
        """The text of the message queued under ``key``, as its recipient reads it: what is due at ``at``
        (default: now) is delivered through the demo gateways, and the message read from the demo inbox."""
        Dispatcher(self.url, gateways=demo_gateways(self.url, {})).run_once(at or self.clock.now)
        with read_only(self.url) as s:
            return s.exec(select(DemoMessage).where(DemoMessage.outbox_key == key)).one().body

    def history(self, identifier: str | None = None) -> list[MySysHistory]:
        with read_only(self.url) as s:
            query = select(MySysHistory).order_by(MySysHistory.id)
            if identifier is not None:
                query = query.where(MySysHistory.customer_ref == identifier)
            return list(s.exec(query))

    def mysys_contact(self, identifier: str) -> MySysContact:
        with read_only(self.url) as s:
            row = s.get(MySysContact, identifier)
        assert row is not None
        return row

    def used_nonces(self) -> list[UsedNonce]:
        with read_only(self.url) as s:
            return list(s.exec(select(UsedNonce)))

    def audit(self, identifier: str | None = None, action: str | None = None) -> list[AuditEntry]:
        with read_only(self.url) as s:
            query = select(AuditEntry).order_by(AuditEntry.id)
            if identifier is not None:
                query = query.where(AuditEntry.customer_id == self.cid(identifier))
            if action is not None:
                query = query.where(AuditEntry.action == action)
            return list(s.exec(query))

    def audit_pairs(self, identifier: str | None = None) -> list[tuple[str, str]]:
        return [(e.action, e.outcome) for e in self.audit(identifier)]

    def advisor_id(self, login: str) -> int:
        with read_only(self.url) as s:
            return s.exec(select(Advisor.id).where(Advisor.login == login)).one()  # type: ignore[return-value]

    def clear_freeze(self, identifier: str) -> None:
        """After a « not me »: two advisors of the agency lift the freeze on online changes, in branch."""
        from secure_phone.services import advisor

        actor = Actor(kind="advisor", id="sophie", channel="advisor", ip="192.0.2.40", user_agent="pytest")
        result = advisor.request_operation(self.uow(), self.advisor_id("sophie.lambert"), identifier,
                                           kind="clear_freeze",
                                           document_type="cni", document_number="X4RTBPFW46", in_branch=True,
                                           actor=actor)
        if result.status == "pending_validation":
            advisor.validate_operation(self.uow(), self.advisor_id("nadia.benali"), result.operation_id, actor=actor)
        assert self.customer(identifier).frozen_at is None

    # --- the flow ---------------------------------------------------------------------------

    def faulty_mysys(self, **faults: float) -> SimulatedMySys:
        return SimulatedMySys(self.url, faults=Faults(**faults), sleep=lambda s: None)

    def phone(self, identifier: str) -> SoftPhone:
        """Pick up the persona's enrolled phone with a fresh key (as /app does)."""
        phone = SoftPhone(self, self.device_id(identifier), self.cid(identifier))
        phone.pick_up()
        return phone

    def start(self, identifier: str, raw: str = NEW_RAW, channel: Channel = Channel.WEB) -> change.RequestView:
        """Steps 2 and 3: « Continuer » then « Confirmer »."""
        cid = self.cid(identifier)
        actor = customer_actor(cid, channel.value)
        number = change.check_new_number(self.uow(), cid, raw, "FR", actor=actor)
        return change.start_request(self.uow(), cid, number.e164, channel=channel, actor=actor)

    def current_text(self, request_id: str, lang: str = "fr") -> str:
        """The text the server verifies right now for this request (even when no phone is shown it)."""
        with read_only(self.url) as s:
            request = s.get(ChangeRequest, request_id)
            assert request is not None
            customer = s.get(Customer, request.customer_id)
            assert customer is not None
        return challenge_text(
            lang=lang,
            new_number_national=phone_from_e164(request.new_e164).national,
            customer_name=display_name(customer),
            request_id=request.id,
            nonce=request.nonce,
            expires_at=request.expires_at,
        )


class SoftPhone:
    """A software smartphone: its P-256 private key never leaves this object."""

    def __init__(self, world: World, device_id: str, customer_id: int | None) -> None:
        self.world = world
        self.device_id = device_id
        self.customer_id = customer_id
        self._key = ec.generate_private_key(ec.SECP256R1())

    @property
    def jwk(self) -> dict[str, str]:
        numbers = self._key.public_key().public_numbers()
        return {"kty": "EC", "crv": "P-256", "x": b64url(numbers.x.to_bytes(32, "big")),
                "y": b64url(numbers.y.to_bytes(32, "big"))}

    def pick_up(self) -> devices.DeviceView:
        return devices.pick_up_phone(self.world.uow(), self.device_id, self.jwk, actor=device_actor(self.device_id))

    def sign(self, text: str) -> str:
        """WebCrypto's ECDSA P-256 / SHA-256 signature: base64url(r‖s)."""
        der = self._key.sign(text.encode("utf-8"), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))

    def pending(self, customer_id: int | None = None, lang: str = "fr") -> change.ApprovalView | None:
        return change.pending_approval(self.world.uow(), customer_id or self.customer_id, self.device_id,
                                       lang=lang)  # type: ignore[arg-type]

    def approve(
        self,
        request_id: str,
        signature: str,
        *,
        code: str = CODE,
        customer_id: int | None = None,
        mysys: SimulatedMySys | None = None,
        lang: str = "fr",
        session_id: str | None = None,
    ) -> change.ApprovalResult:
        return change.approve(
            self.world.uow(mysys=mysys or self.world.mysys),
            customer_id or self.customer_id,  # type: ignore[arg-type]
            self.device_id,
            request_id,
            code=code,
            signature=signature,
            lang=lang,
            actor=device_actor(self.device_id),
            session_id=session_id,
        )

    def approve_pending(self, *, code: str = CODE, mysys: SimulatedMySys | None = None,
                        session_id: str | None = None) -> change.ApprovalResult:
        """What a customer does on the phone: read the pending request, sign its text, « Valider »
        (``session_id``: the app session on this phone that approves)."""
        view = self.pending()
        assert view is not None, "no pending request shown on this phone"
        return self.approve(view.request_id, self.sign(view.text), code=code, mysys=mysys, session_id=session_id)

    def login(self, identifier: str, password: str = PASSWORD, nonce: str = "test-nonce") -> str:
        """The app's login on this phone, signed by its key (the session is then this phone's); its reference."""
        from secure_phone.domain.securpass import login_text
        from secure_phone.services import auth

        proof = auth.DeviceProof(nonce, self.sign(login_text(device_id=self.device_id, nonce=nonce)))
        cid = self.world.cid(identifier)
        return auth.login_customer(self.world.uow(), identifier, password, channel="app", actor=customer_actor(cid,
                                                                                                               "app"),
                                   device_id=self.device_id, device_proof=proof).session_id

    def refuse(
        self, request_id: str, reason: RefusalReason, signature: str, *, customer_id: int | None = None
    ) -> change.ApprovalResult:
        return change.refuse(
            self.world.uow(),
            customer_id or self.customer_id,  # type: ignore[arg-type]
            self.device_id,
            request_id,
            reason=reason,
            signature=signature,
            lang="fr",
            actor=device_actor(self.device_id),
        )


def details(entry: AuditEntry) -> dict:
    return json.loads(entry.details)


@functools.cache
def _demo_password_hash(password: str) -> str:
    """One argon2id hash of the demo password per test session, with light cost parameters.

    The seed hashes the same password for every test; the production hasher verifies it (argon2
    reads the parameters from the hash), so logins, counters and lockouts run the real code while
    the suite stays fast on a busy machine.
    """
    return PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(password)


def database_dump(url: str) -> list[tuple[str, str, str]]:
    """(table, column, value as text) for every value of every table of the database, the tables the
    models do not know included: what an attacker who copied the database reads."""
    engine = db.get_engine(url)
    dump = []
    with engine.connect() as conn:
        for table in sqlalchemy.inspect(conn).get_table_names():
            result = conn.exec_driver_sql(f'SELECT * FROM "{table}"')
            columns = list(result.keys())
            for values in result:
                dump.extend((table, column, str(value))
                            for column, value in zip(columns, values, strict=True) if value is not None)
    return dump


@pytest.fixture
def world(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """The personas seeded at T0 on an empty database, in demo mode, with a known server secret."""
    monkeypatch.setenv("SECURE_PHONE_SECRET", TEST_SECRET)
    # Demo mode: the personas' phones are picked up as /app's demo picker does, and SMS land in the demo inboxes.
    monkeypatch.setenv("SECURE_PHONE_DEMO", "1")
    monkeypatch.setattr(seed_module, "hash_password", _demo_password_hash)
    secret_key.cache_clear()
    try:
        seed_module.seed(db_url, now=T0)
        clock = Clock(T0 + timedelta(minutes=1))
        yield World(url=db_url, clock=clock, mysys=SimulatedMySys(db_url, sleep=lambda s: None))
    finally:
        secret_key.cache_clear()


def run_together(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released at the same instant; their results (or exceptions)."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def runner(index: int, call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            results[index] = call()
        except BaseException as error:  # noqa: BLE001  (reported to the test)
            results[index] = error

    threads = [threading.Thread(target=runner, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a call hung"
    return results
