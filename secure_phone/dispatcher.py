"""The notification dispatcher as its own process (scale-out mode, PRODUCT.md §11).

    python -m secure_phone.dispatcher [--poll-interval SECONDS]

Delivers the outbox of the app's database (``REFLEX_DB_URL``) through the gateways of the mode (emails over
SMTP to ``SECURE_PHONE_SMTP_URL``, or in demo mode to the local SMTP receiver this process starts, which files
them into the demo inboxes; SMS into the demo inboxes with ``SECURE_PHONE_DEMO=1``, a log-only stand-in for the
operator otherwise; faults by ``SMS_GATEWAY_FAIL_RATE`` / ``EMAIL_GATEWAY_FAIL_RATE``) until SIGTERM or
SIGINT, then finishes the pass in progress and exits. Several may run at once. It opens the sealed bodies of
the messages that carry a code with a key derived from the server secret, so it needs the app's ``SECURE_PHONE_SECRET``
(or ``SECURE_PHONE_SECRET_FILE``). One log line per delivery, with the outbox key and a masked
recipient — never the body, the full number or the database URL. It also finishes the changes still
waiting for MySys, and signs a checkpoint of the audit trail every minute.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import AsyncIterator, Sequence

from secure_phone.adapters import db, smtp
from secure_phone.adapters.notifications import Dispatcher, listen_for_outbox
from secure_phone.services import demo_inbox, events
from secure_phone.services.unit_of_work import UnitOfWork
from secure_phone.settings import ConfigurationError, check_startup, external_dispatcher

logger = logging.getLogger(__name__)
REPAIR_INTERVAL = 2.0
CHECKPOINT_INTERVAL = 60.0


class Waker:
    """Wakes a loop of :func:`repair_changes` from any thread (an in-process announcement, a NOTIFY heard by the
    listener's thread); nothing happens while no loop runs."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self.event: asyncio.Event | None = None

    def start(self) -> asyncio.Event:
        self._loop, self.event = asyncio.get_running_loop(), asyncio.Event()
        return self.event

    def wake(self) -> None:
        loop, event = self._loop, self.event
        if loop is not None and event is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(event.set)


async def repair_changes(stop: asyncio.Event, url: str | None = None, interval: float = REPAIR_INTERVAL,
                         idle_interval: float | None = None, waker: Waker | None = None) -> None:
    """Finish approved changes still waiting for MySys (MySys down or slow, or a crash between
    the approval and the completion): MySys is idempotent on the request id, so retrying is safe.

    A pass every ``interval`` while some wait. With ``waker`` (every change left waiting wakes it: in-process,
    or through PostgreSQL's NOTIFY), once none waits it does not poll: it naps ``idle_interval`` at most (the
    safety net; a crashed process's changes are taken by the first pass of the next), until woken — then
    retries after ``interval``, the same spacing as while some wait."""
    from secure_phone.services.change import retry_applying

    woken = waker.start() if waker is not None else None
    while not stop.is_set():
        if woken is not None:
            woken.clear()  # before the pass: a wake during it is not lost
        try:
            waiting = await asyncio.to_thread(retry_applying, UnitOfWork(url))
        except Exception as exc:  # database unreachable: log the type only, retry later
            logger.error("repair pass failed (%s); retrying", type(exc).__name__)
            waiting = 1
        if woken is not None and idle_interval is not None and not waiting:
            await _first(stop, woken, idle_interval)
            if stop.is_set() or not woken.is_set():
                continue  # the safety net's pass
        await _first(stop, None, interval)


async def _first(stop: asyncio.Event, other: asyncio.Event | None, timeout: float) -> None:
    """Until ``stop`` or ``other`` is set, ``timeout`` at most."""
    waiters = [asyncio.ensure_future(e.wait()) for e in (stop, other) if e is not None]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


async def write_checkpoints(stop: asyncio.Event, url: str | None = None, interval: float = CHECKPOINT_INTERVAL) -> None:
    """Sign a checkpoint of the audit trail every ``interval`` when entries were added since the last
    one, and a last one on the way out (``services.audit.checkpoint``: under the head row's lock, so
    that several dispatchers never interleave). A failure is logged by its type only and retried at
    the next pass."""
    from secure_phone.services.audit import checkpoint

    while True:
        try:
            await asyncio.to_thread(checkpoint, UnitOfWork(url), only_if_new=True)
        except Exception as exc:  # database or file unavailable: no data in the log, retry later
            logger.error("audit checkpoint failed (%s); retrying", type(exc).__name__)
        if stop.is_set():
            return
        try:
            await asyncio.wait_for(stop.wait(), interval)
        except TimeoutError:
            pass


IDLE_INTERVAL = 30.0
"""The outbox's safety-net pass while idle, when commits wake the dispatcher (it does not poll meanwhile)."""


async def run_background(stop: asyncio.Event, dispatcher: Dispatcher, poll_interval: float = 0.5,
                         idle_interval: float | None = None, waker: Waker | None = None) -> None:
    """Deliver notifications, repair pending changes and checkpoint the audit trail until ``stop`` is set.
    ``idle_interval`` (with ``waker`` for the repair): the commits wake them, they do not poll while idle."""
    await asyncio.gather(dispatcher.run_forever(stop, poll_interval=poll_interval, idle_interval=idle_interval),
                         repair_changes(stop, dispatcher.url, idle_interval=idle_interval, waker=waker),
                         write_checkpoints(stop, dispatcher.url))


def _waking(dispatcher: Dispatcher, waker: Waker) -> events.Subscriber:
    """A subscriber that wakes ``dispatcher`` whenever a committed change queued a notification, and the repair
    whenever one left a change waiting for MySys."""

    def wake(published: list[events.Event]) -> None:
        if any(isinstance(event, events.OutboxHasWork) for event in published):
            dispatcher.wake()
        if any(isinstance(event, events.ChangeWaiting) for event in published):
            waker.wake()

    return wake


@contextlib.asynccontextmanager
async def embedded() -> AsyncIterator[None]:
    """The app's lifespan task in the embedded mode: deliver notifications, repair changes and checkpoint the
    audit trail inside the backend — unless a separate dispatcher process does it (scale-out mode)."""
    if external_dispatcher():
        yield
        return
    stop = asyncio.Event()
    dispatcher = Dispatcher()  # in demo mode without SECURE_PHONE_SMTP_URL, starts the local SMTP receiver
    waker = Waker()
    wake = _waking(dispatcher, waker)
    events.subscribe(wake)
    # Every commit of this process that queues a message, or leaves a change for the repair, wakes it: no
    # polling while idle.
    task = asyncio.get_running_loop().create_task(
        run_background(stop, dispatcher, idle_interval=IDLE_INTERVAL, waker=waker))
    try:
        yield
    finally:
        stop.set()
        events.unsubscribe(wake)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 5)
        smtp.stop_local_receivers()


async def serve(dispatcher: Dispatcher, poll_interval: float) -> None:
    """Run the background work until the process receives SIGTERM or SIGINT.

    On PostgreSQL the dispatcher is woken by the commits that queue notifications (LISTEN/NOTIFY):
    it does not wait for its next poll, which remains as the safety net.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    url = db.default_url() if dispatcher.url is None else dispatcher.url
    waker = Waker()
    events.subscribe(_waking(dispatcher, waker))  # its own repairs queue notifications too
    events.relay_to_other_processes(url)  # what it changes, the app's workers show (scale-out)
    demo_inbox.announce_arrivals()  # and what it files into the demo inboxes (demo mode), the inbox pages
    listening = threading.Event()  # set = stop listening
    listener = None
    if url.startswith("postgresql"):
        def woken() -> None:  # one channel: a commit that queued a message or left a change for the repair
            dispatcher.wake()
            waker.wake()

        listener = loop.run_in_executor(None, listen_for_outbox, url, woken, listening)
    try:  # woken by PostgreSQL's NOTIFY: it does not poll while idle; on SQLite nothing can wake it
        await run_background(stop, dispatcher, poll_interval, IDLE_INTERVAL if listener is not None else None,
                             waker)
    finally:
        listening.set()
        if listener is not None:
            await listener
        smtp.stop_local_receivers()


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line, configure logging and serve."""
    parser = argparse.ArgumentParser(prog="python -m secure_phone.dispatcher", description=__doc__.split("\n")[0])
    parser.add_argument("--poll-interval", type=float, default=0.5, metavar="SECONDS",
                        help="pause between two passes when nothing is due (default: 0.5)")
    args = parser.parse_args(argv)
    if args.poll_interval <= 0:
        parser.error("--poll-interval must be positive")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        check_startup()  # the scale-out mode refuses to run without the shared server secret
    except ConfigurationError as error:
        parser.exit(2, f"{parser.prog}: {error}\n")
    try:
        dispatcher = Dispatcher()
    except ConfigurationError as error:  # e.g. SECURE_PHONE_SMTP_URL unusable, the receiver's port taken
        parser.exit(2, f"{parser.prog}: {error}\n")
    asyncio.run(serve(dispatcher, args.poll_interval))


if __name__ == "__main__":
    main()
