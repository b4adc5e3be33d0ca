"""Issue 13: the repair of changes left waiting for MySys does not poll while nothing waits.

It makes a pass at start (a crashed process's changes), then naps until a change is left waiting — the
transaction that records MySys's failure wakes it (in-process here; through PostgreSQL's NOTIFY for a separate
dispatcher) — and retries every ``interval`` while one waits.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time
from types import SimpleNamespace
from typing import Any

import pytest

from secure_phone import dispatcher
from secure_phone.services import change, events
from tests.integration.helpers import CAMILLE, NEW_E164, World, world  # noqa: F401  (fixture)


def test_an_idle_repair_makes_no_pass_until_a_change_is_left_waiting(world: World,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    passes: list[int] = []
    real = change.retry_applying

    def counted(uow: Any) -> int:
        passes.append(real(uow))
        return passes[-1]

    monkeypatch.setattr(change, "retry_applying", counted)
    waker = dispatcher.Waker()
    wake = dispatcher._waking(SimpleNamespace(wake=lambda: None), waker)  # type: ignore[arg-type]
    events.subscribe(wake)
    phone = world.phone(CAMILLE)
    view = world.start(CAMILLE)

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(dispatcher.repair_changes(stop, world.url, interval=0.05, idle_interval=3600,
                                                             waker=waker))
        await asyncio.sleep(0.5)
        assert passes == [0], passes  # its first pass only, then it naps (an hour at most): no polling
        # MySys fails the approval's completion: the change is left applying, and that commit wakes the repair.
        result = await asyncio.to_thread(phone.approve_pending, mysys=world.faulty_mysys(error_rate=1.0))
        assert (result.accepted, result.status) == (True, "applying")
        deadline = time.monotonic() + 30  # a liveness bound, not a timing assertion
        while world.request(view.id).status != "completed" and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert world.request(view.id).status == "completed"
        assert world.customer(CAMILLE).secure_phone_e164 == NEW_E164
        await asyncio.sleep(0.3)  # the pass that finds nothing left (after one that found work)
        settled = len(passes)
        assert settled <= 4 and passes[-1] == 0, passes  # the first, the wake's, the one that finds it done
        await asyncio.sleep(0.5)
        assert len(passes) == settled, passes  # nothing waits: no pass until woken
        stop.set()
        await task

    try:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:  # a loop of its own (Playwright may hold the main one)
            pool.submit(asyncio.run, asyncio.wait_for(scenario(), timeout=60)).result()
    finally:
        events.unsubscribe(wake)


def test_without_a_waker_the_repair_keeps_its_interval(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """A process nothing can wake (a separate dispatcher on SQLite) keeps retrying every ``interval``."""
    passes: list[int] = []
    monkeypatch.setattr(change, "retry_applying", lambda uow: passes.append(0) or 0)

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(dispatcher.repair_changes(stop, world.url, interval=0.05))
        await asyncio.sleep(0.6)
        stop.set()
        await task

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, asyncio.wait_for(scenario(), timeout=60)).result()
    assert len(passes) >= 3, passes


def test_a_completion_that_fails_otherwise_than_mysys_still_wakes_the_repair(world: World,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The approval is committed, then the completion's transaction fails (not MySys: the database, a bug): the
    change is left approved and waiting, and the repair is woken for it — it does not wait for its safety net."""
    from secure_phone.services.change import applying

    heard: list[events.Event] = []
    events.subscribe(heard.extend)
    try:
        phone = world.phone(CAMILLE)
        view = world.start(CAMILLE)

        def broken(*args: Any, **kwargs: Any) -> None:
            raise RuntimeError("the database went away")

        monkeypatch.setattr(applying, "notify_change", broken)
        with pytest.raises(RuntimeError):
            phone.approve_pending()
        assert world.request(view.id).status == "applying"
        assert events.ChangeWaiting() in heard
        monkeypatch.undo()
        assert change.retry_applying(world.uow()) == 1  # what the woken repair does
        assert world.request(view.id).status == "completed"
    finally:
        events.unsubscribe(heard.extend)
