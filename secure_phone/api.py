"""HTTP API for other bank systems: health, read-only status, and the MySys simulator.

Every route but ``/api/health`` needs ``Authorization: Bearer <SECURE_PHONE_SERVICE_TOKEN>``.
"""

from __future__ import annotations

import asyncio
import hmac
import re
from datetime import datetime, timezone

import sqlalchemy
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from secure_phone.adapters.db import read_only
from secure_phone.adapters.mysys import get_mysys
from secure_phone.domain.phone import phone_from_e164
from secure_phone.services.status import secure_phone_status
from secure_phone.settings import service_token

IDENTIFIER = re.compile(r"[0-9]{10}")  # ASCII digits only; used with fullmatch


def _authorized(request: Request) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.encode(), service_token().encode())


def _error(status: int, code: str) -> JSONResponse:
    return JSONResponse({"error": code}, status_code=status)


def _db_ok() -> bool:
    with read_only() as session:
        session.exec(sqlalchemy.text("SELECT 1"))  # type: ignore[call-overload]
    return True


async def health(_request: Request) -> JSONResponse:
    try:
        await asyncio.to_thread(_db_ok)
    except Exception:
        return JSONResponse({"status": "degraded", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


async def customer_status(request: Request) -> JSONResponse:
    if not _authorized(request):
        return _error(401, "unauthorized")
    identifier = request.path_params["identifier"]
    if not IDENTIFIER.fullmatch(identifier):
        return _error(400, "invalid_identifier")
    status = await asyncio.to_thread(secure_phone_status, identifier, now=datetime.now(timezone.utc))
    return JSONResponse(status) if status else _error(404, "not_found")


async def mysys_contact(request: Request) -> JSONResponse:
    if not _authorized(request):
        return _error(401, "unauthorized")
    identifier = request.path_params["identifier"]
    if not IDENTIFIER.fullmatch(identifier):
        return _error(400, "invalid_identifier")
    contact = await asyncio.to_thread(get_mysys().get_customer_contact, identifier)
    if contact is None:
        return _error(404, "not_found")
    return JSONResponse({
        "customer_ref": contact.customer_ref,
        "secure_phone_masked": phone_from_e164(contact.secure_phone_e164).masked if contact.secure_phone_e164 else None,
        "updated_at": contact.updated_at.isoformat(),
    })


BINDING = re.compile(r"[A-Za-z0-9_-]{43}")


async def bind_session(request: Request) -> Response:
    """Store a login's binding value as an HttpOnly cookie (see secure_phone.ui.binding)."""
    from secure_phone.ui.binding import CHANNELS, cookie_name

    try:
        payload = await request.json()
    except ValueError:
        return _error(400, "invalid_body")
    channel, value = (payload.get("channel"), payload.get("value")) if isinstance(payload, dict) else (None, None)
    if channel not in CHANNELS or not isinstance(value, str) or not BINDING.fullmatch(value):
        return _error(400, "invalid_body")
    response = Response(status_code=204)
    response.set_cookie(cookie_name(channel), value, httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https", max_age=8 * 3600)
    return response


api = Starlette(routes=[
    Route("/api/session/bind", bind_session, methods=["POST"]),
    Route("/api/health", health),
    Route("/api/v1/customers/{identifier}/secure-phone", customer_status),
    Route("/api/mysys/v1/contacts/{identifier}", mysys_contact),
])
