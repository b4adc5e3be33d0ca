"""The mobile app's state (J2, J4, J5): this phone, login on it, Sécur'Pass activation and approvals.

Outside demo mode the app's first start makes this phone's key and registers it as a new phone; in demo
mode the picker lets the browser be a persona's demo phone instead (secure_phone.services.devices).
Codes typed on the phone (the Sécur'Pass code, the activation's SMS code and new code) wait for the
browser's signature in :func:`runtime.hold`, never in this state (which is pickled to disk or Redis).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import secrets

import reflex as rx

from secure_phone.domain.change_request import RefusalReason, Status
from secure_phone.domain.securpass import Rejection, is_valid_code_format, login_text
from secure_phone.services import activation, change, devices
from secure_phone.services.audit import Actor
from secure_phone.services.auth import DeviceProof, Principal
from secure_phone.services.customers import local_time
from secure_phone.services.devices import NEW_PHONE
from secure_phone.services.inputs import CODE_LIMIT, IDENTIFIER_LIMIT, PASSWORD_LIMIT, REASON_LIMIT
from secure_phone.services.unit_of_work import Refused
from secure_phone.settings import demo_mode
from secure_phone.ui import binding, runtime
from secure_phone.ui.components import focus_errors, focus_title
from secure_phone.ui.i18n import LangState
from secure_phone.ui.screens import Screen
from secure_phone.ui.session import Answer, requires_session
from secure_phone.ui.states.calls import CallStatus
from secure_phone.ui.states.customer import ChangeFlow, form_field


def securpass_call(expression: str) -> str:
    """JavaScript calling the device module once it is loaded; always resolves to an object."""
    return (
        "(async () => { for (let i = 0; i < 100 && !window.SecurPass; i++) await new Promise(r => setTimeout(r, 50));"
        f" return window.SecurPass ? {expression} : {{ok: false, error: 'not loaded'}}; }})()"
    )


def signature_of(result: object) -> str:
    """The signature a ``SecurPass.sign*`` call answered with (empty when it failed or was forged)."""
    return str(result.get("signature", "")) if isinstance(result, dict) and result.get("ok") else ""


GONE = frozenset({Rejection.NOT_PENDING.value, Rejection.EXPIRED.value, Rejection.SUPERSEDED.value,
                  Rejection.NOT_FOUND.value})
"""Approval refusals that mean the request is no longer there to approve."""

REFUSAL_REASONS = frozenset(r.value for r in RefusalReason)

KEPT_SCREENS = frozenset({Screen.NUMBER, Screen.CONFIRM, Screen.OUTCOME, Screen.ADVISOR, Screen.STALE,
                          Screen.STALE_CODE})
"""Screens a reload or a push leaves on screen (the others go back to the app's home)."""


DEVICE_STORAGE_KEY = "sp_device"
"""The localStorage item holding this browser's phone (``AppState.device_id``); the page reads it too."""

DEMO = demo_mode()
"""Demo mode, as the pages were built (the picker exists only then; every handler checks again)."""


@dataclasses.dataclass
class PhoneChoiceView:
    value: str
    label: str
    holder: str = ""


@runtime.pushable
@binding.guard_hydration(frozenset({"channel_name", "phone_choices"}))  # nothing personal to a foreign socket
class AppState(ChangeFlow, CallStatus, rx.State):
    channel_name: str = "app"

    # The phone this browser is: its id in local storage, its key in IndexedDB.
    device_id: str = rx.LocalStorage("", name=DEVICE_STORAGE_KEY, sync=True)
    device_label: str = ""
    device_holder: str = ""  # the enrolled holder's name: the page says whose phone it is, in its language
    device_enrolled: bool = False
    device_checked: bool = False
    device_mine: bool = False  # the logged-in customer's enrolled phone is the one in hand
    # The demo picker (demo mode only): the seeded personas' phones and « Nouveau smartphone », never the
    # other customers'. Its default is the freshly seeded bank's, so the page draws it before the server
    # answers; ``load`` corrects it only if the database differs (a persona moved to a new phone).
    phone_choices: list[PhoneChoiceView] = (
        [PhoneChoiceView(value=c.value, label=c.label, holder=c.holder) for c in devices.SEEDED_PHONES] if DEMO else []
    )
    picker_error: str = ""
    _picking: str = ""

    # The Sécur'Pass approval on screen (J5). The code typed is never kept in a browser var.
    approval_request_id: str = ""
    approval_text: str = ""
    approval_new_number: str = ""
    approval_requested_at: str = ""
    approval_expires_ms: int = 0
    approval_error: str = ""
    refusing: bool = False
    approval_done: str = ""
    _refusal: str = ""

    # J4: the text this new phone signs to activate Sécur'Pass (not secret: it names the phone and the code
    # sent, never the code).
    activation_challenge: str = ""

    _lang: str = "fr"  # the language of the approval text on screen
    # The login this phone signs (not secret: a nonce and the phone's id); the proof, for the login call only.
    login_challenge: str = ""
    _login_nonce: str = ""
    _new_phone_check: bool = False  # J4: the operator's check of the landing is due (check_new_phone)

    # --- the phone ------------------------------------------------------------------------

    @rx.event
    async def load(self) -> Answer:
        """On load of /app: which phone is this, is someone logged in on it."""
        await self._sync_lang()
        view = devices.device_view(runtime.uow(), self.device_id)
        self.device_checked = True
        if view is None:
            self.device_label, self.device_holder, self.device_enrolled = "", "", False
            if self.logged_in:
                self._do_logout()
            if demo_mode():
                self._refresh_choices()
                return None
            # The app's first start on this phone: make its key and register it (no picker).
            self._picking = NEW_PHONE
            return rx.call_script(securpass_call("window.SecurPass.createKey()"), callback=AppState.phone_key_made)
        self.device_label, self.device_holder, self.device_enrolled = view.label, view.holder, view.enrolled
        principal = self._principal()
        if principal is None:
            return self._rejoin()
        self._home(principal)
        return self._operator_check_due() or None

    def _refresh_choices(self) -> None:
        choices = [PhoneChoiceView(value=c.value, label=c.label, holder=c.holder)
                   for c in devices.demo_phones(runtime.uow())]
        if choices != self.phone_choices:  # no delta when the picker already on screen is right
            self.phone_choices = choices

    @rx.event
    def pick_phone(self, choice: str) -> Answer:
        """Demo picker: this browser becomes the chosen phone (demo mode only)."""
        if not demo_mode() or self.logged_in:
            return None
        self._picking = str(choice)[:100]
        self.picker_error = ""
        return rx.call_script(securpass_call("window.SecurPass.createKey()"), callback=AppState.phone_key_made)

    @rx.event
    def phone_key_made(self, result: dict) -> Answer:
        """The browser made this phone's key: register its public half (a new phone, or a demo phone)."""
        choice, self._picking = self._picking, ""
        if not choice or self.logged_in:
            return None
        if not isinstance(result, dict) or not result.get("ok"):
            self.picker_error = "picker.unsupported"
            return focus_errors()
        actor = runtime.actor(self, "device", None, "app")
        try:
            if demo_mode():
                view = devices.pick_up_phone(runtime.uow(), choice, result.get("jwk"), actor=actor)
            elif choice == NEW_PHONE:
                view = devices.register_new_phone(runtime.uow(), result.get("jwk"), actor=actor)
            else:
                return None
        except Refused as refused:
            self.picker_error = refused.code
            return focus_errors()
        self.device_id = view.id
        self.device_label, self.device_holder, self.device_enrolled = view.label, view.holder, view.enrolled
        # The phone is known now, whether or not ``load`` has answered on this state yet (a click on the
        # prerendered picker can come first): the page leaves its first screen for the login form.
        self.device_checked = True
        return focus_title()

    @rx.event
    def change_phone(self) -> Answer:
        """« Changer de smartphone » (demo mode only): forget this browser's key and phone."""
        if not demo_mode():
            return None
        if self.logged_in:
            self._do_logout()
        self.device_id = ""
        self.device_label, self.device_holder, self.device_enrolled = "", "", False
        self._refresh_choices()
        return [rx.call_script(securpass_call("window.SecurPass.forget()")), focus_title()]

    def _device_for_login(self) -> str | None:
        return self.device_id or None

    @rx.event
    async def app_login(self, form: dict) -> Answer:
        """« Se connecter » in the app: this phone signs the login (unseen) so that the session is the phone's;
        the credentials wait for the signature in memory (never in this state)."""
        await self._sync_lang()
        runtime.hold(self, "login", (form_field(form, "identifier", IDENTIFIER_LIMIT),
                                     form_field(form, "password", PASSWORD_LIMIT)))
        self._login_nonce = secrets.token_urlsafe(16)
        self.login_challenge = login_text(device_id=self.device_id[:100] or "-", nonce=self._login_nonce) \
            if self.device_id.isprintable() else ""
        return rx.call_script(securpass_call(f"window.SecurPass.signText({json.dumps(self.login_challenge)})"),
                              callback=AppState.app_login_signed)

    @rx.event
    async def app_login_signed(self, result: dict) -> Answer:
        held = runtime.take(self, "login")
        nonce, self._login_nonce, self.login_challenge = self._login_nonce, "", ""
        if not isinstance(held, tuple) or self.logged_in:
            return focus_title()
        identifier, password = held
        signature = signature_of(result)
        proof = DeviceProof(nonce, signature) if nonce and signature else None
        bind_cookie = await self._do_login({"identifier": identifier, "password": password}, proof)
        return [bind_cookie, focus_title(), *self._operator_check_due()] if bind_cookie else focus_errors()

    # --- after login -----------------------------------------------------------------------

    def _after_login(self, principal: Principal) -> None:
        self._stale_dismissed = False
        self._home(principal, landing=True)

    def _resumed(self, principal: Principal) -> Answer:
        self._home(principal)
        return [focus_title(), *self._operator_check_due()]

    def _operator_check_due(self) -> list:
        """The J4 operator check :meth:`_home` left to :meth:`check_new_phone` (off the event loop), if any."""
        return [AppState.check_new_phone] if self._new_phone_check else []

    @rx.event
    @requires_session
    async def check_new_phone(self, principal: Principal) -> Answer:
        """J4, right after the landing's local rules: is the SIM of the number the code goes to a new one (§12.4)?
        Asked off the event loop; only when :meth:`_home` found it due (a forged call asks nothing)."""
        if not self._new_phone_check:
            return None
        self._new_phone_check = False
        refusal = await runtime.operator_call(activation.new_phone_operator_check, runtime.uow(), principal.id,
                                              actor=self._device_actor(principal))
        if refusal is None or self.screen != Screen.ACTIVATION:
            return None
        if not self._stopped_by_operator(principal, refusal):
            self._reset_flow()
            self._show_advisor(principal, "securpass_move_refused")
            self.advisor_notice = refusal
        return focus_title()

    def _home(self, principal: Principal, landing: bool = False) -> None:
        self._load_call(principal)  # §12.5: is the bank calling, whatever the screen
        # The session's phone; when the login refused this browser's phone (another customer's), that phone
        # as it is, to say so (« Sécur'Pass n'est pas activé sur ce smartphone »).
        view = devices.device_view(runtime.uow(), principal.device_id) or devices.device_view(runtime.uow(),
                                                                                              self.device_id)
        self.device_enrolled = view is not None and view.enrolled
        self.device_mine = self.device_enrolled and view is not None and view.customer_id == principal.id
        if not self.device_mine:
            # J4: first connection on a phone that is not this customer's Sécur'Pass phone.
            self._load_overview(principal.id)
            if not self.device_enrolled and (landing or self.screen == Screen.ACTIVATION):
                refusal = activation.on_new_phone(runtime.uow(), principal.id, principal.device_id,
                                                  actor=self._device_actor(principal), ask_operator=False)
                if refusal is not None and not self._stopped_by_operator(principal, refusal):
                    self._reset_flow()
                    self._show_advisor(principal, "securpass_move_refused")
                    self.advisor_notice = refusal
                if refusal is not None:
                    return
                self._new_phone_check = True  # the operator's part, off the event loop: check_new_phone
            if landing or self.screen not in (Screen.ACTIVATION_CODE, Screen.ADVISOR):
                self._reset_flow()
                self._show(Screen.ACTIVATION)
            return
        if landing or self.screen not in KEPT_SCREENS:
            self._land(principal)
        if self.screen != Screen.STALE:
            self._load_pending(principal, self._lang)

    def _reset_flow(self) -> None:
        super()._reset_flow()
        self.activation_challenge = ""

    def _device_actor(self, principal: Principal) -> Actor:
        return runtime.actor(self, "device", principal.device_id, "app")

    def _clear_approval(self) -> None:
        self.approval_request_id = self.approval_text = self.approval_new_number = ""
        self.approval_requested_at = self.approval_error = ""
        self.approval_expires_ms = 0
        self.refusing = False
        self._refusal = ""

    def _load_pending(self, principal: Principal, lang: str) -> None:
        """Show the pending Sécur'Pass request, if this phone is the customer's enrolled one.

        ``lang`` is the language of the text shown, hence signed: approvals are checked in it.
        """
        pending = change.pending_approval(runtime.uow(), principal.id, principal.device_id, lang=lang)
        if pending is None:
            if self.screen == Screen.APPROVAL:
                self._show(Screen.OVERVIEW)
            self._clear_approval()
            return
        if pending.request_id != self.approval_request_id:
            self.approval_error = ""
            self.refusing = False
        self.approval_request_id = pending.request_id
        self.approval_text = pending.text
        self.approval_new_number = pending.new_national
        self.approval_requested_at = local_time(pending.requested_at, lang)
        self.approval_expires_ms = int(pending.expires_at.timestamp() * 1000)
        self._show(Screen.APPROVAL)

    def _pushed(self, principal: Principal) -> None:
        self._load_call(principal)
        if self.screen in (Screen.OVERVIEW, Screen.APPROVAL, Screen.OUTCOME):
            self._load_pending(principal, self._lang)
        if self.screen != Screen.APPROVAL:
            self._refresh_request(principal)

    async def _sync_lang(self) -> str:
        self._lang = (await self.get_state(LangState)).lang
        return self._lang

    def _request_created(self, principal: Principal) -> None:
        # J2: no step 4 — the approval opens directly in the app.
        self._load_pending(principal, self._lang)

    @rx.event
    @requires_session
    async def refresh_approval(self, principal: Principal) -> Answer:
        """Re-read the pending request (and the activation text) after the language changed: the text
        shown, hence signed, follows it."""
        lang = await self._sync_lang()
        self._load_pending(principal, lang)
        if self.screen == Screen.ACTIVATION_CODE:
            self.activation_challenge = activation.challenge(runtime.uow(), principal.id, principal.device_id,
                                                             lang=lang)
        return None

    # --- J4: Sécur'Pass on a new phone ------------------------------------------------------

    @rx.event
    @requires_session
    async def send_activation_code(self, principal: Principal) -> Answer:
        try:  # off the event loop: the operator is asked (§12.4)
            await runtime.operator_call(activation.send_activation_code, runtime.uow(), principal.id,
                                        principal.device_id, actor=self._device_actor(principal))
        except Refused as refused:
            if self._stopped_by_operator(principal, refused.code):  # a new SIM on the number the code goes to
                return focus_title()
            self.code_error = refused.code
            if refused.code in activation.REFUSAL_CODES.values():
                self._show_advisor(principal, "securpass_move_refused")
                self.advisor_notice = refused.code
                return focus_title()
            return focus_errors()
        self.code_error = ""
        self.activation_challenge = activation.challenge(runtime.uow(), principal.id, principal.device_id,
                                                         lang=self._lang)
        self._show(Screen.ACTIVATION_CODE)
        return focus_title()

    @rx.event
    @requires_session
    def activate(self, principal: Principal, form: dict) -> Answer:
        """« Activer »: the codes wait (in memory) for this phone's signature of the activation text."""
        pin = form_field(form, "pin", CODE_LIMIT).strip()[:8]
        if not is_valid_code_format(pin):
            self.code_error = "activation.code_format"
            return focus_errors()
        runtime.hold(self, "activation", (form_field(form, "code", CODE_LIMIT), pin))
        return rx.call_script(securpass_call("window.SecurPass.signShown('')"), callback=AppState.activation_signed)

    @rx.event
    def activation_signed(self, result: dict) -> Answer:
        """The phone signed the activation text: the codes held are spent, whatever happens next."""
        return self._activate_signed(runtime.take(self, "activation"), result)

    @requires_session
    def _activate_signed(self, principal: Principal, held: object, result: object) -> Answer:
        if not isinstance(held, tuple):
            return focus_title()
        sms_code, pin = held
        try:
            activation.activate(runtime.uow(), principal.id, principal.device_id, sms_code=sms_code,
                                securpass_code=pin, signature=signature_of(result), lang=self._lang,
                                actor=self._device_actor(principal), session_id=principal.session_id)
        except Refused as refused:
            self.code_error = refused.code
            return focus_errors()
        self.code_error = ""
        view = devices.device_view(runtime.uow(), principal.device_id)
        if view is not None:
            self.device_label, self.device_holder = view.label, view.holder
        self._home(principal, landing=True)
        self.outcome = "act.done"
        return focus_title()

    @rx.event
    @requires_session
    def not_my_number(self, principal: Principal) -> Answer:
        """« Ce n'est plus mon numéro »: nothing more online; the advisor, with that reason."""
        activation.not_my_number(runtime.uow(), principal.id, actor=self._actor(principal))
        self._show_advisor(principal, "not_my_number")
        return focus_title()

    # --- J5: approve or refuse --------------------------------------------------------------

    @rx.event
    @requires_session
    async def validate(self, principal: Principal, form: dict) -> Answer:
        code = form_field(form, "code", CODE_LIMIT).strip()[:8]
        if not is_valid_code_format(code):
            self.approval_error = "sp.code.format"
            return focus_errors()
        pending = change.pending_approval(runtime.uow(), principal.id, principal.device_id, lang=self._lang)
        if pending is None or pending.request_id != self.approval_request_id or pending.text != self.approval_text:
            self._load_pending(principal, self._lang)
            self.approval_error = "sp.gone" if pending is None else "sp.failed"
            return focus_errors()
        runtime.hold(self, "approval", (pending.request_id, code))
        return rx.call_script(securpass_call("window.SecurPass.signShown('')"), callback=AppState.approval_signed)

    @rx.event
    async def approval_signed(self, result: dict) -> Answer:
        """The phone signed the approval text: the code held is spent, whatever happens next."""
        return await self._approve_signed(runtime.take(self, "approval"), result)

    @requires_session
    async def _approve_signed(self, principal: Principal, held: object, result: object) -> Answer:
        if not isinstance(held, tuple):
            return focus_title()
        request_id, code = held
        # Off the event loop: the approval calls MySys (another system, over the network in real life)
        # before it answers, and a slow MySys must not stall every other customer's events.
        outcome = await asyncio.to_thread(
            change.approve, runtime.uow(), principal.id, principal.device_id, request_id, code=code,
            signature=signature_of(result), lang=self._lang, actor=self._device_actor(principal),
            session_id=principal.session_id,
        )
        if outcome.accepted:
            return self._finished(principal, outcome.status or Status.COMPLETED.value)
        if outcome.status == Status.BLOCKED.value:
            return self._finished(principal, Status.BLOCKED.value)
        if outcome.rejection in GONE:
            self._load_pending(principal, self._lang)
            self.approval_error = "sp.gone"
            if self.screen != Screen.APPROVAL:
                return self._finished(principal, outcome.status or Status.CANCELLED.value)
            return focus_errors()
        self._load_pending(principal, self._lang)
        self.approval_error = "sp.failed.last" if outcome.tries_left == 1 else "sp.failed"
        if self.screen != Screen.APPROVAL:
            return self._finished(principal, outcome.status or Status.FAILED.value)
        return focus_errors()

    def _finished(self, principal: Principal, status: str) -> Answer:
        self.request_id = self.approval_request_id or self.request_id
        self._clear_approval()
        self._show_outcome(status, principal)
        return focus_title()

    @rx.event
    @requires_session
    def start_refusal(self, principal: Principal) -> Answer:
        self.refusing = True
        self.approval_error = ""
        return focus_title()

    @rx.event
    @requires_session
    def stop_refusal(self, principal: Principal) -> Answer:
        self.refusing = False
        return focus_title()

    @rx.event
    @requires_session
    def refuse(self, principal: Principal, form: dict) -> Answer:
        reason = form_field(form, "reason", REASON_LIMIT)
        if reason not in REFUSAL_REASONS:
            self.approval_error = "sp.refuse.title"
            return focus_errors()
        self._refusal = reason
        return rx.call_script(
            securpass_call(f"window.SecurPass.signShown({json.dumps(chr(10) + reason)})"),
            callback=AppState.refusal_signed,
        )

    @rx.event
    def refusal_signed(self, result: dict) -> Answer:
        """The phone signed the refusal: the reason chosen is spent, whatever happens next."""
        reason, self._refusal = self._refusal, ""
        return self._refuse_signed(reason, result)

    @requires_session
    def _refuse_signed(self, principal: Principal, reason: str, result: object) -> Answer:
        if not reason:
            return focus_title()
        # After « not me », the session that asked is ended: its tab follows (it logs out, saying why).
        outcome = change.refuse(
            runtime.uow(), principal.id, principal.device_id, self.approval_request_id, reason=RefusalReason(reason),
            signature=signature_of(result), lang=self._lang, actor=self._device_actor(principal),
            session_id=principal.session_id,
        )
        if not outcome.accepted:
            self._load_pending(principal, self._lang)
            self.approval_error = "sp.gone" if outcome.rejection == Rejection.NOT_PENDING.value else "sp.failed"
            return focus_errors()
        self._clear_approval()
        self._load_overview(principal.id)
        self.approval_done = f"sp.refused.{reason}"
        self._show(Screen.REFUSED)
        return focus_title()

    @rx.event
    @requires_session
    def refused_seen(self, principal: Principal) -> Answer:
        self.approval_done = ""
        self._show(Screen.OVERVIEW)
        return focus_title()
