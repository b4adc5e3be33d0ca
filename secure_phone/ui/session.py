"""The login session of a page, for customers and advisors alike, and the one check every handler makes.

:class:`SessionMixin` holds a tab's session (see :mod:`secure_phone.ui.binding`: only the session's reference
and the socket it is bound to, never a secret) and answers who is asking (:meth:`SessionMixin._principal`).
:func:`requires_session` wraps an event handler: without a live session on *this* socket it answers as
:meth:`SessionMixin._refused` does (a ticket is asked for when the tab holds a session but its socket is new,
nothing otherwise) and the handler never runs; with one, the handler gets the principal as its first argument,
and the refresh its changes cause skips this tab.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Concatenate, ParamSpec, TypeVar, cast

import reflex as rx
from reflex_base.event import EventHandler, EventSpec

from secure_phone.services import auth, live
from secure_phone.services.audit import Actor
from secure_phone.services.auth import Principal
from secure_phone.ui import binding, runtime
from secure_phone.ui.components import focus_title

ENDED = {
    "factor_changed": "session.ended.factor_changed",
    "not_me": "session.ended.not_me",
    "advisor": "session.ended.advisor",
}
"""Why a session ended, as the tab that showed it says (idle, too old: ``session.expired``)."""

Answer = EventSpec | EventHandler | Sequence[EventSpec | EventHandler] | None
"""What an event handler answers: events for the browser (a script, a redirect, another handler), or nothing."""

S = TypeVar("S", bound="SessionMixin")
P = ParamSpec("P")
R = TypeVar("R")


def requires_session(handler: Callable[Concatenate[S, Principal, P], R]) -> Callable[Concatenate[S, P], R]:
    """Event handler decorator: run only for this socket's live session, with its principal.

    ``def start_change(self, principal): ...`` is sent by the page as ``start_change()``: the principal is
    never an argument a client could send (Reflex sees the signature without it). Arguments the handler does
    not take are refused first, as by any handler; without a live session the handler never runs and the
    page gets :meth:`SessionMixin._refused`'s answer.
    """
    signature = inspect.signature(handler)
    parameters = list(signature.parameters.values())
    public = signature.replace(parameters=[parameters[0], *parameters[2:]])

    if inspect.iscoroutinefunction(handler):
        @functools.wraps(handler)
        async def run_async(self: S, *args: P.args, **kwargs: P.kwargs) -> Any:
            public.bind(self, *args, **kwargs)
            principal = self._principal()
            if principal is None:
                return self._refused()
            with runtime.acting(self):
                return await handler(self, principal, *args, **kwargs)

        wrapped: Any = run_async
    else:
        @functools.wraps(handler)
        def run(self: S, *args: P.args, **kwargs: P.kwargs) -> Any:
            public.bind(self, *args, **kwargs)
            principal = self._principal()
            if principal is None:
                return self._refused()
            with runtime.acting(self):
                return handler(self, principal, *args, **kwargs)

        wrapped = run
    wrapped.__signature__ = public
    return cast(Callable[Concatenate[S, P], R], wrapped)


class SessionMixin(rx.State, mixin=True):
    """A tab's login session (customer on one channel, or advisor)."""

    _session_id: str = ""
    _bound_sid: str = ""
    logged_in: bool = False
    login_error: str = ""
    idle_until_ms: int = 0  # when the session ends without activity (the one-minute warning's clock)

    principal_kind: ClassVar[str] = "customer"
    channel_name: str = "web"  # the session's channel; overridden per page (web | app | advisor)

    # --- who is asking -------------------------------------------------------------------------

    def _actor(self, principal: Principal | None = None, kind: str | None = None) -> Actor:
        return runtime.actor(self, kind or self.principal_kind, principal.id if principal else None, self.channel_name)

    def _principal(self, touch: bool = True) -> Principal | None:
        """This socket's live session, or None (``touch=False`` for a push or a timer: not activity).

        A tab whose websocket is not the bound one (a reload, a copied client token) gets None and keeps its
        session reference: a reload rejoins it with a ticket (:meth:`_rejoin`), a copied token never can. A
        session that ended logs the tab out, saying why.
        """
        if not self._session_id or not binding.bound(self):
            return None
        uow = runtime.uow()
        principal = auth.authenticate(uow, self._session_id, touch=touch)
        if principal is None or principal.kind != self.principal_kind or principal.channel != self.channel_name:
            self._end_session(ENDED.get(auth.end_reason(uow, self._session_id) or "", "session.expired"))
            return None
        if touch and principal.ends_at is not None:
            self.idle_until_ms = int(principal.ends_at.timestamp() * 1000)
        return principal

    def _rejoin(self) -> EventSpec | None:
        """For a tab that holds a session but whose websocket is new: ask for a ticket (``resume``)."""
        if self._session_id and not binding.bound(self):
            return rx.call_script(binding.ticket_script(self.channel_name), callback=type(self).resume)
        return None

    def _refused(self) -> Answer:
        """What a handler answers when nobody (yet) is logged in on this socket."""
        return self._rejoin() or focus_title()

    @rx.event
    @requires_session
    def stay_signed_in(self, principal: Principal) -> Answer:
        """« Rester connecté » (WCAG 2.2.1): this tab's event is the activity that moves the idle timer."""
        return None

    @rx.event
    def resume(self, result: dict) -> Answer:
        """The ticket the page obtained with its binding cookie: this socket joins the tab's session."""
        if binding.bound(self) or not self._session_id:
            return None
        ticket = result.get("ticket") if isinstance(result, dict) else None
        if auth.redeem_ticket(runtime.uow(), ticket, self._session_id):
            binding.rebind(self)
            binding.resend(self)
            principal = self._principal()
            if principal is not None:
                self._follow(principal)
                return self._resumed(principal)
        self._end_session("session.expired")
        return self._lost()

    def _resumed(self, principal: Principal) -> Answer:
        """After a reload rejoined the session: the screen the page would have shown."""
        return focus_title()

    def _lost(self) -> Answer:
        """After the session could not be rejoined."""
        return focus_title()

    # --- opening and ending -------------------------------------------------------------------------

    def _opened(self, opened: auth.Login, *, following: bool = False) -> tuple[EventSpec, Principal]:
        """A login succeeded: bind this socket, have the browser keep the binding cookie, subscribe the tab
        (unless the login did: ``following``)."""
        bind_cookie = binding.bind(self, self.channel_name, opened)
        principal = opened.principal
        self.logged_in, self.login_error = True, ""
        self.idle_until_ms = int(principal.ends_at.timestamp() * 1000) if principal.ends_at else 0
        if not following:
            self._follow(principal)
        return bind_cookie, principal

    def _follower(self) -> live.Follower:
        """This tab, as a live subscription names it."""
        return live.Follower(self.router.session.client_token, self.get_full_name())

    def _followed(self, principal: Principal) -> int | None:
        """The customer whose changes this tab shows live: a customer's own (an advisor's open sheet)."""
        return principal.id

    def _follow(self, principal: Principal) -> None:
        """Have this tab refreshed when its customer changes (:meth:`_followed`; nobody: no refresh)."""
        customer_id = self._followed(principal)
        if customer_id:
            follower = self._follower()
            live.subscribe(runtime.uow(), follower.token, follower.state, customer_id)
        else:
            live.unsubscribe(runtime.uow(), self.router.session.client_token, self.get_full_name())

    def _end_session(self, message: str = "") -> None:
        """This tab is logged out (its screens cleared); ``message``, an i18n key, says why."""
        live.unsubscribe(runtime.uow(), self.router.session.client_token, self.get_full_name())
        binding.forget(self)
        self.logged_in = False
        self.idle_until_ms = 0
        self.login_error = message
        self._clear_screens()

    def _clear_screens(self) -> None:
        pass

    def _do_logout(self) -> None:
        if binding.bound(self):  # only the session's own socket ends it (a copied token only clears its view)
            auth.logout(runtime.uow(), self._session_id, actor=self._actor())
        self._end_session()

    # --- pushed by another client ---------------------------------------------------------------------

    def _on_push(self) -> None:
        """Another client changed something of this session's customer: first, is this tab's session still
        live (a factor change, a « not me », an advisor may have ended it). Not this tab's activity: it moves
        no idle timer."""
        principal = self._principal(touch=False)
        if principal is not None:
            self._pushed(principal)

    def _pushed(self, principal: Principal) -> None:
        pass
