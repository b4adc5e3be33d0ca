"""What the UI layer needs from the running app: the clock, who is asking, live pushes, and the
in-process notification dispatcher of the embedded mode."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import logging
import os
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import reflex as rx

from secure_phone.services import live
from secure_phone.services.audit import Actor

if TYPE_CHECKING:
    from reflex.state import BaseState

log = logging.getLogger(__name__)
_PUSHABLE: dict[str, type["BaseState"]] = {}
_BACKGROUND: set[asyncio.Task] = set()


def now() -> datetime:
    return datetime.now(timezone.utc)


def actor(state: "BaseState", kind: str, principal_id: object | None, channel: str) -> Actor:
    """The audit actor of an event: who, on which channel, from which address and browser."""
    return Actor(
        kind=kind,
        id=None if principal_id is None else str(principal_id),
        channel=channel,
        ip=state.router.session.client_ip or None,
        user_agent=state.router.headers.user_agent or None,
    )


# Password checks (argon2, slow on purpose) run on threads of their own, at most two: a burst of logins
# queues here instead of taking every core from the event loop. (scripts/serve has glibc give argon2's
# 19 MiB back after each check instead of keeping it in each thread's arena.)
_PASSWORD_POOL = concurrent.futures.ThreadPoolExecutor(
    max_workers=max(1, min(2, os.cpu_count() or 1)), thread_name_prefix="password-check"
)


async def password_check(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    """Run a login service call (which verifies a password) off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(_PASSWORD_POOL, functools.partial(fn, *args, **kwargs))


# --- secrets between an event and its browser round trip ---------------------------------------------
#
# A Sécur'Pass code (or an SMS code) typed on the phone must wait, on the server, for the signature the
# browser makes next (``rx.call_script`` → callback). Reflex state is pickled to disk or Redis, so the code
# waits here instead: in this process's memory only, keyed by the websocket that sent it (the callback
# comes back on the same socket, hence to the same worker), for a few seconds, taken once.

_HELD: dict[str, tuple[float, object]] = {}
HOLD_SECONDS = 60.0


def hold(state: "BaseState", purpose: str, value: object) -> None:
    """Keep ``value`` for the next :func:`take` of ``purpose`` on this socket (never in Reflex state)."""
    moment = time.monotonic()
    for stale in [k for k, (at, _) in _HELD.items() if moment - at > HOLD_SECONDS]:
        _HELD.pop(stale, None)
    _HELD[f"{state.router.session.session_id}:{purpose}"] = (moment, value)


def take(state: "BaseState", purpose: str) -> object | None:
    """What :func:`hold` kept for ``purpose`` on this socket, once; None when nothing (or too old)."""
    held = _HELD.pop(f"{state.router.session.session_id}:{purpose}", None)
    if held is None or time.monotonic() - held[0] > HOLD_SECONDS:
        return None
    return held[1]


def pushable(cls: type["BaseState"]) -> type["BaseState"]:
    """Class decorator: the state can be refreshed from another client's event (``_on_push``)."""
    _PUSHABLE[cls.get_full_name()] = cls
    return cls


def _spawn(coro) -> None:  # type: ignore[no-untyped-def]
    task = asyncio.get_running_loop().create_task(coro)
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)


async def _push(customer_id: int, skip_token: str | None) -> None:
    from secure_phone.secure_phone import app

    for token, state_name in await asyncio.to_thread(live.subscribers, customer_id):
        cls = _PUSHABLE.get(state_name)
        if cls is None or token == skip_token:
            continue
        try:
            async with app.modify_state(rx.BaseStateToken(ident=token, cls=cls)) as root:
                target = await root.get_state(cls)
                await asyncio.to_thread(target._on_push)  # type: ignore[attr-defined]
        except Exception:  # one closed or broken tab must not stop the others
            log.exception("live push failed")


def push_customer(customer_id: int | None, skip_token: str | None = None) -> None:
    """Refresh every subscribed tab of the customer, without holding up the current handler.

    The current tab is skipped (``skip_token``): it already has fresh data, and its state lock
    is held by the running handler.
    """
    if customer_id is not None:
        _spawn(_push(customer_id, skip_token))


# --- the demo inboxes, pushed ----------------------------------------------------------------------
#
# ``/demo/messages`` pages register their tab here (at most MAX_INBOX_TABS per process: a client opening
# thousands cannot make the watcher's work grow); one watcher per process, started with the app in demo
# mode, looks for new messages once a second (one cheap query, whatever the number of pages) and refreshes
# the registered tabs. No page can start a task of its own.

_INBOX_TABS: dict[str, None] = {}
MAX_INBOX_TABS = 50
INBOX_POLL_SECONDS = 1.0
_INBOX_STATE: list[type["BaseState"]] = []


def inbox_state(cls: type["BaseState"]) -> type["BaseState"]:
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
    from secure_phone.secure_phone import app

    cls = _INBOX_STATE[0]
    for token in list(_INBOX_TABS):
        try:
            async with app.modify_state(rx.BaseStateToken(ident=token, cls=cls)) as root:
                target = await root.get_state(cls)
                await asyncio.to_thread(target._on_push)  # type: ignore[attr-defined]
        except Exception:  # a closed tab: forget it
            unwatch_inbox(token)


@contextlib.asynccontextmanager
async def inbox_watcher():  # type: ignore[no-untyped-def]
    """Lifespan task (demo mode only): refresh the open inbox pages when a message arrives."""
    from secure_phone.services import demo_inbox
    from secure_phone.settings import demo_mode

    if not demo_mode() or not _INBOX_STATE:
        yield
        return

    async def watch() -> None:
        seen = None
        while True:
            try:
                latest = await asyncio.to_thread(demo_inbox.latest)
                if seen is not None and latest != seen and _INBOX_TABS:
                    await _refresh_inboxes()
                seen = latest
            except Exception:  # database unreachable for a moment: try again
                log.warning("inbox watcher pass failed", exc_info=False)
            await asyncio.sleep(INBOX_POLL_SECONDS)

    task = asyncio.get_running_loop().create_task(watch())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task


# --- embedded-mode dispatcher -------------------------------------------------------------

_dispatcher = None


def wake_dispatcher() -> None:
    if _dispatcher is not None:
        _dispatcher.wake()


@contextlib.asynccontextmanager
async def embedded_dispatcher():  # type: ignore[no-untyped-def]
    """Lifespan task: deliver notifications and finish approved changes inside the backend,
    unless a separate dispatcher process does it (scale-out mode)."""
    global _dispatcher
    from secure_phone.settings import external_dispatcher

    if external_dispatcher():
        yield
        return
    from secure_phone.adapters.notifications import Dispatcher
    from secure_phone.dispatcher import run_background

    stop = asyncio.Event()
    _dispatcher = Dispatcher()
    task = asyncio.get_running_loop().create_task(run_background(stop, _dispatcher))
    try:
        yield
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 5)
        _dispatcher = None
