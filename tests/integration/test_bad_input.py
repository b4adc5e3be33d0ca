"""Bad input to the service entry points, on a real database (PRODUCT.md §5.1, §10: "bad input gets a
clear message, never a crash").

Property-based (hypothesis) against the seeded bank of ``world`` (SQLite and PostgreSQL): whatever text
arrives, each use case answers with its documented outcome (a value, or its own error carrying an i18n key
that has a French and an English message) and writes nothing but its audit rows.

The ``world`` fixture is function-scoped: it is built once per test (and backend) and shared by that
test's examples, which is why the tables are compared with a snapshot taken before the first example.

Generated inputs per run (``max_examples`` of each test, run once per backend):

==============================================================  =========  ===================
test                                                            inputs     on 2 backends
==============================================================  =========  ===================
test_check_new_number_refuses_bad_input_without_writing               300                  600
test_start_request_with_random_numbers                                200                  400
test_approve_with_random_ids_codes_signatures_and_langs               300                  600
test_refuse_with_random_ids_signatures_and_langs                      200                  400
test_login_with_unknown_identifiers_and_random_passwords              200                  400
test_authenticate_random_secrets                                      300                  600
test_request_callback_with_random_reasons                             200                  400
test_advisor_search_with_random_queries                               300                  600
==============================================================  =========  ===================
total                                                                2,000                4,000
==============================================================  =========  ===================

With the 10,900 of ``tests/unit/test_phone_properties.py``: 14,900 generated inputs per run. (Examples
that hypothesis discards, e.g. a filtered-out identifier, come on top and are not counted.)
"""

from __future__ import annotations

import string

import pytest
from argon2 import PasswordHasher
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import SQLModel, select

from secure_phone.adapters.db import get_engine, read_only
from secure_phone.adapters.models import Advisor, AuditEntry, ContactRequest, Customer
from secure_phone.domain.change_request import Channel, RefusalReason
from secure_phone.domain.phone import NumberProblem, NumberRejected, PhoneNumber
from secure_phone.domain.securpass import Rejection
from secure_phone.i18n import MESSAGES
from secure_phone.services import advisor, auth, change, contact
from secure_phone.services.advisor import CustomerRow
from secure_phone.services.change import ApprovalResult, RequestView
from secure_phone.services.unit_of_work import Refused
from tests.integration.helpers import (
    CAMILLE,
    CAMILLE_OLD,
    CHLOE,
    CODE,
    HUGO,
    INES,
    JULIEN,
    JULIEN_NUMBER,
    LEA,
    MARC,
    NEW_RAW,
    OTHER_RAW,
    PAUL,
    SARL,
    SoftPhone,
    World,
    b64url,
    customer_actor,
    device_actor,
    world,  # noqa: F401  (fixture)
)
from tests.unit.test_phone_properties import digitish

PERSONAS = [CAMILLE, JULIEN, INES, LEA, HUGO, CHLOE, PAUL, SARL, MARC]
MISSING = "missing"  # a customer id that does not exist
DB_SETTINGS = dict(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)

# The tables bad input could damage (the audit trail is expected to grow; agencies, advisors and the demo
# inboxes are not written by these use cases).
WATCHED = [SQLModel.metadata.tables[name] for name in (
    "customer", "device", "changerequest", "usednonce", "outbox", "mysys_contact", "mysys_history",
    "usersession", "contactrequest", "smscode", "identitycheck")]


class Tables(dict):
    """Rows per table; a short repr keeps hypothesis' falsifying examples readable."""

    def __repr__(self) -> str:
        return f"<{len(self)} tables, {sum(len(rows) for rows in self.values())} rows>"


def snapshot(world: World, skip: frozenset[str] = frozenset()) -> Tables:
    """Every row of every watched table, in primary-key order."""
    out = Tables()
    with get_engine(world.url).connect() as conn:
        for table in WATCHED:
            if table.name in skip:
                continue
            rows = conn.execute(table.select().order_by(*table.primary_key.columns)).all()
            out[table.name] = [tuple(row) for row in rows]
    return out


def audit_count(world: World) -> int:
    with read_only(world.url) as s:
        return s.exec(sa_select(func.count()).select_from(AuditEntry)).one()[0]  # type: ignore[call-overload]


def assert_clear(code: str) -> None:
    """An error code is an i18n key with a French and an English message."""
    assert isinstance(code, str)
    assert MESSAGES["fr"].get(code, "").strip(), code
    assert MESSAGES["en"].get(code, "").strip(), code


def customer_id(world: World, who: str) -> int:
    return 987_654 if who == MISSING else world.cid(who)


# --- strategies ----------------------------------------------------------------------------------

hostile = st.sampled_from([
    "", " ", "\x00", "a\x00b", "' OR '1'='1", "'; DROP TABLE customer; --", "%", "%%", "_", "__", "\\", "\\%",
    "NULL", "null", "None", "undefined", "../../etc/passwd", "<script>alert(1)</script>", "{{7*7}}", "${x}",
    "\u202e", "\ufeff", "\ud7ff", "🙂" * 50, "A" * 5000, "0" * 300, "-1", "0", "1e309", "NaN",
])
any_text = st.one_of(st.text(max_size=80), hostile)
french_mobiles = st.builds(lambda prefix, rest: prefix + rest, st.sampled_from(["06", "07", "+336", "+337", "0033 7"]),
                           st.text(alphabet="0123456789", min_size=8, max_size=8))
raw_numbers = st.one_of(
    any_text, digitish(), digitish(), french_mobiles,
    st.sampled_from([NEW_RAW, OTHER_RAW, CAMILLE_OLD, JULIEN_NUMBER, "+33612345678", "01 42 68 00 00",
                     "09 70 12 34 56", "07 00 12 34 56 78 90", "+1 202 555 0123", "+44 7400 123456"]),
)
regions = st.one_of(st.sampled_from(["FR", "fr", "RE", "GP", "BE", "GB", "US", "ZZ", "", "\x00"]),
                    st.text(max_size=4))
# Mostly Camille (eligible: the number rules run to the end), sometimes anyone, or nobody.
customers = st.one_of(st.just(CAMILLE), st.just(CAMILLE), st.sampled_from([*PERSONAS, MISSING]))


# --- §5.1: « Continuer » with anything in the field ---------------------------------------------


@pytest.fixture
def frozen(world: World) -> Tables:  # noqa: F811
    """The tables before the first example."""
    return snapshot(world)


@pytest.fixture
def audits(world: World) -> dict[str, int]:  # noqa: F811
    """The number of audit entries so far, updated by the test after each example."""
    return {"count": audit_count(world)}


@settings(max_examples=300, **DB_SETTINGS)
@given(raw=raw_numbers, region=regions, who=customers)
@example(raw="\x00", region="FR", who=CAMILLE)
@example(raw="07 98 76 54 3\x00", region="\x00", who=CAMILLE)
def test_check_new_number_refuses_bad_input_without_writing(world: World, frozen: dict, audits: dict,  # noqa: F811
                                                            raw: str, region: str, who: str) -> None:
    cid = customer_id(world, who)
    signalled = 0  # a number held by another customer also leaves a risk signal on that customer's trail
    try:
        number = change.check_new_number(world.uow(), cid, raw, region, actor=customer_actor(cid))
    except NumberRejected as rejected:
        event(f"NumberRejected {rejected.problem.value}")
        signalled = int(rejected.problem.value == "unavailable")
        assert isinstance(rejected.problem, NumberProblem)
        assert_clear("number." + rejected.problem.value)
    except Refused as refused:
        event(f"Refused {refused.code}")
        assert_clear(refused.code)
    else:
        event("accepted")
        assert isinstance(number, PhoneNumber)
        assert number.e164.startswith("+")
    # Nothing written but the audit of the attempt (none when the customer does not exist).
    before, audits["count"] = audits["count"], audit_count(world)
    assert snapshot(world) == frozen
    assert audits["count"] == before + (0 if who == MISSING else 1 + signalled)


# --- « Confirmer » with any « new_e164 » ------------------------------------------------------------


@settings(max_examples=200, **DB_SETTINGS)
@given(new_e164=st.one_of(raw_numbers, st.text(alphabet="+0123456789", max_size=16)), who=customers)
@example(new_e164="+3379876543\x00", who=CAMILLE)
def test_start_request_with_random_numbers(world: World, frozen: dict, new_e164: str, who: str) -> None:  # noqa: F811
    cid = customer_id(world, who)
    unrelated = frozenset({"changerequest"})
    requests_before = world.requests()
    try:
        view = change.start_request(world.uow(), cid, new_e164, channel=Channel.WEB, actor=customer_actor(cid))
    except Refused as refused:
        event(f"Refused {refused.code}")
        assert_clear(refused.code)
        assert world.requests() == requests_before
    else:
        event("RequestView")
        assert isinstance(view, RequestView)
        assert view.status == "pending_approval"
        created = world.request(view.id)
        assert created.customer_id == cid and created.new_e164.startswith("+")
        assert len(world.requests()) == len(requests_before) + 1
    # The customer, their number, MySys, the outbox: untouched.
    assert snapshot(world, skip=unrelated) == {k: v for k, v in frozen.items() if k not in unrelated}


# --- the phone: « Valider » / « Refuser » with forged payloads --------------------------------------


class Pending(tuple):
    """(request id, Camille's phone, Julien's phone, the tables)."""

    def __repr__(self) -> str:
        return f"<Camille's pending request {self[0]}>"


@pytest.fixture
def pending(world: World) -> Pending:  # noqa: F811
    """Camille has a pending request and her phone in hand; Julien's phone too. Then the tables."""
    camille_phone = world.phone(CAMILLE)
    julien_phone = world.phone(JULIEN)
    request_id = world.start(CAMILLE).id
    return Pending((request_id, camille_phone, julien_phone, snapshot(world)))


REAL = "<the pending request>"
OWN = "<Camille's phone>"
JULIENS = "<Julien's phone>"
SIGNED_OTHER_TEXT = "<a genuine signature of another text>"

request_ids = st.one_of(st.just(REAL), st.just(REAL), any_text,
                        st.text(alphabet="0123456789abcdef", min_size=32, max_size=32))
device_ids = st.one_of(st.just(OWN), st.just(OWN), st.just(OWN), st.just(JULIENS), st.none(), any_text)
signatures = st.one_of(
    any_text,
    st.just(SIGNED_OTHER_TEXT),
    st.text(alphabet=string.ascii_letters + string.digits + "-_=", min_size=80, max_size=90),
    st.binary(min_size=64, max_size=64).map(b64url),
)
codes = st.one_of(any_text, st.text(alphabet="0123456789", min_size=4, max_size=4), st.just(CODE))
langs = st.one_of(st.sampled_from(["fr", "en", "FR", "de", ""]), any_text)


def _resolve(value: str | None, request_id: str, camille: SoftPhone, julien: SoftPhone) -> str | None:
    return {REAL: request_id, OWN: camille.device_id, JULIENS: julien.device_id,
            SIGNED_OTHER_TEXT: camille.sign("Changer le numéro ?")}.get(value, value)  # type: ignore[arg-type]


def _assert_nothing_applied(world: World, result: ApprovalResult, frozen: dict) -> None:
    assert isinstance(result, ApprovalResult)
    event(f"rejection {result.rejection}")
    assert result.accepted is False
    assert result.rejection in {r.value for r in Rejection}
    # Camille keeps her number and her Sécur'Pass, the request stays pending with its nonce, MySys holds
    # no history, the outbox is empty, no nonce is spent: every table as before.
    after = snapshot(world)
    camille = next(row for row in after["customer"] if row[1] == CAMILLE)
    assert CAMILLE_OLD in camille
    assert after["mysys_history"] == [] and after["outbox"] == [] and after["usednonce"] == []
    assert after == frozen


@settings(max_examples=300, **DB_SETTINGS)
@given(request_id=request_ids, device_id=device_ids, code=codes, signature=signatures, lang=langs)
@example(request_id="\x00", device_id=OWN, code=CODE, signature=SIGNED_OTHER_TEXT, lang="fr")  # NUL id
@example(request_id=REAL, device_id="\x00", code=CODE, signature=SIGNED_OTHER_TEXT, lang="fr")  # NUL device
@example(request_id=REAL, device_id=OWN, code="48\x0027", signature="\x00", lang="\x00")
def test_approve_with_random_ids_codes_signatures_and_langs(world: World, pending: tuple, request_id: str,  # noqa: F811
                                                            device_id: str | None, code: str, signature: str,
                                                            lang: str) -> None:
    real_id, camille, julien, frozen = pending
    request_id, device_id, signature = (_resolve(v, real_id, camille, julien)
                                        for v in (request_id, device_id, signature))
    result = change.approve(world.uow(), world.cid(CAMILLE), device_id, request_id, code=code, signature=signature,  # type: ignore[arg-type]
                            lang=lang, actor=device_actor(device_id))
    _assert_nothing_applied(world, result, frozen)


@settings(max_examples=200, **DB_SETTINGS)
@given(request_id=request_ids, device_id=device_ids, signature=signatures, lang=langs,
       reason=st.sampled_from(RefusalReason))
@example(request_id="\x00", device_id=OWN, signature=SIGNED_OTHER_TEXT, lang="fr", reason=RefusalReason.NOT_ME)
@example(request_id=REAL, device_id="\x00", signature=SIGNED_OTHER_TEXT, lang="fr", reason=RefusalReason.NOT_ME)
@example(request_id=REAL, device_id=OWN, signature="\x00", lang="\x00", reason=RefusalReason.CHANGED_MIND)
def test_refuse_with_random_ids_signatures_and_langs(world: World, pending: tuple, request_id: str,  # noqa: F811
                                                     device_id: str | None, signature: str, lang: str,
                                                     reason: RefusalReason) -> None:
    real_id, camille, julien, frozen = pending
    request_id, device_id, signature = (_resolve(v, real_id, camille, julien)
                                        for v in (request_id, device_id, signature))
    result = change.refuse(world.uow(), world.cid(CAMILLE), device_id, request_id, reason=reason, signature=signature,  # type: ignore[arg-type]
                           lang=lang, actor=device_actor(device_id))
    _assert_nothing_applied(world, result, frozen)


# --- login and sessions ------------------------------------------------------------------------------


@pytest.fixture
def light_dummy_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    """The unknown-identifier path verifies a dummy hash (same timing as a real one); make it cheap here."""
    monkeypatch.setattr(auth, "_DUMMY_HASH",
                        PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("not a password"))


unknown_identifiers = st.one_of(any_text, st.text(alphabet=string.digits, max_size=12),
                                st.sampled_from([p + "0" for p in PERSONAS] + [p[:-1] for p in PERSONAS])
                                ).filter(lambda s: s.strip() not in PERSONAS)


@settings(max_examples=200, **DB_SETTINGS)
@given(identifier=unknown_identifiers, password=st.one_of(st.text(min_size=1, max_size=40), hostile),
       channel=st.sampled_from(["web", "app"]))
@example(identifier="\x00", password="x", channel="web")
@example(identifier=CAMILLE + "\x00", password="x", channel="web")
@example(identifier="nobody", password="\x00", channel="app")
def test_login_with_unknown_identifiers_and_random_passwords(world: World, frozen: dict, light_dummy_hash: None,  # noqa: F811
                                                             identifier: str, password: str, channel: str) -> None:
    with pytest.raises(Refused) as info:
        auth.login_customer(world.uow(), identifier, password, channel=channel, actor=customer_actor(0, channel))
    event(info.value.code)
    assert_clear(info.value.code)
    # After 20 failures from the test's one address, that address is throttled (§12.2).
    assert info.value.code in {"login.error.empty", "login.error.invalid", "login.error.throttled"}
    assert snapshot(world) == frozen  # no session opened, no account counter moved


@settings(max_examples=300, **DB_SETTINGS)
@given(secret=st.one_of(st.none(), any_text, st.text(alphabet=string.ascii_letters + string.digits + "-_",
                                                     min_size=43, max_size=43)))
@example(secret="\x00")
def test_authenticate_random_secrets(world: World, frozen: dict, secret: str | None) -> None:  # noqa: F811
    assert auth.authenticate(world.uow(), secret) is None
    assert snapshot(world, skip=frozenset(t.name for t in WATCHED) - {"usersession"}) == {
        "usersession": frozen["usersession"]}


# --- J6: « Être rappelé » with any reason ------------------------------------------------------------


@settings(max_examples=200, **DB_SETTINGS)
@given(reason=st.one_of(any_text, st.sampled_from(sorted(contact.REASONS))), who=st.sampled_from(PERSONAS))
@example(reason="\x00", who=CAMILLE)
@example(reason="other\x00", who=CAMILLE)
def test_request_callback_with_random_reasons(world: World, frozen: dict, reason: str, who: str) -> None:  # noqa: F811
    cid = world.cid(who)
    contact_id = contact.request_callback(world.uow(), cid, reason, channel="web", actor=customer_actor(cid))
    expected = reason if reason in contact.REASONS else "other"
    with read_only(world.url) as s:
        stored = s.get(ContactRequest, contact_id)
        same = list(s.exec(select(ContactRequest).where(ContactRequest.customer_id == cid,
                                                         ContactRequest.reason == expected,
                                                         ContactRequest.status == "open")))
    assert stored is not None
    assert (stored.customer_id, stored.reason, stored.status) == (cid, expected, "open")
    assert [c.id for c in same] == [contact_id]  # one open request per reason
    assert snapshot(world, skip=frozenset({"contactrequest"})) == {
        k: v for k, v in frozen.items() if k != "contactrequest"}


# --- §8: the advisor's search box ----------------------------------------------------------------------


@pytest.fixture
def agencies(world: World) -> tuple[list[tuple[int, int]], dict[str, int]]:  # noqa: F811
    """[(advisor id, agency id)] from the Advisor table, and each customer's agency."""
    with read_only(world.url) as s:
        advisors = [(a.id, a.agency_id) for a in s.exec(select(Advisor).order_by(Advisor.id))]
        customer_agency = {c.identifier: c.agency_id for c in s.exec(select(Customer))}
    assert len({agency for _, agency in advisors}) >= 2
    return advisors, customer_agency  # type: ignore[return-value]


queries = st.one_of(
    any_text,
    st.sampled_from(["Martin", "martin", "MARTIN", "Camille", "Roux", "Lefèvre", "lefevre", "Chloé", "10",
                     "1000000008", "1000000001", "100000000", "%", "%%", "%a%", "_", "__", "__%", "\\", "a\\",
                     "\\_", "'", "''", "ma%tin", "m_rtin", " " * 70 + "Martin"]),
    st.text(alphabet=string.ascii_letters + "%_'\\ éè", max_size=12),
)


@settings(max_examples=300, **DB_SETTINGS)
@given(index=st.integers(min_value=0, max_value=2), query=queries)
@example(index=0, query="\x00\x00")
@example(index=2, query="Roux\x00")
def test_advisor_search_with_random_queries(world: World, agencies: tuple, index: int, query: str) -> None:  # noqa: F811
    advisors, customer_agency = agencies
    advisor_id, agency_id = advisors[index % len(advisors)]
    rows = advisor.search(world.uow(), advisor_id, query)
    event(f"{min(len(rows), 2)}+ rows" if rows else "no rows")
    assert isinstance(rows, list) and len(rows) <= 20
    for row in rows:
        assert isinstance(row, CustomerRow)
        assert customer_agency[row.identifier] == agency_id, f"{row.identifier} is not in agency {agency_id}"
        assert "+33" not in row.masked and row.masked.count("\u2022") >= 1
