"""The advisor back-office through the services, on SQLite and PostgreSQL (spec §8, §9).

Every test drives ``services.advisor`` (profile, search, sheet, reveal_number, queue, take, close,
advisor_change, pending_validations, validate_change) on the seeded bank and asserts on the return
values and on the rows: Customer, ChangeRequest, IdentityCheck, ContactRequest, MySys contact and
history, Outbox, AuditEntry.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlmodel import SQLModel, select

from secure_phone.adapters.db import read_only
from secure_phone.adapters.models import Advisor, ContactRequest, IdentityCheck
from secure_phone.adapters.mysys import SimulatedMySys
from secure_phone.domain.change_request import RefusalReason
from secure_phone.domain.phone import phone_from_e164
from secure_phone.services import advisor, contact
from secure_phone.services.advisor import AdvisorChangeResult
from secure_phone.services.audit import Actor, verify_chain
from secure_phone.services.customers import local_time
from secure_phone.services.unit_of_work import Refused
from secure_phone.settings import secret_key
from tests.integration.helpers import (
    CAMILLE,
    CAMILLE_OLD,
    CHLOE,
    EMMA,
    FULL_NUMBER,
    HUGO,
    INES,
    JULIEN,
    JULIEN_NUMBER,
    LEA,
    LUCAS,
    MARC,
    NEW_E164,
    NEW_RAW,
    OTHER_E164,
    OTHER_RAW,
    PARIS_OPERA_PHONE,
    PAUL,
    SARL,
    T0,
    World,
    customer_actor,
    details,
    world,  # noqa: F401  (fixture)
)

PARIS = (CAMILLE, JULIEN, INES, LEA, HUGO, CHLOE, PAUL, EMMA, LUCAS)
LYON = (SARL, MARC)
INES_OLD = "+33634567890"
MARC_NUMBER = "+33690123456"
SARL_NUMBER = "+33689012345"
UNKNOWN_IDENTIFIER = "1000000999"
UNKNOWN_ID = "0" * 32
DOCUMENT = "ZX9Q7W3K8"  # a CNI number, normalised
WRONG_CODE = "1111"


# --- helpers ---------------------------------------------------------------------------------------


def advisors(world: World) -> dict[str, int]:
    """login → id (the seeded advisors)."""
    with read_only(world.url) as s:
        return {a.login: a.id for a in s.exec(select(Advisor))}  # type: ignore[misc]


def sophie(world: World) -> int:
    return advisors(world)["sophie.lambert"]


def nadia(world: World) -> int:
    return advisors(world)["nadia.benali"]


def karim(world: World) -> int:
    return advisors(world)["karim.haddad"]


def advisor_actor(advisor_id: int) -> Actor:
    return Actor(kind="advisor", id=str(advisor_id), channel="advisor", ip="192.0.2.30", user_agent="pytest-advisor")


def mysys(world: World) -> SimulatedMySys:
    return SimulatedMySys(world.url, sleep=lambda s: None)


def change_by(
    world: World,
    advisor_id: int,
    identifier: str,
    raw: str = NEW_RAW,
    *,
    document_type: str = "cni",
    document_number: str = DOCUMENT,
    in_branch: bool = True,
    now: datetime | None = None,
) -> AdvisorChangeResult:
    return advisor.advisor_change(
        world.uow(now=now or world.clock.now, mysys=mysys(world)),
        advisor_id, identifier, raw_number=raw, region="FR", document_type=document_type,
        document_number=document_number, in_branch=in_branch, actor=advisor_actor(advisor_id),
    )


def validate(world: World, advisor_id: int, request_id: str, now: datetime | None = None) -> str:
    return advisor.validate_change(world.uow(now=now or world.clock.now, mysys=mysys(world)), advisor_id, request_id,
                                   actor=advisor_actor(advisor_id))


def not_me(world: World, identifier: str = CAMILLE) -> str:
    """The customer refuses an online request on the phone with « Ce n'est pas moi »."""
    phone = world.phone(identifier)
    view = world.start(identifier)
    approval = phone.pending()
    assert approval is not None
    result = phone.refuse(view.id, RefusalReason.NOT_ME, phone.sign(approval.text + "\nnot_me"))
    assert (result.accepted, result.status) == (True, "refused")
    world.clock.advance(minutes=1)
    return view.id


def three_wrong_codes(world: World, identifier: str = CAMILLE) -> str:
    phone = world.phone(identifier)
    view = world.start(identifier)
    for _ in range(3):
        assert phone.approve_pending(code=WRONG_CODE).rejection == "wrong_code"
        world.clock.advance(seconds=10)
    assert world.customer(identifier).securpass_status == "blocked"
    return view.id


def callback(world: World, identifier: str, reason: str) -> str:
    cid = world.cid(identifier)
    return contact.request_callback(world.uow(), cid, reason, channel="web", actor=customer_actor(cid))


def contact_row(world: World, contact_id: str) -> ContactRequest:
    with read_only(world.url) as s:
        row = s.get(ContactRequest, contact_id)
    assert row is not None
    return row


def identity_checks(world: World) -> list[IdentityCheck]:
    with read_only(world.url) as s:
        return list(s.exec(select(IdentityCheck).order_by(IdentityCheck.id)))


def raises_code(code: str, call: Any, *args: Any, **kwargs: Any) -> Refused:
    with pytest.raises(Refused) as raised:
        call(*args, **kwargs)
    assert raised.value.code == code, (call.__name__, args)
    assert raised.value.args == (code,)
    return raised.value


def all_cells(world: World) -> list[str]:
    """Every value of every column of every table, as text."""
    out: list[str] = []
    with read_only(world.url) as s:
        for table in SQLModel.metadata.sorted_tables:
            for row in s.connection().execute(table.select()):
                out.extend(str(value) for value in row if value is not None)
    return out


def assert_nothing_applied(world: World, identifier: str, number: str) -> None:
    customer = world.customer(identifier)
    assert customer.secure_phone_e164 == number
    assert customer.number_changed_at is None
    assert customer.cooling_off_until is None
    assert world.history(identifier) == []
    assert world.mysys_contact(identifier).secure_phone_e164 == number
    assert [row for row in world.outbox() if row.customer_id == customer.id] == []


def assert_applied(world: World, identifier: str, old: str, new: str, request_id: str, at: datetime) -> None:
    """The same MySys update, notifications and cooling-off as the online path (§8)."""
    customer = world.customer(identifier)
    assert customer.secure_phone_e164 == new
    assert customer.number_changed_at == at
    assert customer.number_confirmed_at == at
    assert customer.cooling_off_until == at + timedelta(hours=72)
    assert world.mysys_contact(identifier).secure_phone_e164 == new
    [history] = world.history(identifier)
    assert (history.operation_id, history.old_e164, history.new_e164, history.source) == (
        request_id, old, new, "advisor")
    sent = [row for row in world.outbox() if row.customer_id == customer.id]
    assert sorted((row.key, row.channel, row.recipient, row.status) for row in sent) == sorted([
        (f"{request_id}:email", "email", customer.email, "pending"),
        (f"{request_id}:sms-old", "sms", old, "pending"),
        (f"{request_id}:sms-new", "sms", new, "pending"),
    ])
    request = world.request(request_id)
    assert (request.status, request.completed_at, request.channel) == ("completed", at, "advisor")
    [completed] = world.audit(identifier, "change_completed")
    assert (completed.outcome, completed.request_id, details(completed)["channel_of_request"]) == (
        "ok", request_id, "advisor")


# --- 1. scoping ------------------------------------------------------------------------------------


def test_profile_of_each_advisor(world: World) -> None:
    ids = advisors(world)
    assert advisor.profile(world.uow(), ids["sophie.lambert"]).name == "Sophie Lambert"
    sophie_view, karim_view = (advisor.profile(world.uow(), ids[login]) for login in ("sophie.lambert", "karim.haddad"))
    assert (sophie_view.agency_name, karim_view.agency_name) == ("Agence Paris Opéra", "Agence Lyon Bellecour")
    assert advisor.profile(world.uow(), ids["nadia.benali"]).agency_id == sophie_view.agency_id != karim_view.agency_id
    raises_code("advisor.not_found", advisor.profile, world.uow(), max(ids.values()) + 1)


def test_another_agencys_customer_is_not_found_exactly_like_an_unknown_one(world: World) -> None:
    now = world.clock.now
    cases = [(karim(world), CAMILLE), (karim(world), PAUL), (sophie(world), MARC), (nadia(world), SARL)]
    before = (world.audit_pairs(), world.requests(), identity_checks(world), world.history())
    for advisor_id, foreign in cases:
        for identifier in (foreign, UNKNOWN_IDENTIFIER):
            actor = advisor_actor(advisor_id)
            raises_code("advisor.not_found", advisor.sheet, world.uow(now=now), advisor_id, identifier)
            raises_code("advisor.not_found", advisor.reveal_number, world.uow(now=now), advisor_id, identifier,
                        actor=actor)
            raises_code("advisor.not_found", change_by, world, advisor_id, identifier, OTHER_RAW)
    # An unknown advisor is not found either, whatever the customer.
    ghost = max(advisors(world).values()) + 1
    raises_code("advisor.not_found", advisor.sheet, world.uow(now=now), ghost, CAMILLE)
    raises_code("advisor.not_found", advisor.reveal_number, world.uow(now=now), ghost, CAMILLE,
                actor=advisor_actor(ghost))
    raises_code("advisor.not_found", change_by, world, ghost, CAMILLE)
    raises_code("advisor.not_found", advisor.search, world.uow(), ghost, "Martin")
    raises_code("advisor.not_found", advisor.queue, world.uow(), ghost)
    raises_code("advisor.not_found", advisor.pending_validations, world.uow(), ghost)
    # Nothing was read out, written or applied: no request, no identity check; the refused writes are on the
    # trail (§12.2: every refusal audited), the same for another agency's customer as for an unknown one.
    assert (world.requests(), identity_checks(world), world.history()) == before[1:]
    added = world.audit()[len(before[0]):]
    assert {(e.action, e.outcome, details(e)["problem"]) for e in added} == {
        ("advisor_change", "refused", "advisor.not_found")}
    assert all(e.customer_id is None for e in added)
    assert world.customer(CAMILLE).secure_phone_e164 == CAMILLE_OLD
    assert world.customer(MARC).secure_phone_e164 == MARC_NUMBER


def test_search_never_returns_another_agencys_customers(world: World) -> None:
    s, k = sophie(world), karim(world)

    def found(advisor_id: int, text: str) -> list[str]:
        return [row.identifier for row in advisor.search(world.uow(), advisor_id, text)]

    [camille] = advisor.search(world.uow(), s, "Martin")
    assert (camille.identifier, camille.name, camille.masked) == (CAMILLE, "Camille Martin", "06 •• •• •• 78")
    assert found(s, "martin") == found(s, "Camille") == found(s, CAMILLE) == [CAMILLE]
    assert sorted(found(s, "10000000")) == sorted(found(nadia(world), "1000")) == sorted(PARIS)
    assert sorted(found(k, "10000000")) == sorted(found(k, "10")) == sorted(LYON)
    for foreign in ("Atelier", "Roux", "SARL", "Lefèvre", "Marc", SARL, MARC, "100000000", "10000000%", "1%", "1_"):
        assert not set(found(s, foreign)) & set(LYON), foreign
    for foreign in ("Martin", "Camille", "Laurent", CAMILLE, PAUL, "1000000", "1%", "%", "__"):
        assert not set(found(k, foreign)) & set(PARIS), foreign
    assert found(k, "Lefèvre") == found(k, MARC) == [MARC]
    assert found(s, "x") == []  # too short
    # No full number in any result.
    for row in advisor.search(world.uow(), s, "1000"):
        assert not FULL_NUMBER.search(row.masked), row


def test_contact_requests_of_another_agency_are_not_found(world: World) -> None:
    s, k = sophie(world), karim(world)
    camille_contact = callback(world, CAMILLE, "not_my_number")
    marc_contact = callback(world, MARC, "ineligible.protected_adult")
    now = world.clock.advance(minutes=5)
    before = world.audit_pairs()

    for advisor_id, foreign in ((k, camille_contact), (s, marc_contact), (k, UNKNOWN_ID), (s, UNKNOWN_ID)):
        actor = advisor_actor(advisor_id)
        raises_code("advisor.not_found", advisor.take, world.uow(now=now), advisor_id, foreign, actor=actor)
        raises_code("advisor.not_found", advisor.close, world.uow(now=now), advisor_id, foreign, "note", actor=actor)
    for contact_id in (camille_contact, marc_contact):
        row = contact_row(world, contact_id)
        assert (row.status, row.advisor_id, row.note, row.taken_at, row.closed_at) == ("open", None, None, None, None)
    assert world.audit_pairs() == before

    assert [(c.id, c.identifier) for c in advisor.queue(world.uow(), s)] == [(camille_contact, CAMILLE)]
    assert [(c.id, c.identifier) for c in advisor.queue(world.uow(), nadia(world))] == [(camille_contact, CAMILLE)]
    assert [(c.id, c.identifier) for c in advisor.queue(world.uow(), k)] == [(marc_contact, MARC)]


def test_validations_of_another_agency_are_not_listed_and_not_found(world: World) -> None:
    s, n, k = sophie(world), nadia(world), karim(world)
    not_me(world, CAMILLE)
    camille = change_by(world, s, CAMILLE)
    assert camille.status == "pending_validation"
    # Lyon: a first change completes, the second (recent change, cooling-off) waits for a second advisor.
    first = change_by(world, k, MARC)
    assert first.status == "completed"
    world.clock.advance(hours=1)
    marc = change_by(world, k, MARC, OTHER_RAW)
    assert marc.status == "pending_validation"
    online = world.start(JULIEN, "07 55 44 33 21").id  # an online request is no advisor validation

    assert [(v.request_id, v.identifier) for v in advisor.pending_validations(world.uow(), n)] == [
        (camille.request_id, CAMILLE)]
    assert [(v.request_id, v.identifier) for v in advisor.pending_validations(world.uow(), s)] == [
        (camille.request_id, CAMILLE)]
    [lyon] = advisor.pending_validations(world.uow(), k)
    assert (lyon.request_id, lyon.identifier, lyon.requested_by, lyon.signals) == (
        marc.request_id, MARC, "Karim Haddad", ["recent_change"])

    before = world.audit_pairs()
    for advisor_id, foreign in ((k, camille.request_id), (n, marc.request_id), (s, marc.request_id),
                                (n, online), (k, UNKNOWN_ID), (n, UNKNOWN_ID)):
        raises_code("advisor.not_found", validate, world, advisor_id, foreign)
    # Every attempt is on the trail as a refusal (the probed customer's, when the request exists).
    assert world.audit_pairs()[len(before):] == [("advisor_validation", "refused")] * 6
    assert world.request(camille.request_id).status == "pending_approval"
    assert world.request(marc.request_id).status == "pending_approval"
    assert world.request(online).status == "pending_approval"
    assert world.customer(CAMILLE).secure_phone_e164 == CAMILLE_OLD
    assert world.customer(MARC).secure_phone_e164 == NEW_E164


# --- 2. sheet --------------------------------------------------------------------------------------


def test_sheet_of_a_customer_without_events(world: World) -> None:
    sheet = advisor.sheet(world.uow(), nadia(world), JULIEN)
    assert (sheet.customer_id, sheet.identifier, sheet.name) == (world.cid(JULIEN), JULIEN, "Julien Petit")
    assert sheet.masked == "06 •• •• •• 89"
    assert sheet.last_confirmed == local_time(T0 - timedelta(days=30), "fr")
    assert (sheet.securpass, sheet.device) == ("active", "Smartphone de Julien Petit")
    assert (sheet.cooling_off_until, sheet.changes, sheet.timeline, sheet.signals) == ("", [], [], [])
    assert sheet.failed_notifications == 0
    hugo = advisor.sheet(world.uow(), nadia(world), HUGO)
    assert (hugo.securpass, hugo.device) == ("none", "")


def test_sheet_after_an_advisor_change_shows_cooling_off_history_and_timeline(world: World) -> None:
    s = sophie(world)
    world.phone(JULIEN)
    online = world.start(JULIEN, OTHER_RAW)
    t_change = world.clock.advance(minutes=3)
    result = change_by(world, s, JULIEN)
    assert result.status == "completed"
    assert world.request(online.id).status == "superseded"  # one change at a time
    now = world.clock.advance(minutes=2)

    sheet = advisor.sheet(world.uow(now=now), s, JULIEN)
    assert sheet.masked == phone_from_e164(NEW_E164).masked == "07 •• •• •• 32"
    assert sheet.last_confirmed == local_time(t_change, "fr")
    assert sheet.cooling_off_until == local_time(t_change + timedelta(hours=72), "fr")
    assert [(c.at, c.action, c.outcome, c.detail_text) for c in sheet.changes] == [
        (local_time(t_change, "fr"), "channel.advisor", "completed", "07 •• •• •• 32"),
        (local_time(T0 + timedelta(minutes=1), "fr"), "channel.web", "superseded", "07 •• •• •• 44"),
    ]
    # The timeline is the customer's audit trail, newest first.
    audited = list(reversed(world.audit(JULIEN)))
    assert [(t.action, t.outcome) for t in sheet.timeline] == [(e.action, e.outcome) for e in audited]
    assert [t.at for t in sheet.timeline] == [local_time(e.at, "fr") for e in audited]
    assert [t.action for t in sheet.timeline][:2] == ["change_completed", "advisor_change"]
    assert (sheet.timeline[0].detail_key, sheet.timeline[0].detail_text) == ("", "07 •• •• •• 32")
    assert "recent_change" in sheet.signals
    # Masked numbers only, everywhere on the sheet.
    texts = [sheet.masked] + [item.detail_text for item in sheet.changes + sheet.timeline]
    assert not any(FULL_NUMBER.search(text) for text in texts), texts
    # The cooling-off is no longer shown once it is over.
    later = advisor.sheet(world.uow(now=t_change + timedelta(hours=73)), s, JULIEN)
    assert later.cooling_off_until == ""


def test_sheet_signals_after_a_not_me_refusal(world: World) -> None:
    before = advisor.sheet(world.uow(), sophie(world), CAMILLE)
    assert before.signals == []
    request_id = not_me(world, CAMILLE)

    sheet = advisor.sheet(world.uow(), sophie(world), CAMILLE)
    assert "not_me" in sheet.signals
    assert sheet.signals[0] == "not_me"  # the most severe first
    assert [(c.action, c.outcome) for c in sheet.changes] == [("channel.web", "refused")]
    assert [(t.action, t.outcome, t.detail_key) for t in sheet.timeline[:3]] == [
        ("online_changes_frozen", "ok", "detail.not_me"), ("fraud_alert", "raised", "detail.not_me"),
        ("refusal", "ok", "detail.not_me")]
    assert world.request(request_id).refusal_reason == "not_me"
    assert sheet.masked == "06 •• •• •• 78" and sheet.securpass == "active"
    [frozen] = world.audit(CAMILLE, "online_changes_frozen")
    assert sheet.frozen_since == local_time(frozen.at, "fr")  # "frozen after a not-me refusal", since when


def test_sheet_signals_after_three_wrong_codes(world: World) -> None:
    three_wrong_codes(world, CAMILLE)
    sheet = advisor.sheet(world.uow(), nadia(world), CAMILLE)
    assert sheet.securpass == "blocked"
    assert "securpass_blocked" in sheet.signals
    assert "securpass_failed" in sheet.signals
    assert [t.detail_key for t in sheet.timeline if t.action == "approval"] == ["detail.wrong_code"] * 3
    assert sheet.timeline[0].action == "approval" and sheet.timeline[1].action == "securpass_blocked"


# --- 3. reveal -------------------------------------------------------------------------------------


def test_reveal_number_is_audited(world: World) -> None:
    s = sophie(world)
    now = world.clock.advance(minutes=10)
    assert advisor.reveal_number(world.uow(now=now), s, CAMILLE, actor=advisor_actor(s)) == "06 12 34 56 78"
    [entry] = world.audit(CAMILLE, "advisor_reveal_number")
    assert (entry.outcome, entry.actor_kind, entry.actor_id, entry.channel, entry.at) == (
        "ok", "advisor", str(s), "advisor", now)
    assert not FULL_NUMBER.search(entry.details)
    with read_only(world.url) as session:
        assert verify_chain(session) is None  # the chain is intact
    sheet = advisor.sheet(world.uow(now=now), s, CAMILLE)
    assert (sheet.timeline[0].action, sheet.timeline[0].outcome) == ("advisor_reveal_number", "ok")
    assert sheet.signals == []  # looking at a number is no risk


# --- 4. advisor change without risk ----------------------------------------------------------------


def test_advisor_change_requires_an_in_branch_identity_check(world: World) -> None:
    s = sophie(world)
    raises_code("advisor.change.in_branch_required", change_by, world, s, INES, in_branch=False)
    for document_type, number in (("permis", DOCUMENT), ("", DOCUMENT), ("CNI ", DOCUMENT), ("cni", ""),
                                  ("passeport", "12345"), ("titre_sejour", "AB-12 3"), ("cni", "  ------ ")):
        raises_code("advisor.change.document_required", change_by, world, s, INES, document_type=document_type,
                    document_number=number)
    assert world.requests(INES) == [] and identity_checks(world) == []
    assert_nothing_applied(world, INES, INES_OLD)


def test_advisor_change_without_risk_completes_at_once(world: World) -> None:
    s = sophie(world)
    now = world.clock.advance(minutes=5)
    typed = "zx 9q7-w3k8"  # as read on the card: normalised to ZX9Q7W3K8

    result = change_by(world, s, INES, document_number=typed)

    assert result.status == "completed"
    [request] = world.requests(INES)
    assert request.id == result.request_id
    assert (request.channel, request.advisor_id, request.validator_id, request.old_e164, request.new_e164) == (
        "advisor", s, None, INES_OLD, NEW_E164)
    assert request.risk_signals in (None, "[]")
    assert_applied(world, INES, INES_OLD, NEW_E164, result.request_id, now)

    [check] = identity_checks(world)
    assert (check.change_request_id, check.advisor_id, check.document_type, check.checked_at) == (
        result.request_id, s, "cni", now)
    masked = check.document_number_masked
    assert masked.endswith("W3K8")
    assert sum(ch.isalnum() for ch in masked) == 4, masked
    assert "ZX9Q7" not in masked.upper()
    digest = check.document_number_hash
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert digest not in {hashlib.sha256(v.encode()).hexdigest() for v in (DOCUMENT, typed, "identity:" + DOCUMENT)}
    assert digest == hmac.new(secret_key(), b"identity:" + DOCUMENT.encode(), hashlib.sha256).hexdigest()
    # The full document number is in no column of any table (audit included), in any form.
    for cell in all_cells(world):
        for form in (DOCUMENT, typed, "ZX9Q7", "9Q7W3K8", "zx 9q7", "9q7-w3k8"):
            assert form.lower() not in cell.lower(), (form, cell[:120])

    [requested] = world.audit(INES, "advisor_change")
    assert (requested.outcome, requested.actor_kind, requested.actor_id, requested.request_id) == (
        "requested", "advisor", str(s), result.request_id)
    assert details(requested)["document_type"] == "cni"
    assert not FULL_NUMBER.search(requested.details)


def test_advisor_change_of_a_customer_without_any_event(world: World) -> None:
    n = nadia(world)
    now = world.clock.now
    result = change_by(world, n, JULIEN, OTHER_RAW, document_type="passeport", document_number="19FV12345")
    assert result.status == "completed"
    assert_applied(world, JULIEN, JULIEN_NUMBER, OTHER_E164, result.request_id, now)
    [check] = identity_checks(world)
    assert (check.document_type, check.advisor_id) == ("passeport", n)
    assert check.document_number_masked.endswith("2345") and "19FV1" not in check.document_number_masked


def test_number_rules_apply_to_an_advisor_change(world: World) -> None:
    s = sophie(world)
    cases = [(PARIS_OPERA_PHONE, "number.landline"), (JULIEN_NUMBER, "number.unavailable"),
             ("06 23 45 67 89", "number.unavailable"), (SARL_NUMBER, "number.unavailable"),  # another agency's customer
             ("06 12 34 56 78", "number.same_as_current")]
    for raw, code in cases:
        raises_code(code, change_by, world, s, CAMILLE, raw)
    audited = world.audit(CAMILLE, "advisor_change")
    assert [(e.outcome, details(e)["problem"]) for e in audited] == [
        ("refused", code.removeprefix("number.")) for _, code in cases]
    assert all(not FULL_NUMBER.search(e.details) for e in audited)
    assert world.requests(CAMILLE) == [] and identity_checks(world) == []
    assert_nothing_applied(world, CAMILLE, CAMILLE_OLD)
    assert world.customer(JULIEN).secure_phone_e164 == JULIEN_NUMBER


# --- 5. four eyes ----------------------------------------------------------------------------------


def test_risk_requires_a_second_advisor_of_the_agency(world: World) -> None:
    s, n, k = sophie(world), nadia(world), karim(world)
    not_me(world, CAMILLE)
    t_entered = world.clock.now

    pending = change_by(world, s, CAMILLE)

    assert pending.status == "pending_validation"
    request = world.request(pending.request_id)
    assert (request.status, request.channel, request.advisor_id, request.validator_id) == (
        "pending_approval", "advisor", s, None)
    assert json.loads(request.risk_signals or "[]") == ["not_me"]
    assert request.expires_at == t_entered + timedelta(hours=2)
    assert [c.change_request_id for c in identity_checks(world)] == [pending.request_id]
    assert_nothing_applied(world, CAMILLE, CAMILLE_OLD)
    assert details(world.audit(CAMILLE, "advisor_change")[-1])["signals"] == ["not_me"]
    [waiting] = advisor.pending_validations(world.uow(), n)
    assert (waiting.request_id, waiting.identifier, waiting.name, waiting.new_national, waiting.requested_by,
            waiting.signals) == (pending.request_id, CAMILLE, "Camille Martin", NEW_RAW, "Sophie Lambert", ["not_me"])

    # Never the advisor who entered it: refused and audited.
    world.clock.advance(minutes=5)
    raises_code("advisor.validation.same_advisor", validate, world, s, pending.request_id)
    [refused] = world.audit(CAMILLE, "advisor_validation")
    assert (refused.outcome, refused.actor_id, refused.request_id, details(refused)["problem"]) == (
        "refused", str(s), pending.request_id, "same_advisor")
    # Another agency's advisor cannot see it.
    raises_code("advisor.not_found", validate, world, k, pending.request_id)
    assert world.request(pending.request_id).status == "pending_approval"
    assert_nothing_applied(world, CAMILLE, CAMILLE_OLD)

    t_validated = world.clock.advance(minutes=5)
    assert validate(world, n, pending.request_id) == "completed"

    request = world.request(pending.request_id)
    assert (request.status, request.advisor_id, request.validator_id, request.decided_at) == (
        "completed", s, n, t_validated)
    assert_applied(world, CAMILLE, CAMILLE_OLD, NEW_E164, pending.request_id, t_validated)
    ok = world.audit(CAMILLE, "advisor_validation")[-1]
    assert (ok.outcome, ok.actor_kind, ok.actor_id, ok.request_id) == ("ok", "advisor", str(n), pending.request_id)
    assert advisor.pending_validations(world.uow(), n) == []

    # Validating twice changes nothing.
    world.clock.advance(minutes=1)
    raises_code("sp.gone", validate, world, n, pending.request_id)
    assert len(world.history(CAMILLE)) == 1
    assert len([row for row in world.outbox() if row.customer_id == world.cid(CAMILLE)]) == 3


def _being_saved(world: World, identifier: str, new_e164: str, channel: str) -> str:
    """A change of ``identifier`` approved a moment ago and still waiting for MySys (``applying``): the state the
    race leaves when another request of the customer is approved at the same instant (a second advisor's
    validation and the customer's own « Valider »). Written as that commit writes it; its id."""
    from secure_phone.adapters.db import transaction
    from secure_phone.adapters.models import ChangeRequest, Customer

    with transaction(world.url) as session:
        customer = session.exec(select(Customer).where(Customer.identifier == identifier)).one()
        request = ChangeRequest(customer_id=customer.id, channel=channel, old_e164=customer.secure_phone_e164,
                                new_e164=new_e164, status="applying", nonce="race", created_at=world.clock.now,
                                expires_at=world.clock.now + timedelta(minutes=5), decided_at=world.clock.now)
        session.add(request)
        session.flush()
        return request.id


def test_a_second_advisor_cannot_validate_while_another_change_of_the_customer_is_being_saved(
        world: World) -> None:
    """One change at a time: two approved changes of one customer would each be written to MySys, and the
    bank's record and MySys could end with different numbers. The validation is refused (and audited), the
    change entered stays waiting for a validation, and nothing reaches MySys."""
    s, n = sophie(world), nadia(world)
    not_me(world, CAMILLE)
    pending = change_by(world, s, CAMILLE)
    assert pending.status == "pending_validation"
    online = _being_saved(world, CAMILLE, "+33755443321", "web")

    world.clock.advance(minutes=5)
    raises_code("advisor.validation.in_progress", validate, world, n, pending.request_id)

    assert world.request(pending.request_id).status == "pending_approval"
    assert world.request(online).status == "applying"
    assert_nothing_applied(world, CAMILLE, CAMILLE_OLD)
    refused = world.audit(CAMILLE, "advisor_validation")[-1]
    assert (refused.outcome, refused.request_id, details(refused)["problem"]) == (
        "refused", pending.request_id, "change.in_progress")


def test_no_change_is_entered_in_branch_while_another_change_of_the_customer_is_being_saved(world: World) -> None:
    """One change at a time, from the advisor's entry too: the customer's online change waits for MySys, so the
    advisor's is refused (and audited) before any code is sent or anything reaches MySys; once that change is
    over, the same entry goes through."""
    s = sophie(world)
    online = _being_saved(world, CAMILLE, "+33755443321", "web")
    raises_code("advisor.validation.in_progress", change_by, world, s, CAMILLE)
    assert world.request(online).status == "applying"
    assert_nothing_applied(world, CAMILLE, CAMILLE_OLD)
    entry = world.audit(CAMILLE, "advisor_change")[-1]
    assert (entry.outcome, details(entry)["problem"]) == ("refused", "change.in_progress")

    from secure_phone.adapters.db import transaction
    from secure_phone.adapters.models import ChangeRequest

    with transaction(world.url) as session:
        row = session.get(ChangeRequest, online)
        assert row is not None
        row.status = "failed"
        session.add(row)
    assert change_by(world, s, CAMILLE).status == "completed"


def test_the_phone_cannot_approve_while_an_advisors_change_of_the_customer_is_being_saved(world: World) -> None:
    """The other way round: the customer's « Valider » while an advisor's validated change waits for MySys is
    refused as a number that changed (the one it replaces is being replaced), and MySys is never told."""
    view = world.start(JULIEN)
    _being_saved(world, JULIEN, "+33755443321", "advisor")

    result = world.phone(JULIEN).approve_pending()

    assert (result.accepted, result.rejection) == (False, "number_changed")
    assert world.request(view.id).status == "failed"
    assert world.customer(JULIEN).secure_phone_e164 == JULIEN_NUMBER
    assert world.history(JULIEN) == []


def test_a_pending_validation_expires_after_two_hours(world: World) -> None:
    s, n = sophie(world), nadia(world)
    not_me(world, CAMILLE)
    t_entered = world.clock.now
    pending = change_by(world, s, CAMILLE, now=t_entered)
    assert pending.status == "pending_validation"

    raises_code("sp.gone", validate, world, n, pending.request_id, t_entered + timedelta(hours=3))
    raises_code("sp.gone", validate, world, n, pending.request_id, t_entered + timedelta(hours=2))
    assert world.request(pending.request_id).validator_id is None
    assert world.request(pending.request_id).status in ("pending_approval", "expired")
    assert_nothing_applied(world, CAMILLE, CAMILLE_OLD)
    assert [e.outcome for e in world.audit(CAMILLE, "advisor_validation")] in ([], ["refused", "refused"])


def test_the_customers_phone_cannot_stand_in_for_the_second_advisor(world: World) -> None:
    """A change waiting for a second advisor is no Sécur'Pass request: the phone neither sees nor approves it."""
    s = sophie(world)
    not_me(world, CAMILLE)
    pending = change_by(world, s, CAMILLE)
    assert pending.status == "pending_validation"
    phone = world.phone(CAMILLE)

    shown = phone.pending()
    result = phone.approve(pending.request_id, phone.sign(world.current_text(pending.request_id)))

    request = world.request(pending.request_id)
    assert (result.accepted, request.status, request.validator_id) == (False, "pending_approval", None), (
        "the customer's Sécur'Pass approved an advisor change waiting for a second advisor")
    assert_nothing_applied(world, CAMILLE, CAMILLE_OLD)
    assert shown is None or shown.request_id != pending.request_id, "the phone is shown the advisor's change"
    assert [v.request_id for v in advisor.pending_validations(world.uow(), nadia(world))] == [pending.request_id]


def test_a_risk_signal_cannot_be_pushed_out_of_the_sheet_by_later_events(world: World) -> None:
    """« Point de vigilance » looks at the recent events (30 days), not at the last 60 audit entries."""
    s = sophie(world)
    not_me(world, CAMILLE)
    for _ in range(61):
        now = world.clock.advance(seconds=1)
        advisor.reveal_number(world.uow(now=now), s, CAMILLE, actor=advisor_actor(s))

    signals = advisor.sheet(world.uow(), s, CAMILLE).signals
    result = change_by(world, s, CAMILLE)

    assert result.status == "pending_validation", "an advisor change after a « not me » went through alone"
    assert_nothing_applied(world, CAMILLE, CAMILLE_OLD)
    assert "not_me" in signals


# --- 6. contact queue ------------------------------------------------------------------------------


def test_take_and_close_a_contact_request(world: World) -> None:
    s, n = sophie(world), nadia(world)
    camille = callback(world, CAMILLE, "not_my_number")
    world.clock.advance(minutes=1)
    paul = callback(world, PAUL, "changed_phone")

    queue = advisor.queue(world.uow(), s)
    assert [(c.id, c.identifier, c.name, c.reason, c.channel, c.status, c.advisor, c.note) for c in queue] == [
        (camille, CAMILLE, "Camille Martin", "not_my_number", "web", "open", "", ""),
        (paul, PAUL, "Paul Laurent", "changed_phone", "web", "open", "", ""),
    ]

    t_take = world.clock.advance(minutes=2)
    assert advisor.take(world.uow(now=t_take), s, camille, actor=advisor_actor(s)) is None
    row = contact_row(world, camille)
    assert (row.status, row.advisor_id, row.taken_at, row.closed_at) == ("taken", s, t_take, None)
    shown = {c.id: c for c in advisor.queue(world.uow(), n)}
    assert (shown[camille].status, shown[camille].advisor) == ("taken", "Sophie Lambert")

    t_close = world.clock.advance(minutes=7)
    note = "Rappelée : numéro perdu, rendez-vous en agence pris."
    advisor.close(world.uow(now=t_close), s, camille, note, actor=advisor_actor(s))
    row = contact_row(world, camille)
    assert (row.status, row.advisor_id, row.note, row.taken_at, row.closed_at) == ("closed", s, note, t_take, t_close)
    assert [c.id for c in advisor.queue(world.uow(), s)] == [paul]
    assert [c.id for c in advisor.queue(world.uow(), n)] == [paul]

    # A closed request cannot be taken again.
    raises_code("advisor.contact.closed", advisor.take, world.uow(now=world.clock.advance(minutes=1)), n, camille,
                actor=advisor_actor(n))
    row = contact_row(world, camille)
    assert (row.status, row.advisor_id, row.note) == ("closed", s, note)

    # Closing without taking first records who closed it.
    advisor.close(world.uow(), n, paul, "Client rappelé.", actor=advisor_actor(n))
    assert (contact_row(world, paul).status, contact_row(world, paul).advisor_id) == ("closed", n)
    assert advisor.queue(world.uow(), s) == []

    taken = world.audit(CAMILLE, "contact_taken")
    closed = world.audit(CAMILLE, "contact_closed")
    assert [(e.outcome, e.actor_id, details(e)["contact"]) for e in taken] == [("ok", str(s), camille)]
    assert [(e.outcome, e.actor_id, details(e)["contact"]) for e in closed] == [("ok", str(s), camille)]
    assert [t.action for t in advisor.sheet(world.uow(), s, CAMILLE).timeline] == [
        "contact_closed", "contact_taken", "contact_requested"]
