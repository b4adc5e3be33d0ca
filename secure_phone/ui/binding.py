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
from collections.abc import Callable
from typing import Any, TypeVar

import reflex as rx
from reflex.state import BaseState
from reflex_base.constants.state import FIELD_MARKER
from reflex_base.event import EventSpec

from secure_phone.services.auth import Login

S = TypeVar("S", bound=BaseState)


def bind(state: rx.State, channel: str, login: Login) -> EventSpec:
    """At login: remember this socket and have the browser store the binding as an HttpOnly cookie."""
    state._session_id = login.session_id
    state._bound_sid = state.router.session.session_id
    body = json.dumps({"channel": channel, "value": login.binding})
    return rx.call_script(
        f"fetch('/api/session/bind', {{method: 'POST', credentials: 'same-origin', "
        f"headers: {{'Content-Type': 'application/json'}}, body: {json.dumps(body)}}})"
    )


def bound(state: BaseState) -> bool:
    """The event comes from the socket that logged in or that redeemed a ticket."""
    sid = state.router.session.session_id
    return bool(sid) and sid == getattr(state, "_bound_sid", "")


def rebind(state: rx.State) -> None:
    """This socket has redeemed a ticket for the tab's session."""
    state._bound_sid = state.router.session.session_id


def forget(state: rx.State) -> None:
    state._session_id = state._bound_sid = ""


def hide_if_unbound(state: BaseState, full: dict[str, Any], public: frozenset[str]) -> dict[str, Any]:
    """``state.dict()`` as a socket that is not the session's may see it: at hydration Reflex sends a tab's
    whole state, so a copied client token of a closed tab (or a reload before it rejoins) would get the tab's
    last screen — names, numbers, the request. Such a socket gets the defaults of every var but ``public``
    (and no computed var); :func:`resend` sends the real values once the socket has rejoined."""
    if not getattr(state, "_session_id", "") or bound(state):
        return full
    mine = full.get(state.get_full_name())
    if mine is None:
        return full
    fields = state.get_fields()
    for name in list(state.base_vars):
        field = fields.get(name)
        # The browser's own storage (the phone's id, the language) is the browser's: it is never hidden.
        if name not in public and field is not None and not state._is_client_storage(field):
            mine[name + FIELD_MARKER] = field.default_value()
    for name in state.computed_vars:
        mine.pop(name + FIELD_MARKER, None)
    return full


def guard_hydration(public: frozenset[str] = frozenset()) -> Callable[[type[S]], type[S]]:
    """Class decorator: the state's ``dict()`` (what Reflex sends at hydration) goes through
    :func:`hide_if_unbound`. Reflex refuses a ``dict`` defined in a state's body (it would be taken for an
    event handler), hence the assignment on the class."""

    def decorate(cls: type[S]) -> type[S]:
        full_dict = BaseState.dict

        def guarded(self: BaseState, include_computed: bool = True, initial: bool = False,
                    **kwargs: Any) -> dict[str, Any]:
            return hide_if_unbound(self, full_dict(self, include_computed, initial, **kwargs), public)

        type.__setattr__(cls, "dict", guarded)
        return cls

    return decorate


def resend(state: rx.State) -> None:
    """After a rejoin: every var of the state goes out again (the hydration hid them, see above)."""
    state.dirty_vars.update(state.base_vars)
    state._mark_dirty()


def ticket_script(channel: str) -> str:
    """JavaScript asking for a ticket with the binding cookie; always resolves to an object."""
    body = json.dumps(json.dumps({"channel": channel}))
    return (
        "(async () => { try { const r = await fetch('/api/session/ticket', {method: 'POST', credentials: "
        f"'same-origin', headers: {{'Content-Type': 'application/json'}}, body: {body}}});"
        " if (!r.ok) return {ok: false}; const j = await r.json(); return {ok: true, ticket: String(j.ticket || '')};"
        " } catch (e) { return {ok: false}; } })()"
    )
