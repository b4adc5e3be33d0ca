"""Outside demo mode there is no simulated operator (§12.1, §12.4; the attacker review of 2026-12-02): without
``SECURE_PHONE_OPERATOR_URL`` every question is unanswered — the policy's no-answer rule decides, never a « nothing
to report » — and the simulator's API route is not mounted. On both databases."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlmodel import select

from secure_phone.adapters import operator as operator_adapter
from secure_phone.adapters.db import read_only
from secure_phone.adapters.models import OperatorCheck
from secure_phone.adapters.operator import NOT_CONFIGURED, UnconfiguredOperator
from secure_phone.domain.change_request import Channel
from secure_phone.services import change
from secure_phone.services.unit_of_work import UnitOfWork
from tests.integration.helpers import (
    CAMILLE,
    NEW_E164,
    SEED_JOURNEY,
    World,
    customer_actor,
    world,  # noqa: F401  (fixture)
)
from tests.integration.test_operator import FAIL_OPEN, refusal

OTHER_E164 = "+33781223344"


@pytest.fixture
def no_demo(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("SECURE_PHONE_DEMO", "0")
    monkeypatch.delenv("SECURE_PHONE_OPERATOR_URL", raising=False)
    operator_adapter.get_operator.cache_clear()
    yield
    operator_adapter.get_operator.cache_clear()


def test_outside_demo_mode_without_an_operator_every_check_is_unanswered(world: World, no_demo: Any) -> None:
    """No ``SECURE_PHONE_OPERATOR_URL`` and no demo mode: the simulator (whose unknown numbers have « nothing to
    report ») is never used; every question is unanswered, so fail closed sends to the advisor, and fail open
    goes on with the missing answers recorded — never as a clean answer."""
    assert isinstance(operator_adapter.get_operator(world.url), UnconfiguredOperator)
    cid = world.cid(CAMILLE)
    uow = UnitOfWork(world.url, now=world.clock.now, policy=SEED_JOURNEY, mysys=world.mysys)
    assert refusal(lambda: change.start_request(uow, cid, NEW_E164, channel=Channel.WEB,
                                                actor=customer_actor(cid))) == "operator.unavailable"
    with read_only(world.url) as s:
        rows = s.exec(select(OperatorCheck).where(OperatorCheck.customer_id == cid)).all()
    assert len(rows) == 4 and {(r.error, r.result, r.operator) for r in rows} == {
        (NOT_CONFIGURED, None, "Aucun opérateur configuré")}
    world.clock.advance(minutes=3)
    uow = UnitOfWork(world.url, now=world.clock.now, policy=FAIL_OPEN, mysys=world.mysys)
    assert change.start_request(uow, cid, OTHER_E164, channel=Channel.WEB,
                                actor=customer_actor(cid)).status == "pending_approval"
    last = world.audit(CAMILLE, "operator_check")[-1]
    assert (last.outcome, json.loads(last.details)["signals"]) == ("signal", ["unavailable"])


def test_outside_demo_mode_the_simulators_route_is_not_mounted(monkeypatch: pytest.MonkeyPatch) -> None:
    from starlette.testclient import TestClient

    from secure_phone import api as api_module

    monkeypatch.setenv("SECURE_PHONE_DEMO", "0")
    client = TestClient(api_module.build_api())
    assert client.post("/api/operator/sim-swap/v2/check", json={"phoneNumber": "+33611223344"}).status_code == 404
    assert client.get("/api/health").status_code == 200
    monkeypatch.setenv("SECURE_PHONE_DEMO", "1")
    denied = TestClient(api_module.build_api()).post("/api/operator/sim-swap/v2/check",
                                                     json={"phoneNumber": "+33611223344"})
    assert denied.status_code == 401  # mounted in demo mode (and still asking for the operator's token)
    # The handler itself refuses outside demo mode, whatever mounted it.
    monkeypatch.setenv("SECURE_PHONE_DEMO", "0")
    app = api_module.Starlette(routes=[api_module.Route("/api/operator/{path:path}", api_module.operator_gateway,
                                                        methods=["POST"])])
    assert TestClient(app).post("/api/operator/sim-swap/v2/check", json={}).status_code == 404
