"""``/conseiller``: the advisor back-office (J8), limited to the advisor's agency."""

from __future__ import annotations

import reflex as rx

from secure_phone.services.advisor import DOCUMENT_TYPES, ContactView, CustomerRow, TimelineItem, ValidationView
from secure_phone.ui.call_views import advisor_call_section
from secure_phone.ui.components import error_summary, field_error, idle_warning, notice, title, web_shell
from secure_phone.ui.flow_views import code_field, region_select
from secure_phone.ui.i18n import LangState, t, t_var
from secure_phone.ui.pages.advisor_operator import operator_section
from secure_phone.ui.screens import AdvisorScreen
from secure_phone.ui.states.advisor import AdvisorState as S


def login() -> rx.Component:
    return rx.vstack(
        title(t("adv.login.title")),
        error_summary(S.login_error, "advisor-login"),
        rx.form(
            rx.vstack(
                rx.el.label(t("adv.login.id"), html_for="advisor-login", class_name="label"),
                rx.el.p(t("adv.login.hint"), id="advisor-login-hint", class_name="hint"),
                rx.input(id="advisor-login", name="login", auto_complete="username", max_length=64, size="3",
                         aria_describedby="advisor-login-hint", width="100%"),
                rx.el.label(t("login.password"), html_for="advisor-password", class_name="label"),
                rx.input(id="advisor-password", name="password", type="password", auto_complete="current-password",
                         max_length=128, size="3", width="100%"),
                rx.button(t("login.submit"), type="submit", size="3", class_name="primary"),
                spacing="2",
                align="stretch",
            ),
            on_submit=S.login,
            reset_on_submit=False,
        ),
        spacing="4",
        align="stretch",
        max_width="28rem",
    )


def _result(row: CustomerRow) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.box(rx.text(row.name, weight="bold"), rx.text(row.identifier, " · ", row.masked, class_name="hint")),
            rx.spacer(),
            rx.button(t("adv.open"), on_click=S.open_sheet(row.identifier), variant="outline",
                      aria_label=rx.cond(LangState.lang == "en", "Open the record of ",
                                         "Ouvrir la fiche de ") + row.name),
            align="center",
            width="100%",
        ),
        class_name="card",
    )


def _contact(item: ContactView) -> rx.Component:
    return rx.el.li(
        rx.text(rx.el.strong(item.name), " (", item.identifier, ") · ", item.created, " · ", item.channel),
        rx.text(t("advisor.reason"), " ",
                t_var(rx.cond(item.reason.contains("ineligible."), item.reason, "reason." + item.reason))),
        rx.cond(item.last_request_id != "", rx.text(t("adv.last.attempt"), " ", item.last_request_id,
                                                    class_name="hint")),
        rx.cond(item.advisor != "", rx.text(t("adv.taken.by"), " ", item.advisor, class_name="hint")),
        rx.hstack(
            rx.button(t("adv.open"), on_click=S.open_sheet(item.identifier), variant="outline", size="2"),
            rx.cond(item.status == "open", rx.button(t("adv.take"), on_click=S.take(item.id), size="2")),
            wrap="wrap",
        ),
        rx.form(
            rx.el.input(type="hidden", name="contact", value=item.id),
            rx.el.label(t("adv.note"), html_for="note-" + item.id, class_name="label small"),
            rx.hstack(
                rx.input(id="note-" + item.id, name="note", max_length=500, size="2", width="100%"),
                rx.button(t("adv.close"), type="submit", size="2", variant="outline"),
                width="100%",
            ),
            on_submit=S.close,
        ),
        class_name="card",
    )


def _validation(item: ValidationView) -> rx.Component:
    is_change = item.kind == "change"
    return rx.el.li(
        rx.text(rx.el.strong(item.name), " (", item.identifier, ") → ",
                rx.cond(is_change, item.new_national, t_var("adv.op." + item.kind))),
        rx.text(t("adv.requested.by"), " ", item.requested_by, " · ",
                rx.foreach(item.signals, lambda s: rx.el.span(t_var("risk." + s), " "))),
        rx.cond(
            is_change,
            rx.button(t("adv.validate"), on_click=S.validate(item.request_id), size="2", color_scheme="orange"),
            rx.button(t("adv.validate"), on_click=S.validate_operation(item.request_id), size="2",
                      color_scheme="orange"),
        ),
        class_name="card",
    )


def home() -> rx.Component:
    return rx.vstack(
        title(t("adv.login.title"), " — ", S.agency_name),
        rx.cond(S.action_error != "", notice("warning", rx.text(t_var(S.action_error)), role="alert")),
        rx.form(
            rx.el.label(t("adv.search"), html_for="advisor-search", class_name="label"),
            rx.el.p(t("adv.search.hint"), id="advisor-search-hint", class_name="hint"),
            rx.hstack(
                rx.input(id="advisor-search", name="query", default_value=S.query, max_length=60, size="3",
                         aria_describedby="advisor-search-hint", width="100%"),
                rx.button(t("adv.search.submit"), type="submit", size="3", class_name="primary"),
                width="100%",
            ),
            on_submit=S.search,
            reset_on_submit=False,
            role="search",
        ),
        rx.cond(S.searched & (S.results.length() == 0), rx.text(t("adv.search.none"))),
        rx.el.ul(rx.foreach(S.results, _result), class_name="entry-list"),
        rx.cond(
            S.validations.length() > 0,
            rx.el.section(rx.heading(t("adv.validations"), as_="h2", size="5"),
                          rx.el.ul(rx.foreach(S.validations, _validation), class_name="entry-list"),
                          aria_label=t("adv.validations")),
        ),
        rx.el.section(
            rx.heading(t("adv.queue"), as_="h2", size="5"),
            rx.cond(S.contacts.length() == 0, rx.text(t("adv.queue.none"))),
            rx.el.ul(rx.foreach(S.contacts, _contact), class_name="entry-list"),
            aria_label=t("adv.queue"),
        ),
        spacing="4",
        align="stretch",
        width="100%",
    )


def _event(item: TimelineItem) -> rx.Component:
    return rx.el.li(
        rx.text(rx.el.span(item.at, class_name="hint"), " — ", rx.el.strong(t_var("tl." + item.action)), " · ",
                t_var("result." + item.outcome),
                rx.cond(item.detail_key != "", rx.el.span(" · ", t_var(item.detail_key))),
                rx.cond(item.detail_text != "", rx.el.span(" · ", item.detail_text))),
        class_name=rx.cond((item.action == "fraud_alert") | (item.action == "securpass_blocked")
                           | (item.action == "call_reported"), "event alert",
                           "event"),
    )


def _change(item: TimelineItem) -> rx.Component:
    return rx.el.li(rx.text(item.at, " — ", t_var(item.action), " · ", item.detail_text, " · ",
                            t_var("status." + item.outcome)))


def vigilance() -> rx.Component:
    return rx.cond(
        S.signals.length() > 0,
        rx.box(
            rx.heading(rx.el.span("⚠ ", aria_hidden="true"), t("adv.vigilance"), as_="h2", size="5"),
            rx.text(t("adv.vigilance.intro")),
            rx.el.ul(rx.foreach(S.signals, lambda s: rx.el.li(rx.el.strong(t_var("risk." + s))))),
            rx.text(t("adv.vigilance.checks"), weight="bold"),
            rx.el.ul(rx.foreach(S.checks, lambda c: rx.el.li(t_var(c)))),
            class_name="vigilance",
            role="alert",
            id="vigilance",
        ),
    )


def _identity_fields(prefix: str) -> list[rx.Component]:
    """The identity document checked in branch (its type and number; only the last 4 characters are kept)."""
    return [
        rx.el.label(t("adv.change.doc.type"), html_for=f"{prefix}-document-type", class_name="label"),
        rx.el.select(*[rx.el.option(t(f"adv.doc.{d}"), value=d) for d in DOCUMENT_TYPES],
                     id=f"{prefix}-document-type", name="document_type", class_name="native-select"),
        rx.el.label(t("adv.change.doc.number"), html_for=f"{prefix}-document-number", class_name="label"),
        rx.input(id=f"{prefix}-document-number", name="document_number", max_length=40, size="3", width="16rem",
                 auto_complete="off"),
        rx.el.div(
            rx.el.input(type="checkbox", id=f"{prefix}-in-branch", name="in_branch", value="yes"),
            rx.el.label(t("adv.change.in.branch"), html_for=f"{prefix}-in-branch"),
            class_name="radio",
        ),
    ]


def operations() -> rx.Component:
    """Sécur'Pass blocked, online changes frozen: the in-branch way back; and ending the customer's sessions."""
    blocked, frozen = S.securpass == "blocked", S.frozen_since != ""
    return rx.el.section(
        rx.heading(t("adv.op.title"), as_="h2", size="5"),
        error_summary(S.operation_error, "operation-kind"),
        rx.cond(S.operation_result != "", notice("info", rx.text(t_var(S.operation_result)), role="status")),
        rx.cond(
            blocked | frozen,
            rx.form(
                rx.vstack(
                    rx.text(t("adv.op.intro"), class_name="hint"),
                    rx.el.label(t("adv.op.kind"), html_for="operation-kind", class_name="label"),
                    rx.el.select(
                        rx.cond(blocked, rx.el.option(t("adv.op.unblock_securpass"), value="unblock_securpass")),
                        rx.cond(frozen, rx.el.option(t("adv.op.clear_freeze"), value="clear_freeze")),
                        id="operation-kind", name="kind", class_name="native-select",
                    ),
                    *_identity_fields("operation"),
                    rx.button(t("adv.op.submit"), type="submit", size="3", class_name="primary"),
                    spacing="2",
                    align="start",
                ),
                on_submit=S.operate,
                reset_on_submit=True,
            ),
        ),
        rx.hstack(
            rx.text(t("adv.sessions.live"), " ", S.live_sessions),
            rx.button(t("adv.sessions.end"), on_click=S.end_sessions, size="2", variant="outline",
                      disabled=S.live_sessions == 0),
            align="center",
            wrap="wrap",
        ),
        class_name="card",
        aria_label=t("adv.op.title"),
    )


def change_form() -> rx.Component:
    return rx.el.section(
        rx.heading(t("adv.change.title"), as_="h2", size="5"),
        rx.text(t("adv.change.intro"), class_name="hint"),
        error_summary(S.change_error, "advisor-number"),
        rx.cond(S.change_result != "", notice("info", rx.text(t_var(S.change_result)), role="status")),
        rx.form(
            rx.vstack(
                rx.el.label(t("new.label"), html_for="advisor-number", class_name="label"),
                field_error(S.change_error, "advisor-number"),
                rx.hstack(
                    region_select("advisor-country"),
                    rx.input(id="advisor-number", name="number", type="tel", max_length=40, size="3", width="100%",
                             data_phone_format="FR"),
                    width="100%",
                    align="end",
                ),
                *_identity_fields("change"),
                rx.button(t("adv.change.submit"), type="submit", size="3", class_name="primary"),
                spacing="2",
                align="start",
                width="100%",
            ),
            on_submit=S.change,
            reset_on_submit=True,
        ),
        rx.cond(S.proof_number != "", change_proof()),
        class_name="card",
        aria_label=t("adv.change.title"),
    )


def change_proof() -> rx.Component:
    """§12.3 in branch: the customer reads out the code received on the new number."""
    return rx.form(
        rx.vstack(
            rx.heading(t("adv.change.proof.title"), " ", rx.el.span(S.proof_number, class_name="nowrap"),
                       as_="h3", size="4"),
            error_summary(S.proof_error, "advisor-proof-code"),
            code_field("advisor-proof-code", "proof.label", "adv.change.proof.hint", S.proof_error, 6),
            rx.hstack(
                rx.button(t("proof.submit"), type="submit", size="3", class_name="primary"),
                rx.button(t("proof.resend"), type="button", on_click=S.resend_change_proof, size="3",
                          variant="outline"),
                spacing="3",
                wrap="wrap",
            ),
            spacing="2",
            align="start",
        ),
        on_submit=S.prove_change,
        reset_on_submit=True,
    )


def sheet() -> rx.Component:
    return rx.vstack(
        rx.button(t("adv.back"), on_click=S.back, variant="ghost", width="fit-content"),
        title(S.name, " — ", S.identifier),
        vigilance(),
        advisor_call_section(),  # §12.5: « Appeler le client », and the customer's reports
        operator_section(),
        rx.box(
            rx.el.dl(
                rx.el.dt(t("adv.sheet.number")),
                rx.el.dd(rx.cond(S.revealed != "", S.revealed, S.masked), " ",
                         rx.cond(S.revealed == "", rx.button(t("adv.reveal"), on_click=S.reveal, size="1",
                                                              variant="outline")),
                         rx.el.span(" ", t("adv.reveal.note"), class_name="hint")),
                rx.el.dt(t("adv.last.confirmed")),
                rx.el.dd(S.last_confirmed),
                rx.el.dt(t("adv.securpass")),
                rx.el.dd(t_var("securpass." + S.securpass)),
                rx.el.dt(t("adv.device")),
                rx.el.dd(rx.cond(S.device != "", S.device, t("adv.none"))),
                rx.el.dt(t("adv.cooling")),
                rx.el.dd(rx.cond(S.cooling_off_until != "", S.cooling_off_until, t("adv.none"))),
                rx.el.dt(t("adv.frozen")),
                rx.el.dd(rx.cond(S.frozen_since != "",
                                 rx.el.strong(t("adv.frozen.since"), " ", S.frozen_since, class_name="field-error"),
                                 t("adv.none"))),
                class_name="facts",
            ),
            rx.cond(S.failed_notifications > 0,
                    rx.text(t("adv.failed.notifications"), " ", S.failed_notifications, class_name="field-error")),
            class_name="card",
        ),
        rx.el.section(rx.heading(t("adv.history"), as_="h2", size="5"),
                      rx.el.ul(rx.foreach(S.changes, _change)), class_name="card", aria_label=t("adv.history")),
        rx.el.section(rx.heading(t("adv.timeline"), as_="h2", size="5"),
                      rx.el.ul(rx.foreach(S.timeline, _event), class_name="timeline", id="timeline"),
                      class_name="card", aria_label=t("adv.timeline")),
        operations(),
        change_form(),
        spacing="4",
        align="stretch",
        width="100%",
    )


def page() -> rx.Component:
    return web_shell(
        idle_warning(S),
        rx.cond(S.logged_in, rx.cond(S.screen == AdvisorScreen.SHEET.value, sheet(), home()), login()),
        actions=rx.cond(S.logged_in, rx.hstack(rx.text(S.advisor_name, class_name="hint"),
                                               rx.button(t("logout"), on_click=S.logout, variant="outline", size="2"),
                                               align="center")),
    )


ON_LOAD = [S.load, LangState.sync_html_lang]
