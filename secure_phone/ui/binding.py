"""Binding a login session to the browser that opened it.

Reflex identifies a tab by its client token, which also travels in the websocket URL (and so may end
up in proxy logs), and keeps the tab's state — this session's reference included — pickled on disk or
in Redis. Neither is enough to act: an event is accepted only

* on the websocket that logged in (its socket id, assigned by the server, is ``_bound_sid``), or
* on a later websocket of the same tab (a reload, a reconnection) once it redeemed a one-time ticket.
  The page gets that ticket over HTTP (``POST /api/session/ticket``) with the HttpOnly cookie that the
  login set (``POST /api/session/bind``); the cookie never reaches the websocket (``secure_phone.asgi``
  strips it there), so its value is never in Reflex's state store either.

A client that only knows the token, or only a copy of the state store, has neither.
"""

from __future__ import annotations

import json

import reflex as rx

from secure_phone.services.auth import Login


def bind(state: rx.State, channel: str, login: Login) -> rx.event.EventSpec:
    """At login: remember this socket and have the browser store the binding as an HttpOnly cookie."""
    state._session_id = login.session_id  # type: ignore[attr-defined]
    state._bound_sid = state.router.session.session_id  # type: ignore[attr-defined]
    body = json.dumps({"channel": channel, "value": login.binding})
    return rx.call_script(
        f"fetch('/api/session/bind', {{method: 'POST', credentials: 'same-origin', "
        f"headers: {{'Content-Type': 'application/json'}}, body: {json.dumps(body)}}})"
    )


def bound(state: rx.State) -> bool:
    """The event comes from the socket that logged in or that redeemed a ticket."""
    sid = state.router.session.session_id
    return bool(sid) and sid == getattr(state, "_bound_sid", "")


def rebind(state: rx.State) -> None:
    """This socket has redeemed a ticket for the tab's session."""
    state._bound_sid = state.router.session.session_id  # type: ignore[attr-defined]


def forget(state: rx.State) -> None:
    state._session_id = state._bound_sid = ""  # type: ignore[attr-defined]


def ticket_script(channel: str) -> str:
    """JavaScript asking for a ticket with the binding cookie; always resolves to an object."""
    body = json.dumps(json.dumps({"channel": channel}))
    return (
        "(async () => { try { const r = await fetch('/api/session/ticket', {method: 'POST', credentials: "
        f"'same-origin', headers: {{'Content-Type': 'application/json'}}, body: {body}}});"
        " if (!r.ok) return {ok: false}; const j = await r.json(); return {ok: true, ticket: String(j.ticket || '')};"
        " } catch (e) { return {ok: false}; } })()"
    )
