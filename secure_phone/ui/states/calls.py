"""§12.5 « Is my bank calling me? », the customer's side (app home, and the web's « Mes coordonnées »).

A mixin of the customer states: whether an advisor of the bank is on the phone with the customer right now,
followed live (the services announce each call started, ended or reported, and the customer's open tabs are
pushed like for every other change), and the one-tap report. The advisor's side is ``AdvisorState``'s
« Appel du client » section.
"""

from __future__ import annotations

import asyncio

import reflex as rx

from secure_phone.services import calls
from secure_phone.services.auth import Principal
from secure_phone.ui import runtime
from secure_phone.ui.session import Answer, requires_session
from secure_phone.ui.states.customer import CustomerSession

WATCH_AT_MOST = 600.0
"""A watcher sleeps at most this long before it looks again (a forged watcher holds nothing for long)."""


class CallStatus(CustomerSession, mixin=True):
    """The bank call in progress, if any, and the customer's report of a call."""

    call_open: bool = False
    call_advisor: str = ""  # « Sophie Lambert »
    call_agency: str = ""
    call_since: str = ""  # « 18:21 »
    call_report_done: str = ""  # the confirmation shown once the customer reported (an i18n key)
    _call_id: str = ""
    _call_ends_at: float = 0.0  # when the call ends by itself (the policy's limit), as a timestamp

    def _load_call(self, principal: Principal) -> None:
        view = calls.call_status(runtime.uow(), principal.id)
        call_id = view.id if view is not None else ""
        if call_id != self._call_id:  # another call (or none): a report was about the previous one
            self.call_report_done = ""
        self._call_id = call_id
        self.call_open = view is not None
        self.call_advisor = view.advisor_name if view else ""
        self.call_agency = view.agency_name if view else ""
        self.call_since = view.since if view else ""
        self._call_ends_at = view.ends_at.timestamp() if view else 0.0

    def _clear_call(self) -> None:
        self.call_open, self.call_advisor, self.call_agency, self.call_since = False, "", "", ""
        self.call_report_done, self._call_id, self._call_ends_at = "", "", 0.0

    def _clear_screens(self) -> None:
        super()._clear_screens()
        self._clear_call()

    @rx.event
    @requires_session
    def report_call(self, principal: Principal) -> Answer:
        """« Signaler cet appel »: one tap, a fraud alert for the advisors; the screen says it was heard."""
        reported = calls.report_call(runtime.uow(), principal.id, channel=self.channel_name,
                                     actor=self._actor(principal))
        self._load_call(principal)
        self.call_report_done = "call.reported.during" if reported.during_call else "call.reported.none"
        return None

    @rx.event(background=True)
    async def watch_call(self) -> Answer:
        """While a call is shown (the panel starts it when it appears): at the call's limit, re-read it — a call
        its advisor forgot to end stops showing by itself. At most one per login session, however often the
        event comes (``runtime.claim_call_watch``): the running one follows the next call too."""
        async with self:
            principal = self._principal(touch=False)
            if principal is None or not self.call_open:
                return None
            session_id = principal.session_id
            if not runtime.claim_call_watch(session_id):
                return None  # this session's watcher is already on it
            wait = min(max(0.0, self._call_ends_at - runtime.now().timestamp()), WATCH_AT_MOST)
        try:
            await asyncio.sleep(wait + 0.5)
            async with self:
                principal = self._principal(touch=False)
                if principal is None:
                    return None  # logged out
                self._load_call(principal)
                again = self.call_open
        finally:
            runtime.release_call_watch(session_id)
        return type(self).watch_call if again else None
