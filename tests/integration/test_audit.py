"""The audit trail on a real database: hash chain, tamper evidence, masked numbers (spec §9, §10)."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlmodel import select

from secure_phone.adapters.db import read_only, transaction
from secure_phone.adapters.models import AuditEntry, AuditHead
from secure_phone.domain.change_request import RefusalReason
from secure_phone.domain.phone import NumberRejected
from secure_phone.services import auth, change
from secure_phone.services.audit import ANCHOR_ID, GENESIS, SYSTEM, purge, verify_chain
from secure_phone.services.unit_of_work import Refused
from tests.integration.helpers import (
    CAMILLE,
    CAMILLE_OLD,
    FULL_NUMBER,
    JULIEN,
    JULIEN_NUMBER,
    NEW_E164,
    NEW_MASKED_LAST_TWO,
    OTHER_E164,
    OTHER_RAW,
    PARIS_OPERA_PHONE,
    PASSWORD,
    World,
    customer_actor,
    number_forms,
    world,  # noqa: F401  (fixture)
)


def chain_break(world: World) -> int | None:
    with read_only(world.url) as s:
        return verify_chain(s)


def busy_day(world: World) -> str:
    """A realistic trail: login, refused numbers, a refused attempt, a refusal, then a completed change.

    Returns the id of the completed request.
    """
    cid = world.cid(CAMILLE)
    actor = customer_actor(cid)
    phone = world.phone(CAMILLE)
    auth.login_customer(world.uow(), CAMILLE, PASSWORD, channel="web", actor=actor)
    with pytest.raises(Refused):
        auth.login_customer(world.uow(), JULIEN, "wrong", channel="web", actor=actor)
    for raw in ("06 12 34 56 78", "06 23 45 67 89", "01 42 68 00 00", "pas un numéro"):
        with pytest.raises(NumberRejected):
            change.check_new_number(world.uow(), cid, raw, "FR", actor=actor)
    with pytest.raises(Refused):
        change.start_request(world.uow(), cid, JULIEN_NUMBER, channel=change.Channel.WEB, actor=actor)
    # A first request refused on the phone ("not me"), after a wrong code.
    first = world.start(CAMILLE, OTHER_RAW)
    assert phone.approve_pending(code="1234").rejection == "wrong_code"
    shown = phone.pending()
    assert shown is not None
    assert phone.refuse(first.id, RefusalReason.NOT_ME, phone.sign(shown.text + "\nnot_me")).accepted
    world.clear_freeze(CAMILLE)  # « not me » froze online changes until the advisors lift it, in branch
    # A cancelled one, then the change that goes through (after a MySys error and a retry).
    world.clock.advance(minutes=1)
    cancelled = world.start(CAMILLE, "07 55 44 33 21")
    change.cancel_request(world.uow(), cid, cancelled.id, actor=actor)
    world.clock.advance(minutes=1)
    done = world.start(CAMILLE)
    assert phone.approve_pending(mysys=world.faulty_mysys(error_rate=1.0)).status == "applying"
    change.retry_applying(world.uow(now=world.clock.advance(seconds=30)))
    assert world.request(done.id).status == "completed"
    return done.id


def test_entries_are_chained_and_the_chain_verifies(world: World) -> None:
    busy_day(world)

    entries = world.audit()
    assert len(entries) > 20
    previous = GENESIS
    for entry in entries:
        assert entry.prev_hash == previous
        assert len(entry.hash) == 64 and entry.hash != previous
        previous = entry.hash
    with read_only(world.url) as s:
        head = s.get(AuditHead, 1)
    assert head is not None and head.last_hash == entries[-1].hash
    assert chain_break(world) is None
    # Every step names who, what and the outcome.
    assert {"number_entered", "change_requested", "approval", "refusal", "fraud_alert", "change_cancelled",
            "mysys_update", "change_completed", "login", "demo_phone_picked"} <= {e.action for e in entries}
    assert all(e.actor_kind and e.action and e.outcome for e in entries)


def test_a_unit_of_work_takes_the_trail_head_when_it_commits_only(world: World) -> None:
    """Issue 13: every writer locks the trail's head row; a transaction chains its entries just before its
    commit, so the head is not held while it does the rest of its work. Nothing is chained before the commit,
    everything in the order recorded after it; on PostgreSQL another writer appends and commits meanwhile
    (it waited for the whole transaction before)."""
    cid = world.cid(CAMILLE)
    before = len(world.audit())
    finished: list[object] = []
    with world.uow().write(SYSTEM) as tx:
        tx.record("test_first", "ok", customer_id=cid, step=1)
        tx.record("test_second", "ok", customer_id=cid, step=2)
        assert tx.session.execute(sa.select(sa.func.count()).select_from(AuditEntry)).scalar() == before
        if world.url.startswith("postgresql"):
            def other() -> None:
                with world.uow().write(SYSTEM) as other_tx:
                    other_tx.record("test_meanwhile", "ok", customer_id=cid)
                finished.append(True)

            writer = threading.Thread(target=other)
            writer.start()
            writer.join(timeout=10)
            assert finished == [True], "another writer waited for this transaction's trail head"
    actions = [e.action for e in world.audit()[before:]]
    expected = ["test_first", "test_second"]
    assert actions == (["test_meanwhile", *expected] if finished else expected)
    assert [json.loads(e.details or "{}").get("step") for e in world.audit()[-2:]] == [1, 2]
    assert chain_break(world) is None



@pytest.mark.parametrize("field", ["details", "outcome"])
def test_altering_one_row_is_detected_at_that_row(world: World, field: str) -> None:
    busy_day(world)
    entries = world.audit()
    target = next(e for e in entries if e.action == "approval" and e.outcome == "refused")
    assert target.id not in (entries[0].id, entries[-1].id)

    with transaction(world.url) as s:
        row = s.get(AuditEntry, target.id)
        assert row is not None
        if field == "details":
            row.details = json.dumps({**json.loads(row.details), "rejection": None}, sort_keys=True)
        else:
            row.outcome = "ok"
        s.add(row)

    assert chain_break(world) == target.id


def test_recomputing_the_altered_rows_hash_is_still_detected_at_that_row(world: World) -> None:
    """A forger who also rewrites the altered row's own hash, without the key (plain SHA-256 over the
    same content), is caught at that row: its MAC does not match."""
    from secure_phone.services.audit import _content

    busy_day(world)
    entries = world.audit()
    target = next(a for a, b in zip(entries, entries[1:], strict=False) if a.action == "fraud_alert")
    with transaction(world.url) as s:
        row = s.get(AuditEntry, target.id)
        assert row is not None
        row.outcome = "dismissed"
        row.hash = hashlib.sha256(_content(row.prev_hash, row)).hexdigest()
        s.add(row)

    assert chain_break(world) == target.id


def test_deleting_the_newest_row_is_detected(world: World) -> None:
    busy_day(world)
    last = world.audit()[-1]
    with transaction(world.url) as s:
        row = s.get(AuditEntry, last.id)
        s.delete(row)

    assert chain_break(world) == -1


def test_deleting_a_row_in_the_middle_is_detected_at_the_next_one(world: World) -> None:
    busy_day(world)
    entries = world.audit()
    middle, following = entries[5], entries[6]
    with transaction(world.url) as s:
        s.delete(s.get(AuditEntry, middle.id))

    assert chain_break(world) == following.id


def test_chain_verifies_with_a_clock_in_another_time_zone(world: World) -> None:
    """Services accept any timezone-aware ``now``; the chain must still verify once stored as UTC."""
    paris = world.clock.now.astimezone(ZoneInfo("Europe/Paris"))
    cid = world.cid(CAMILLE)
    with pytest.raises(NumberRejected):
        change.check_new_number(world.uow(now=paris), cid, "01 42 68 00 00", "FR", actor=customer_actor(cid))
    assert world.audit(CAMILLE, "number_entered")[-1].at == world.clock.now

    assert chain_break(world) is None


def test_no_full_phone_number_in_the_audit_or_the_change_notifications(world: World) -> None:
    request_id = busy_day(world)

    involved = [CAMILLE_OLD, NEW_E164, OTHER_E164, JULIEN_NUMBER, "+33755443321"]
    with read_only(world.url) as s:
        entries = list(s.exec(select(AuditEntry)))
    for entry in entries:
        for number in involved:
            for form in number_forms(number):
                assert form not in entry.details, (entry.action, entry.details)
        assert FULL_NUMBER.search(entry.details) is None, (entry.action, entry.details)
    # Where numbers are worth recording, they are there in masked form.
    completed = world.audit(CAMILLE, "change_completed")[-1]
    assert json.loads(completed.details)["number"] == "07 •• •• •• 32"

    outbox = {row.key: row for row in world.outbox()}
    assert set(outbox) == {f"{request_id}:email", f"{request_id}:sms-old", f"{request_id}:sms-new"}
    for key in (f"{request_id}:sms-old", f"{request_id}:email"):
        body = outbox[key].body
        assert NEW_MASKED_LAST_TWO in body
        for number in involved:
            for form in number_forms(number):
                assert form not in body, (key, form)
        assert set(FULL_NUMBER.findall(body)) <= {PARIS_OPERA_PHONE}, key  # only the agency's phone, in full
    assert outbox[f"{request_id}:sms-old"].recipient == CAMILLE_OLD



def test_purge_keeps_a_verifiable_chain_from_its_anchor(world: World) -> None:
    """A busy day purged half-way (the entries before one moment are past retention), then tampered."""
    busy_day(world)
    entries = world.audit()
    cut = next(e for e in entries if e.at > entries[0].at)  # the first entry after the clock moved on
    retention = timedelta(days=365)
    with transaction(world.url) as s:
        removed = purge(s, now=cut.at + retention, retention=retention)
    kept = [e for e in entries if e.id >= cut.id]
    assert kept and all(e.at < cut.at for e in entries if e.id < cut.id)
    assert removed == len(entries) - len(kept)
    after = world.audit()
    assert [e.id for e in after[:-1]] == [e.id for e in kept]
    assert after[-1].action == "audit_purged"
    with read_only(world.url) as s:
        anchor = s.get(AuditHead, ANCHOR_ID)
        head = s.get(AuditHead, 1)
    assert anchor is not None and anchor.last_hash == kept[0].prev_hash != GENESIS
    assert head is not None and head.last_hash == after[-1].hash
    assert chain_break(world) is None

    with transaction(world.url) as s:
        row = s.get(AuditEntry, kept[1].id)
        assert row is not None
        row.outcome = "altered"
        s.add(row)
    assert chain_break(world) == kept[1].id
