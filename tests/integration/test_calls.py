"""§12.5 « Is my bank calling me? » through the services, on SQLite and PostgreSQL: the advisor's call, what the
customer's screens are told, the report, the refusals and the audit trail."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import select

from secure_phone.adapters.db import read_only
from secure_phone.adapters.models import Advisor, BankCall, ContactRequest
from secure_phone.services import advisor, calls, events
from secure_phone.services.audit import Actor, verify_chain
from secure_phone.services.unit_of_work import Refused
from tests.integration.helpers import (
    CAMILLE,
    JULIEN,
    SARL,
    World,
    customer_actor,
    details,
    run_together,
    world,  # noqa: F401  (fixture)
)


def advisor_id(world: World, login: str) -> int:
    with read_only(world.url) as s:
        return s.exec(select(Advisor.id).where(Advisor.login == login)).one()  # type: ignore[return-value]


def actor_of(advisor: int) -> Actor:
    return Actor(kind="advisor", id=str(advisor), channel="advisor", ip="192.0.2.30", user_agent="pytest-advisor")


def start(world: World, login: str = "sophie.lambert", identifier: str = CAMILLE) -> calls.CallView:
    who = advisor_id(world, login)
    return calls.start_call(world.uow(), who, identifier, actor=actor_of(who))


def end(world: World, login: str = "sophie.lambert", identifier: str = CAMILLE) -> None:
    who = advisor_id(world, login)
    calls.end_call(world.uow(), who, identifier, actor=actor_of(who))


def status(world: World, identifier: str = CAMILLE) -> calls.CallView | None:
    return calls.call_status(world.uow(), world.cid(identifier))


def report(world: World, identifier: str = CAMILLE) -> calls.Reported:
    cid = world.cid(identifier)
    return calls.report_call(world.uow(), cid, channel="app", actor=customer_actor(cid, "app"))


def call_rows(world: World) -> list[BankCall]:
    with read_only(world.url) as s:
        return list(s.exec(select(BankCall).order_by(BankCall.started_at)))


@pytest.fixture
def announced() -> Iterator[list[int]]:
    """The customers the services announce (what the app's live push hears), once committed."""
    heard: list[int] = []

    def listener(published: list[events.Event]) -> None:
        heard.extend(e.customer_id for e in published if isinstance(e, events.CustomerChanged))

    events.subscribe(listener)
    yield heard
    events.unsubscribe(listener)


# --- the call, as the customer's app is told ------------------------------------------------------


def test_nobody_is_calling_until_the_advisor_calls_then_until_she_hangs_up(world: World,
                                                                           announced: list[int]) -> None:
    assert status(world) is None
    view = start(world)
    assert announced == [world.cid(CAMILLE)]
    shown = status(world)
    assert shown is not None and shown == view
    assert (shown.advisor_name, shown.agency_name, shown.reported) == ("Sophie Lambert", "Agence Paris Opéra", False)
    assert shown.since == "10:01"  # T0 + 1 min, Paris time (summer)
    assert shown.ends_at == world.clock.now + world.uow().policy.call_max_duration
    assert status(world, JULIEN) is None  # another customer of the agency: nobody calls him
    world.clock.advance(minutes=4)
    end(world)
    assert announced == [world.cid(CAMILLE)] * 2
    assert status(world) is None
    [row] = call_rows(world)
    assert (row.end_reason, row.ended_at) == ("advisor", world.clock.now)
    started, ended = world.audit(CAMILLE, "call_started"), world.audit(CAMILLE, "call_ended")
    assert [(e.actor_kind, e.outcome, details(e)["call"]) for e in started] == [("advisor", "ok", row.id)]
    assert [(e.outcome, details(e)["seconds"]) for e in ended] == [("ok", 240)]
    with read_only(world.url) as session:
        assert verify_chain(session) is None  # the chain is intact


def test_a_forgotten_call_ends_by_itself_at_the_policy_limit(world: World) -> None:
    start(world)
    limit = world.uow().policy.call_max_duration
    world.clock.advance(seconds=limit.total_seconds() - 1)
    assert status(world) is not None
    world.clock.advance(seconds=1)
    assert status(world) is None  # the app says nobody calls, although nobody hung up
    # The next write ends it in the rows too, at the limit, audited; a new call can start.
    view = start(world, "nadia.benali")
    first, second = call_rows(world)
    assert (first.end_reason, first.ended_at) == ("expired", first.started_at + limit)
    assert (second.ended_at, view.advisor_name) == (None, "Nadia Benali")
    assert [(e.outcome, e.actor_kind) for e in world.audit(CAMILLE, "call_ended")] == [("expired", "system")]
    # Too late to hang up a call that ended by itself.
    with pytest.raises(Refused) as refused:
        calls.end_call(world.uow(now=world.clock.now + limit), advisor_id(world, "nadia.benali"), CAMILLE,
                       actor=actor_of(advisor_id(world, "nadia.benali")))
    assert refused.value.code == "call.none"


# --- one open call per customer, ended only by its advisor ------------------------------------------


def test_one_open_call_per_customer(world: World) -> None:
    first = start(world)
    assert start(world) == first  # Sophie's double click: the same call, nothing more recorded
    assert len(call_rows(world)) == 1 and len(world.audit(CAMILLE, "call_started")) == 1
    with pytest.raises(Refused) as refused:
        start(world, "nadia.benali")  # her colleague is told who is calling
    assert refused.value.code == "call.busy"
    [busy] = [e for e in world.audit(CAMILLE, "call_started") if e.outcome == "refused"]
    assert details(busy)["advisor"] == advisor_id(world, "sophie.lambert")
    assert status(world).advisor_name == "Sophie Lambert"  # type: ignore[union-attr]


def test_two_advisors_calling_at_once_make_one_call(world: World) -> None:
    sophie, nadia = advisor_id(world, "sophie.lambert"), advisor_id(world, "nadia.benali")
    results = run_together(lambda: calls.start_call(world.uow(), sophie, CAMILLE, actor=actor_of(sophie)),
                           lambda: calls.start_call(world.uow(), nadia, CAMILLE, actor=actor_of(nadia)))
    assert len(call_rows(world)) == 1
    assert sorted(type(r).__name__ for r in results) == ["CallView", "Refused"]


def test_only_the_advisor_who_called_hangs_up(world: World) -> None:
    start(world)
    with pytest.raises(Refused) as refused:
        end(world, "nadia.benali")
    assert refused.value.code == "call.not_yours"
    assert status(world) is not None
    assert [(e.outcome, details(e)["problem"]) for e in world.audit(CAMILLE, "call_ended")] == [
        ("refused", "call.not_yours")]
    with pytest.raises(Refused) as none:
        end(world, identifier=JULIEN)  # nobody calls Julien
    assert none.value.code == "call.none"


def test_an_advisor_of_another_agency_can_neither_call_nor_hang_up(world: World) -> None:
    start(world)
    for action in (start, end):
        with pytest.raises(Refused) as refused:
            action(world, "karim.haddad", CAMILLE)
        assert refused.value.code == "advisor.not_found"  # Camille is not one of Lyon's customers
    with pytest.raises(Refused):
        calls.sheet_calls(world.uow(), advisor_id(world, "karim.haddad"), CAMILLE)
    assert [e.outcome for e in world.audit(action="call_started") if e.customer_id is None] == ["refused"]
    assert status(world).advisor_name == "Sophie Lambert"  # type: ignore[union-attr]
    # His own agency's customer he may call; Sophie may not.
    start(world, "karim.haddad", SARL)
    with pytest.raises(Refused):
        start(world, "sophie.lambert", SARL)
    with pytest.raises(Refused):
        calls.start_call(world.uow(), 10_000, CAMILLE, actor=actor_of(10_000))  # no such advisor


# --- the report -----------------------------------------------------------------------------------


def test_reporting_the_bank_call_in_progress_raises_an_alert_on_the_sheet(world: World,
                                                                          announced: list[int]) -> None:
    start(world)
    announced.clear()
    world.clock.advance(minutes=1)
    reported = report(world)
    assert (reported.during_call, reported.advisor_name, reported.repeated) == (True, "Sophie Lambert", False)
    assert announced == [world.cid(CAMILLE)]  # the open sheets follow, live
    assert report(world).repeated  # a second tap: nothing new
    [entry] = world.audit(CAMILLE, "call_reported")
    [row] = call_rows(world)
    assert row.reported_at == world.clock.now and row.ended_at is None  # the call goes on: Sophie sees the report
    assert (entry.outcome, entry.actor_kind, details(entry)["during_call"], details(entry)["call"]) == (
        "raised", "customer", True, row.id)
    sophie = advisor_id(world, "sophie.lambert")
    part = calls.sheet_calls(world.uow(), sophie, CAMILLE)
    assert part.mine and part.call is not None and part.call.reported
    assert [(r.during_call, r.advisor_name) for r in part.reports] == [(True, "Sophie Lambert")]
    sheet = advisor.sheet(world.uow(), sophie, CAMILLE)
    assert sheet.signals[0] == "call_reported"  # the « Point de vigilance », most severe first
    assert sheet.timeline[0].action == "contact_requested" and sheet.timeline[1].action == "call_reported"


def test_reporting_a_call_when_nobody_from_the_bank_calls(world: World) -> None:
    reported = report(world)
    assert (reported.during_call, reported.advisor_name, reported.repeated) == (False, "", False)
    world.clock.advance(seconds=30)
    assert report(world).repeated  # the frightened second tap
    assert len(world.audit(CAMILLE, "call_reported")) == 1
    world.clock.advance(minutes=2)
    assert not report(world).repeated  # another call, later: another report
    entries = world.audit(CAMILLE, "call_reported")
    assert [details(e)["during_call"] for e in entries] == [False, False]
    # One request in the agency's queue, whatever the number of reports.
    with read_only(world.url) as s:
        queued = s.exec(select(ContactRequest).where(ContactRequest.customer_id == world.cid(CAMILLE))).all()
    assert [(c.reason, c.status) for c in queued] == [("suspicious_call", "open")]
    sophie = advisor_id(world, "sophie.lambert")
    assert [q.reason for q in advisor.queue(world.uow(), sophie)] == ["suspicious_call"]
    part = calls.sheet_calls(world.uow(), sophie, CAMILLE)
    assert part.call is None and not part.mine
    assert [(r.during_call, r.advisor_name) for r in part.reports] == [(False, ""), (False, "")]
    assert "call_reported" in advisor.sheet(world.uow(), sophie, CAMILLE).signals
    # The alert is Camille's only.
    assert calls.sheet_calls(world.uow(), sophie, JULIEN).reports == []
    assert "call_reported" not in advisor.sheet(world.uow(), sophie, JULIEN).signals
    with read_only(world.url) as session:
        assert verify_chain(session) is None  # the chain is intact


def test_a_report_under_a_signal_asks_a_second_advisor_for_an_in_branch_change(world: World) -> None:
    report(world)
    sophie = advisor_id(world, "sophie.lambert")
    result = advisor.advisor_change(world.uow(), sophie, CAMILLE, raw_number="07 98 76 54 32",
                                    region="FR", document_type="cni", document_number="ZX9Q7W3K8", in_branch=True,
                                    actor=actor_of(sophie))
    assert result.status == "pending_validation"


def test_a_report_after_the_call_ended_is_a_report_without_a_bank_call(world: World) -> None:
    start(world)
    world.clock.advance(minutes=2)
    end(world)
    assert not report(world).during_call
    assert call_rows(world)[0].reported_at is None
    world.clock.advance(minutes=40)
    start(world)  # a new call may be reported, once
    assert report(world).during_call


def test_a_forgotten_call_is_not_reported_as_in_progress(world: World) -> None:
    start(world)
    world.clock.advance(minutes=31)
    reported = report(world)
    assert not reported.during_call
    [row] = call_rows(world)
    assert (row.end_reason, row.reported_at) == ("expired", None)
    assert [e.outcome for e in world.audit(CAMILLE, "call_ended")] == ["expired"]


def test_the_call_data_is_the_customers_own(world: World) -> None:
    start(world)
    world.clock.advance(minutes=1)
    assert status(world, JULIEN) is None
    assert not report(world, JULIEN).during_call  # Julien's report is his, about no bank call
    assert call_rows(world)[0].reported_at is None
    assert world.audit(CAMILLE, "call_reported") == []
    assert timedelta(0) < world.uow().policy.call_max_duration
