"""What the UI layer needs from the running app: the unit of work of an event, who is asking, the password
checks' threads, codes waiting for a signature, and the live refresh of the open tabs.

**Live refresh.** The services announce what changed (:mod:`secure_phone.services.events`); :func:`install`,
called once by the app, subscribes one listener that refreshes every open tab of the customer concerned
(their web and app tabs, the advisors' sheets) — whatever wrote: a handler, the dispatcher's repair loop, or,
in the scale-out mode, the separate dispatcher (relayed through PostgreSQL). The tab whose event caused the
change is skipped: it already shows it, and its state is locked by the running handler.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import functools
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import reflex as rx

from secure_phone.services import auth, demo_inbox, events, live
from secure_phone.services.audit import Actor
from secure_phone.services.unit_of_work import UnitOfWork
from secure_phone.settings import demo_mode

if TYPE_CHECKING:
    from reflex.state import BaseState

P = ParamSpec("P")
R = TypeVar("R")
log = logging.getLogger(__name__)
_PUSHABLE: dict[str, type[BaseState]] = {}
_AUDIT_FOLLOWERS: set[str] = set()
_BACKGROUND: set[asyncio.Task] = set()
_APP: list[rx.App] = []
_LOOP: list[asyncio.AbstractEventLoop] = []
_CURRENT_TOKEN: contextvars.ContextVar[str | None] = contextvars.ContextVar("secure_phone_tab", default=None)


def now() -> datetime:
    return datetime.now(UTC)


def uow() -> UnitOfWork:
    """The unit of work of one event: the app's database and MySys, the current time, the policy."""
    return UnitOfWork(clock=now)


def actor(state: BaseState, kind: str, principal_id: object | None, channel: str) -> Actor:
    """The audit actor of an event: who, on which channel, from which address and browser."""
    return Actor(
        kind=kind,
        id=None if principal_id is None else str(principal_id),
        channel=channel,
        ip=state.router.session.client_ip or None,
        user_agent=state.router.headers.user_agent or None,
    )


@contextlib.contextmanager
def acting(state: BaseState) -> Iterator[None]:
    """While a handler of this tab runs: the refresh its changes cause skips this tab."""
    token = _CURRENT_TOKEN.set(state.router.session.client_token or None)
    try:
        yield
    finally:
        _CURRENT_TOKEN.reset(token)


# Password checks (argon2, slow on purpose) run on threads of their own, at most two: a burst of logins
# queues here instead of taking every core from the event loop. Each thread keeps argon2's 19 MiB block in
# its malloc arena and reuses it at every login (warm_password_threads makes both at start, so that the
# memory is the process's from the beginning and not a cost of the first customers).
_PASSWORD_THREADS = max(1, min(2, os.cpu_count() or 1))
_PASSWORD_POOL = concurrent.futures.ThreadPoolExecutor(
    max_workers=_PASSWORD_THREADS, thread_name_prefix="password-check"
)


def warm_password_threads() -> list[concurrent.futures.Future[str]]:
    """Start every password thread now, each verifying a throwaway hash once (its arena then holds argon2's
    block); each task's result is its thread's name. They meet at a barrier, so each runs on a thread of its
    own."""
    barrier = threading.Barrier(_PASSWORD_THREADS)

    def warm() -> str:
        auth.warm_up()
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=10)
        return threading.current_thread().name

    return [_PASSWORD_POOL.submit(warm) for _ in range(_PASSWORD_THREADS)]


async def password_check(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run a login service call (which verifies a password) off the event loop."""
    context = contextvars.copy_context()
    call = functools.partial(context.run, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_PASSWORD_POOL, call)


# Operator calls (HTTP to the mobile operator: up to its timeout × its retries per question) run on threads of
# their own too: a slow or failing operator must not stall the event loop — every other tab of the worker — nor
# take the default executor the live refresh uses. A burst queues here.
_OPERATOR_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="operator-call")


async def operator_call(fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    """Run a service call that may ask the mobile operator (``services.operator``) off the event loop."""
    context = contextvars.copy_context()
    call = functools.partial(context.run, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_OPERATOR_POOL, call)


# --- secrets between an event and its browser round trip ---------------------------------------------
#
# A Sécur'Pass code (or an SMS code) typed on the phone must wait, on the server, for the signature the
# browser makes next (``rx.call_script`` → callback). Reflex state is pickled to disk or Redis, so the code
# waits here instead: in this process's memory only, keyed by the websocket that sent it (the callback
# comes back on the same socket, hence to the same worker), for a few seconds, taken once.

_HELD: dict[str, tuple[float, object]] = {}
HOLD_SECONDS = 60.0


def hold(state: BaseState, purpose: str, value: object) -> None:
    """Keep ``value`` for the next :func:`take` of ``purpose`` on this socket (never in Reflex state)."""
    moment = time.monotonic()
    for stale in [k for k, (at, _) in _HELD.items() if moment - at > HOLD_SECONDS]:
        _HELD.pop(stale, None)
    _HELD[f"{state.router.session.session_id}:{purpose}"] = (moment, value)


def take(state: BaseState, purpose: str) -> object | None:
    """What :func:`hold` kept for ``purpose`` on this socket, once; None when nothing (or too old)."""
    held = _HELD.pop(f"{state.router.session.session_id}:{purpose}", None)
    if held is None or time.monotonic() - held[0] > HOLD_SECONDS:
        return None
    return held[1]


# --- live refresh of the open tabs --------------------------------------------------------------------


def pushable(cls: type[BaseState]) -> type[BaseState]:
    """Class decorator: the state can be refreshed from another client's event (``_on_push``)."""
    _PUSHABLE[cls.get_full_name()] = cls
    return cls


def _spawn(coro: Any) -> None:
    task = asyncio.get_running_loop().create_task(coro)
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)


async def _refresh(token: str, cls: type[BaseState]) -> None:
    async with _APP[0].modify_state(rx.BaseStateToken(ident=token, cls=cls)) as root:
        target = await root.get_state(cls)
        await asyncio.to_thread(target._on_push)  # type: ignore[attr-defined]


def follows_audit(cls: type[BaseState]) -> type[BaseState]:
    """Class decorator: the (pushable) state is refreshed on every audit entry of its customer too, not only
    when their screens change (the demo's « behind the scenes » pane)."""
    _AUDIT_FOLLOWERS.add(cls.get_full_name())
    return pushable(cls)


async def _push(customer_id: int, skip_token: str | None, only: set[str] | None = None) -> None:
    for token, state_name in await asyncio.to_thread(live.subscribers, uow(), customer_id):
        cls = _PUSHABLE.get(state_name)
        if cls is None or token == skip_token or (only is not None and state_name not in only):
            continue
        try:
            await _refresh(token, cls)
        except Exception:  # noqa: BLE001  (one closed or broken tab must not stop the others)
            log.exception("live push failed")


def _on_events(published: list[events.Event]) -> None:
    """The services' announcements, from any thread: refresh the customers' tabs (and the demo inboxes) on
    the app's loop."""
    if not _LOOP or not _APP:
        return
    skip = _CURRENT_TOKEN.get()
    changed = {e.customer_id for e in published if isinstance(e, events.CustomerChanged)}
    for customer_id in changed:
        _LOOP[0].call_soon_threadsafe(_spawn, _push(customer_id, skip))
    if _AUDIT_FOLLOWERS and demo_mode():  # the demo's « behind the scenes » pane: demo mode only
        for customer_id in {e.customer_id for e in published if isinstance(e, events.AuditRecorded)} - changed:
            _LOOP[0].call_soon_threadsafe(_spawn, _push(customer_id, None, set(_AUDIT_FOLLOWERS)))
    if any(isinstance(e, events.InboxChanged) for e in published):
        _LOOP[0].call_soon_threadsafe(_spawn, _refresh_inboxes())


def _on_relayed(customer_id: int) -> None:
    if _LOOP:
        _LOOP[0].call_soon_threadsafe(_spawn, _push(customer_id, None))


def _on_relayed_inbox() -> None:
    if _LOOP:
        _LOOP[0].call_soon_threadsafe(_spawn, _refresh_inboxes())


STATE_PURGE_EVERY_SECONDS = 60.0


def throttle_disk_state_purge() -> None:
    """Reflex's disk state manager (the embedded default) lists and stats every pickled state file — one per
    substate of every tab of the last hour — after each pass of its write queue, i.e. after nearly every event:
    O(files) per event. With a few hundred tabs that scan took 60 % of the backend's CPU in the benchmark's
    capacity probes (docs/benchmarks.md). It removes files older than the token expiration (an hour): once a
    minute is as good, and this process scans at most that often."""
    from reflex.istate.manager.disk import StateManagerDisk

    original = StateManagerDisk._purge_expired_states
    if getattr(original, "throttled", False):
        return
    last: list[float] = []
    guard = threading.Lock()

    @functools.wraps(original)
    def purge(self: StateManagerDisk) -> None:
        moment = time.monotonic()
        with guard:
            if last and moment - last[0] < STATE_PURGE_EVERY_SECONDS:
                return
            last[:] = [moment]
        original(self)

    purge.throttled = True  # type: ignore[attr-defined]
    StateManagerDisk._purge_expired_states = purge  # type: ignore[method-assign]


def install(app: rx.App, database_url: str) -> None:
    """Once, by the app: refresh the open tabs on every announcement of the services (and, in the scale-out
    mode, on those the separate dispatcher relays through ``database_url``), the demo inboxes included; the disk
    state manager's scan of its files at most once a minute."""
    throttle_disk_state_purge()
    _APP[:] = [app]
    demo_inbox.announce_arrivals()  # what the embedded dispatcher files into the demo inboxes is announced

    @contextlib.asynccontextmanager
    async def live_refresh() -> AsyncIterator[None]:
        warm_password_threads()
        _LOOP[:] = [asyncio.get_running_loop()]
        events.subscribe(_on_events)
        stop = threading.Event()
        listener = threading.Thread(target=events.listen_to_other_processes,
                                    args=(database_url, _on_relayed, stop, _on_relayed_inbox),
                                    name="customer-relay", daemon=True)
        listener.start()
        try:
            yield
        finally:
            stop.set()
            events.unsubscribe(_on_events)
            _LOOP.clear()

    app.register_lifespan_task(live_refresh)


# --- « is my bank calling me? »: one watcher per session ------------------------------------------------
#
# ``watch_call`` (ui/states/calls.py) is a background task that sleeps until the call shown ends by itself. A
# client can send its event as often as it likes: the first claims its login session's watcher here (in this
# process's memory, where the tasks are), every other returns at once.

_CALL_WATCHERS: set[str] = set()


def claim_call_watch(session_id: str) -> bool:
    """True for the first watcher of ``session_id`` (it must :func:`release_call_watch`); False while one runs."""
    if not session_id or session_id in _CALL_WATCHERS:
        return False
    _CALL_WATCHERS.add(session_id)
    return True


def release_call_watch(session_id: str) -> None:
    _CALL_WATCHERS.discard(session_id)


# --- the demo inboxes, pushed ----------------------------------------------------------------------
#
# ``/demo/messages`` pages register their tab here (at most MAX_INBOX_TABS per process: a client opening
# thousands cannot make the work of a push grow). A message filed into a demo inbox is announced
# (``events.InboxChanged``: by the embedded dispatcher in this process, or relayed from the separate
# dispatcher through PostgreSQL) and the registered tabs are refreshed then — nobody polls, and no page can
# start a task of its own.

_INBOX_TABS: dict[str, None] = {}
MAX_INBOX_TABS = 50
_INBOX_STATE: list[type[BaseState]] = []


def inbox_state(cls: type[BaseState]) -> type[BaseState]:
    """Class decorator: the state of the inbox page (refreshed by ``_on_push``)."""
    _INBOX_STATE[:] = [cls]
    return cls


def watch_inbox(token: str) -> None:
    _INBOX_TABS.pop(token, None)
    _INBOX_TABS[token] = None
    while len(_INBOX_TABS) > MAX_INBOX_TABS:
        _INBOX_TABS.pop(next(iter(_INBOX_TABS)))


def unwatch_inbox(token: str) -> None:
    _INBOX_TABS.pop(token, None)


async def _refresh_inboxes() -> None:
    if not _INBOX_STATE:
        return
    cls = _INBOX_STATE[0]
    for token in list(_INBOX_TABS):
        try:
            await _refresh(token, cls)
        except Exception:  # noqa: BLE001  (a closed tab: forget it)
            unwatch_inbox(token)
