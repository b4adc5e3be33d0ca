"""A protocol-level Reflex client: socket.io over a raw websocket (asyncio + wsproto), no browser.

Frames, as the Reflex frontend sends them (see /work/shared/notes/reflex-floor.md):
connect  ``40/_event,{"event": <hydrate event>}``; event ``42/_event,["event", {name, payload, router_data}]``;
answers  ``42/_event,["event", {"delta": {...}, "events": [...], ...}]`` (no marker for the last update of an event).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Message, Ping, Request, TextMessage

ROOT = "reflex___state____state"
SUFFIX = "_rx_state_"


def HAS_EVENTS(update: dict) -> bool:
    return bool(update.get("events"))


def HAS_DELTA(update: dict) -> bool:
    return bool(update.get("delta"))


def HYDRATED(update: dict) -> bool:
    """The last update of hydrate_and_load: ``is_hydrated`` set back to true."""
    return (update.get("delta") or {}).get(ROOT, {}).get("is_hydrated" + SUFFIX) is True


class ProtocolError(RuntimeError):
    pass


class ReflexSocket:
    """One browser tab: its own token, its own state on the server, a merged view of the deltas."""

    def __init__(self, host: str, port: int, pathname: str) -> None:
        self.host, self.port, self.pathname = host, port, pathname
        self.token = str(uuid.uuid4())
        self.state: dict[str, dict[str, Any]] = {}
        self.bytes_in = 0
        self.hydrate_bytes = 0
        self._updates: asyncio.Queue[dict] = asyncio.Queue()
        self._changed = asyncio.Event()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._ws = WSConnection(ConnectionType.CLIENT)
        self._task: asyncio.Task | None = None
        self._open = asyncio.Event()
        self._buf: list[str] = []

    def router_data(self) -> dict:
        return {"pathname": self.pathname, "query": {}, "asPath": self.pathname}

    async def connect(self, timeout: float = 30.0) -> float:
        """Open the socket and hydrate; returns the seconds until the hydrate is over."""
        t0 = time.perf_counter()
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        target = f"/_event/?EIO=4&transport=websocket&token={self.token}"
        self._send_raw(self._ws.send(Request(host=f"{self.host}:{self.port}", target=target)))
        self._task = asyncio.create_task(self._read_loop())
        await asyncio.wait_for(self._open.wait(), timeout)
        auth = {"event": {"name": f"{ROOT}.hydrate_and_load", "payload": {}, "router_data": self.router_data()}}
        self._send_text("40/_event," + json.dumps(auth))
        await self._until(HYDRATED, timeout)
        self.hydrate_bytes = self.bytes_in
        return time.perf_counter() - t0

    async def event(self, name: str, payload: dict | None = None, timeout: float = 60.0,
                    done: Callable[[dict], bool] | None = None) -> float:
        """Send one event and wait for the update that ends it; returns the seconds it took.

        Reflex 0.10.1 marks no update as the last one of an event: ``done`` says which is. By default
        it is the first update carrying frontend events (every handler of the app ends by returning one,
        a focus script, a call_script or a redirect, and its delta is emitted before it).
        """
        while not self._updates.empty():  # leftovers (pushes already merged into self.state)
            self._updates.get_nowait()
        t0 = time.perf_counter()
        frame = ["event", {"name": name, "payload": payload or {}, "router_data": self.router_data()}]
        self._send_text("42/_event," + json.dumps(frame))
        try:
            await self._until(done or HAS_EVENTS, timeout)
        except (TimeoutError, ProtocolError) as error:
            raise ProtocolError(f"no answer to {name.rsplit('.', 1)[-1]} within {timeout:.0f}s") from error
        return time.perf_counter() - t0

    async def wait_for(self, predicate: Callable[[dict], bool], timeout: float = 60.0) -> float:
        """Wait until the merged state satisfies ``predicate`` (a pushed delta); returns seconds waited."""
        t0 = time.perf_counter()
        deadline = t0 + timeout
        while not predicate(self.state):
            self._changed.clear()
            left = deadline - time.perf_counter()
            if left <= 0:
                raise ProtocolError(f"timed out waiting on {self.pathname}: {json.dumps(self.flat())[:600]}")
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except TimeoutError:
                pass
        return time.perf_counter() - t0

    def flat(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for substate in self.state.values():
            out.update(substate)
        return out

    def var(self, state: str, name: str, default: Any = None) -> Any:
        """A var of one state (full name), as the last deltas left it."""
        return self.state.get(state, {}).get(name, default)

    async def close(self) -> None:
        try:
            if self._writer is not None:
                self._send_raw(self._ws.send(CloseConnection(code=1000)))
                self._writer.close()
        except Exception:
            pass
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except BaseException:
                pass

    # --- internals ----------------------------------------------------------------------

    async def _until(self, done: Callable[[dict], bool], timeout: float) -> None:
        deadline = time.perf_counter() + timeout
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise ProtocolError(f"no final update on {self.pathname}")
            update = await asyncio.wait_for(self._updates.get(), left)
            if done(update):
                return

    def _send_raw(self, data: bytes) -> None:
        assert self._writer is not None
        self._writer.write(data)

    def _send_text(self, text: str) -> None:
        self._send_raw(self._ws.send(Message(data=text)))

    def _merge(self, delta: dict) -> None:
        for state_name, values in delta.items():
            target = self.state.setdefault(state_name, {})
            for key, value in values.items():
                target[key[: -len(SUFFIX)] if key.endswith(SUFFIX) else key] = value
        self._changed.set()

    def _on_text(self, text: str) -> None:
        self.bytes_in += len(text.encode())
        if text == "2":  # engine.io ping
            self._send_text("3")
            return
        if text.startswith("0"):  # engine.io open
            return
        if text.startswith("42/_event,"):
            name, *args = json.loads(text[len("42/_event,"):])
            if name == "event" and args:
                update = args[0]
                if isinstance(update, dict):
                    self._merge(update.get("delta") or {})
                    self._updates.put_nowait(update)
            return
        if text.startswith("44/_event,"):
            raise ProtocolError(f"connect refused: {text[:300]}")

    async def _read_loop(self) -> None:
        assert self._reader is not None
        while True:
            data = await self._reader.read(65536)
            if not data:
                self._ws.receive_data(None)
                return
            self._ws.receive_data(data)
            for ev in self._ws.events():
                if isinstance(ev, AcceptConnection):
                    self._open.set()
                elif isinstance(ev, TextMessage):
                    self._buf.append(ev.data)
                    if ev.message_finished:
                        text, self._buf = "".join(self._buf), []
                        self._on_text(text)
                elif isinstance(ev, Ping):
                    self._send_raw(self._ws.send(ev.response()))
                elif isinstance(ev, CloseConnection):
                    return
            if self._writer is not None:
                await self._writer.drain()
