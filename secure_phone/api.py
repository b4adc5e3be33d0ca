"""HTTP API for other bank systems: health, read-only status, the MySys simulator, and — in demo mode only — the
simulated mobile operator (``/api/operator/…``, GSMA Open Gateway / CAMARA shapes,
:mod:`secure_phone.adapters.operator_sim`; outside demo mode the route does not exist).

Every route but ``/api/health`` and the operator's needs ``Authorization: Bearer <SECURE_PHONE_SERVICE_TOKEN>``;
the operator's needs the operator's own credential (``SECURE_PHONE_OPERATOR_TOKEN``), as a real operator would.
"""

from __future__ import annotations

import asyncio
import hmac
import re

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from secure_phone.adapters.operator_sim import get_simulator
from secure_phone.domain.policy import DEFAULT_POLICY
from secure_phone.services import auth, status
from secure_phone.services.unit_of_work import UnitOfWork
from secure_phone.settings import demo_mode, public_url, public_url_is_https, service_token

IDENTIFIER = re.compile(r"[0-9]{10}")  # ASCII digits only; used with fullmatch


def _authorized(request: Request) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.encode(), service_token().encode())


def _error(status: int, code: str) -> JSONResponse:
    return JSONResponse({"error": code}, status_code=status)


async def health(_request: Request) -> JSONResponse:
    try:
        await asyncio.to_thread(status.database_ok, UnitOfWork())
    except Exception:
        return JSONResponse({"status": "degraded", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


async def customer_status(request: Request) -> JSONResponse:
    if not _authorized(request):
        return _error(401, "unauthorized")
    identifier = request.path_params["identifier"]
    if not IDENTIFIER.fullmatch(identifier):
        return _error(400, "invalid_identifier")
    found = await asyncio.to_thread(status.secure_phone_status, UnitOfWork(), identifier)
    return JSONResponse(found) if found else _error(404, "not_found")


async def mysys_contact(request: Request) -> JSONResponse:
    if not _authorized(request):
        return _error(401, "unauthorized")
    identifier = request.path_params["identifier"]
    if not IDENTIFIER.fullmatch(identifier):
        return _error(400, "invalid_identifier")
    contact = await asyncio.to_thread(status.mysys_contact, UnitOfWork(), identifier)
    return JSONResponse(contact) if contact else _error(404, "not_found")


BINDING = re.compile(r"[A-Za-z0-9_-]{43}")
CHANNELS = ("web", "app", "advisor")
NO_STORE = {"Cache-Control": "no-store"}


def _secure(request: Request) -> bool:
    """Cookies are ``Secure`` (and ``__Host-``) when customers reach the app over https, even when a TLS
    proxy speaks plain HTTP to it (``SECURE_PHONE_PUBLIC_URL``; ``secure_phone.asgi`` takes the scheme
    from a trusted proxy only)."""
    return public_url_is_https() or request.url.scheme == "https"


def cookie_name(channel: str, secure: bool) -> str:
    """``__Host-`` needs ``Secure``, ``Path=/`` and no ``Domain``: no other host or path can set or shadow it."""
    return f"__Host-sp_bind_{channel}" if secure else f"sp_bind_{channel}"


def _same_origin(request: Request) -> bool:
    """The request comes from a page of this app (``Origin`` is set by the browser, never by a page)."""
    origin = request.headers.get("origin", "")
    if not origin:
        return False
    seen = f"{request.url.scheme}://{request.headers.get('host', '')}"
    allowed = {seen, public_url()} - {""}
    return origin.rstrip("/") in allowed


async def _channel_and_value(request: Request) -> tuple[str | None, str | None]:
    try:
        payload = await request.json()
    except ValueError:
        return None, None
    if not isinstance(payload, dict):
        return None, None
    channel, value = payload.get("channel"), payload.get("value")
    return (channel if channel in CHANNELS else None), (value if isinstance(value, str) else None)


async def bind_session(request: Request) -> Response:
    """Store a login's binding value as an HttpOnly cookie (see secure_phone.ui.binding).

    Only a value that belongs to a live session of that channel is stored, and only for a page of this
    app: another site cannot plant a binding of its own in a customer's browser.
    """
    if not _same_origin(request):
        return _error(403, "origin")
    channel, value = await _channel_and_value(request)
    if channel is None or value is None or not BINDING.fullmatch(value):
        return _error(400, "invalid_body")
    if await asyncio.to_thread(auth.session_for_binding, UnitOfWork(), value, channel) is None:
        return _error(400, "invalid_body")
    secure = _secure(request)
    response = Response(status_code=204, headers=NO_STORE)
    response.set_cookie(cookie_name(channel, secure), value, httponly=True, samesite="strict", path="/",
                        secure=secure, max_age=int(DEFAULT_POLICY.session_max_age.total_seconds()))
    return response


async def session_ticket(request: Request) -> Response:
    """A one-time ticket for the page whose browser holds a live session's binding cookie."""
    if not _same_origin(request):
        return _error(403, "origin")
    channel, _ = await _channel_and_value(request)
    if channel is None:
        return _error(400, "invalid_body")
    binding = request.cookies.get(cookie_name(channel, True)) or request.cookies.get(cookie_name(channel, False))
    ticket = await asyncio.to_thread(auth.issue_ticket, UnitOfWork(), binding, channel) if binding else None
    if ticket is None:
        return JSONResponse({"error": "no_session"}, status_code=401, headers=NO_STORE)
    return JSONResponse({"ticket": ticket}, headers=NO_STORE)


OPERATOR_BODY_LIMIT = 4096
"""The largest request body the simulated operator reads (its requests are a few hundred bytes)."""


async def operator_gateway(request: Request) -> Response:
    """The simulated operator over HTTP: the same answers as in-process, latency and held answers included.

    A body is read up to ``OPERATOR_BODY_LIMIT`` bytes and no further: a larger one is refused (413) unread.
    Demo mode only: mounted by :func:`build_api` in demo mode, and refusing like an unknown route outside it."""
    if not demo_mode():
        return Response("Not Found", status_code=404, media_type="text/plain")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > OPERATOR_BODY_LIMIT:
            return JSONResponse({"status": 413, "code": "PAYLOAD_TOO_LARGE", "message": "The request body is too "
                                 "large."}, status_code=413, headers=NO_STORE)
    headers = {name.lower(): value for name, value in request.headers.items()}
    answer = await asyncio.to_thread(get_simulator().answer, request.method, request.path_params["path"], headers,
                                     body)
    if answer.delay_s:
        await asyncio.sleep(answer.delay_s)
    return JSONResponse(answer.body, status_code=answer.status, headers={**answer.headers, **NO_STORE})


def build_api() -> Starlette:
    """The API's routes; the simulated operator's in demo mode only (§12.1: no demo surface outside it)."""
    demo = [Route("/api/operator/{path:path}", operator_gateway, methods=["POST", "GET"])] if demo_mode() else []
    return Starlette(routes=[
        *demo,
        Route("/api/session/bind", bind_session, methods=["POST"]),
        Route("/api/session/ticket", session_ticket, methods=["POST"]),
        Route("/api/health", health),
        Route("/api/v1/customers/{identifier}/secure-phone", customer_status),
        Route("/api/mysys/v1/contacts/{identifier}", mysys_contact),
    ])


api = build_api()
