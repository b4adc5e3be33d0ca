"""The mobile operator's network APIs (GSMA Open Gateway / CAMARA, PRODUCT.md §12.4), over HTTP.

One client for every API the bank asks (SIM Swap, Device Swap, Call Forwarding Signal, KYC Match, Number
Recycling), with the CAMARA request shapes, a bearer credential, an ``x-correlator`` per call (the same on its
retries, checked on the echo), a timeout and retries with exponential backoff on what may pass (a timeout, a
network error, 429, 5xx). A call never raises: it returns a :class:`Call` holding the answer or the error, its
latency and its attempts, which the services store and audit.

Configuration (``secure_phone.settings``): ``SECURE_PHONE_OPERATOR_URL`` — a real operator's API root (https, with
an explicit token: ``settings.check_operator``) replaces the simulator by configuration only; unset, in demo mode
the app's own simulated operator (``/api/operator``, :mod:`secure_phone.adapters.operator_sim`), reached
in-process, and outside demo mode :class:`UnconfiguredOperator`, whose every answer is missing (never « nothing
to report »: the policy's no-answer rule applies). ``SECURE_PHONE_OPERATOR_TOKEN``,
``SECURE_PHONE_OPERATOR_NAME``, ``SECURE_PHONE_OPERATOR_TIMEOUT_MS``, ``SECURE_PHONE_OPERATOR_RETRIES``.
"""

from __future__ import annotations

import functools
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

import httpx

from secure_phone.adapters.operator_sim import InProcessTransport, get_simulator
from secure_phone.settings import (
    check_operator,
    demo_mode,
    operator_name,
    operator_retries,
    operator_timeout,
    operator_token,
    operator_url,
)

SIM_SWAP_DATE = "sim-swap/v2/retrieve-date"
SIM_SWAP_CHECK = "sim-swap/v2/check"
DEVICE_SWAP_DATE = "device-swap/v1/retrieve-date"
UNCONDITIONAL_FORWARDING = "call-forwarding-signal/v0.3/unconditional-call-forwardings"
KYC_MATCH = "kyc-match/v0.3/match"
NUMBER_RECYCLING = "number-recycling/v0.2/check"
RETRYABLE = frozenset({429, 500, 502, 503, 504})
SIMULATED_ROOT = "http://localhost/api/operator"


@dataclass(frozen=True)
class Call:
    """One call to the operator: its answer (``body``, when ``ok``) or its ``error`` (the CAMARA code, or
    ``timeout`` / ``unreachable`` / ``bad_answer``), with what the audit needs."""

    operator: str
    api: str
    correlator: str
    at: datetime
    latency_ms: int
    attempts: int
    status: int | None = None
    body: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status == 200

    @property
    def result(self) -> str | None:
        return None if self.body is None else json.dumps(self.body, sort_keys=True, separators=(",", ":"))


class Operator(Protocol):
    """What the bank asks of the mobile operator (each method is one CAMARA call)."""

    name: str

    def sim_swap_date(self, phone: str) -> Call: ...
    def sim_swap_check(self, phone: str, max_age_hours: int) -> Call: ...
    def device_swap_date(self, phone: str) -> Call: ...
    def unconditional_forwarding(self, phone: str) -> Call: ...
    def kyc_match(self, phone: str, given_name: str, family_name: str) -> Call: ...
    def number_recycled(self, phone: str, since: date) -> Call: ...


def _error_code(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"http_{response.status_code}"
    code = body.get("code") if isinstance(body, dict) else None
    return str(code)[:40] if code else f"http_{response.status_code}"


class OperatorClient:
    """The HTTP client of the operator's API (see the module's documentation). ``transport`` and ``sleep`` are
    injectable: the simulator in-process, tests that never really wait."""

    def __init__(self, base_url: str, token: str, *, name: str, timeout_s: float = 1.5, retries: int = 2,
                 backoff_s: float = 0.1, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.name = name
        self.retries = retries
        self.backoff_s = backoff_s
        self._sleep = sleep
        self._client = httpx.Client(base_url=base_url.rstrip("/") + "/", transport=transport,
                                    timeout=httpx.Timeout(timeout_s),
                                    headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})

    def close(self) -> None:
        self._client.close()

    def post(self, api: str, body: dict[str, Any]) -> Call:
        """POST ``body`` to ``api``, retried with backoff while the failure may pass; never raises."""
        correlator = str(uuid.uuid4())
        at = datetime.now(UTC)
        started = time.monotonic()
        status: int | None = None
        error = "unreachable"
        attempts = 0
        for attempt in range(1, self.retries + 2):
            attempts = attempt
            retryable = True
            try:
                response = self._client.post(api, json=body, headers={"x-correlator": correlator})
            except httpx.TimeoutException:
                status, error = None, "timeout"
            except httpx.HTTPError:
                status, error = None, "unreachable"
            else:
                status = response.status_code
                if status == 200:
                    if response.headers.get("x-correlator", correlator) != correlator:
                        error, retryable = "bad_correlator", False
                    else:
                        try:
                            answer = response.json()
                        except ValueError:
                            error, retryable = "bad_answer", False
                        else:
                            return Call(self.name, api, correlator, at, self._ms(started), attempts, status, answer)
                else:
                    error, retryable = _error_code(response), status in RETRYABLE
            if not retryable or attempt > self.retries:
                break
            self._sleep(self.backoff_s * 2 ** (attempt - 1))
        return Call(self.name, api, correlator, at, self._ms(started), attempts, status, None, error)

    @staticmethod
    def _ms(started: float) -> int:
        return int((time.monotonic() - started) * 1000)

    # --- the APIs -------------------------------------------------------------------------------------

    def sim_swap_date(self, phone: str) -> Call:
        return self.post(SIM_SWAP_DATE, {"phoneNumber": phone})

    def sim_swap_check(self, phone: str, max_age_hours: int) -> Call:
        return self.post(SIM_SWAP_CHECK, {"phoneNumber": phone, "maxAge": max_age_hours})

    def device_swap_date(self, phone: str) -> Call:
        return self.post(DEVICE_SWAP_DATE, {"phoneNumber": phone})

    def unconditional_forwarding(self, phone: str) -> Call:
        return self.post(UNCONDITIONAL_FORWARDING, {"phoneNumber": phone})

    def kyc_match(self, phone: str, given_name: str, family_name: str) -> Call:
        return self.post(KYC_MATCH, {"phoneNumber": phone, "givenName": given_name, "familyName": family_name})

    def number_recycled(self, phone: str, since: date) -> Call:
        return self.post(NUMBER_RECYCLING, {"phoneNumber": phone, "specifiedDate": since.isoformat()})


NOT_CONFIGURED = "not_configured"


class UnconfiguredOperator:
    """No operator to ask (outside demo mode, without ``SECURE_PHONE_OPERATOR_URL``): every call is an error,
    ``not_configured``, at once — a missing answer, which the policy's no-answer rule decides (fail closed: the
    advisor). The simulator is never used outside demo mode: its « nothing to report » would pass every check."""

    def __init__(self, name: str) -> None:
        self.name = name

    def _missing(self, api: str) -> Call:
        return Call(self.name, api, str(uuid.uuid4()), datetime.now(UTC), 0, 0, None, None, NOT_CONFIGURED)

    def sim_swap_date(self, phone: str) -> Call:
        return self._missing(SIM_SWAP_DATE)

    def sim_swap_check(self, phone: str, max_age_hours: int) -> Call:
        return self._missing(SIM_SWAP_CHECK)

    def device_swap_date(self, phone: str) -> Call:
        return self._missing(DEVICE_SWAP_DATE)

    def unconditional_forwarding(self, phone: str) -> Call:
        return self._missing(UNCONDITIONAL_FORWARDING)

    def kyc_match(self, phone: str, given_name: str, family_name: str) -> Call:
        return self._missing(KYC_MATCH)

    def number_recycled(self, phone: str, since: date) -> Call:
        return self._missing(NUMBER_RECYCLING)


def simulated_client(url: str | None = None, **options: Any) -> OperatorClient:
    """A client of the app's own simulated operator (on ``url``'s database), in-process."""
    transport = InProcessTransport(get_simulator(url), sleep=options.pop("transport_sleep", time.sleep))
    return OperatorClient(SIMULATED_ROOT, operator_token(), name=operator_name(), transport=transport, **options)


@functools.cache
def get_operator(url: str | None = None) -> Operator:
    """The process-wide operator client: ``SECURE_PHONE_OPERATOR_URL``'s (https and an explicit token, or
    ``ConfigurationError``); unset, the app's simulator in-process in demo mode, and no operator outside it."""
    options = dict(timeout_s=operator_timeout(), retries=operator_retries())
    root = operator_url()
    if root:
        check_operator()
        return OperatorClient(root, operator_token(), name=operator_name(), **options)  # type: ignore[arg-type]
    if not demo_mode():
        return UnconfiguredOperator(operator_name(configured=False))
    return simulated_client(url, **options)
