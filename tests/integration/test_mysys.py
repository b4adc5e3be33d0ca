"""The MySys simulator on a real database: idempotency, history, faults and races."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from secure_phone.adapters.mysys import (
    Faults,
    MySysTimeout,
    MySysUnavailable,
    MySysUnknownCustomer,
    Receipt,
    SimulatedMySys,
    get_mysys,
)

REF = "1234567890"
OLD = "+33612345678"
NEW = "+33698765478"
NEWER = "+33711223344"


class AlwaysBelow(random.Random):
    """An rng whose every draw is 0.0: any fault with a non-zero rate fires."""

    def random(self) -> float:
        return 0.0


@pytest.fixture
def mysys(db_url: str) -> SimulatedMySys:
    system = SimulatedMySys(db_url)
    system.upsert_contact(REF, OLD, "jeanne@example.com")
    return system


def faulty(db_url: str, faults: Faults) -> SimulatedMySys:
    """A simulator on which every configured fault fires."""
    return SimulatedMySys(db_url, faults=faults, rng=AlwaysBelow())


def test_update_applies_and_contact_reads_it(mysys: SimulatedMySys) -> None:
    before = mysys.get_customer_contact(REF)
    assert before is not None and before.secure_phone_e164 == OLD

    receipt = mysys.update_secure_phone(REF, NEW, "op-1", "web")

    assert receipt.operation_id == "op-1" and not receipt.already_applied
    contact = mysys.get_customer_contact(REF)
    assert contact is not None
    assert contact.secure_phone_e164 == NEW
    assert contact.email == "jeanne@example.com"
    assert contact.updated_at == receipt.applied_at
    [entry] = mysys.history(REF)
    assert (entry.operation_id, entry.old_e164, entry.new_e164, entry.source) == ("op-1", OLD, NEW, "web")


def test_unknown_customer(mysys: SimulatedMySys) -> None:
    assert mysys.get_customer_contact("nobody") is None
    with pytest.raises(MySysUnknownCustomer):
        mysys.update_secure_phone("nobody", NEW, "op-1", "web")


def test_same_operation_twice_applies_once(mysys: SimulatedMySys) -> None:
    first = mysys.update_secure_phone(REF, NEW, "op-1", "web")
    again = mysys.update_secure_phone(REF, NEW, "op-1", "web")

    assert again == Receipt("op-1", first.applied_at, already_applied=True)
    assert len(mysys.history(REF)) == 1


def test_different_operations_stack(mysys: SimulatedMySys) -> None:
    mysys.update_secure_phone(REF, NEW, "op-1", "web")
    mysys.update_secure_phone(REF, NEWER, "op-2", "advisor")

    contact = mysys.get_customer_contact(REF)
    assert contact is not None and contact.secure_phone_e164 == NEWER
    assert [(h.operation_id, h.old_e164, h.new_e164) for h in mysys.history(REF)] == [
        ("op-1", OLD, NEW),
        ("op-2", NEW, NEWER),
    ]


def test_upsert_contact_is_idempotent(mysys: SimulatedMySys) -> None:
    first = mysys.get_customer_contact(REF)
    again = mysys.upsert_contact(REF, OLD, "jeanne@example.com")
    assert again == first


def test_error_fault_applies_nothing(mysys: SimulatedMySys, db_url: str) -> None:
    with pytest.raises(MySysUnavailable):
        faulty(db_url, Faults(error_rate=0.5)).update_secure_phone(REF, NEW, "op-1", "web")

    contact = mysys.get_customer_contact(REF)
    assert contact is not None and contact.secure_phone_e164 == OLD
    assert mysys.history(REF) == []


def test_timeout_fault_applies_then_retry_says_already_applied(mysys: SimulatedMySys, db_url: str) -> None:
    with pytest.raises(MySysTimeout):
        faulty(db_url, Faults(timeout_rate=0.5)).update_secure_phone(REF, NEW, "op-1", "web")

    contact = mysys.get_customer_contact(REF)
    assert contact is not None and contact.secure_phone_e164 == NEW
    retry = mysys.update_secure_phone(REF, NEW, "op-1", "web")
    assert retry.already_applied
    assert len(mysys.history(REF)) == 1


def test_latency_fault_uses_the_injected_sleep(mysys: SimulatedMySys, db_url: str) -> None:
    naps: list[float] = []
    slow = SimulatedMySys(db_url, faults=Faults(latency_ms=1500), sleep=naps.append)

    slow.update_secure_phone(REF, NEW, "op-1", "web")

    assert naps == [1.5]


def test_concurrent_calls_with_one_operation_apply_once(mysys: SimulatedMySys) -> None:
    start = threading.Barrier(8)

    def call(_: int) -> Receipt:
        start.wait()
        return mysys.update_secure_phone(REF, NEW, "op-1", "app")

    with ThreadPoolExecutor(max_workers=8) as pool:
        receipts = list(pool.map(call, range(8)))

    assert sum(not r.already_applied for r in receipts) == 1
    assert len({r.applied_at for r in receipts}) == 1
    assert len(mysys.history(REF)) == 1


def test_faults_from_env() -> None:
    assert Faults.from_env({}) == Faults()
    env = {"MYSYS_LATENCY_MS": "250", "MYSYS_ERROR_RATE": "0.1", "MYSYS_TIMEOUT_RATE": "1"}
    assert Faults.from_env(env) == Faults(latency_ms=250, error_rate=0.1, timeout_rate=1.0)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MYSYS_LATENCY_MS", "-1"),
        ("MYSYS_LATENCY_MS", "fast"),
        ("MYSYS_ERROR_RATE", "1.5"),
        ("MYSYS_ERROR_RATE", "nan"),
        ("MYSYS_TIMEOUT_RATE", "-0.1"),
        ("MYSYS_TIMEOUT_RATE", "often"),
    ],
)
def test_faults_from_env_rejects_bad_values(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        Faults.from_env({name: value})


def test_get_mysys_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MYSYS_ERROR_RATE", "0.25")
    get_mysys.cache_clear()
    try:
        system = get_mysys()
        assert isinstance(system, SimulatedMySys)
        assert system.faults == Faults(error_rate=0.25)
        assert get_mysys() is system
    finally:
        get_mysys.cache_clear()
