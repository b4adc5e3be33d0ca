"""The advisor back-office state (J8). Every handler that acts is wrapped in :func:`requires_session`; every
service call is limited to the advisor's agency. The session is bound to the browser as the customers' are
(secure_phone.ui.binding)."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

from secure_phone.domain.risk import CHECKS, RiskSignal
from secure_phone.services import advisor as svc
from secure_phone.services import calls, operator
from secure_phone.services.advisor import ContactView, CustomerRow, TimelineItem, ValidationView
from secure_phone.services.auth import Principal, login_advisor
from secure_phone.services.calls import ReportView
from secure_phone.services.inputs import (
    CODE_LIMIT,
    DOCUMENT_LIMIT,
    IDENTIFIER_LIMIT,
    NUMBER_LIMIT,
    PASSWORD_LIMIT,
    QUERY_LIMIT,
    REASON_LIMIT,
)
from secure_phone.services.operator import AnswerView
from secure_phone.services.unit_of_work import Refused
from secure_phone.ui import binding, runtime
from secure_phone.ui.components import focus_errors, focus_title
from secure_phone.ui.screens import AdvisorScreen
from secure_phone.ui.session import Answer, SessionMixin, requires_session
from secure_phone.ui.states.customer import REGIONS, form_field

CHANGE_RESULTS = {"completed": "adv.change.done", "pending_validation": "adv.change.pending",
                  "applying": "adv.change.applying", "pending_proof": "adv.change.proof"}
NOTE_LIMIT = 500


@runtime.pushable
@binding.guard_hydration()  # nothing of the last screen to a socket that is not the session's
class AdvisorState(SessionMixin, rx.State):
    principal_kind = "advisor"
    channel_name: str = "advisor"

    advisor_name: str = ""
    agency_name: str = ""

    screen: str = AdvisorScreen.HOME.value
    query: str = ""
    searched: bool = False
    results: list[CustomerRow] = []
    contacts: list[ContactView] = []
    validations: list[ValidationView] = []
    action_error: str = ""

    # The customer's sheet.
    identifier: str = ""
    name: str = ""
    masked: str = ""
    revealed: str = ""
    last_confirmed: str = ""
    securpass: str = ""
    device: str = ""
    cooling_off_until: str = ""
    frozen_since: str = ""
    live_sessions: int = 0
    changes: list[TimelineItem] = []
    timeline: list[TimelineItem] = []
    signals: list[str] = []
    checks: list[str] = []  # i18n keys of the checks the signals call for
    failed_notifications: int = 0
    _customer_id: int = 0

    # The in-branch change form, the in-branch operations, ending the customer's sessions.
    change_error: str = ""
    change_result: str = ""
    # §12.3 in branch: the change entered waits for the code the customer received on the new number.
    proof_number: str = ""
    proof_error: str = ""
    _proof_request: str = ""
    operation_error: str = ""
    operation_result: str = ""
    # §12.5 « Appel du client »: the call shown in the customer's app while it is open, and their reports.
    call_open: bool = False
    call_mine: bool = False  # this advisor's call: « Raccrocher »
    call_by: str = ""
    call_since: str = ""
    call_reported: bool = False  # the customer reported the call in progress
    call_reports: list[ReportView] = []
    call_error: str = ""

    # §12.4, the sheet's own section: the operator's answers, the check before a call-back, the demo control.
    operator_answers: list[AnswerView] = []
    callback_open: bool = False
    callback_checked: bool = False
    callback_forwarded: bool = False
    callback_unknown: bool = False
    callback_at: str = ""
    callback_operator: str = ""
    demo_signal_result: str = ""
    demo_signal_error: str = ""

    # --- the session ---------------------------------------------------------------------------

    def _followed(self, principal: Principal) -> int | None:
        return self._customer_id if self.screen == AdvisorScreen.SHEET and self._customer_id else None

    def _clear_screens(self) -> None:
        self.screen, self.revealed, self.identifier = AdvisorScreen.HOME.value, "", ""
        self._customer_id = 0

    def _resumed(self, principal: Principal) -> Answer:
        self._reload(principal)
        return focus_title()

    @rx.event
    async def login(self, form: dict) -> Answer:
        try:  # argon2 off the event loop: it must not stall the other clients' events
            opened = await runtime.password_check(
                login_advisor, runtime.uow(), form_field(form, "login", IDENTIFIER_LIMIT),
                form_field(form, "password", PASSWORD_LIMIT), actor=self._actor())
        except Refused as refused:
            self.login_error = refused.code
            return focus_errors()
        self.screen, self._customer_id = AdvisorScreen.HOME.value, 0
        bind_cookie, principal = self._opened(opened)
        view = svc.profile(runtime.uow(), principal.id)
        self.advisor_name, self.agency_name = view.name, view.agency_name
        self._home(principal)
        return [bind_cookie, focus_title()]

    @rx.event
    def logout(self) -> Answer:
        self._do_logout()
        return focus_title()

    @rx.event
    def load(self) -> Answer:
        principal = self._principal()
        if principal is None:
            return self._rejoin()
        self._reload(principal)
        return None

    def _reload(self, principal: Principal) -> None:
        if self.screen == AdvisorScreen.SHEET and self.identifier:
            self._load_sheet(principal)
        else:
            self._home(principal)

    def _home(self, principal: Principal) -> None:
        self.screen = AdvisorScreen.HOME.value
        self.revealed = ""
        self.contacts = svc.queue(runtime.uow(), principal.id)
        self.validations = svc.pending_validations(runtime.uow(), principal.id)

    def _pushed(self, principal: Principal) -> None:
        """The customer did something (another client): the open sheet follows, live."""
        if self.screen == AdvisorScreen.SHEET:
            self._load_sheet(principal)
        else:
            self._home(principal)

    # --- search and the customer's sheet ----------------------------------------------------------

    @rx.event
    @requires_session
    def search(self, principal: Principal, form: dict) -> Answer:
        self.query = form_field(form, "query", QUERY_LIMIT)
        self.results = svc.search(runtime.uow(), principal.id, self.query)
        self.searched = True
        return None

    @rx.event
    @requires_session
    async def open_sheet(self, principal: Principal, identifier: str) -> Answer:
        self.identifier = str(identifier)[:IDENTIFIER_LIMIT]
        self.revealed = self.change_error = self.change_result = self.operation_error = self.operation_result = ""
        self.proof_number = self.proof_error = self._proof_request = self.call_error = ""
        self.demo_signal_result = self.demo_signal_error = ""
        if not self._load_sheet(principal):
            return focus_errors()
        self.screen = AdvisorScreen.SHEET.value
        if self.callback_open:  # §12.4: before calling the customer back, the sheet checks call forwarding
            await self._check_forwarding(principal)
        self._follow(principal)
        return focus_title()

    def _load_sheet(self, principal: Principal) -> bool:
        try:
            sheet = svc.sheet(runtime.uow(), principal.id, self.identifier)
        except Refused as refused:
            self.action_error, self.screen = refused.code, AdvisorScreen.HOME.value
            return False
        self.name, self.masked, self.last_confirmed = sheet.name, sheet.masked, sheet.last_confirmed
        self.securpass, self.device, self.cooling_off_until = sheet.securpass, sheet.device, sheet.cooling_off_until
        self.frozen_since, self.live_sessions = sheet.frozen_since, sheet.live_sessions
        self.changes, self.timeline, self.signals = sheet.changes, sheet.timeline, sheet.signals
        self.checks = list(dict.fromkeys(c for signal in sheet.signals for c in CHECKS[RiskSignal(signal)]))
        self.failed_notifications = sheet.failed_notifications
        self._customer_id = sheet.customer_id
        self.action_error = ""
        self._load_calls(principal)
        self._load_operator(principal)
        return True

    @rx.event
    @requires_session
    def back(self, principal: Principal) -> Answer:
        self._home(principal)
        self._follow(principal)
        return focus_title()

    @rx.event
    @requires_session
    def reveal(self, principal: Principal) -> Answer:
        if self.screen == AdvisorScreen.SHEET:
            self.revealed = svc.reveal_number(runtime.uow(), principal.id, self.identifier,
                                              actor=self._actor(principal))
        return None

    # --- the call-back queue -----------------------------------------------------------------------

    @rx.event
    @requires_session
    def take(self, principal: Principal, contact_id: str) -> Answer:
        self._home_action(principal, lambda: svc.take(runtime.uow(), principal.id, str(contact_id)[:REASON_LIMIT],
                                                      actor=self._actor(principal)))
        return None

    @rx.event
    @requires_session
    def close(self, principal: Principal, form: dict) -> Answer:
        contact_id, note = form_field(form, "contact", REASON_LIMIT), form_field(form, "note", NOTE_LIMIT)
        self._home_action(principal, lambda: svc.close(runtime.uow(), principal.id, contact_id, note,
                                                       actor=self._actor(principal)))
        return None

    @rx.event
    @requires_session
    def validate(self, principal: Principal, request_id: str) -> Answer:
        """The second advisor's validation of a change of number."""
        self._home_action(principal, lambda: svc.validate_change(runtime.uow(), principal.id,
                                                                 str(request_id)[:REASON_LIMIT],
                                                                 actor=self._actor(principal)))
        return None

    @rx.event
    @requires_session
    def validate_operation(self, principal: Principal, operation_id: str) -> Answer:
        """The second advisor's validation of an unblock or of the clearing of a freeze."""
        self._home_action(principal, lambda: svc.validate_operation(runtime.uow(), principal.id,
                                                                    str(operation_id)[:REASON_LIMIT],
                                                                    actor=self._actor(principal)))
        return None

    def _home_action(self, principal: Principal, action: Callable[[], object]) -> None:
        try:
            action()
            self.action_error = ""
        except Refused as refused:
            self.action_error = refused.code
        self._home(principal)

    # --- on the sheet: in-branch change and operations ------------------------------------------------

    def _on_sheet(self) -> bool:
        return self.screen == AdvisorScreen.SHEET and bool(self.identifier)

    def _identity(self, form: object) -> dict:
        return {"document_type": form_field(form, "document_type", REASON_LIMIT),
                "document_number": form_field(form, "document_number", DOCUMENT_LIMIT),
                "in_branch": bool(form.get("in_branch")) if isinstance(form, dict) else False}

    @rx.event
    @requires_session
    async def change(self, principal: Principal, form: dict) -> Answer:
        """In-branch change, with the identity check recorded (and four eyes under a risk signal); off the event
        loop: the operator is asked (§12.4)."""
        if not self._on_sheet():
            return focus_title()
        region = form_field(form, "country", 4)
        try:
            result = await runtime.operator_call(
                svc.advisor_change, runtime.uow(), principal.id, self.identifier,
                raw_number=form_field(form, "number", NUMBER_LIMIT), region=region if region in REGIONS else "FR",
                actor=self._actor(principal), **self._identity(form),
            )
        except Refused as refused:
            self.change_error, self.change_result = refused.code, ""
            return focus_errors()
        self.change_error = ""
        self._change_done(result)
        self._load_sheet(principal)
        return None

    def _change_done(self, result: svc.AdvisorChangeResult) -> None:
        self.change_result = CHANGE_RESULTS.get(result.status, "outcome.failed")
        waiting = result.status == "pending_proof"
        self._proof_request = result.request_id if waiting else ""
        self.proof_number = result.new_national if waiting else ""
        self.proof_error = ""

    @rx.event
    @requires_session
    def prove_change(self, principal: Principal, form: dict) -> Answer:
        """The code the customer, in front of the advisor, received on the new number."""
        if not self._on_sheet() or not self._proof_request:
            return focus_title()
        try:
            result = svc.prove_advisor_change(runtime.uow(), principal.id, self._proof_request,
                                              form_field(form, "code", CODE_LIMIT), actor=self._actor(principal))
        except Refused as refused:
            self.proof_error = refused.code
            if refused.code in ("sms.too_many_tries", "sp.gone", "advisor.not_found", "number.unavailable"):
                self._proof_request = self.proof_number = ""
                self.change_result, self.change_error = "", refused.code
            self._load_sheet(principal)
            return focus_errors()
        self._change_done(result)
        self._load_sheet(principal)
        return None

    @rx.event
    @requires_session
    def resend_change_proof(self, principal: Principal) -> Answer:
        if not self._on_sheet() or not self._proof_request:
            return focus_title()
        try:
            svc.resend_advisor_proof(runtime.uow(), principal.id, self._proof_request, actor=self._actor(principal))
        except Refused as refused:
            self.proof_error = refused.code
            return focus_errors()
        self.proof_error, self.change_result = "", "adv.change.proof.resent"
        return None

    @rx.event
    @requires_session
    def operate(self, principal: Principal, form: dict) -> Answer:
        """In branch: unblock a blocked Sécur'Pass, or clear a « not me » freeze (identity checked; a second
        advisor validates under a risk signal)."""
        if not self._on_sheet():
            return focus_title()
        try:
            result = svc.request_operation(
                runtime.uow(), principal.id, self.identifier, kind=form_field(form, "kind", REASON_LIMIT),
                actor=self._actor(principal), **self._identity(form),
            )
        except Refused as refused:
            self.operation_error, self.operation_result = refused.code, ""
            return focus_errors()
        self.operation_error = ""
        self.operation_result = "adv.op.done" if result.status == "done" else "adv.op.pending"
        self._load_sheet(principal)
        return None

    @rx.event
    @requires_session
    def end_sessions(self, principal: Principal) -> Answer:
        """End every session of the customer (protective: immediate, audited)."""
        if not self._on_sheet():
            return focus_title()
        try:
            svc.end_customer_sessions(runtime.uow(), principal.id, self.identifier, actor=self._actor(principal))
        except Refused as refused:
            self.operation_error = refused.code
            return focus_errors()
        self.operation_error, self.operation_result = "", "adv.sessions.ended"
        self._load_sheet(principal)
        return None

    # --- §12.5 « Appel du client »: the call the customer's app shows -------------------------------------

    def _load_calls(self, principal: Principal) -> None:
        part = calls.sheet_calls(runtime.uow(), principal.id, self.identifier)
        call = part.call
        self.call_open, self.call_mine = call is not None, part.mine
        self.call_by, self.call_since = (call.advisor_name, call.since) if call else ("", "")
        self.call_reported = call is not None and call.reported
        self.call_reports = part.reports

    @rx.event
    @requires_session
    async def start_call(self, principal: Principal) -> Answer:
        """« Appeler le client »: until « Raccrocher », the customer's app says this advisor is calling; the sheet
        checks call forwarding on the number being called (§12.4), as before a call-back."""
        answer = self._call_action(principal, calls.start_call)
        if self.call_open and self.call_mine:
            await self._check_forwarding(principal)
        return answer

    @rx.event
    @requires_session
    def end_call(self, principal: Principal) -> Answer:
        """« Raccrocher »: the customer's app says again that nobody from the bank is calling."""
        return self._call_action(principal, calls.end_call)

    def _call_action(self, principal: Principal, action: Callable[..., object]) -> Answer:
        if not self._on_sheet():
            return focus_title()
        try:
            action(runtime.uow(), principal.id, self.identifier, actor=self._actor(principal))
        except Refused as refused:
            self.call_error = refused.code
            self._load_sheet(principal)
            return focus_errors()
        self.call_error = ""
        self._load_sheet(principal)
        return None

    # --- §12.4: the operator's signals on the sheet, the check before a call-back, the demo control ---------

    def _load_operator(self, principal: Principal) -> None:
        uow = runtime.uow()
        self.operator_answers = operator.sheet_answers(uow, principal.id, self.identifier)
        self.callback_open = operator.has_open_callback(uow, principal.id, self.identifier)
        self._show_callback(operator.latest_callback(uow, principal.id, self.identifier))

    def _show_callback(self, found: operator.CallbackCheck | None) -> None:
        self.callback_checked = found is not None
        self.callback_forwarded = bool(found and found.forwarded)
        self.callback_unknown = bool(found and found.unknown)
        self.callback_at, self.callback_operator = (found.at, found.operator) if found else ("", "")

    async def _check_forwarding(self, principal: Principal) -> None:
        try:  # off the event loop: an HTTP call to the operator
            found = await runtime.operator_call(operator.check_callback, runtime.uow(), principal.id, self.identifier,
                                                actor=self._actor(principal))
        except Refused as refused:
            self.action_error = refused.code
            return
        self._show_callback(found)
        self.operator_answers = operator.sheet_answers(runtime.uow(), principal.id, self.identifier)

    @rx.event
    @requires_session
    async def check_forwarding(self, principal: Principal) -> Answer:
        """« Vérifier le renvoi d'appel »: Call Forwarding Signal on the customer's number, before calling back."""
        if not self._on_sheet():
            return focus_title()
        await self._check_forwarding(principal)
        return None

    @rx.event
    @requires_session
    def demo_signal(self, principal: Principal, form: dict) -> Answer:
        """Demo mode only (§12.1): make the simulated operator report a SIM change or a forwarding on any number."""
        if not self._on_sheet():
            return focus_title()
        try:
            masked = operator.demo_set_signal(runtime.uow(), principal.id, form_field(form, "number", NUMBER_LIMIT),
                                              form_field(form, "signal", REASON_LIMIT), actor=self._actor(principal))
        except Refused as refused:
            self.demo_signal_error, self.demo_signal_result = refused.code, ""
            return focus_errors()
        self.demo_signal_error, self.demo_signal_result = "", masked
        return None
