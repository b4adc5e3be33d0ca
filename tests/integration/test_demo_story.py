"""The demo's story (``/demo``) and its pushed inboxes, on SQLite and PostgreSQL: the facts that move a scenario on,
what « behind the scenes » shows (MySys, its history, the audit trail, the advisor's warnings), the inbox filter,
the announcements that push the pages — and nothing at all outside demo mode (PRODUCT.md §12.1)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from secure_phone import i18n
from secure_phone.adapters.gateways import file_demo_message
from secure_phone.domain.change_request import RefusalReason
from secure_phone.domain.policy import DEFAULT_POLICY
from secure_phone.services import auth, change, demo_inbox, demo_story, events
from secure_phone.services.unit_of_work import UnitOfWork
from tests.integration.helpers import (
    CAMILLE,
    NEW_RAW,
    PASSWORD,
    World,
    customer_actor,
    world,  # noqa: F401  (fixture)
)

PROOF = DEFAULT_POLICY


def uow(world: World) -> UnitOfWork:
    return world.uow(policy=PROOF)


def heard() -> tuple[list[events.Event], events.Subscriber]:
    published: list[events.Event] = []

    def listener(batch: list[events.Event]) -> None:
        published.extend(batch)

    events.subscribe(listener)
    return published, listener


def web_login(world: World, identifier: str = CAMILLE) -> None:
    auth.login_customer(world.uow(), identifier, PASSWORD, channel="web",
                        actor=customer_actor(world.cid(identifier), "web"))


def test_outside_demo_mode_the_story_and_the_inboxes_say_nothing(world: World,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    file_demo_message(world.url, key="k1", channel="sms", recipient="+33612345678", subject=None, body="hello")
    monkeypatch.setenv("SECURE_PHONE_DEMO", "0")
    assert demo_story.story(world.uow(), CAMILLE, "j1") == demo_story.StoryView()
    assert demo_story.customer_id(world.uow(), CAMILLE) is None
    assert demo_inbox.inboxes(world.uow()) == []


def test_anyone_but_a_persona_or_an_unknown_scenario_gets_an_empty_story(world: World) -> None:
    for identifier, scenario in ((CAMILLE, "nope"), ("2000000001", "j1"), ("", "j1"), (CAMILLE, "")):
        assert demo_story.story(world.uow(), identifier, scenario) == demo_story.StoryView()
    assert demo_story.customer_id(world.uow(), "2000000001") is None
    assert demo_story.customer_id(world.uow(), CAMILLE) == world.cid(CAMILLE)


def test_j1_moves_on_by_itself_and_shows_mysys_its_history_and_the_audit_trail(world: World) -> None:
    since = world.clock.now
    steps = demo_story.SCENARIOS["j1"].steps
    position = {step.until: i for i, step in enumerate(steps) if step.until}

    phone = world.phone(CAMILLE)  # « Smartphone de Camille Martin »
    phone.login(CAMILLE)
    story = demo_story.story(world.uow(), CAMILLE, "j1", 0, since)
    assert story.step == position["login_app"] + 1 and story.pane == "web"
    assert story.mysys_number == "06 12 34 56 78" and story.history == [] and story.old == "06 12 34 56 78"

    web_login(world)
    cid = world.cid(CAMILLE)
    number = change.check_new_number(uow(world), cid, NEW_RAW, "FR", actor=customer_actor(cid))
    request = change.start_request(uow(world), cid, number.e164, channel=change.Channel.WEB,
                                   actor=customer_actor(cid))
    story = demo_story.story(world.uow(), CAMILLE, "j1", 0, since)
    assert story.pane == "inbox" and story.text == "demo.step.proof.web"

    code = world.sms_received(_code_key(world)).rsplit("#", 1)[1]
    change.prove_new_number(uow(world), cid, request.id, code, actor=customer_actor(cid))
    story = demo_story.story(world.uow(), CAMILLE, "j1", 0, since)
    assert story.pane == "phone" and story.text == "demo.step.approve"

    phone.approve_pending()
    story = demo_story.story(world.uow(), CAMILLE, "j1", 0, since)
    assert story.text == "demo.step.success.web"
    assert [s.state for s in story.steps][:story.step + 1] == ["done"] * story.step + ["current"]
    assert story.mysys_number == "07 98 76 54 32"
    assert [(h.old, h.new, h.source) for h in story.history] == [("06 12 34 56 78", "07 98 76 54 32", "channel.web")]
    actions = [line.action for line in story.audit]
    assert actions[0] == "tl.change_completed" and "tl.approval" in actions
    catalogue = i18n.MESSAGES["fr"]
    for line in story.audit:  # every line says itself in words: no raw code on the screen
        assert {line.action, line.outcome} <= set(catalogue) and (not line.channel or line.channel in catalogue)
    assert all(s in catalogue for s in story.signals) and "risk.recent_change" in story.signals
    # 07 98 76 54 32 is Camille's now: the next scenario types another number, whoever tells it.
    assert story.new == "07 98 76 54 32"
    assert demo_story.free_number(world.uow(), CAMILLE) == "07 98 76 54 33"
    assert demo_story.free_number(world.uow(), "1000000002") == "07 98 76 54 33"
    assert demo_story.story(world.uow(), CAMILLE, "j1", 0, since, "07 98 76 54 33").new == "07 98 76 54 33"
    assert demo_story.story(world.uow(), CAMILLE, "j1", 0, since, "+33 not one").new == demo_story.NEW_NUMBER
    # The presenter moves on by hand past the steps no fact ends, never beyond the last one.
    assert demo_story.story(world.uow(), CAMILLE, "j1", 99, since).last
    # What happened before the scenario started does not move it.
    later = world.clock.now + timedelta(seconds=1)
    assert demo_story.story(world.uow(), CAMILLE, "j1", 0, later).step == 0


def _code_key(world: World) -> str:
    return next(row.key for row in reversed(world.outbox()) if row.key.startswith("sms-code:"))


def test_a_not_me_refusal_is_a_warning_of_the_advisor_and_the_end_of_f1(world: World) -> None:
    since = world.clock.now
    phone = world.phone(CAMILLE)
    phone.login(CAMILLE)
    web_login(world)
    request = world.start(CAMILLE)  # the seed's journey: no proof, the phone is asked at once
    assert "approval_pending" in demo_story.facts_of(_entries(world, since))
    view = phone.pending()
    assert view is not None
    assert phone.refuse(request.id, RefusalReason.NOT_ME, phone.sign(view.text + "\nnot_me")).accepted
    story = demo_story.story(world.uow(), CAMILLE, "f1", 0, since)
    assert story.text == "demo.step.fraud.behind" and story.last and story.pane == "behind"
    assert "risk.not_me" in story.signals and story.frozen
    assert story.mysys_number == "06 12 34 56 78"


def _entries(world: World, since: object) -> list:
    from sqlmodel import col, select

    from secure_phone.adapters.db import read_only
    from secure_phone.adapters.models import AuditEntry

    with read_only(world.url) as s:
        return list(s.exec(select(AuditEntry).where(AuditEntry.customer_id == world.cid(CAMILLE))
                           .order_by(col(AuditEntry.id))))


def test_an_audit_entry_about_a_customer_is_announced_once_committed(world: World) -> None:
    published, listener = heard()
    try:
        web_login(world)
    finally:
        events.unsubscribe(listener)
    assert events.AuditRecorded(world.cid(CAMILLE)) in published


def test_a_message_filed_into_a_demo_inbox_is_announced_once(world: World) -> None:
    demo_inbox.announce_arrivals()
    published, listener = heard()
    try:
        assert file_demo_message(world.url, key="k1", channel="sms", recipient="+33612345678", subject=None,
                                 body="un")
        assert not file_demo_message(world.url, key="k1", channel="sms", recipient="+33612345678", subject=None,
                                     body="un")  # a redelivery: nothing new, nothing announced
    finally:
        events.unsubscribe(listener)
    assert published == [events.InboxChanged()]


def test_the_inbox_filter_takes_a_number_in_any_spelling_or_a_part_of_an_address(world: World) -> None:
    for key, channel, recipient in (("a", "sms", "+33612345678"), ("b", "sms", "+33798765432"),
                                    ("c", "email", "camille.martin@example.fr")):
        file_demo_message(world.url, key=key, channel=channel, recipient=recipient, subject=None, body=key)

    def shown(query: object) -> list[str]:
        return [box.recipient for box in demo_inbox.inboxes(world.uow(), query)]  # type: ignore[arg-type]

    assert len(shown("")) == 3
    assert shown("06 12 34 56 78") == shown("0612345678") == shown("+33 6 12 34 56 78") == ["06 12 34 56 78"]
    assert shown("07 98") == ["07 98 76 54 32"]
    assert shown("CAMILLE") == shown("example.fr") == ["camille.martin@example.fr"]
    assert shown("nobody") == [] and shown("09") == []
    assert len(shown(None)) == 3 and len(shown("\x00" * 500)) == 3  # not text, or nothing but control characters
    assert len(demo_inbox.clean_filter("x" * 1000)) == demo_inbox.FILTER_LIMIT


def test_j3_ends_with_the_cancelled_request_and_j7_with_the_confirmed_number(world: World) -> None:
    from tests.integration.helpers import CHLOE, PAUL
    from tests.integration.test_stale_number import confirm, send

    since = world.clock.now
    web_login(world, CHLOE)
    request = world.start(CHLOE)
    cid = world.cid(CHLOE)
    change.cancel_request(world.uow(), cid, request.id, actor=customer_actor(cid))
    story = demo_story.story(world.uow(), CHLOE, "j3", 0, since)
    assert story.text == "demo.step.ways.out" and story.mysys_number == "06 67 89 01 23"
    assert story.audit[0].action == "tl.change_cancelled"

    web_login(world, PAUL)
    assert demo_story.story(world.uow(), PAUL, "j7", 0, since).text == "demo.step.stale.yes"
    code = send(world)
    assert demo_story.story(world.uow(), PAUL, "j7", 0, since).text == "demo.step.stale.code"
    confirm(world, code)
    story = demo_story.story(world.uow(), PAUL, "j7", 0, since)
    assert story.text == "demo.step.stale.behind" and story.last and story.pane == "behind"


def test_every_scenario_step_says_itself_in_both_languages_and_names_a_pane() -> None:
    for scenario in demo_story.scenarios():
        assert f"demo.scenario.{scenario}" in i18n.MESSAGES["en"]
        assert demo_story.SCENARIOS[scenario].persona in {p for p, _ in demo_story.personas()} or scenario == "sim"
        for step in demo_story.SCENARIOS[scenario].steps:
            assert step.pane in demo_story.PANES
            assert step.text in i18n.MESSAGES["fr"] and step.text in i18n.MESSAGES["en"]


def test_the_operator_stopping_the_change_ends_the_sim_swap_step_but_not_an_activation() -> None:
    """§12.4: Emma's refusal is the operator's « stopped » at « Confirmer » (no refused request is recorded)."""
    import json

    from secure_phone.adapters.models import AuditEntry

    def checked(purpose: str, outcome: str = "stopped") -> set[str]:
        return demo_story.facts_of([AuditEntry(action="operator_check", outcome=outcome,
                                               details=json.dumps({"purpose": purpose}))])

    assert "request_refused" in checked("change")
    assert "request_refused" not in checked("activation") | checked("change", "signal") | checked("change", "ok")
    steps = demo_story.SCENARIOS["sim"].steps
    assert demo_story.step_at("sim", 1, checked("change")) == len(steps) - 1
