"""What the UI layer keeps outside Reflex's state: codes waiting for a signature, the inbox pages to push.

Neither is pickled to disk or Redis, and neither can be grown without bound by a client (PRODUCT.md §12.2:
no secret at rest in the state store; no long-running task started by an unauthenticated client).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from secure_phone.services import auth
from secure_phone.ui import runtime


def tab(sid: str) -> SimpleNamespace:
    return SimpleNamespace(router=SimpleNamespace(session=SimpleNamespace(session_id=sid)))


def run_on_own_loop(coroutine: Any) -> Any:
    """``asyncio.run`` on a thread of its own: Playwright's sync API keeps a loop running in the main thread when the
    browser tests ran first in this process."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_a_held_code_is_taken_once_on_the_socket_that_held_it(monkeypatch: pytest.MonkeyPatch) -> None:
    runtime.hold(tab("socket-a"), "approval", ("request", "4827"))  # type: ignore[arg-type]
    assert runtime.take(tab("socket-b"), "approval") is None  # type: ignore[arg-type]  (another socket)
    assert runtime.take(tab("socket-a"), "activation") is None  # type: ignore[arg-type]  (another purpose)
    assert runtime.take(tab("socket-a"), "approval") == ("request", "4827")  # type: ignore[arg-type]
    assert runtime.take(tab("socket-a"), "approval") is None  # type: ignore[arg-type]  (once)
    # Too old: gone.
    clock = [1000.0]
    monkeypatch.setattr(runtime.time, "monotonic", lambda: clock[0])
    runtime.hold(tab("socket-a"), "approval", "x")  # type: ignore[arg-type]
    clock[0] += runtime.HOLD_SECONDS + 1
    assert runtime.take(tab("socket-a"), "approval") is None  # type: ignore[arg-type]


def test_held_codes_are_swept_once_too_old(monkeypatch: pytest.MonkeyPatch) -> None:
    """Codes never taken (a browser that never answered) do not stay in memory: the next hold sweeps them."""
    runtime._HELD.clear()
    clock = [5000.0]
    monkeypatch.setattr(runtime.time, "monotonic", lambda: clock[0])
    for i in range(100):
        runtime.hold(tab(f"socket-{i}"), "approval", "1234")  # type: ignore[arg-type]
    assert len(runtime._HELD) == 100
    clock[0] += runtime.HOLD_SECONDS + 1
    runtime.hold(tab("socket-new"), "approval", "5678")  # type: ignore[arg-type]
    assert list(runtime._HELD) == ["socket-new:approval"]
    runtime._HELD.clear()


def test_the_inbox_pages_to_push_are_capped_per_process() -> None:
    """A client opening thousands of /demo/messages tabs (or forging their refresh) cannot make the work of a
    push (a message filed) grow: the oldest registrations fall off."""
    runtime._INBOX_TABS.clear()
    for i in range(10 * runtime.MAX_INBOX_TABS):
        runtime.watch_inbox(f"token-{i}")
    assert len(runtime._INBOX_TABS) == runtime.MAX_INBOX_TABS
    assert f"token-{10 * runtime.MAX_INBOX_TABS - 1}" in runtime._INBOX_TABS and "token-0" not in runtime._INBOX_TABS
    runtime.unwatch_inbox(f"token-{10 * runtime.MAX_INBOX_TABS - 1}")
    assert len(runtime._INBOX_TABS) == runtime.MAX_INBOX_TABS - 1
    runtime._INBOX_TABS.clear()


def test_watch_call_runs_at_most_once_per_session_however_often_it_is_sent(monkeypatch: pytest.MonkeyPatch) -> None:
    """« Is my bank calling me? »'s watcher is a background task that sleeps until the call shown ends: a client
    sending its event a hundred times (a forged event, a remounted panel) gets one watcher, not a hundred; once it
    has woken, the next one may start."""
    import asyncio
    from datetime import timedelta

    from secure_phone.ui.states import calls as calls_state
    from secure_phone.ui.states.app import AppState

    sleeping: list[float] = []
    wake = asyncio.Event()

    async def sleep(seconds: float) -> None:
        sleeping.append(seconds)
        await wake.wait()

    monkeypatch.setattr(calls_state, "asyncio", SimpleNamespace(sleep=sleep))

    class Tab:
        watch_call = "watch again"  # what the handler returns to chain itself
        call_open = True
        _call_ends_at = (runtime.now() + timedelta(minutes=5)).timestamp()

        def _principal(self, touch: bool = True) -> SimpleNamespace:
            return SimpleNamespace(session_id="session-1", id=1)

        def _load_call(self, principal: object) -> None:
            self.call_open = False  # the call ended meanwhile

        async def __aenter__(self) -> Tab:
            return self

        async def __aexit__(self, *exc: object) -> None:
            return None

    watch = AppState.watch_call.fn  # type: ignore[attr-defined]

    async def scenario() -> list[object]:
        tab = Tab()
        tasks = [asyncio.create_task(watch(tab)) for _ in range(100)]
        await asyncio.sleep(0.05)
        assert len(sleeping) == 1  # one watcher sleeping; the 99 others returned at once
        assert sum(t.done() for t in tasks) == 99
        wake.set()
        results = await asyncio.gather(*tasks)
        assert "session-1" not in runtime._CALL_WATCHERS  # released: the next call gets its watcher
        assert runtime.claim_call_watch("session-1") and not runtime.claim_call_watch("session-1")
        runtime.release_call_watch("session-1")
        return results

    assert run_on_own_loop(scenario()) == [None] * 100


def test_a_slow_operator_does_not_stall_the_event_loop() -> None:
    """``runtime.operator_call`` runs the use case on the operator threads: while an operator takes its time, the
    loop goes on serving the other tabs. Positive control: the same call made on the loop stops everything."""
    import asyncio
    import time

    async def ticks_during(call: object) -> int:
        count = 0

        async def ticker() -> None:
            nonlocal count
            while True:
                await asyncio.sleep(0.01)
                count += 1

        task = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        await call()  # type: ignore[operator]
        task.cancel()
        return count

    async def off_the_loop() -> None:
        await runtime.operator_call(time.sleep, 0.3)

    async def on_the_loop() -> None:
        time.sleep(0.3)

    assert run_on_own_loop(ticks_during(off_the_loop)) >= 10
    assert run_on_own_loop(ticks_during(on_the_loop)) <= 1


OPERATOR_USE_CASES = {"start_request", "send_confirmation_code", "send_activation_code", "new_phone_operator_check",
                      "advisor_change", "check_callback", "guard_change", "guard_activation", "guard_recycling"}
"""The use cases that may ask the mobile operator (an HTTP call): never called on the event loop."""


def test_every_handler_that_may_ask_the_operator_awaits_it_off_the_loop() -> None:
    """No state calls a use case that asks the operator directly (it hands it to ``runtime.operator_call``), and the
    J4 landing leaves its operator check to ``check_new_phone``."""
    import ast
    from pathlib import Path

    import secure_phone.ui.states as states

    direct, landing = [], []
    for path in sorted(Path(states.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            if node.func.attr in OPERATOR_USE_CASES:
                direct.append(f"{path.name}:{node.lineno} {node.func.attr}")
            if node.func.attr == "on_new_phone":
                landing.append(any(k.arg == "ask_operator" and isinstance(k.value, ast.Constant)
                                   and k.value.value is False for k in node.keywords))
    assert direct == []
    assert landing and all(landing)


def test_the_disk_state_store_is_scanned_at_most_once_a_minute(monkeypatch: pytest.MonkeyPatch,
                                                                 tmp_path: Path) -> None:
    """Issue 13: Reflex's disk state manager scanned every state file after nearly every event; the app has it
    remove the expired ones (older than the token expiration) at most once a minute — and still remove them."""
    import os

    from reflex.istate.manager.disk import StateManagerDisk

    installed = StateManagerDisk.__dict__["_purge_expired_states"]
    original = getattr(installed, "__wrapped__", installed)  # the app, imported by the browser tests, wrapped it
    monkeypatch.setattr(StateManagerDisk, "_purge_expired_states", original)  # restored after the test
    clock = [1000.0]
    monkeypatch.setattr(runtime.time, "monotonic", lambda: clock[0])
    runtime.throttle_disk_state_purge()
    runtime.throttle_disk_state_purge()  # twice: wrapped once
    assert getattr(StateManagerDisk._purge_expired_states, "__wrapped__", None) is original

    manager = object.__new__(StateManagerDisk)
    manager.__dict__["states_directory"] = tmp_path
    manager.token_expiration = 3600

    def expired(name: str) -> Path:
        path = tmp_path / f"{name}.pkl"
        path.write_bytes(b"state")
        os.utime(path, (0, 0))  # last written in 1970: long expired
        return path

    first, fresh = expired("first"), tmp_path / "fresh.pkl"
    fresh.write_bytes(b"state")
    manager._purge_expired_states()
    assert not first.exists() and fresh.exists()
    second = expired("second")
    clock[0] += 59
    manager._purge_expired_states()  # within the minute: no scan
    assert second.exists()
    clock[0] += 2
    manager._purge_expired_states()
    assert not second.exists() and fresh.exists()


def _minor_faults() -> int:
    """This thread's minor page faults so far (/proc: field 10 of its stat line)."""
    stat = Path(f"/proc/self/task/{threading.get_native_id()}/stat").read_text()
    return int(stat[stat.rindex(")") + 2:].split()[7])


def test_the_password_threads_start_warm_and_reuse_argon2s_memory() -> None:
    """Each login thread is started (and argon2's 19 MiB allocated) at start; a login then reuses that memory
    instead of mapping and zeroing it again: 4,864 page faults, 12 ms of system CPU per login when it did."""
    names = [f.result(timeout=30) for f in runtime.warm_password_threads()]
    assert len(set(names)) == runtime._PASSWORD_THREADS
    assert all(name.startswith("password-check") for name in names)

    def one_login() -> int:
        before = _minor_faults()
        auth.warm_up()
        return _minor_faults() - before

    faults = [runtime._PASSWORD_POOL.submit(one_login).result(timeout=30) for _ in range(6)]
    assert max(faults) < 500, faults
