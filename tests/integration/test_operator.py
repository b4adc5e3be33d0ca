"""The operator's fraud signals (§12.4), on both databases: the simulated CAMARA operator, the HTTP adapter in
front of it (in-process, over the app's API route and over a real socket), and the signals at each point — the
online change, the in-branch change, J4, J7 and before a call-back — under both failure policies."""

from __future__ import annotations

import json
import random
import threading
from dataclasses import replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from secure_phone.adapters.db import read_only
from secure_phone.adapters.models import AuditEntry, ChangeRequest, ContactRequest, Customer, OperatorCheck, SmsCode
from secure_phone.adapters.operator import OperatorClient
from secure_phone.adapters.operator_sim import Faults, InProcessTransport, OperatorSimulator
from secure_phone.domain.policy import DEFAULT_POLICY
from secure_phone.i18n import MESSAGES
from secure_phone.services import activation, advisor, contact, devices, operator, stale
from secure_phone.services.audit import verify_chain
from secure_phone.services.unit_of_work import Refused
from tests.integration.helpers import (
    CAMILLE,
    CAMILLE_OLD,
    EMMA,
    EMMA_NUMBER,
    LUCAS,
    LUCAS_NUMBER,
    NEW_E164,
    NEW_RAW,
    OPERATOR_TOKEN,
    PAUL,
    SEED_JOURNEY,
    T0,
    SoftPhone,
    World,
    customer_actor,
    world,  # noqa: F401  (fixture)
)
from tests.integration.test_advisor_service import advisor_actor, change_by, karim, nadia, sophie, validate

FAIL_OPEN = replace(SEED_JOURNEY, operator_fail_closed=False)
PAUL_NUMBER = "+33678901234"


def checks(world: World, identifier: str) -> list[OperatorCheck]:
    with read_only(world.url) as s:
        return list(s.exec(select(OperatorCheck).where(OperatorCheck.customer_id == world.cid(identifier))
                           .order_by(OperatorCheck.id)))


def audit(world: World, identifier: str, action: str = "operator_check") -> list[AuditEntry]:
    with read_only(world.url) as s:
        return list(s.exec(select(AuditEntry).where(AuditEntry.customer_id == world.cid(identifier),
                                                    AuditEntry.action == action).order_by(AuditEntry.id)))


def refusal(call: Any) -> str | None:
    try:
        call()
    except Refused as refused:
        return refused.code
    return None


def faulty(world: World, seed: int, **faults: Any) -> OperatorClient:
    """A client of the world's operator answering with the given faults (a seeded draw)."""
    simulator = OperatorSimulator(world.url, faults=Faults(**faults), rng=random.Random(seed), clock=world.clock,
                                  token=OPERATOR_TOKEN)
    return world.operator_client(simulator)


# --- the online change: Emma, the new number's signals, Camille --------------------------------------------


def test_emma_cannot_change_online_she_is_told_why_and_sent_to_her_advisor(world: World) -> None:
    assert refusal(lambda: world.start(EMMA)) == "operator.current_sim_swap"
    assert world.requests(EMMA) == []  # no request, no code to the new number, nothing for the phone
    assert "SIM" in MESSAGES["fr"]["operator.current_sim_swap"] and "SIM" in MESSAGES["en"]["operator.current_sim_swap"]
    rows = checks(world, EMMA)
    assert [(r.subject, r.api) for r in rows] == [
        ("current", "sim-swap/v2/retrieve-date"), ("new", "sim-swap/v2/retrieve-date"),
        ("new", "call-forwarding-signal/v0.3/unconditional-call-forwardings"), ("new", "kyc-match/v0.3/match")]
    assert all(r.purpose == "change" and r.error is None and r.operator == "Opérateur simulé (CAMARA)" for r in rows)
    assert len({r.correlator for r in rows}) == 4
    swapped_on = (T0 - timedelta(hours=2)).date().isoformat()
    assert json.loads(rows[0].result or "{}")["latestSimChange"].startswith(swapped_on)
    assert EMMA_NUMBER not in " ".join(r.number + (r.result or "") for r in rows)  # masked, and never in the answers
    (entry,) = audit(world, EMMA)
    details = json.loads(entry.details or "{}")
    assert (entry.outcome, details["purpose"], details["signal"]) == ("stopped", "change", "current_sim_swap")
    assert [c["correlator"] for c in details["calls"]] == [r.correlator for r in rows]
    # Sent to the advisor with that reason; the advisor's sheet shows the operator's answer.
    reason = operator.CONTACT_REASONS["operator.current_sim_swap"]
    contact.request_callback(world.uow(), world.cid(EMMA), reason, channel="web", actor=customer_actor(world.cid(EMMA)))
    with read_only(world.url) as s:
        query = select(ContactRequest.reason).where(ContactRequest.customer_id == world.cid(EMMA))
        assert s.exec(query).one() == reason
    answers = operator.sheet_answers(world.uow(), sophie(world), EMMA)
    swap = next(a for a in answers if a.subject == "current")
    assert (swap.summary, swap.n, swap.operator) == ("op.sim.changed.hours", "2", "Opérateur simulé (CAMARA)")
    assert "operator_signal" in advisor.sheet(world.uow(), sophie(world), EMMA).signals
    with read_only(world.url) as s:
        assert verify_chain(s) is None


def test_seventy_three_hours_later_emma_may_change_online(world: World) -> None:
    world.clock.advance(hours=69)  # 71 h after the SIM change
    assert refusal(lambda: world.start(EMMA)) == "operator.current_sim_swap"
    world.clock.advance(hours=2)  # 73 h after
    assert world.start(EMMA).status == "pending_approval"


@pytest.mark.parametrize("signal", ["sim_swap", "forwarding", "kyc_mismatch"])
def test_a_signal_on_the_new_number_sends_the_change_to_the_advisor(world: World, signal: str) -> None:
    if signal == "sim_swap":
        world.operator_sim.swap_sim(NEW_E164, at=world.clock.now - timedelta(hours=5))
    elif signal == "forwarding":
        world.operator_sim.forward_calls(NEW_E164)
    else:
        world.operator_sim.set_line(NEW_E164, given_name="Kevin", family_name="Mallory")
    assert refusal(lambda: world.start(CAMILLE)) == "operator.new_number"
    assert world.requests(CAMILLE) == []
    (entry,) = audit(world, CAMILLE)
    expected = {"sim_swap": "new_sim_swap", "forwarding": "new_forwarding", "kyc_mismatch": "kyc_mismatch"}[signal]
    assert (entry.outcome, json.loads(entry.details or "{}")["signal"]) == ("stopped", expected)


def test_camille_changes_with_the_operators_answers_recorded(world: World) -> None:
    world.operator_sim.set_line(NEW_E164, given_name="Camille", family_name="MARTIN")  # her own line: a match
    assert world.start(CAMILLE).status == "pending_approval"
    rows = checks(world, CAMILLE)
    assert len(rows) == 4 and all(r.error is None for r in rows)
    assert json.loads(rows[3].result or "{}") == {"familyNameMatch": "true", "givenNameMatch": "true"}
    (entry,) = audit(world, CAMILLE)
    assert entry.outcome == "ok"


def test_a_swap_long_ago_on_the_new_number_is_no_signal(world: World) -> None:
    world.operator_sim.swap_sim(NEW_E164, at=world.clock.now - timedelta(days=30))
    assert world.start(CAMILLE).status == "pending_approval"


# --- the operator failing: fail closed, fail open ---------------------------------------------------------


@pytest.mark.parametrize("seed", range(12))
def test_under_half_errors_and_half_timeouts_fail_closed_never_lets_a_change_through(world: World, seed: int) -> None:
    """Errors and timeouts at 50 %, three tries a call: every change either goes on with all four answers, or
    stops with a reason the customer is told; Emma's never goes on."""
    client = faulty(world, seed, error=0.5, timeout=0.5)
    for identifier in (CAMILLE, EMMA):
        cid = world.cid(identifier)
        code = refusal(lambda cid=cid: operator.guard_change(world.uow(operator=client, policy=DEFAULT_POLICY), cid,
                                                             NEW_E164, actor=customer_actor(cid)))
        rows = checks(world, identifier)[-4:]
        answered = all(r.error is None for r in rows)
        if identifier == EMMA:
            assert code in ("operator.current_sim_swap", "operator.unavailable")
            assert code == "operator.current_sim_swap" or rows[0].error is not None
        else:
            assert code == (None if answered else "operator.unavailable")
        assert code is None or MESSAGES["fr"][code] and MESSAGES["en"][code]  # a clear message, both languages
        assert all(r.error in (None, "UNAVAILABLE", "timeout") and 1 <= r.attempts <= 3 for r in rows)


@pytest.mark.parametrize("seed", range(12))
def test_under_half_errors_and_half_timeouts_fail_open_goes_on_and_records_it(world: World, seed: int) -> None:
    client = faulty(world, seed, error=0.5, timeout=0.5)
    cid = world.cid(CAMILLE)
    verdict = operator.guard_change(world.uow(operator=client, policy=FAIL_OPEN), cid, NEW_E164,
                                    actor=customer_actor(cid))
    rows = checks(world, CAMILLE)
    assert not verdict.stopped
    (entry,) = audit(world, CAMILLE)
    missing = any(r.error for r in rows)
    assert (entry.outcome, json.loads(entry.details or "{}").get("signal")) == (
        ("signal", "unavailable") if missing else ("ok", None))
    # Emma: whenever her current number's answer came, it stops her, fail-open or not.
    emma = world.cid(EMMA)
    code = refusal(lambda: operator.guard_change(world.uow(operator=client, policy=FAIL_OPEN), emma, NEW_E164,
                                                 actor=customer_actor(emma)))
    current = checks(world, EMMA)[0]
    assert code == ("operator.current_sim_swap" if current.error is None else None)


def test_the_operator_down_fail_closed_sends_to_the_advisor_with_a_clear_message(world: World) -> None:
    world.operator = faulty(world, 1, error=1.0)  # the world's policy is the seed's journey, fail closed
    assert refusal(lambda: world.start(CAMILLE)) == "operator.unavailable"
    assert world.requests(CAMILLE) == []
    assert all(r.error == "UNAVAILABLE" and r.attempts == 3 for r in checks(world, CAMILLE))
    assert "operator.unavailable" in operator.CONTACT_REASONS and "reason.operator_unavailable" in MESSAGES["fr"]


# --- the adapter: retries, backoff, correlator, credentials, the API route, a real socket -----------------


class Scripted(random.Random):
    """Draws that decide the faults one by one (then no fault)."""

    def __init__(self, draws: list[float]) -> None:
        super().__init__(0)
        self.draws = draws

    def random(self) -> float:
        return self.draws.pop(0) if self.draws else 0.99


def test_a_failed_call_is_retried_with_backoff_under_the_same_correlator(world: World) -> None:
    seen: list[str] = []
    simulator = OperatorSimulator(world.url, faults=Faults(error=0.5, timeout=0.5), clock=world.clock,
                                  token=OPERATOR_TOKEN, rng=Scripted([0.1, 0.9, 0.1, 0.9, 0.9]))
    original = simulator.answer

    def spy(method: str, path: str, headers: Any, body: bytes) -> Any:
        seen.append(headers["x-correlator"])
        return original(method, path, headers, body)

    simulator.answer = spy  # type: ignore[method-assign]
    slept: list[float] = []
    client = OperatorClient("http://operator.test/api/operator", OPERATOR_TOKEN, name="t", backoff_s=0.1,
                            transport=InProcessTransport(simulator, sleep=lambda s: None), sleep=slept.append)
    call = client.sim_swap_date(EMMA_NUMBER)
    assert call.ok and call.attempts == 3 and slept == [0.1, 0.2]
    assert len(set(seen)) == 1 and seen[0] == call.correlator


def test_timeouts_and_credentials(world: World) -> None:
    held = faulty(world, 0, timeout=1.0)
    call = held.unconditional_forwarding(LUCAS_NUMBER)
    assert (call.ok, call.error, call.attempts) == (False, "timeout", 3)
    stranger = OperatorClient("http://operator.test/api/operator", "not-the-token", name="t",
                              transport=world.operator._client._transport, sleep=lambda s: None)  # noqa: SLF001
    call = stranger.sim_swap_date(EMMA_NUMBER)
    assert (call.status, call.error, call.attempts) == (401, "UNAUTHENTICATED", 1)  # not retried: it cannot pass
    assert world.operator.post("sim-swap/v2/check", {"phoneNumber": "0611223344", "maxAge": 72}).error == \
        "INVALID_ARGUMENT"


def test_the_api_route_serves_the_camara_shapes(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from secure_phone import api as api_module

    monkeypatch.setattr(api_module, "get_simulator", lambda: world.operator_sim)
    client = TestClient(api_module.build_api())  # demo mode (the world's): the route is mounted
    headers = {"Authorization": f"Bearer {OPERATOR_TOKEN}", "x-correlator": "b4333c46-49c0-4f62-80d7-f0ef930f1c46"}
    answer = client.post("/api/operator/sim-swap/v2/check", json={"phoneNumber": EMMA_NUMBER, "maxAge": 72},
                         headers=headers)
    assert (answer.status_code, answer.json(), answer.headers["x-correlator"]) == (
        200, {"swapped": True}, headers["x-correlator"])
    assert client.post("/api/operator/sim-swap/v2/check", json={"phoneNumber": EMMA_NUMBER, "maxAge": 1},
                       headers=headers).json() == {"swapped": False}
    assert client.post("/api/operator/call-forwarding-signal/v0.3/call-forwardings",
                       json={"phoneNumber": LUCAS_NUMBER}, headers=headers).json() == ["unconditional"]
    assert client.post("/api/operator/number-recycling/v0.2/check",
                       json={"phoneNumber": LUCAS_NUMBER, "specifiedDate": "2025-06-01"},
                       headers=headers).json() == {"phoneNumChanged": False}
    denied = client.post("/api/operator/sim-swap/v2/check", json={"phoneNumber": EMMA_NUMBER})
    assert (denied.status_code, denied.json()["code"], set(denied.json())) == (401, "UNAUTHENTICATED",
                                                                               {"status", "code", "message"})


def test_a_stranger_is_refused_before_any_fault_and_a_huge_body_unread(world: World,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The simulator's API answers a request without the token at once, even with every fault configured (no
    held answer for strangers), and refuses a body larger than it ever needs without reading it."""
    from secure_phone import api as api_module

    simulator = OperatorSimulator(world.url, faults=Faults(error=1.0, timeout=1.0, latency_ms=5000, hold_ms=60000),
                                  rng=random.Random(1), clock=world.clock, token=OPERATOR_TOKEN)
    stranger = simulator.answer("POST", "sim-swap/v2/check", {}, b'{"phoneNumber": "+33611223344"}')
    assert (stranger.status, stranger.body["code"], stranger.delay_s, stranger.times_out) == (
        401, "UNAUTHENTICATED", 0.0, False)
    monkeypatch.setattr(api_module, "get_simulator", lambda: simulator)
    client = TestClient(api_module.build_api())  # demo mode (the world's): the route is mounted
    denied = client.post("/api/operator/sim-swap/v2/check", json={"phoneNumber": EMMA_NUMBER})
    assert (denied.status_code, denied.json()["code"]) == (401, "UNAUTHENTICATED")
    huge = client.post("/api/operator/sim-swap/v2/check", content=b"x" * (api_module.OPERATOR_BODY_LIMIT + 1),
                       headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"})
    assert (huge.status_code, huge.json()["code"]) == (413, "PAYLOAD_TOO_LARGE")


def test_over_a_real_socket_answers_and_timeouts(world: World) -> None:
    """The adapter over real HTTP: a real operator's base URL replaces the simulator by configuration only."""
    simulator = world.operator_sim

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802  (http.server's name)
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            answer = simulator.answer("POST", self.path.removeprefix("/api/operator"),
                                      {k.lower(): v for k, v in self.headers.items()}, body)
            if answer.times_out:
                threading.Event().wait(answer.delay_s)
            payload = json.dumps(answer.body).encode()
            try:
                self.send_response(answer.status)
                for name, value in {**answer.headers, "content-type": "application/json"}.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass  # the client gave up (the timeout test)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        root = f"http://127.0.0.1:{server.server_address[1]}/api/operator"
        client = OperatorClient(root, OPERATOR_TOKEN, name="HTTP", timeout_s=0.3, retries=1, backoff_s=0.01)
        call = client.sim_swap_date(EMMA_NUMBER)
        assert call.ok and call.body["latestSimChange"] and call.attempts == 1
        assert client.unconditional_forwarding(LUCAS_NUMBER).body == {"active": True}
        simulator.faults = Faults(timeout=1.0, hold_ms=1000)
        call = client.sim_swap_date(EMMA_NUMBER)
        assert (call.error, call.attempts) == ("timeout", 2) and call.latency_ms >= 600
        client.close()
    finally:
        simulator.faults = Faults()
        server.shutdown()
        server.server_close()


# --- J4, J7, the call-back, in branch ---------------------------------------------------------------------


def test_emma_cannot_move_securpass_to_a_new_phone_online(world: World) -> None:
    phone = SoftPhone(world, devices.NEW_PHONE, None)
    phone.device_id = phone.pick_up().id
    cid = world.cid(EMMA)
    assert activation.on_new_phone(world.uow(), cid, phone.device_id, actor=customer_actor(cid, "app")) == \
        "operator.current_sim_swap"
    assert refusal(lambda: activation.send_activation_code(world.uow(), cid, phone.device_id,
                                                           actor=customer_actor(cid, "app"))) == \
        "operator.current_sim_swap"
    with read_only(world.url) as s:
        assert s.exec(select(SmsCode).where(SmsCode.customer_id == cid)).all() == []  # no code to the swapped SIM
    assert {json.loads(e.details or "{}")["purpose"] for e in audit(world, EMMA)} == {"activation"}


def test_j7_asks_number_recycling_first_a_recycled_number_gets_no_sms(world: World) -> None:
    cid = world.cid(PAUL)
    world.operator_sim.recycle(PAUL_NUMBER, since=world.clock.now.date() - timedelta(days=10))
    assert refusal(lambda: stale.send_confirmation_code(world.uow(), cid, actor=customer_actor(cid))) == \
        "operator.recycled"
    assert world.customer(PAUL).number_recycled_at == world.clock.now
    with read_only(world.url) as s:
        assert s.exec(select(SmsCode).where(SmsCode.customer_id == cid)).all() == []
    (row,) = checks(world, PAUL)
    assert (row.api, row.purpose, json.loads(row.result or "{}")) == (
        "number-recycling/v0.2/check", "stale_number", {"phoneNumChanged": True})
    # No SMS code goes to it any more, whatever asks (J4 here), until the number is verified again in branch.
    phone = SoftPhone(world, devices.NEW_PHONE, None)
    phone.device_id = phone.pick_up().id
    assert refusal(lambda: activation.send_activation_code(world.uow(), cid, phone.device_id,
                                                           actor=customer_actor(cid, "app"))) == "operator.recycled"


def test_j7_goes_on_when_the_number_was_not_recycled(world: World) -> None:
    cid = world.cid(PAUL)
    stale.send_confirmation_code(world.uow(), cid, actor=customer_actor(cid))
    with read_only(world.url) as s:
        assert len(s.exec(select(SmsCode).where(SmsCode.customer_id == cid)).all()) == 1


def test_lucas_call_back_warns_that_his_calls_are_forwarded(world: World) -> None:
    cid = world.cid(LUCAS)
    contact.request_callback(world.uow(), cid, "other", channel="web", actor=customer_actor(cid))
    assert operator.has_open_callback(world.uow(), sophie(world), LUCAS)
    found = operator.check_callback(world.uow(), sophie(world), LUCAS, actor=advisor_actor(sophie(world)))
    assert found is not None and (found.forwarded, found.unknown) == (True, False)
    latest = operator.latest_callback(world.uow(), nadia(world), LUCAS)
    assert latest is not None and latest.forwarded
    (entry,) = audit(world, LUCAS)
    assert (entry.outcome, json.loads(entry.details or "{}")["signal"]) == ("signal", "forwarding")
    assert "operator_signal" not in advisor.sheet(world.uow(), sophie(world), LUCAS).signals  # a warning, not a stop
    # Camille's calls are not forwarded; another agency's advisor asks nothing.
    camille = operator.check_callback(world.uow(), sophie(world), CAMILLE, actor=advisor_actor(sophie(world)))
    assert camille is not None and not camille.forwarded
    assert refusal(lambda: operator.check_callback(world.uow(), karim(world), LUCAS,
                                                   actor=advisor_actor(karim(world)))) == "advisor.not_found"
    assert len(checks(world, LUCAS)) == 1


def test_in_branch_an_operator_signal_calls_for_a_second_advisor(world: World) -> None:
    result = change_by(world, sophie(world), EMMA, NEW_RAW)
    assert result.status == "pending_validation"
    with read_only(world.url) as s:
        request = s.exec(select(ChangeRequest).where(ChangeRequest.customer_id == world.cid(EMMA))).one()
    assert "operator_signal" in json.loads(request.risk_signals or "[]")
    assert {json.loads(e.details or "{}")["purpose"] for e in audit(world, EMMA)} == {"advisor_change"}
    # Camille, with nothing from the operator: applied at once, the answers recorded all the same.
    assert change_by(world, sophie(world), CAMILLE, "07 81 22 33 44").status == "completed"
    assert len(checks(world, CAMILLE)) == 4
    assert world.customer(CAMILLE).secure_phone_e164 != CAMILLE_OLD


def test_a_new_secure_number_clears_the_recycled_flag(world: World) -> None:
    cid = world.cid(PAUL)
    world.operator_sim.recycle(PAUL_NUMBER)
    refusal(lambda: stale.send_confirmation_code(world.uow(), cid, actor=customer_actor(cid)))
    assert world.customer(PAUL).number_recycled_at is not None
    result = change_by(world, nadia(world), PAUL, NEW_RAW)  # Paul's advisor, in branch
    assert result.status == "pending_validation"  # the operator's signal: a second advisor
    assert validate(world, sophie(world), result.request_id) == "completed"
    customer: Customer = world.customer(PAUL)
    assert (customer.secure_phone_e164, customer.number_recycled_at) == (NEW_E164, None)
