"""What the UI layer keeps outside Reflex's state: codes waiting for a signature, the inbox pages to push.

Neither is pickled to disk or Redis, and neither can be grown without bound by a client (PRODUCT.md §12.2:
no secret at rest in the state store; no long-running task started by an unauthenticated client).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from secure_phone.ui import runtime


def tab(sid: str) -> SimpleNamespace:
    return SimpleNamespace(router=SimpleNamespace(session=SimpleNamespace(session_id=sid)))


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

    assert asyncio.run(scenario()) == [None] * 100
