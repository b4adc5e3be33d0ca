"""A simulated mobile operator's network APIs (GSMA Open Gateway / CAMARA, PRODUCT.md §12.4).

A separate system, like the MySys simulator: its own table (``operator_line``: per number, the subscriber's name,
contract date, last SIM and device changes, call forwardings), its own transactions, and the official request
and response shapes of the CAMARA APIs, under the app's ``/api/operator/…`` (``secure_phone.api``):

=================================================================  =============================================
``POST sim-swap/v2/check`` ``{phoneNumber, maxAge}``                ``{swapped}``
``POST sim-swap/v2/retrieve-date`` ``{phoneNumber}``                ``{latestSimChange, monitoredPeriod?}``
``POST device-swap/v1/check`` / ``retrieve-date``                   ``{swapped}`` / ``{latestDeviceChange}``
``POST call-forwarding-signal/v0.3/unconditional-call-forwardings``  ``{active}``
``POST call-forwarding-signal/v0.3/call-forwardings``               ``["inactive"]``, ``["unconditional", …]``
``POST kyc-match/v0.3/match`` ``{phoneNumber, givenName, …}``       ``{givenNameMatch: "true"|"false"|…}``
``POST number-recycling/v0.2/check`` ``{phoneNumber, specifiedDate}``  ``{phoneNumChanged}``
=================================================================  =============================================

Errors are ``{status, code, message}`` (``INVALID_ARGUMENT``, ``UNAUTHENTICATED``, ``NOT_FOUND``, ``UNAVAILABLE``,
``TIMEOUT``); the ``x-correlator`` header is echoed. Calls need ``Authorization: Bearer <operator token>``
(``settings.operator_token``). A number the simulator has no line for is a line with nothing to report.

Faults by configuration (``SECURE_PHONE_OPERATOR_FAULTS="error=0.5,timeout=0.5,latency_ms=200,hold_ms=5000"``):
a share of calls answered ``503 UNAVAILABLE``, a share held for ``hold_ms`` (past any sane client timeout) then
answered ``504 TIMEOUT``, and a latency before every answer.

:class:`InProcessTransport` serves the same answers to an ``httpx.Client`` without a socket: the app's default
(its own simulator), and the tests'.
"""

from __future__ import annotations

import functools
import hmac
import json
import random
import re
import time
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlmodel import select

from secure_phone.adapters import db
from secure_phone.adapters.models import OperatorLine
from secure_phone.settings import operator_faults, operator_token

PHONE = re.compile(r"\+[1-9][0-9]{4,14}")
CORRELATOR = re.compile(r"[a-zA-Z0-9-]{0,55}")
FORWARDINGS = ("inactive", "unconditional", "conditional_busy", "conditional_not_reachable", "conditional_no_answer")
MONITORED_HOURS = 2400  # how far back the simulated operator keeps SIM and device changes (CAMARA's maxAge ceiling)


@dataclass(frozen=True)
class Faults:
    """Fault injection: shares of calls answered with an error or held past the timeout, and a latency."""

    error: float = 0.0
    timeout: float = 0.0
    latency_ms: int = 0
    hold_ms: int = 5000

    def __post_init__(self) -> None:
        for name in ("error", "timeout"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"SECURE_PHONE_OPERATOR_FAULTS: {name} must be between 0 and 1")
        if self.latency_ms < 0 or self.hold_ms < 0:
            raise ValueError("SECURE_PHONE_OPERATOR_FAULTS: latency_ms and hold_ms must not be negative")

    @classmethod
    def parse(cls, raw: str) -> Faults:
        """``"error=0.5,timeout=0.5,latency_ms=200"`` (empty: no fault); ValueError on anything else."""
        values: dict[str, Any] = {}
        for part in filter(None, (p.strip() for p in raw.split(","))):
            name, _, value = part.partition("=")
            name = name.strip()
            try:
                values[name] = float(value) if name in ("error", "timeout") else int(value)
            except ValueError:
                raise ValueError(f"SECURE_PHONE_OPERATOR_FAULTS: {part!r} is not name=number") from None
            if name not in ("error", "timeout", "latency_ms", "hold_ms"):
                raise ValueError(f"SECURE_PHONE_OPERATOR_FAULTS: unknown fault {name!r}")
        return cls(**values)


@dataclass(frozen=True)
class SimAnswer:
    """What the simulated operator answers: after ``delay_s``; or, ``times_out``, nothing in time."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    times_out: bool = False


class _Problem(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_body(status: int, code: str, message: str) -> dict[str, Any]:
    return {"status": status, "code": code, "message": message}


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _folded(name: str) -> str:
    """Names compared as a person would: case, accents, hyphens and spaces aside."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z]", "", plain)


class OperatorSimulator:
    """The simulated operator, on its own table. ``rng``, ``clock`` are injectable (tests decide the faults)."""

    def __init__(self, url: str | None = None, faults: Faults | None = None, rng: random.Random | None = None,
                 clock: Callable[[], datetime] = _utcnow, token: str | None = None) -> None:
        self._url = url
        self.faults = faults or Faults()
        self._rng = rng or random.Random()  # fault simulation, not cryptography
        self._clock = clock
        self._token = token

    # --- the API ----------------------------------------------------------------------------------

    def answer(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> SimAnswer:
        """The answer to one HTTP request (``path`` under ``/api/operator/``, headers lower-cased)."""
        correlator = headers.get("x-correlator", "")
        echo = {"x-correlator": correlator} if CORRELATOR.fullmatch(correlator) else {}
        delay = self.faults.latency_ms / 1000
        if not self._authorized(headers.get("authorization", "")):  # before any fault: a stranger is never held
            return SimAnswer(401, error_body(401, "UNAUTHENTICATED", "Request not authenticated due to missing, "
                                             "invalid, or expired credentials."), echo, 0.0)
        if self._rng.random() < self.faults.error:
            return SimAnswer(503, error_body(503, "UNAVAILABLE", "Service unavailable (injected fault)"), echo, delay)
        if self._rng.random() < self.faults.timeout:
            return SimAnswer(504, error_body(504, "TIMEOUT", "Request timeout exceeded (injected fault)"), echo,
                             delay + self.faults.hold_ms / 1000, times_out=True)
        try:
            route = ROUTES.get(path.strip("/"))
            if route is None:
                raise _Problem(404, "NOT_FOUND", "The specified resource is not found.")
            if method.upper() != "POST":
                raise _Problem(405, "METHOD_NOT_ALLOWED", "Only POST is served here.")
            try:
                payload = json.loads(body or b"{}")
            except ValueError:
                raise _Problem(400, "INVALID_ARGUMENT", "The request body is not JSON.") from None
            if not isinstance(payload, dict):
                raise _Problem(400, "INVALID_ARGUMENT", "The request body must be an object.")
            phone = payload.get("phoneNumber")
            if not isinstance(phone, str) or not PHONE.fullmatch(phone):
                raise _Problem(400, "INVALID_ARGUMENT", "phoneNumber must be in E.164 format.")
            return SimAnswer(200, route(self, phone, payload), echo, delay)
        except _Problem as problem:
            return SimAnswer(problem.status, error_body(problem.status, problem.code, problem.message), echo, delay)

    def _authorized(self, header: str) -> bool:
        scheme, _, token = header.partition(" ")
        expected = self._token if self._token is not None else operator_token()
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), expected.encode())

    def _line(self, phone: str) -> OperatorLine | None:
        with db.read_only(self._url) as session:  # a read: it must not queue for SQLite's write lock
            line = session.get(OperatorLine, phone)
            if line is not None:
                session.expunge(line)
            return line

    def _max_age(self, payload: Mapping[str, Any]) -> int:
        max_age = payload.get("maxAge", 240)
        if not isinstance(max_age, int) or isinstance(max_age, bool) or not 1 <= max_age <= MONITORED_HOURS:
            raise _Problem(400, "OUT_OF_RANGE", f"maxAge must be an integer between 1 and {MONITORED_HOURS}.")
        return max_age

    def _changed_within(self, changed_at: datetime | None, hours: int) -> bool:
        return changed_at is not None and self._clock() - changed_at <= timedelta(hours=hours)

    def _kept(self, changed_at: datetime | None) -> datetime | None:
        return changed_at if self._changed_within(changed_at, MONITORED_HOURS) else None

    def sim_swap_check(self, phone: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        line = self._line(phone)
        return {"swapped": self._changed_within(line.sim_changed_at if line else None, self._max_age(payload))}

    def sim_swap_date(self, phone: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        line = self._line(phone)
        changed = self._kept(line.sim_changed_at if line else None)
        return {"latestSimChange": _iso(changed)} if changed else {"latestSimChange": None,
                                                                   "monitoredPeriod": MONITORED_HOURS // 24}

    def device_swap_check(self, phone: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        line = self._line(phone)
        return {"swapped": self._changed_within(line.device_changed_at if line else None, self._max_age(payload))}

    def device_swap_date(self, phone: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        line = self._line(phone)
        changed = self._kept(line.device_changed_at if line else None)
        return {"latestDeviceChange": _iso(changed)} if changed else {"latestDeviceChange": None,
                                                                      "monitoredPeriod": MONITORED_HOURS // 24}

    def _forwardings(self, phone: str) -> list[str]:
        line = self._line(phone)
        states = [s for s in (line.forwarding if line else "inactive").split(",") if s in FORWARDINGS]
        return [s for s in states if s != "inactive"] or ["inactive"]

    def unconditional_forwarding(self, phone: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        return {"active": "unconditional" in self._forwardings(phone)}

    def call_forwardings(self, phone: str, payload: Mapping[str, Any]) -> list[str]:
        return self._forwardings(phone)

    def kyc_match(self, phone: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        line = self._line(phone)
        answer: dict[str, Any] = {}
        for field_name, held in (("givenName", line.given_name if line else None),
                                 ("familyName", line.family_name if line else None)):
            asked = payload.get(field_name)
            if not isinstance(asked, str) or not asked:
                continue
            if not held:
                answer[f"{field_name}Match"] = "not_available"
            elif _folded(asked) == _folded(held):
                answer[f"{field_name}Match"] = "true"
            else:
                answer[f"{field_name}Match"] = "false"
                answer[f"{field_name}MatchScore"] = 0
        return answer

    def number_recycling(self, phone: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        try:
            specified = date.fromisoformat(str(payload.get("specifiedDate", "")))
        except ValueError:
            raise _Problem(400, "INVALID_ARGUMENT", "specifiedDate must be a date (YYYY-MM-DD).") from None
        line = self._line(phone)
        since = line.subscribed_since if line else None
        return {"phoneNumChanged": since is not None and since > specified}

    # --- the operator's own administration (the seed, the demo control, tests) ------------------------

    def set_line(self, phone: str, *, given_name: str | None = None, family_name: str | None = None,
                 subscribed_since: date | None = None, sim_changed_at: datetime | None = None,
                 device_changed_at: datetime | None = None, forwarding: str | None = None,
                 only_if_new: bool = False) -> None:
        """Create or update a line; None leaves a value as it is. ``only_if_new``: an existing line is kept as
        it is (the seed, run again, changes nothing a demo did)."""
        with db.transaction(self._url) as session:
            line = session.exec(select(OperatorLine).where(OperatorLine.phone_e164 == phone).with_for_update()).first()
            if line is not None and only_if_new:
                return
            line = line or OperatorLine(phone_e164=phone, updated_at=self._clock())
            for name, value in (("given_name", given_name), ("family_name", family_name),
                                ("subscribed_since", subscribed_since), ("sim_changed_at", sim_changed_at),
                                ("device_changed_at", device_changed_at), ("forwarding", forwarding)):
                if value is not None:
                    setattr(line, name, value)
            line.updated_at = self._clock()
            session.add(line)

    def swap_sim(self, phone: str, at: datetime | None = None) -> None:
        """A new SIM for this number (and so a new device as the network sees it)."""
        moment = at or self._clock()
        self.set_line(phone, sim_changed_at=moment, device_changed_at=moment)

    def forward_calls(self, phone: str, active: bool = True) -> None:
        """Turn the unconditional call forwarding of this number on or off."""
        self.set_line(phone, forwarding="unconditional" if active else "inactive")

    def recycle(self, phone: str, since: date | None = None) -> None:
        """The number now belongs to a new subscriber, since ``since`` (default today)."""
        self.set_line(phone, subscribed_since=since or self._clock().date())


ROUTES: dict[str, Callable[[OperatorSimulator, str, Mapping[str, Any]], Any]] = {
    "sim-swap/v2/check": OperatorSimulator.sim_swap_check,
    "sim-swap/v2/retrieve-date": OperatorSimulator.sim_swap_date,
    "device-swap/v1/check": OperatorSimulator.device_swap_check,
    "device-swap/v1/retrieve-date": OperatorSimulator.device_swap_date,
    "call-forwarding-signal/v0.3/unconditional-call-forwardings": OperatorSimulator.unconditional_forwarding,
    "call-forwarding-signal/v0.3/call-forwardings": OperatorSimulator.call_forwardings,
    "kyc-match/v0.3/match": OperatorSimulator.kyc_match,
    "number-recycling/v0.2/check": OperatorSimulator.number_recycling,
}
"""The API paths served, under the operator's API root."""


class InProcessTransport(httpx.BaseTransport):
    """An ``httpx`` transport that asks the simulator directly, without a socket. A held answer raises
    ``httpx.ReadTimeout`` after the client's read timeout, as a real one would; ``sleep`` is injectable."""

    def __init__(self, simulator: OperatorSimulator, prefix: str = "/api/operator",
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.simulator = simulator
        self._prefix = prefix.rstrip("/")
        self._sleep = sleep

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        path = path[len(self._prefix):] if path.startswith(self._prefix) else path
        headers = {k.lower(): v for k, v in request.headers.items()}
        answer = self.simulator.answer(request.method, path, headers, request.read())
        timeout = (request.extensions.get("timeout") or {}).get("read")
        if answer.times_out and timeout is not None and answer.delay_s >= timeout:
            self._sleep(timeout)
            raise httpx.ReadTimeout("the operator did not answer in time", request=request)
        if answer.delay_s:
            self._sleep(answer.delay_s)
        return httpx.Response(answer.status, json=answer.body, headers=answer.headers, request=request)


@functools.cache
def get_simulator(url: str | None = None) -> OperatorSimulator:
    """The process's simulated operator (on the app's database, or ``url``'s), faults from the environment."""
    return OperatorSimulator(url, faults=Faults.parse(operator_faults()))
