"""The operator is another system, asked sparingly (§12.4; the attacker review of 2026-12-02), on both databases:
every local rule is applied before it is asked, a replayed question gets the answer just stored, a customer or
an advisor asking too often is refused without asking (failing closed whatever the no-answer policy); the demo
control, which changes what the simulated operator says, is audited and ends any reuse."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any

import pytest
from sqlmodel import select

from secure_phone.adapters.db import read_only, transaction
from secure_phone.adapters.models import AuditEntry, ChangeRequest, Customer, OperatorCheck
from secure_phone.adapters.operator import Call
from secure_phone.domain.change_request import Channel
from secure_phone.services import activation, change, operator, stale
from secure_phone.services.audit import verify_chain
from secure_phone.services.unit_of_work import Refused
from tests.integration.helpers import (
    CAMILLE,
    CAMILLE_OLD,
    EMMA,
    LUCAS,
    NEW_E164,
    NEW_RAW,
    PAUL,
    SEED_JOURNEY,
    World,
    customer_actor,
    run_together,
    world,  # noqa: F401  (fixture)
)
from tests.integration.test_advisor_service import advisor_actor, change_by, sophie
from tests.integration.test_operator import FAIL_OPEN, refusal

OTHER_RAW, OTHER_E164 = "07 81 22 33 44", "+33781223344"


class Counting:
    """The world's operator, counting the calls that reach it."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.name, self.calls = inner, inner.name, []

    def __getattr__(self, method: str) -> Any:
        def call(*args: Any) -> Call:
            self.calls.append(method)
            return getattr(self.inner, method)(*args)
        return call


def counting(world: World) -> Counting:
    world.operator = Counting(world.operator)  # type: ignore[assignment]
    return world.operator  # type: ignore[return-value]


def confirm(world: World, identifier: str, e164: str = NEW_E164, policy: Any = SEED_JOURNEY) -> Any:
    cid = world.cid(identifier)
    return change.start_request(world.uow(policy=policy), cid, e164, channel=Channel.WEB,
                                actor=customer_actor(cid))


# --- every local rule first --------------------------------------------------------------------------


def test_a_request_the_local_rules_refuse_never_costs_an_operator_call(world: World) -> None:
    """« Confirmer » beyond the daily limit, or during a change in progress; a J4 code for a phone that cannot
    take Sécur'Pass; a J7 code beyond the SMS limit; an in-branch change without the document: refused as
    before, and the operator is not asked (each time past the reuse window, so no stored answer explains it)."""
    operator_calls = counting(world)
    for _ in range(3):
        assert world.start(CAMILLE).status == "pending_approval"
        world.clock.advance(minutes=3)
    asked = len(operator_calls.calls)
    assert refusal(lambda: confirm(world, CAMILLE)) == "limit.requests"
    assert len(operator_calls.calls) == asked

    lucas = world.start(LUCAS, OTHER_RAW)
    with transaction(world.url) as s:
        row = s.get(ChangeRequest, lucas.id)
        assert row is not None
        row.status = "applying"
        s.add(row)
    world.clock.advance(minutes=3)
    asked = len(operator_calls.calls)
    assert refusal(lambda: confirm(world, LUCAS)) == "change.in_progress"
    assert len(operator_calls.calls) == asked

    cid = world.cid(CAMILLE)
    assert refusal(lambda: activation.send_activation_code(world.uow(), cid, "no-such-phone",
                                                           actor=customer_actor(cid, "app"))) == \
        "activation.not_possible"
    assert len(operator_calls.calls) == asked

    paul = world.cid(PAUL)
    for _ in range(SEED_JOURNEY.sms_codes_per_day):
        stale.send_confirmation_code(world.uow(), paul, actor=customer_actor(paul))
        world.clock.advance(minutes=3)
    asked = len(operator_calls.calls)
    assert refusal(lambda: stale.send_confirmation_code(world.uow(), paul, actor=customer_actor(paul))) == \
        "sms.daily_limit"
    assert len(operator_calls.calls) == asked

    assert refusal(lambda: change_by(world, sophie(world), EMMA, NEW_RAW, in_branch=False)) == \
        "advisor.change.in_branch_required"
    assert refusal(lambda: change_by(world, sophie(world), EMMA, NEW_RAW, document_type="")) == \
        "advisor.change.document_required"
    assert len(operator_calls.calls) == asked
    with read_only(world.url) as s:
        assert verify_chain(s) is None


# --- a replayed question: the answer just stored ---------------------------------------------------------


def test_a_replayed_confirmer_costs_no_operator_call_and_still_stops(world: World) -> None:
    """Emma (SIM changed 2 h ago) replays « Confirmer » ten times: the operator is asked once (its four APIs),
    every replay is refused the same, audited as a reuse of that assessment; past the window it is asked again,
    and another number is another question."""
    operator_calls = counting(world)
    for _ in range(10):
        assert refusal(lambda: confirm(world, EMMA)) == "operator.current_sim_swap"
        world.clock.advance(seconds=5)
    assert len(operator_calls.calls) == 4
    (first,) = world.audit(EMMA, "operator_check")
    reused = world.audit(EMMA, "operator_check_reused")
    assert len(reused) == 9 and {e.outcome for e in reused} == {"stopped"}
    assert {json.loads(e.details)["reused_from"] for e in reused} == {first.id}
    assert all(json.loads(e.details)["calls"] == json.loads(first.details)["calls"] for e in reused)
    assert NEW_E164 not in first.details and "Leroy" not in first.details  # a keyed tag, never the questions
    with read_only(world.url) as s:
        assert len(s.exec(select(OperatorCheck).where(OperatorCheck.customer_id == world.cid(EMMA))).all()) == 4

    assert refusal(lambda: confirm(world, EMMA, OTHER_E164)) == "operator.current_sim_swap"
    assert len(operator_calls.calls) == 8  # another number: asked
    world.clock.advance(seconds=SEED_JOURNEY.operator_answer_reuse.total_seconds() + 1)
    assert refusal(lambda: confirm(world, EMMA)) == "operator.current_sim_swap"
    assert len(operator_calls.calls) == 12  # the stored answer is too old: asked again
    with read_only(world.url) as s:
        assert verify_chain(s) is None


def test_a_reused_answer_never_outlives_the_demo_control(world: World) -> None:
    """Lucas's calls are forwarded: a second check within the window reuses that warning; after the demo control
    turned the forwarding off, the simulated operator is asked again (and the control is audited)."""
    operator_calls = counting(world)
    actor = advisor_actor(sophie(world))
    for _ in range(2):
        found = operator.check_callback(world.uow(), sophie(world), LUCAS, actor=actor)
        assert found is not None and found.forwarded
    assert len(operator_calls.calls) == 1
    masked = operator.demo_set_signal(world.uow(), sophie(world), "06 22 33 44 55", "forwarding_off", actor=actor)
    found = operator.check_callback(world.uow(), sophie(world), LUCAS, actor=actor)
    assert found is not None and not found.forwarded
    assert len(operator_calls.calls) == 2
    with read_only(world.url) as s:
        (entry,) = s.exec(select(AuditEntry).where(AuditEntry.action == "demo_operator_signal")).all()
    assert (entry.outcome, entry.actor_kind, entry.actor_id) == ("ok", "advisor", str(sophie(world)))
    assert json.loads(entry.details) == {"number": masked, "signal": "forwarding_off"}


def test_a_clean_answer_is_never_reused(world: World) -> None:
    """Reusing « nothing to report » would hide a SIM swapped a minute later: after a clean answer the operator is
    asked again (the daily request limit bounds those replays, locally)."""
    operator_calls = counting(world)
    assert confirm(world, CAMILLE).status == "pending_approval"
    world.clock.advance(seconds=30)
    world.operator_sim.swap_sim(CAMILLE_OLD, at=world.clock.now)
    assert refusal(lambda: confirm(world, CAMILLE)) == "operator.current_sim_swap"
    assert len(operator_calls.calls) == 8
    assert world.audit(CAMILLE, "operator_check_reused") == []


def test_the_demo_operator_control_is_audited_refused_too(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    actor = advisor_actor(sophie(world))
    assert refusal(lambda: operator.demo_set_signal(world.uow(), sophie(world), "06 12 34 56 78", "<script>",
                                                    actor=actor)) == "demo.op.invalid"
    assert refusal(lambda: operator.demo_set_signal(world.uow(), sophie(world), "not a number", "sim_swap",
                                                    actor=actor)) == "demo.op.invalid"
    monkeypatch.setenv("SECURE_PHONE_DEMO", "0")
    assert refusal(lambda: operator.demo_set_signal(world.uow(), sophie(world), "06 12 34 56 78", "sim_swap",
                                                    actor=actor)) == "demo.op.invalid"
    with read_only(world.url) as s:
        found = s.exec(select(AuditEntry).where(AuditEntry.action == "demo_operator_signal")
                       .order_by(AuditEntry.id)).all()
    assert [(e.outcome, json.loads(e.details)) for e in found] == [
        ("refused", {"demo": True, "problem": "signal", "signal": "other"}),
        ("refused", {"demo": True, "problem": "number", "signal": "sim_swap"}),
        ("refused", {"demo": False, "problem": "demo_off", "signal": "sim_swap"}),
    ]


# --- too many questions: refused without asking ------------------------------------------------------------


def test_beyond_the_customers_cap_nothing_is_asked_and_it_fails_closed_even_fail_open(world: World) -> None:
    """A customer's sessions asking more than ``operator_checks_per_customer`` assessments within the window (other
    numbers each time: no reuse) are refused without asking, as if the operator had not answered — and that
    fails closed even under the fail-open policy: a flood must never be a way around the checks."""
    capped = replace(FAIL_OPEN, operator_checks_per_customer=2)
    operator_calls = counting(world)
    assert confirm(world, CAMILLE, NEW_E164, capped).status == "pending_approval"
    world.clock.advance(minutes=3)
    assert confirm(world, CAMILLE, OTHER_E164, capped).status == "pending_approval"
    world.clock.advance(minutes=3)
    assert len(operator_calls.calls) == 8
    assert refusal(lambda: confirm(world, CAMILLE, "+33781223355", capped)) == "operator.unavailable"
    assert len(operator_calls.calls) == 8
    limited = [e for e in world.audit(CAMILLE, "operator_check") if e.outcome == "rate_limited"]
    assert len(limited) == 1 and json.loads(limited[0].details)["calls"] == []
    world.clock.advance(seconds=capped.operator_check_window.total_seconds())
    assert confirm(world, CAMILLE, "+33781223355", capped).status == "pending_approval"  # the window moved on
    assert len(operator_calls.calls) == 12


def test_beyond_the_advisors_cap_the_call_back_check_says_unknown_without_asking(world: World) -> None:
    capped = replace(SEED_JOURNEY, operator_checks_per_advisor=2)
    operator_calls = counting(world)
    actor = advisor_actor(sophie(world))
    for identifier in (LUCAS, CAMILLE):
        found = operator.check_callback(world.uow(policy=capped), sophie(world), identifier, actor=actor)
        assert found is not None and not found.unknown
    found = operator.check_callback(world.uow(policy=capped), sophie(world), EMMA, actor=actor)
    assert found is not None and (found.unknown, found.forwarded) == (True, False)
    assert len(operator_calls.calls) == 2


# --- « Confirmer » asks between two transactions (the attacker review of 2026-12-04) ------------------------------


def slowed(world: World, seconds: float) -> None:
    """The world's operator takes ``seconds`` over its last question (KYC Match), as a real one may."""
    real = world.operator.kyc_match

    def slow(*args: Any) -> Any:
        time.sleep(seconds)
        return real(*args)

    world.operator.kyc_match = slow  # type: ignore[method-assign]


def test_simultaneous_confirmer_never_ask_the_operator_beyond_the_cap(world: World) -> None:
    """Four tabs of one customer press « Confirmer » at the same instant, the operator slow, the cap one assessment:
    the first reserves it under the customer's lock before asking; the others see the reservation and are refused
    without asking (failing closed). Counted from the answers stored afterwards, all four passed the cap."""
    capped = replace(SEED_JOURNEY, operator_checks_per_customer=1)
    slowed(world, 0.3)
    operator_calls = counting(world)
    results = run_together(*[lambda: confirm(world, CAMILLE, NEW_E164, capped)] * 4)
    assert len(operator_calls.calls) == 4, operator_calls.calls  # one assessment's four questions
    assert sorted(r.code if isinstance(r, Refused) else r.status for r in results) == \
        ["operator.unavailable"] * 3 + ["pending_approval"], results
    assert len(world.audit(CAMILLE, operator.RESERVED)) == 1
    assert sorted(e.outcome for e in world.audit(CAMILLE, "operator_check")) == ["ok"] + ["rate_limited"] * 3
    with read_only(world.url) as s:
        assert verify_chain(s) is None


def test_an_error_after_the_operator_answered_keeps_its_answers(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The request's transaction fails after the operator answered (here its superseding step; in life a deadlock,
    a lost connection): no request, the error reaches the caller — and every answer is stored and audited all the
    same (§12.4), in a transaction of its own."""
    from secure_phone.services.change import request as request_module

    operator_calls = counting(world)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(request_module, "supersede_pending", broken)
    with pytest.raises(RuntimeError):
        confirm(world, CAMILLE)
    assert len(operator_calls.calls) == 4
    assert world.requests(CAMILLE) == []
    (check,) = world.audit(CAMILLE, "operator_check")
    assert check.outcome == "ok" and len(json.loads(check.details)["calls"]) == 4
    with read_only(world.url) as s:
        stored = s.exec(select(OperatorCheck).where(OperatorCheck.customer_id == world.cid(CAMILLE))).all()
    assert len(stored) == 4 and all(row.purpose == "change" for row in stored)
    assert len(world.audit(CAMILLE, operator.RESERVED)) == 1  # it counted against the cap before asking


def test_answers_about_a_customer_who_changed_meanwhile_are_stored_but_start_nothing(world: World) -> None:
    """The customer's names change (an advisor's correction) while the operator answers questions about the old
    ones: the answers are stored, the request is refused (« nothing was changed, try again ») — and the next
    « Confirmer » asks about the customer as they are."""
    cid = world.cid(CAMILLE)
    real = world.operator.kyc_match

    def renamed_meanwhile(*args: Any) -> Any:
        with transaction(world.url) as s:
            customer = s.get(Customer, cid)
            assert customer is not None
            customer.last_name = customer.last_name + "-Martin"
            s.add(customer)
            s.commit()
        return real(*args)

    world.operator.kyc_match = renamed_meanwhile  # type: ignore[method-assign]
    assert refusal(lambda: confirm(world, CAMILLE)) == "error.generic"
    assert world.requests(CAMILLE) == []
    assert [e.outcome for e in world.audit(CAMILLE, "operator_check")] == ["ok"]
    (refused,) = [e for e in world.audit(CAMILLE, "change_requested") if e.outcome == "refused"]
    assert json.loads(refused.details)["problem"] == "operator.questions_changed"
    world.operator.kyc_match = real  # type: ignore[method-assign]
    assert confirm(world, CAMILLE).status == "pending_approval"
    first, second = [json.loads(e.details)["tag"] for e in world.audit(CAMILLE, "operator_check")]
    assert first != second  # asked again, about the customer's names as they are now
