"""The web customer area's state (J1)."""

from __future__ import annotations

import reflex as rx

from secure_phone.services.auth import Principal
from secure_phone.ui import binding, runtime
from secure_phone.ui.components import focus_errors, focus_title
from secure_phone.ui.paths import HOME_ROUTE, LOGIN_ROUTE
from secure_phone.ui.screens import Screen
from secure_phone.ui.session import Answer
from secure_phone.ui.states.calls import CallStatus
from secure_phone.ui.states.customer import ChangeFlow


@runtime.pushable
@binding.guard_hydration(frozenset({"channel_name"}))  # nothing of the last screen to a socket not the session's
class WebState(ChangeFlow, CallStatus, rx.State):
    channel_name: str = "web"

    def _after_login(self, principal: Principal) -> None:
        self._stale_dismissed = False
        self._land(principal)
        self._load_call(principal)

    @rx.event
    async def login_and_go(self, form: dict) -> Answer:
        bind_cookie = await self._do_login(form)
        if bind_cookie:
            return [bind_cookie, rx.redirect(HOME_ROUTE)]
        return focus_errors()

    @rx.event
    def load_home(self) -> Answer:
        """On load of « Mes coordonnées »: only for a live session (a reload rejoins it first)."""
        principal = self._principal()
        if principal is None:
            return self._rejoin() or rx.redirect(LOGIN_ROUTE)
        return self._resumed(principal)

    def _resumed(self, principal: Principal) -> Answer:
        self._load_call(principal)  # §12.5
        if self.screen in (Screen.OVERVIEW, Screen.OUTCOME):
            self._land(principal)
        elif self.screen == Screen.WAIT:
            self._refresh_request(principal)
        if self.router.url.path.rstrip("/") == LOGIN_ROUTE:
            return rx.redirect(HOME_ROUTE)
        return focus_title()

    def _lost(self) -> Answer:
        if self.router.url.path.rstrip("/") != LOGIN_ROUTE:
            return rx.redirect(LOGIN_ROUTE)
        return None

    @rx.event
    def load_login(self) -> Answer:
        if self._principal() is not None:
            return rx.redirect(HOME_ROUTE)
        return self._rejoin()

    @rx.event
    def logout_and_leave(self) -> Answer:
        self._do_logout()
        return rx.redirect(LOGIN_ROUTE)

    def _request_created(self, principal: Principal) -> None:
        self._show(Screen.WAIT)

    def _pushed(self, principal: Principal) -> None:
        """Another client (the phone, an advisor) changed one of this customer's requests, or a bank call."""
        self._load_call(principal)
        self._refresh_request(principal)
