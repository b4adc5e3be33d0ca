"""What the UI layer needs from the running app: the clock, who is asking, live pushes, and the
in-process notification dispatcher of the embedded mode."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import logging
import os
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
