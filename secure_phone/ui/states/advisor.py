"""The advisor back-office state (J8). Every handler checks the advisor session; every service call is
limited to the advisor's agency. The session is bound to the browser as the customers' are
(secure_phone.ui.binding)."""

from __future__ import annotations

import reflex as rx

from secure_phone.domain.risk import CHECKS, RiskSignal
from secure_phone.services import advisor as svc
from secure_phone.services import auth, live
from secure_phone.services.advisor import AdvisorError, ContactView, CustomerRow, TimelineItem, ValidationView
from secure_phone.services.auth import LoginError, Principal
from secure_phone.ui import binding, runtime
from secure_phone.ui.components import focus_errors, focus_title
from secure_phone.ui.states.customer import REGIONS


@runtime.pushable
@binding.guard_hydration()  # nothing of the last screen to a socket that is not the session's
class AdvisorState(rx.State):
    _session_id: str = ""
    _bound_sid: str = ""
    logged_in: bool = False
    login_error: str = ""
    advisor_name: str = ""
    agency_name: str = ""

    screen: str = "home"  # home | sheet
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
    operation_error: str = ""
    operation_result: str = ""

    def _actor(self, principal: Principal | None = None):  # type: ignore[no-untyped-def]
        return runtime.actor(self, "advisor", principal.id if principal else None, "advisor")

    def _principal(self, touch: bool = True) -> Principal | None:
        if not self._session_id or not binding.bound(self):
            return None  # a reload rejoins with a ticket; a copied client token never does
        principal = auth.authenticate(self._session_id, now=runtime.now(), touch=touch)
        if principal is None or principal.kind != "advisor":
            self._logout_here("session.expired")
            return None
        return principal

    def _rejoin(self) -> rx.event.EventSpec | None:
        if self._session_id and not binding.bound(self):
            return rx.call_script(binding.ticket_script("advisor"), callback=AdvisorState.resume)
        return None

    def _refused(self):  # type: ignore[no-untyped-def]
        return self._rejoin() or focus_title()

    @rx.event
    def resume(self, result: dict):  # type: ignore[no-untyped-def]
        """The ticket the reloaded page obtained with its binding cookie: this socket joins the session."""
        if binding.bound(self) or not self._session_id:
            return None
        ticket = result.get("ticket") if isinstance(result, dict) else None
        if auth.redeem_ticket(ticket, self._session_id, now=runtime.now()):
            binding.rebind(self)
            binding.resend(self)
            principal = self._principal()
            if principal is not None:
                self._reload(principal)
                return focus_title()
        self._logout_here("session.expired")
        return focus_title()

    def _logout_here(self, message: str = "") -> None:
        live.unsubscribe(self.router.session.client_token, self.get_full_name())
        binding.forget(self)
        self.logged_in, self.login_error = False, message
        self.screen, self.revealed, self.identifier = "home", "", ""

    @rx.event
    async def login(self, form: dict):  # type: ignore[no-untyped-def]
        form = form if isinstance(form, dict) else {}
        try:  # argon2 off the event loop: it must not stall the other clients' events
            opened = await runtime.password_check(
                auth.login_advisor, str(form.get("login", ""))[:64], str(form.get("password", ""))[:200],
                actor=self._actor(), now=runtime.now())
        except LoginError as error:
            self.login_error = error.code
            return focus_errors()
        bind_cookie = binding.bind(self, "advisor", opened)
        principal = self._principal()
        assert principal is not None
        view = svc.profile(principal.id)
        self.advisor_name, self.agency_name = view.name, view.agency_name
        self.logged_in, self.login_error = True, ""
        self._home(principal)
        return [bind_cookie, focus_title()]

    @rx.event
    def logout(self):  # type: ignore[no-untyped-def]
        if binding.bound(self):  # only the session's own socket ends it (a copied token only clears its view)
            auth.logout(self._session_id, actor=self._actor(), now=runtime.now())
        self._logout_here()
        return focus_title()

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        principal = self._principal()
        if principal is None:
            return self._rejoin()
        self._reload(principal)
        return None

    def _reload(self, principal: Principal) -> None:
        if self.screen == "sheet" and self.identifier:
            self._load_sheet(principal)
        else:
            self._home(principal)

    def _home(self, principal: Principal) -> None:
        self.screen = "home"
        self.revealed = ""
        self.contacts = svc.queue(principal.id)
        self.validations = svc.pending_validations(principal.id, now=runtime.now())

    @rx.event
    def search(self, form: dict):  # type: ignore[no-untyped-def]
        principal = self._principal()
        if principal is None:
            return self._refused()
        self.query = str(form.get("query", "") if isinstance(form, dict) else "")[:60]
        self.results = svc.search(principal.id, self.query)
        self.searched = True
        return None

    @rx.event
    def open_sheet(self, identifier: str):  # type: ignore[no-untyped-def]
        principal = self._principal()
        if principal is None:
            return self._refused()
        self.identifier = str(identifier)[:20]
        self.revealed = self.change_error = self.change_result = self.operation_error = self.operation_result = ""
        if not self._load_sheet(principal):
            return focus_errors()
        self.screen = "sheet"
        live.subscribe(self.router.session.client_token, self.get_full_name(), self._customer_id, now=runtime.now())
        return focus_title()

    def _load_sheet(self, principal: Principal) -> bool:
        try:
            sheet = svc.sheet(principal.id, self.identifier, now=runtime.now())
        except AdvisorError as error:
            self.action_error, self.screen = error.code, "home"
            return False
        self.name, self.masked, self.last_confirmed = sheet.name, sheet.masked, sheet.last_confirmed
        self.securpass, self.device, self.cooling_off_until = sheet.securpass, sheet.device, sheet.cooling_off_until
        self.frozen_since, self.live_sessions = sheet.frozen_since, sheet.live_sessions
        self.changes, self.timeline, self.signals = sheet.changes, sheet.timeline, sheet.signals
        self.checks = list(dict.fromkeys(c for signal in sheet.signals for c in CHECKS[RiskSignal(signal)]))
        self.failed_notifications = sheet.failed_notifications
        self._customer_id = sheet.customer_id
        self.action_error = ""
        return True

    def _on_push(self) -> None:
        """The customer did something (another client): the open sheet follows, live (not the advisor's
        activity: it moves no idle timer)."""
        principal = self._principal(touch=False)
        if principal is not None and self.screen == "sheet":
            self._load_sheet(principal)
        elif principal is not None:
            self._home(principal)

    @rx.event
    def back(self):  # type: ignore[no-untyped-def]
        principal = self._principal()
        if principal is None:
            return self._refused()
        live.unsubscribe(self.router.session.client_token, self.get_full_name())
        self._home(principal)
        return focus_title()

    @rx.event
    def reveal(self):  # type: ignore[no-untyped-def]
        principal = self._principal()
        if principal is None:
            return self._refused()
        if self.screen == "sheet":
            self.revealed = svc.reveal_number(principal.id, self.identifier, actor=self._actor(principal),
                                              now=runtime.now())
        return None

    @rx.event
    def take(self, contact_id: str):  # type: ignore[no-untyped-def]
        return self._contact_action(lambda p: svc.take(p.id, str(contact_id), actor=self._actor(p), now=runtime.now()))

    @rx.event
    def close(self, form: dict):  # type: ignore[no-untyped-def]
        form = form if isinstance(form, dict) else {}
        contact_id, note = str(form.get("contact", "")), str(form.get("note", ""))
        return self._contact_action(lambda p: svc.close(p.id, contact_id, note, actor=self._actor(p), now=runtime.now()))

    def _contact_action(self, action):  # type: ignore[no-untyped-def]
        principal = self._principal()
        if principal is None:
            return self._refused()
        try:
            action(principal)
            self.action_error = ""
        except AdvisorError as error:
            self.action_error = error.code
        self._home(principal)
        return None

    def _sheet_principal(self) -> Principal | None:
        principal = self._principal()
        return principal if principal is not None and self.screen == "sheet" and self.identifier else None

    @rx.event
    def change(self, form: dict):  # type: ignore[no-untyped-def]
        """In-branch change, with the identity check recorded (and four eyes under a risk signal)."""
        principal = self._sheet_principal()
        if principal is None:
            return self._refused()
        form = form if isinstance(form, dict) else {}
        region = str(form.get("country", "FR"))
        try:
            result = svc.advisor_change(
                principal.id, self.identifier, raw_number=str(form.get("number", ""))[:40],
                region=region if region in REGIONS else "FR", document_type=str(form.get("document_type", "")),
                document_number=str(form.get("document_number", ""))[:40], in_branch=bool(form.get("in_branch")),
                actor=self._actor(principal), now=runtime.now(),
            )
        except AdvisorError as error:
            self.change_error, self.change_result = error.code, ""
            return focus_errors()
        self.change_error = ""
        self.change_result = {"completed": "adv.change.done", "pending_validation": "adv.change.pending",
                              "applying": "adv.change.applying"}.get(result.status, "outcome.failed")
        runtime.wake_dispatcher()
        runtime.push_customer(self._customer_id, skip_token=self.router.session.client_token)
        self._load_sheet(principal)
        return None

    @rx.event
    def operate(self, form: dict):  # type: ignore[no-untyped-def]
        """In branch: unblock a blocked Sécur'Pass, or clear a « not me » freeze (identity checked; a second
        advisor validates under a risk signal)."""
        principal = self._sheet_principal()
        if principal is None:
            return self._refused()
        form = form if isinstance(form, dict) else {}
        try:
            result = svc.request_operation(
                principal.id, self.identifier, kind=str(form.get("kind", ""))[:40],
                document_type=str(form.get("document_type", "")), document_number=str(form.get("document_number", ""))[:40],
                in_branch=bool(form.get("in_branch")), actor=self._actor(principal), now=runtime.now(),
            )
        except AdvisorError as error:
            self.operation_error, self.operation_result = error.code, ""
            return focus_errors()
        self.operation_error = ""
        self.operation_result = "adv.op.done" if result.status == "done" else "adv.op.pending"
        runtime.push_customer(self._customer_id, skip_token=self.router.session.client_token)
        self._load_sheet(principal)
        return None

    @rx.event
    def end_sessions(self):  # type: ignore[no-untyped-def]
        """End every session of the customer (protective: immediate, audited)."""
        principal = self._sheet_principal()
        if principal is None:
            return self._refused()
        try:
            svc.end_customer_sessions(principal.id, self.identifier, actor=self._actor(principal), now=runtime.now())
        except AdvisorError as error:
            self.operation_error = error.code
            return focus_errors()
        self.operation_error, self.operation_result = "", "adv.sessions.ended"
        runtime.push_customer(self._customer_id, skip_token=self.router.session.client_token)
        self._load_sheet(principal)
        return None

    @rx.event
    def validate(self, request_id: str):  # type: ignore[no-untyped-def]
        """The second advisor's validation of a change of number."""
        principal = self._principal()
        if principal is None:
            return self._refused()
        try:
            svc.validate_change(principal.id, str(request_id), actor=self._actor(principal), now=runtime.now())
            self.action_error = ""
        except AdvisorError as error:
            self.action_error = error.code
        runtime.wake_dispatcher()
        self._home(principal)
        return None

    @rx.event
    def validate_operation(self, operation_id: str):  # type: ignore[no-untyped-def]
        """The second advisor's validation of an unblock or of the clearing of a freeze."""
        principal = self._principal()
        if principal is None:
            return self._refused()
        try:
            svc.validate_operation(principal.id, str(operation_id), actor=self._actor(principal), now=runtime.now())
            self.action_error = ""
        except AdvisorError as error:
            self.action_error = error.code
        self._home(principal)
        return None
