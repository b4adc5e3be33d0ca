"""The advisor back-office state (J8). Every handler checks the advisor session; every service
call is limited to the advisor's agency."""

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
class AdvisorState(rx.State):
    _secret: str = ""
    _binding_hash: str = ""
    _login_sid: str = ""
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
    changes: list[TimelineItem] = []
    timeline: list[TimelineItem] = []
    signals: list[str] = []
    checks: list[str] = []  # i18n keys of the checks the signals call for
    failed_notifications: int = 0
    _customer_id: int = 0

    # The in-branch change form.
    change_error: str = ""
    change_result: str = ""

    def _actor(self, principal: Principal | None = None):  # type: ignore[no-untyped-def]
        return runtime.actor(self, "advisor", principal.id if principal else None, "advisor")

    def _principal(self) -> Principal | None:
        principal = auth.authenticate(self._secret, now=runtime.now()) if self._secret else None
        if principal is not None and not binding.bound(self, "advisor"):
            principal = None  # the token alone is not the browser that logged in
        if principal is None or principal.kind != "advisor":
            if self.logged_in:
                self._logout_here("session.expired")
            return None
        return principal

    def _logout_here(self, message: str = "") -> None:
        live.unsubscribe(self.router.session.client_token, self.get_full_name())
        self._secret, self.logged_in, self.login_error = "", False, message
        self._binding_hash = self._login_sid = ""
        self.screen, self.revealed, self.identifier = "home", "", ""

    @rx.event
    async def login(self, form: dict):  # type: ignore[no-untyped-def]
        try:  # argon2 off the event loop: it must not stall the other clients' events
            self._secret = await runtime.password_check(
                auth.login_advisor, str(form.get("login", "")), str(form.get("password", "")),
                actor=self._actor(), now=runtime.now())
        except LoginError as error:
            self.login_error = error.code
            return focus_errors()
        bind_cookie = binding.bind(self, "advisor")
        principal = self._principal()
        assert principal is not None
        view = svc.profile(principal.id)
        self.advisor_name, self.agency_name = view.name, view.agency_name
        self.logged_in, self.login_error = True, ""
        self._home(principal)
        return [bind_cookie, focus_title()]

    @rx.event
    def logout(self):  # type: ignore[no-untyped-def]
        auth.logout(self._secret, actor=self._actor(), now=runtime.now())
        self._logout_here()
        return focus_title()

    @rx.event
    def load(self) -> None:
        principal = self._principal()
        if principal is not None:
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
            return focus_title()
        self.query = str(form.get("query", ""))[:60]
        self.results = svc.search(principal.id, self.query)
        self.searched = True
        return None

    @rx.event
    def open_sheet(self, identifier: str):  # type: ignore[no-untyped-def]
        principal = self._principal()
        if principal is None:
            return focus_title()
        self.identifier = identifier
        self.revealed = self.change_error = self.change_result = ""
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
        self.changes, self.timeline, self.signals = sheet.changes, sheet.timeline, sheet.signals
        self.checks = list(dict.fromkeys(c for signal in sheet.signals for c in CHECKS[RiskSignal(signal)]))
        self.failed_notifications = sheet.failed_notifications
        self._customer_id = sheet.customer_id
        self.action_error = ""
        return True

    def _on_push(self) -> None:
        """The customer did something (another client): the open sheet follows, live."""
        principal = self._principal()
        if principal is not None and self.screen == "sheet":
            self._load_sheet(principal)
        elif principal is not None:
            self._home(principal)

    @rx.event
    def back(self):  # type: ignore[no-untyped-def]
        principal = self._principal()
        if principal is not None:
            live.unsubscribe(self.router.session.client_token, self.get_full_name())
            self._home(principal)
        return focus_title()

    @rx.event
    def reveal(self) -> None:
        principal = self._principal()
        if principal is not None and self.screen == "sheet":
            self.revealed = svc.reveal_number(principal.id, self.identifier, actor=self._actor(principal),
                                              now=runtime.now())

    @rx.event
    def take(self, contact_id: str) -> None:
        self._contact_action(lambda p: svc.take(p.id, contact_id, actor=self._actor(p), now=runtime.now()))

    @rx.event
    def close(self, form: dict) -> None:
        contact_id, note = str(form.get("contact", "")), str(form.get("note", ""))
        self._contact_action(lambda p: svc.close(p.id, contact_id, note, actor=self._actor(p), now=runtime.now()))

    def _contact_action(self, action) -> None:  # type: ignore[no-untyped-def]
        principal = self._principal()
        if principal is None:
            return
        try:
            action(principal)
            self.action_error = ""
        except AdvisorError as error:
            self.action_error = error.code
        self._home(principal)

    @rx.event
    def change(self, form: dict):  # type: ignore[no-untyped-def]
        """In-branch change, with the identity check recorded (and four eyes under a risk signal)."""
        principal = self._principal()
        if principal is None or self.screen != "sheet":
            return focus_title()
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
    def validate(self, request_id: str):  # type: ignore[no-untyped-def]
        principal = self._principal()
        if principal is None:
            return focus_title()
        try:
            svc.validate_change(principal.id, request_id, actor=self._actor(principal), now=runtime.now())
            self.action_error = ""
        except AdvisorError as error:
            self.action_error = error.code
        runtime.wake_dispatcher()
        self._home(principal)
        return None
