"""Binding a login session to the browser that opened it.

Reflex identifies a tab by its client token, which also travels in the websocket URL (and so may
end up in proxy logs). A session is therefore accepted only on the socket that logged in, or on a
later socket (a reload) whose handshake carries the HttpOnly cookie that the login set through
``POST /api/session/bind``. A client that only knows the token has neither. The cookie and the
socket id come from the server's view of the connection; the browser cannot forge them in events.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from http.cookies import SimpleCookie

import reflex as rx

CHANNELS = ("web", "app", "advisor")


def cookie_name(channel: str) -> str:
    return f"sp_bind_{channel}"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def bind(state: rx.State, channel: str) -> rx.event.EventSpec:
    """At login: remember this socket and ask the browser to store the binding as an HttpOnly cookie."""
    value = secrets.token_urlsafe(32)
    state._binding_hash = _digest(value)  # type: ignore[attr-defined]
    state._login_sid = state.router.session.session_id  # type: ignore[attr-defined]
    body = json.dumps({"channel": channel, "value": value})
    return rx.call_script(
        f"fetch('/api/session/bind', {{method: 'POST', credentials: 'same-origin', "
        f"headers: {{'Content-Type': 'application/json'}}, body: {json.dumps(body)}}})"
    )


def bound(state: rx.State, channel: str) -> bool:
    """The event comes from the socket that logged in, or from a browser holding the binding cookie."""
    expected = getattr(state, "_binding_hash", "")
    if not expected:
        return False
    if state.router.session.session_id and state.router.session.session_id == getattr(state, "_login_sid", ""):
        return True
    cookies = SimpleCookie()
    try:
        cookies.load(state.router.headers.cookie or "")
    except Exception:  # a malformed Cookie header binds nothing
        return False
    morsel = cookies.get(cookie_name(channel))
    return morsel is not None and hmac.compare_digest(_digest(morsel.value), expected)
