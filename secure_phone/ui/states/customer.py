"""Customer states shared by the web area and the app: the login session and the change flow.

Both are mixins: the web page and the app each get their own copy (``WebState``, ``AppState``), with their
own server-side session. Nothing secret or complete about the current number is held in a browser-visible
var: the session's reference and the new number's E.164 are backend-only (underscore) vars; the current
number is only ever sent masked. Every handler that acts is wrapped in :func:`requires_session`.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import reflex as rx
from reflex_base.event import EventSpec

from secure_phone.domain.change_request import Channel, Status
from secure_phone.domain.phone import format_as_you_type, selectable_regions
from secure_phone.domain.policy import DEFAULT_POLICY
from secure_phone.i18n import MESSAGES
from secure_phone.services import auth, change, contact, customers, operator, stale
from secure_phone.services.auth import DeviceProof, Principal
from secure_phone.services.inputs import CODE_LIMIT, IDENTIFIER_LIMIT, NUMBER_LIMIT, PASSWORD_LIMIT, REASON_LIMIT
from secure_phone.services.unit_of_work import Refused
from secure_phone.ui import runtime
from secure_phone.ui.components import PROOF_ON, focus_errors, focus_title
from secure_phone.ui.screens import FLOW, Screen
from secure_phone.ui.session import Answer, SessionMixin, requires_session

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

STEPS = ({Screen.NUMBER: 1, Screen.CONFIRM: 2, Screen.PROOF: 3, Screen.WAIT: 4, Screen.APPROVAL: 4, Screen.OUTCOME: 5}
         if PROOF_ON else {Screen.NUMBER: 1, Screen.CONFIRM: 2, Screen.WAIT: 3, Screen.APPROVAL: 3, Screen.OUTCOME: 4})

PROOF_ENDS = {"sms.too_many_tries": "outcome.proof.failed", "sp.gone": "outcome.proof.gone"}
"""A refused proof that ends the request: the outcome shown (any other refusal: try again on the same screen)."""


def form_field(form: object, name: str, limit: int) -> str:
    """One field of a submitted form, as text of at most ``limit`` characters (a forged form is an empty one)."""
    return str(form.get(name, "") if isinstance(form, dict) else "")[:limit]


class CustomerSession(SessionMixin, mixin=True):
    """A customer's login on one channel (``channel_name``: web or app)."""

    first_name: str = ""
    last_name: str = ""

    def _device_for_login(self) -> str | None:  # the app passes its phone (with the proof of its key)
        return None

    def _after_login(self, principal: Principal) -> None:  # loads the first screen
        pass

    def _clear_screens(self) -> None:
        self.first_name = self.last_name = ""
        self._reset_flow()

    def _reset_flow(self) -> None:
        pass

    async def _do_login(self, form: object, device_proof: DeviceProof | None = None) -> EventSpec | None:
        """Open a session from the login form; the cookie-binding script, or None (``login_error`` set) when
        refused. The password is checked on the password-check threads: argon2 is slow on purpose and must
        not stall the other clients' events."""
        try:
            opened = await runtime.password_check(
                auth.login_customer, runtime.uow(), form_field(form, "identifier", IDENTIFIER_LIMIT),
                form_field(form, "password", PASSWORD_LIMIT), channel=self.channel_name, actor=self._actor(),
                device_id=self._device_for_login(), device_proof=device_proof, follower=self._follower(),
            )
        except Refused as refused:
            self.login_error = refused.code
            return None
        bind_cookie, principal = self._opened(opened, following=True)  # the login subscribed this tab
        self._after_login(principal)
        return bind_cookie

    @rx.event
    async def login(self, form: dict) -> Answer:
        bind_cookie = await self._do_login(form)
        return [bind_cookie, focus_title()] if bind_cookie else focus_errors()

    @rx.event
    def logout(self) -> Answer:
        self._do_logout()
        return focus_title()


class ChangeFlow(CustomerSession, mixin=True):
    """Steps 1–3 of J1/J2 (overview, new number, confirmation), the outcome, J3's help, J6 and J7."""

    screen: str = Screen.OVERVIEW.value
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
    _last_step: datetime | None = None  # the change flow's last step (§5.3: it ends after 5 minutes without one)

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
    # §12.3: the code sent to the new number (``new_national``); ``proof_notice``: a code was sent again.
    proof_notice: str = ""
    code_tries_left: int = 0

    @rx.var
    def reason_key(self) -> str:
        """The i18n key describing the contact reason."""
        return self.contact_reason if self.contact_reason.startswith("ineligible.") else f"reason.{self.contact_reason}"

    @rx.var
    def step(self) -> int:
        return STEPS.get(Screen(self.screen), 0) if self.screen in Screen._value2member_map_ else 0

    def _show(self, screen: Screen) -> None:
        self.screen = screen.value

    def _reset_flow(self) -> None:
        self._show(Screen.OVERVIEW)
        self.number_input = self.number_error = self.new_national = self._new_e164 = ""
        self.request_id = self.outcome = ""
        self.expires_at_ms = 0
        self.region = "FR"
        self.contact_reason = self.code_error = self.advisor_notice = self.proof_notice = ""
        self.code_tries_left = 0
        self.contact_done = False

    def _land(self, principal: Principal) -> None:
        """The first screen after login: the stale-number prompt before anything else (J7)."""
        self._reset_flow()
        view = self._load_overview(principal.id)  # the stale prompt read with it: one statement
        if view.stale_prompt and not self._stale_dismissed:
            self.stale_later_allowed = view.stale_later_allowed
            self._show(Screen.STALE)

    def _load_overview(self, customer_id: int) -> customers.Overview:
        view = customers.overview(runtime.uow(), customer_id)
        self.first_name, self.last_name = view.first_name, view.last_name
        self.masked, self.masked_first, self.masked_last_two = view.masked, view.masked_first, view.masked_last_two
        self.eligible, self.reasons = view.eligible, list(view.reasons)
        # One date for both languages (``format.date`` is the same in each): the screen is drawn before it knows which.
        self.cooling_off_until = view.cooling_off_until.strftime(MESSAGES["fr"]["format.date"]) \
            if view.cooling_off_until else ""
        self.agency_name, self.agency_phone = view.agency_name, view.agency_phone
        self.agency_hours_fr, self.agency_hours_en = view.agency_hours_fr, view.agency_hours_en
        return view

    def _timed_out(self, principal: Principal) -> bool:
        """§5.3: the change flow ends after its inactivity timeout (the server's clock, not the page's)."""
        uow = runtime.uow()
        last, self._last_step = self._last_step, uow.now
        if self.screen not in FLOW or not change.flow_timed_out(uow, last):
            return False
        self._reset_flow()
        self._load_overview(principal.id)
        self.outcome, self.outcome_kind = "flow.timeout", "warning"
        self._show(Screen.OUTCOME)
        return True

    @rx.event
    @requires_session
    def start_change(self, principal: Principal) -> Answer:
        if not self._timed_out(principal):
            self._begin_change(principal)
        return focus_title()

    def _begin_change(self, principal: Principal) -> None:
        """Step 2, for an eligible customer (eligibility is checked again at every step)."""
        self._load_overview(principal.id)
        self._reset_flow()
        self._show(Screen.NUMBER if self.eligible else Screen.OVERVIEW)

    @rx.event
    def set_region(self, value: str) -> None:
        if isinstance(value, str) and value in REGIONS:
            self.region = value

    @rx.event
    @requires_session
    def submit_number(self, principal: Principal, form: dict | None = None) -> Answer:
        if self._timed_out(principal):
            return focus_title()
        raw = form_field(form, "number", NUMBER_LIMIT)
        self.number_input = format_as_you_type(raw, self.region)
        try:
            number = change.check_new_number(runtime.uow(), principal.id, raw, self.region,
                                             actor=self._actor(principal))
        except Refused as refused:
            self.number_error = refused.code
            return focus_errors()
        self.number_error = ""
        self._new_e164, self.new_national = number.e164, number.national
        self._show(Screen.CONFIRM)
        return focus_title()

    @rx.event
    @requires_session
    def edit_number(self, principal: Principal) -> Answer:
        if not self._timed_out(principal):
            self._show(Screen.NUMBER)
        return focus_title()

    @rx.event
    def cancel_flow(self) -> Answer:
        """« Annuler » in steps 2–3: nothing was asked yet; back to « Mes coordonnées »."""
        principal = self._principal()
        self._reset_flow()
        if principal is not None:
            self._load_overview(principal.id)
        return focus_title()

    def _request_created(self, principal: Principal) -> None:  # web: wait; app: approve here
        pass

    @rx.event
    @requires_session
    async def confirm(self, principal: Principal) -> Answer:
        if self._timed_out(principal) or not self._new_e164:
            return focus_title()
        try:  # off the event loop: the operator is asked (§12.4), and a slow one must not stall the other tabs
            view = await runtime.operator_call(
                change.start_request, runtime.uow(), principal.id, self._new_e164, channel=Channel(self.channel_name),
                actor=self._actor(principal), session_id=principal.session_id,
            )
        except Refused as refused:
            if self._stopped_by_operator(principal, refused.code):
                return focus_title()
            self.number_error = refused.code
            self._show(Screen.NUMBER)
            return focus_errors()
        self.request_id = view.id
        self.expires_at_ms = int(view.expires_at.timestamp() * 1000)
        if view.status == Status.PENDING_PROOF.value:
            self.code_error, self.proof_notice, self.code_tries_left = "", "", 0
            self._show(Screen.PROOF)
        else:
            self._request_created(principal)
        return [focus_title(), type(self).watch_expiry]

    # --- §12.3: the code sent to the new number -------------------------------------------------

    @rx.event
    @requires_session
    def prove_number(self, principal: Principal, form: dict) -> Answer:
        """« Valider le code »: the code received on the new number; then on to the phone."""
        if self.screen != Screen.PROOF or not self.request_id:
            return focus_title()
        try:
            view = change.prove_new_number(runtime.uow(), principal.id, self.request_id,
                                           form_field(form, "code", CODE_LIMIT), actor=self._actor(principal))
        except Refused as refused:
            if refused.code in PROOF_ENDS or refused.code.startswith(("number.", "ineligible.")):
                self._show_outcome(Status.FAILED.value, principal)
                self.outcome = PROOF_ENDS.get(refused.code, refused.code)
                return focus_title()
            self.code_error, self.proof_notice = refused.code, ""
            self.code_tries_left = refused.tries_left or 0
            return focus_errors()
        self.code_error, self.proof_notice, self.code_tries_left = "", "", 0
        self.expires_at_ms = int(view.expires_at.timestamp() * 1000)
        self._request_created(principal)
        return [focus_title(), type(self).watch_expiry]

    @rx.event
    @requires_session
    def resend_proof(self, principal: Principal) -> Answer:
        """« Renvoyer le code »: a new code to the new number, the previous one dies."""
        if self.screen != Screen.PROOF or not self.request_id:
            return focus_title()
        try:
            view = change.resend_proof_code(runtime.uow(), principal.id, self.request_id,
                                            actor=self._actor(principal))
        except Refused as refused:
            if refused.code in PROOF_ENDS:
                self._show_outcome(Status.FAILED.value, principal)
                self.outcome = PROOF_ENDS[refused.code]
                return focus_title()
            self.code_error, self.proof_notice = refused.code, ""
            return focus_errors()
        self.code_error, self.proof_notice = "", "proof.resent"
        self.expires_at_ms = int(view.expires_at.timestamp() * 1000)
        return [focus_title(), type(self).watch_expiry]

    @rx.event
    @requires_session
    def cancel_request(self, principal: Principal) -> Answer:
        """« Annuler » while the code or the phone is awaited: the request dies at once."""
        if not self.request_id:
            return focus_title()
        try:
            view = change.cancel_request(runtime.uow(), principal.id, self.request_id, actor=self._actor(principal))
        except Refused:
            return focus_title()
        self._show_outcome(view.status, principal)
        return focus_title()

    def _show_outcome(self, status: str, principal: Principal) -> None:
        key, kind = OUTCOMES.get(status, ("error.generic", "error"))
        self.outcome, self.outcome_kind = key, kind
        self._show(Screen.OUTCOME)
        self._load_overview(principal.id)

    def _refresh_request(self, principal: Principal) -> bool:
        """Reload the request shown; True when the screen changed."""
        if not self.request_id or self.screen not in (Screen.PROOF, Screen.WAIT, Screen.OUTCOME, Screen.APPROVAL):
            return False
        try:
            view = change.request_status(runtime.uow(), principal.id, self.request_id)
        except Refused:
            return False
        if view.status in (Status.PENDING_APPROVAL.value, Status.PENDING_PROOF.value):
            return False
        if self.screen == Screen.PROOF and view.status == Status.EXPIRED.value:
            self._show_outcome(view.status, principal)
            self.outcome = "outcome.proof.expired"
            return True
        if self.screen == Screen.OUTCOME and (self.outcome == OUTCOMES.get(view.status, ("",))[0]
                                              or self.outcome.startswith("outcome.proof.")):
            return False
        self._show_outcome(view.status, principal)
        return True

    @rx.event(background=True)
    async def watch_expiry(self) -> Answer:
        """Show « expired » by itself when the 5 minutes are over (for a logged-in tab that waits only)."""
        async with self:
            if self._principal(touch=False) is None or not self.request_id:
                return None
            request_id, until = self.request_id, min(self.expires_at_ms / 1000, runtime.now().timestamp() + 600)
        await asyncio.sleep(max(0.0, until - runtime.now().timestamp()) + 0.5)
        async with self:
            principal = self._principal(touch=False)
            if self.request_id == request_id and principal is not None:
                self._refresh_request(principal)
        return None

    @rx.event
    def back_to_overview(self) -> Answer:
        principal = self._principal()
        self._reset_flow()
        if principal is not None:
            self._load_overview(principal.id)
        return focus_title()

    @rx.event
    @requires_session
    def activation_help(self, principal: Principal) -> Answer:
        """J3, first way out: how to activate Sécur'Pass on the new smartphone."""
        self._show(Screen.ACTIVATION_HELP)
        return focus_title()

    # --- J6: the advisor -------------------------------------------------------------------

    @rx.event
    @requires_session
    def show_advisor(self, principal: Principal, reason: str) -> Answer:
        """J6, reached from every dead end, with the reason passed on to the advisor."""
        self._show_advisor(principal, str(reason)[:REASON_LIMIT])
        return focus_title()

    @rx.event
    @requires_session
    def show_advisor_for_eligibility(self, principal: Principal) -> Answer:
        self._show_advisor(principal, f"ineligible.{self.reasons[0]}" if self.reasons else "other")
        return focus_title()

    def _stopped_by_operator(self, principal: Principal, code: str) -> bool:
        """§12.4: the operator's signals stopped the online path — the advisor (J6), the reason shown and passed on."""
        reason = operator.CONTACT_REASONS.get(code)
        if reason is None:
            return False
        self._reset_flow()
        self._load_overview(principal.id)
        self._show_advisor(principal, reason)
        self.advisor_notice = code
        return True

    def _show_advisor(self, principal: Principal, reason: str) -> None:
        self.advisor_name = contact.advisor_of(runtime.uow(), principal.id).advisor_name
        self.contact_reason = reason if reason in contact.REASONS else "other"
        self.contact_done = False
        self.advisor_notice = ""
        self._show(Screen.ADVISOR)

    @rx.event
    @requires_session
    def request_callback(self, principal: Principal) -> Answer:
        contact.request_callback(runtime.uow(), principal.id, self.contact_reason, channel=self.channel_name,
                                 actor=self._actor(principal))
        self.contact_done = True
        return None

    # --- J7: is the number still right? -----------------------------------------------------

    @rx.event
    @requires_session
    async def stale_yes(self, principal: Principal) -> Answer:
        """« Oui, c'est mon numéro »: an SMS code is sent to it (once the operator said the number was not
        recycled: off the event loop)."""
        try:
            await runtime.operator_call(stale.send_confirmation_code, runtime.uow(), principal.id,
                                        actor=self._actor(principal))
        except Refused as refused:
            if self._stopped_by_operator(principal, refused.code):  # J7: a recycled number, or no answer
                self._stale_dismissed = True
                return focus_title()
            self.code_error = refused.code
            return focus_errors()
        self.code_error = ""
        self._show(Screen.STALE_CODE)
        return focus_title()

    @rx.event
    @requires_session
    def stale_confirm(self, principal: Principal, form: dict) -> Answer:
        try:
            stale.confirm(runtime.uow(), principal.id, form_field(form, "code", CODE_LIMIT),
                          actor=self._actor(principal))
        except Refused as refused:
            self.code_error = refused.code
            return focus_errors()
        self.code_error = ""
        self._stale_dismissed = True
        self._load_overview(principal.id)
        self.outcome = "stale.done"
        self._show(Screen.OVERVIEW)
        return focus_title()

    @rx.event
    @requires_session
    def stale_later(self, principal: Principal) -> Answer:
        try:
            stale.later(runtime.uow(), principal.id, actor=self._actor(principal))
        except Refused as refused:
            self.code_error = refused.code
            self.stale_later_allowed = False
            return focus_errors()
        self.code_error = ""
        self._stale_dismissed = True
        self._show(Screen.OVERVIEW)
        return focus_title()

    @rx.event
    @requires_session
    def stale_change(self, principal: Principal) -> Answer:
        """« Non, je le modifie »: straight to the change (J1/J2)."""
        self._stale_dismissed = True
        if not self._timed_out(principal):
            self._begin_change(principal)
        return focus_title()
