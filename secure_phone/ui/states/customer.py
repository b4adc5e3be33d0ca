"""Customer states shared by the web area and the app: login session and the change flow.

Both are mixins: the web page and the app each get their own copy (``WebState``, ``AppState``),
with their own server-side session. Nothing secret or complete about the current number is
held in a browser-visible var: the session secret and the new number's E.164 are backend-only
(underscore) vars; the current number is only ever sent masked.
"""

from __future__ import annotations

import asyncio

import reflex as rx

from secure_phone.domain.change_request import Channel, Status
from secure_phone.domain.phone import NumberRejected, format_as_you_type, selectable_regions
from secure_phone.domain.policy import DEFAULT_POLICY
from secure_phone.services import auth, change, contact, customers, live, stale
from secure_phone.services.auth import DeviceProof, LoginError, Principal
from secure_phone.services.change import ChangeError
from secure_phone.services.stale import StaleError
from secure_phone.ui import binding, runtime
from secure_phone.ui.components import focus_errors, focus_title
from secure_phone.ui.i18n import LangState

REGIONS = selectable_regions(DEFAULT_POLICY)

OUTCOMES = {
    Status.COMPLETED.value: ("success.title", "success"),
    Status.APPLYING.value: ("applying.title", "info"),
    Status.CANCELLED.value: ("outcome.cancelled", "info"),
    Status.EXPIRED.value: ("outcome.expired", "warning"),
    Status.REFUSED.value: ("outcome.refused", "warning"),
    Status.SUPERSEDED.value: ("outcome.superseded", "info"),
    Status.BLOCKED.value: ("outcome.blocked", "error"),
    Status.FAILED.value: ("outcome.failed", "error"),
}


ENDED = {
    "factor_changed": "session.ended.factor_changed",
    "not_me": "session.ended.not_me",
    "advisor": "session.ended.advisor",
}
"""Why a session ended, as the tab that showed it says (idle, too old: ``session.expired``)."""


class CustomerAuth(rx.State, mixin=True):
    """A customer's login on one channel (see :mod:`secure_phone.ui.binding`).

    The state keeps only the session's reference (``_session_id``) and the socket it is bound to; the
    binding cookie never reaches it. Used together with :class:`ChangeFlow`, which provides ``_reset_flow``.
    """

    _session_id: str = ""
    _bound_sid: str = ""
    logged_in: bool = False
    login_error: str = ""
    first_name: str = ""
    last_name: str = ""

    channel_name: str = "web"  # overridden per channel

    def _actor(self, principal: Principal | None = None):  # type: ignore[no-untyped-def]
        return runtime.actor(self, "customer", principal.id if principal else None, self.channel_name)

    def _principal(self, touch: bool = True) -> Principal | None:
        """The live session's customer, or None (``touch=False`` for a push or a timer: not activity).

        A tab whose websocket is not the bound one (a reload, a copied client token) gets None and keeps
        its session reference: a reload rejoins it with a ticket (:meth:`_rejoin`), a copied token never
        can. A session that ended logs the tab out, saying why.
        """
        if not self._session_id or not binding.bound(self):
            return None
        principal = auth.authenticate(self._session_id, now=runtime.now(), touch=touch)
        if principal is None or principal.kind != "customer" or principal.channel != self.channel_name:
            self._end_session(ENDED.get(auth.end_reason(self._session_id) or "", "session.expired"))
            return None
        return principal

    def _rejoin(self) -> rx.event.EventSpec | None:
        """For a tab that holds a session but whose websocket is new: ask for a ticket (``resume``)."""
        if self._session_id and not binding.bound(self):
            return rx.call_script(binding.ticket_script(self.channel_name), callback=type(self).resume)
        return None

    def _refused(self):  # type: ignore[no-untyped-def]
        """What a handler answers when nobody (yet) is logged in on this socket."""
        return self._rejoin() or focus_title()

    @rx.event
    def resume(self, result: dict):  # type: ignore[no-untyped-def]
        """The ticket the page obtained with its binding cookie: this socket joins the tab's session."""
        if binding.bound(self) or not self._session_id:
            return None
        ticket = result.get("ticket") if isinstance(result, dict) else None
        if auth.redeem_ticket(ticket, self._session_id, now=runtime.now()):
            binding.rebind(self)
            binding.resend(self)
            principal = self._principal()
            if principal is not None:
                live.subscribe(self.router.session.client_token, self.get_full_name(), principal.id, now=runtime.now())
                return self._resumed(principal)
        else:
            self._end_session("session.expired")
        return self._lost()

    def _resumed(self, principal: Principal):  # type: ignore[no-untyped-def]
        """After a reload rejoined the session: the screen the page would have shown."""
        return focus_title()

    def _lost(self):  # type: ignore[no-untyped-def]
        """After the session could not be rejoined."""
        return focus_title()

    def _end_session(self, message: str = "") -> None:
        live.unsubscribe(self.router.session.client_token, self.get_full_name())
        binding.forget(self)
        self.logged_in = False
        self.login_error = message
        self.first_name = self.last_name = ""
        self._reset_flow()

    def _device_for_login(self) -> str | None:  # the app passes its phone (with the proof of its key)
        return None

    def _after_login(self, principal: Principal) -> None:  # loads the first screen
        pass

    async def _do_login(self, form: dict, device_proof: DeviceProof | None = None) -> rx.event.EventSpec | None:
        """Open a session from the login form; the cookie-binding script, or None (``login_error``
        set) when refused. The password is checked on the password-check threads: argon2 is slow on
        purpose and must not stall the other clients' events."""
        now = runtime.now()
        form = form if isinstance(form, dict) else {}
        try:
            opened = await runtime.password_check(
                auth.login_customer, str(form.get("identifier", ""))[:40], str(form.get("password", ""))[:200],
                channel=self.channel_name, actor=self._actor(), now=now, device_id=self._device_for_login(),
                device_proof=device_proof,
            )
        except LoginError as error:
            self.login_error = error.code
            return None
        bind_cookie = binding.bind(self, self.channel_name, opened)
        principal = auth.authenticate(opened.session_id, now=now)
        assert principal is not None
        self.logged_in = True
        self.login_error = ""
        live.subscribe(self.router.session.client_token, self.get_full_name(), principal.id, now=now)
        self._after_login(principal)
        return bind_cookie

    def _do_logout(self) -> None:
        if binding.bound(self):  # only the session's own socket ends it (a copied token only clears its view)
            auth.logout(self._session_id, actor=self._actor(), now=runtime.now())
        self._end_session()

    @rx.event
    async def login(self, form: dict):  # type: ignore[no-untyped-def]
        bind_cookie = await self._do_login(form)
        return [bind_cookie, focus_title()] if bind_cookie else focus_errors()

    @rx.event
    def logout(self):  # type: ignore[no-untyped-def]
        self._do_logout()
        return focus_title()

    def _on_push(self) -> None:
        """Another client changed something of this customer's: first, is this tab's session still live
        (a factor change, a « not me », an advisor may have ended it). Not this tab's activity: it moves no
        idle timer."""
        principal = self._principal(touch=False)
        if principal is not None:
            self._pushed(principal)

    def _pushed(self, principal: Principal) -> None:
        pass


class ChangeFlow(rx.State, mixin=True):
    """Steps 1–3 of J1/J2 (overview, new number, confirmation) and the outcome."""

    screen: str = "overview"  # overview | number | confirm | wait | outcome (+ app screens)
    masked: str = ""
    masked_first: str = ""
    masked_last_two: str = ""
    eligible: bool = False
    reasons: list[str] = []
    cooling_off_until: str = ""
    agency_name: str = ""
    agency_phone: str = ""
    agency_hours_fr: str = ""
    agency_hours_en: str = ""

    region: str = "FR"
    number_input: str = ""
    number_error: str = ""
    new_national: str = ""
    _new_e164: str = ""
    request_id: str = ""
    expires_at_ms: int = 0
    outcome: str = ""
    outcome_kind: str = "info"
    _last_activity: float = 0.0

    # J6: the advisor and the call-back request (``advisor_notice``: why the customer was sent there, when
    # the screen must say more than the reason, e.g. a Sécur'Pass move refused online).
    advisor_name: str = ""
    contact_reason: str = ""
    contact_done: bool = False
    advisor_notice: str = ""
    # J7: the number not confirmed for a year.
    stale_later_allowed: bool = True
    code_error: str = ""
    _stale_dismissed: bool = False

    @rx.var
    def reason_key(self) -> str:
        """The i18n key describing the contact reason."""
        return self.contact_reason if self.contact_reason.startswith("ineligible.") else f"reason.{self.contact_reason}"

    @rx.var
    def step(self) -> int:
        return {"number": 1, "confirm": 2, "wait": 3, "approval": 3, "outcome": 4}.get(self.screen, 0)

    def _reset_flow(self) -> None:
        self.screen = "overview"
        self.number_input = self.number_error = self.new_national = self._new_e164 = ""
        self.request_id = self.outcome = ""
        self.expires_at_ms = 0
        self.region = "FR"
        self.contact_reason = self.code_error = self.advisor_notice = ""
        self.contact_done = False

    def _land(self, principal: Principal) -> None:
        """The first screen after login: the stale-number prompt before anything else (J7)."""
        self._reset_flow()
        self._load_overview(principal.id)
        must, later_allowed = stale.prompt(principal.id, now=runtime.now())
        if must and not self._stale_dismissed:
            self.stale_later_allowed = later_allowed
            self.screen = "stale"

    def _load_overview(self, customer_id: int) -> None:
        view = customers.overview(customer_id, now=runtime.now())
        self.first_name, self.last_name = view.first_name, view.last_name
        self.masked, self.masked_first, self.masked_last_two = view.masked, view.masked_first, view.masked_last_two
        self.eligible, self.reasons = view.eligible, list(view.reasons)
        self.cooling_off_until = view.cooling_off_until.strftime("%d/%m/%Y") if view.cooling_off_until else ""
        self.agency_name, self.agency_phone = view.agency_name, view.agency_phone
        self.agency_hours_fr, self.agency_hours_en = view.agency_hours_fr, view.agency_hours_en

    def _active(self) -> Principal | None:
        """The principal, or None; ends the flow after the inactivity timeout (§5.3)."""
        principal = self._principal()  # type: ignore[attr-defined]
        if principal is None:
            return None
        now = runtime.now().timestamp()
        idle = DEFAULT_POLICY.flow_inactivity_timeout.total_seconds()
        if self.screen in ("number", "confirm") and self._last_activity and now - self._last_activity > idle:
            self._reset_flow()
            self._load_overview(principal.id)
            self.outcome, self.outcome_kind = "flow.timeout", "warning"
            self.screen = "outcome"
            self._last_activity = now
            return None
        self._last_activity = now
        return principal

    @rx.event
    def start_change(self):  # type: ignore[no-untyped-def]
        principal = self._active()
        if principal is None:
            return self._refused()  # type: ignore[attr-defined]
        self._begin_change(principal)
        return focus_title()

    def _begin_change(self, principal: Principal) -> None:
        """Step 2, for an eligible customer (eligibility is checked again at every step)."""
        self._load_overview(principal.id)
        self._reset_flow()
        self.screen = "number" if self.eligible else "overview"

    @rx.event
    def set_region(self, value: str) -> None:
        if value in REGIONS:
            self.region = value

    @rx.event
    def submit_number(self, form: dict | None = None):  # type: ignore[no-untyped-def]
        principal = self._active()
        if principal is None:
            return self._refused()  # type: ignore[attr-defined]
        raw = str((form if isinstance(form, dict) else {}).get("number", ""))[:40]
        self.number_input = format_as_you_type(raw, self.region)
        try:
            number = change.check_new_number(principal.id, raw, self.region, actor=self._actor(principal), now=runtime.now())
        except NumberRejected as rejected:
            self.number_error = f"number.{rejected.problem.value}"
            runtime.push_customer(principal.id, skip_token=self.router.session.client_token)  # the advisor's timeline
            return focus_errors()
        except ChangeError as refused:
            self.number_error = refused.code
            return focus_errors()
        self.number_error = ""
        self._new_e164, self.new_national = number.e164, number.national
        self.screen = "confirm"
        return focus_title()

    @rx.event
    def edit_number(self):  # type: ignore[no-untyped-def]
        if self._active() is None:
            return self._refused()  # type: ignore[attr-defined]
        self.screen = "number"
        return focus_title()

    @rx.event
    def cancel_flow(self):  # type: ignore[no-untyped-def]
        principal = self._active()
        self._reset_flow()
        if principal is not None:
            self._load_overview(principal.id)
        return focus_title()

    def _request_created(self, principal: Principal) -> None:  # web: wait; app: approve here
        pass

    @rx.event
    def confirm(self):  # type: ignore[no-untyped-def]
        principal = self._active()
        if principal is None:
            return self._refused()  # type: ignore[attr-defined]
        if not self._new_e164:
            return focus_title()
        try:
            view = change.start_request(
                principal.id, self._new_e164, channel=Channel(self.channel_name),  # type: ignore[attr-defined]
                actor=self._actor(principal), now=runtime.now(), session_id=principal.session_id,
            )
        except ChangeError as refused:
            self.number_error = refused.code
            self.screen = "number"
            return focus_errors()
        self.request_id = view.id
        self.expires_at_ms = int(view.expires_at.timestamp() * 1000)
        runtime.push_customer(principal.id, skip_token=self.router.session.client_token)
        self._request_created(principal)
        return [focus_title(), type(self).watch_expiry]

    def _show_outcome(self, status: str, principal: Principal) -> None:
        key, kind = OUTCOMES.get(status, ("error.generic", "error"))
        self.outcome, self.outcome_kind = key, kind
        self.screen = "outcome"
        self._load_overview(principal.id)

    def _refresh_request(self, principal: Principal) -> bool:
        """Reload the request shown; True when the screen changed."""
        if not self.request_id or self.screen not in ("wait", "outcome", "approval"):
            return False
        try:
            view = change.request_status(principal.id, self.request_id, now=runtime.now())
        except ChangeError:
            return False
        if view.status == Status.PENDING_APPROVAL.value:
            return False
        if self.screen == "outcome" and self.outcome == OUTCOMES.get(view.status, ("",))[0]:
            return False
        self._show_outcome(view.status, principal)
        return True

    @rx.event(background=True)
    async def watch_expiry(self):  # type: ignore[no-untyped-def]
        """Show « expired » by itself when the 5 minutes are over (for a logged-in tab that waits only)."""
        async with self:
            if self._principal(touch=False) is None or not self.request_id:  # type: ignore[attr-defined]
                return
            request_id, until = self.request_id, min(self.expires_at_ms / 1000, runtime.now().timestamp() + 600)
        await asyncio.sleep(max(0.0, until - runtime.now().timestamp()) + 0.5)
        async with self:
            principal = self._principal(touch=False)  # type: ignore[attr-defined]
            if self.request_id == request_id and principal is not None:
                self._refresh_request(principal)

    @rx.event
    def back_to_overview(self):  # type: ignore[no-untyped-def]
        principal = self._active()
        self._reset_flow()
        if principal is not None:
            self._load_overview(principal.id)
        return focus_title()

    @rx.event
    def activation_help(self):  # type: ignore[no-untyped-def]
        """J3, first way out: how to activate Sécur'Pass on the new smartphone."""
        if self._principal() is None:  # type: ignore[attr-defined]
            return self._refused()  # type: ignore[attr-defined]
        self.screen = "activation_help"
        return focus_title()

    # --- J6: the advisor -------------------------------------------------------------------

    @rx.event
    def show_advisor(self, reason: str):  # type: ignore[no-untyped-def]
        """J6, reached from every dead end, with the reason passed on to the advisor."""
        principal = self._principal()  # type: ignore[attr-defined]
        if principal is None:
            return self._refused()  # type: ignore[attr-defined]
        self._show_advisor(principal, str(reason)[:60])
        return focus_title()

    @rx.event
    def show_advisor_for_eligibility(self):  # type: ignore[no-untyped-def]
        principal = self._principal()  # type: ignore[attr-defined]
        if principal is None:
            return self._refused()  # type: ignore[attr-defined]
        self._show_advisor(principal, f"ineligible.{self.reasons[0]}" if self.reasons else "other")
        return focus_title()

    def _show_advisor(self, principal: Principal, reason: str) -> None:
        self.advisor_name = contact.advisor_of(principal.id).advisor_name
        self.contact_reason = reason if reason in contact.REASONS else "other"
        self.contact_done = False
        self.advisor_notice = ""
        self.screen = "advisor"

    @rx.event
    def request_callback(self):  # type: ignore[no-untyped-def]
        principal = self._principal()  # type: ignore[attr-defined]
        if principal is None:
            return self._refused()  # type: ignore[attr-defined]
        contact.request_callback(principal.id, self.contact_reason, channel=self.channel_name,  # type: ignore[attr-defined]
                                 actor=self._actor(principal), now=runtime.now())  # type: ignore[attr-defined]
        self.contact_done = True
        runtime.push_customer(principal.id, skip_token=self.router.session.client_token)
        return None

    # --- J7: is the number still right? -----------------------------------------------------

    def _stale_action(self, action) -> Principal | None:  # type: ignore[no-untyped-def]
        principal = self._principal()  # type: ignore[attr-defined]
        if principal is None:
            return None
        try:
            action(principal)
        except StaleError as error:
            self.code_error = error.code
            return None
        self.code_error = ""
        return principal

    @rx.event
    def stale_yes(self):  # type: ignore[no-untyped-def]
        """« Oui, c'est mon numéro »: an SMS code is sent to it."""
        if self._principal() is None:  # type: ignore[attr-defined]
            return self._refused()  # type: ignore[attr-defined]
        done = self._stale_action(lambda p: stale.send_confirmation_code(p.id, actor=self._actor(p), now=runtime.now()))  # type: ignore[attr-defined]
        if done is not None:
            runtime.wake_dispatcher()
            self.screen = "stale_code"
            return focus_title()
        return focus_errors()

    @rx.event
    def stale_confirm(self, form: dict):  # type: ignore[no-untyped-def]
        if self._principal() is None:  # type: ignore[attr-defined]
            return self._refused()  # type: ignore[attr-defined]
        code = str(form.get("code", "") if isinstance(form, dict) else "")[:20]
        done = self._stale_action(lambda p: stale.confirm(p.id, code, actor=self._actor(p), now=runtime.now()))  # type: ignore[attr-defined]
        if done is None:
            return focus_errors()
        self._stale_dismissed = True
        self._load_overview(done.id)
        self.outcome, self.screen = "stale.done", "overview"
        return focus_title()

    @rx.event
    def stale_later(self):  # type: ignore[no-untyped-def]
        if self._principal() is None:  # type: ignore[attr-defined]
            return self._refused()  # type: ignore[attr-defined]
        done = self._stale_action(lambda p: stale.later(p.id, actor=self._actor(p), now=runtime.now()))  # type: ignore[attr-defined]
        if done is None:
            self.stale_later_allowed = False
            return focus_errors()
        self._stale_dismissed = True
        self.screen = "overview"
        return focus_title()

    @rx.event
    def stale_change(self):  # type: ignore[no-untyped-def]
        """« Non, je le modifie »: straight to the change (J1/J2)."""
        principal = self._active()
        if principal is None:
            return self._refused()  # type: ignore[attr-defined]
        self._stale_dismissed = True
        self._begin_change(principal)
        return focus_title()
