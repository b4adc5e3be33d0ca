"""J6: the customer's advisor and « Être rappelé par mon conseiller » (spec §3, §4 J6, §8).

Assertions are on the rows: ContactRequest, ChangeRequest, AuditEntry.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlmodel import select

from secure_phone.adapters.db import read_only, transaction
from secure_phone.adapters.models import ContactRequest
from secure_phone.domain.change_request import Channel
from secure_phone.services import audit, contact
from secure_phone.services.contact import AdvisorCard
from tests.integration.helpers import (
    CAMILLE,
    OTHER_RAW,
    PARIS_OPERA_PHONE,
    PAUL,
    SARL,
    World,
    customer_actor,
    details,
    run_together,
    world,  # noqa: F401  (fixture)
)

PARIS_OPERA = ("Agence Paris Opéra", PARIS_OPERA_PHONE, "du lundi au vendredi, 9 h – 18 h",
               "Monday to Friday, 9 am – 6 pm")


# --- helpers -------------------------------------------------------------------------------------


def callback(world: World, identifier: str, reason: str, channel: str = "web") -> str:
    cid = world.cid(identifier)
    return contact.request_callback(world.uow(), cid, reason, channel=channel, actor=customer_actor(cid, channel))


def contacts(world: World, identifier: str | None = None) -> list[ContactRequest]:
    with read_only(world.url) as s:
        query = select(ContactRequest).order_by(ContactRequest.created_at, ContactRequest.id)
        if identifier is not None:
            query = query.where(ContactRequest.customer_id == world.cid(identifier))
        return list(s.exec(query))



# --- the advisor card ---------------------------------------------------------------------------------


def test_advisor_of_gives_the_advisor_and_the_agency(world: World) -> None:
    assert contact.advisor_of(world.uow(), world.cid(PAUL)) == AdvisorCard("Nadia Benali", *PARIS_OPERA)
    assert contact.advisor_of(world.uow(), world.cid(CAMILLE)) == AdvisorCard("Sophie Lambert", *PARIS_OPERA)
    assert contact.advisor_of(world.uow(), world.cid(SARL)) == AdvisorCard(
        "Karim Haddad", "Agence Lyon Bellecour", "04 78 37 00 00", "du mardi au samedi, 9 h – 17 h 30",
        "Tuesday to Saturday, 9 am – 5.30 pm")


def test_advisor_of_an_unknown_customer_is_a_lookup_error(world: World) -> None:
    with pytest.raises(LookupError):
        contact.advisor_of(world.uow(), 999_999)


# --- « Être rappelé par mon conseiller » --------------------------------------------------------------------


def test_a_callback_carries_the_reason_the_channel_and_the_last_change_request(world: World) -> None:
    first = world.start(CAMILLE)
    world.clock.advance(minutes=1)
    last = world.start(CAMILLE, OTHER_RAW)  # supersedes the first: the last attempt is this one
    assert world.request(first.id).status == "superseded"
    now = world.clock.advance(minutes=1)

    contact_id = callback(world, CAMILLE, "changed_phone", channel="app")

    [row] = contacts(world, CAMILLE)
    assert row.id == contact_id
    assert (row.customer_id, row.reason, row.channel, row.last_request_id) == (
        world.cid(CAMILLE), "changed_phone", "app", last.id)
    assert (row.status, row.created_at, row.advisor_id, row.taken_at, row.closed_at) == (
        "open", now, None, None, None)
    [entry] = world.audit(CAMILLE, "contact_requested")
    assert (entry.outcome, entry.at, entry.request_id, entry.actor_kind, entry.channel) == (
        "ok", now, last.id, "customer", "app")
    assert details(entry)["reason"] == "changed_phone"
    assert details(entry)["contact"] == contact_id


def test_a_callback_without_any_change_attempt_has_no_reference(world: World) -> None:
    contact_id = callback(world, PAUL, "ineligible.recent_device_change")
    [row] = contacts(world, PAUL)
    assert (row.id, row.reason, row.last_request_id, row.channel) == (
        contact_id, "ineligible.recent_device_change", None, "web")
    assert world.audit(PAUL, "contact_requested")[0].request_id is None


def test_the_last_change_request_is_the_customers_own(world: World) -> None:
    mine = world.start(CAMILLE)
    world.clock.advance(minutes=1)
    world.start(PAUL, "07 81 22 33 45", channel=Channel.APP)  # someone else's, later
    world.clock.advance(minutes=1)
    callback(world, CAMILLE, "repeated_failure")
    assert contacts(world, CAMILLE)[0].last_request_id == mine.id


def test_a_second_callback_with_the_same_reason_while_open_is_the_same_request(world: World) -> None:
    first = callback(world, CAMILLE, "securpass_blocked")
    world.clock.advance(minutes=5)

    again = callback(world, CAMILLE, "securpass_blocked")

    assert again == first
    assert [r.id for r in contacts(world, CAMILLE)] == [first]
    assert len(world.audit(CAMILLE, "contact_requested")) == 1
    # Another reason is another request for the advisor.
    other = callback(world, CAMILLE, "not_my_number")
    assert other != first
    assert sorted(r.reason for r in contacts(world, CAMILLE)) == ["not_my_number", "securpass_blocked"]
    # Once the advisor has closed it, asking again opens a new one.
    with transaction(world.url) as s:
        row = s.get(ContactRequest, first)
        assert row is not None
        row.status, row.closed_at = "closed", world.clock.advance(hours=1)
        s.add(row)
    reopened = callback(world, CAMILLE, "securpass_blocked")
    assert reopened not in {first, other}
    assert [r.status for r in contacts(world, CAMILLE) if r.reason == "securpass_blocked"] == ["closed", "open"]


def test_an_unknown_reason_is_stored_as_other(world: World) -> None:
    contact_id = callback(world, CAMILLE, "<script>alert(1)</script>")

    [row] = contacts(world, CAMILLE)
    assert (row.id, row.reason) == (contact_id, "other")
    assert details(world.audit(CAMILLE, "contact_requested")[0])["reason"] == "other"
    # Any other unknown reason joins the same open request.
    assert callback(world, CAMILLE, "made-up reason") == contact_id
    assert len(contacts(world, CAMILLE)) == 1


def test_callbacks_of_two_customers_are_separate(world: World) -> None:
    camille = callback(world, CAMILLE, "changed_phone")
    paul = callback(world, PAUL, "changed_phone")
    assert camille != paul
    assert {(r.customer_id, r.id) for r in contacts(world)} == {(world.cid(CAMILLE), camille), (world.cid(PAUL), paul)}


def test_a_double_click_creates_one_contact_request(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two simultaneous clicks (two tabs, two workers): one request in the advisors' queue (§10).

    The audit entry of each call waits (briefly, when it is recorded) for the other call, so that both
    transactions are open at once whatever the thread scheduling: the race is exercised every run, not by luck.
    """
    meet = threading.Barrier(2, timeout=1.5)
    real_entry = audit.entry

    def record_after_meeting(*args: Any, **kwargs: Any) -> Any:
        try:
            meet.wait()
        except threading.BrokenBarrierError:  # the other call never got this far (it was serialised)
            pass
        return real_entry(*args, **kwargs)

    monkeypatch.setattr(audit, "entry", record_after_meeting)

    results = run_together(*(lambda: callback(world, CAMILLE, "changed_phone") for _ in range(2)))

    assert not any(isinstance(r, BaseException) for r in results), results
    rows = contacts(world, CAMILLE)
    assert len(rows) == 1, f"{len(rows)} contact requests for one double click"
    assert results == [rows[0].id, rows[0].id]
    assert len(world.audit(CAMILLE, "contact_requested")) == 1
