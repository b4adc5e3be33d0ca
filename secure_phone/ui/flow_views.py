"""Screens shared by the web area and the app: login, « Mes coordonnées », new number,
confirmation and outcome. Each takes the state class of its channel."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex_base.event import EventHandler

from secure_phone.i18n import MESSAGES
from secure_phone.ui.components import (
    error_summary,
    field_error,
    fraud_warning,
    masked_number,
    message,
    notice,
    step_indicator,
    title,
    with_catalog,
)
from secure_phone.ui.i18n import LangState, t, t_var
from secure_phone.ui.paths import APP_ROUTE
from secure_phone.ui.states.customer import REGIONS, ChangeFlow, CustomerSession


def login_form(S: type[CustomerSession], on_submit: EventHandler, heading_key: str = "login.title") -> rx.Component:
    """« Identifiant », « Mot de passe », « Se connecter » (the same on web and app)."""
    return rx.vstack(
        title(t(heading_key)),
        error_summary(S.login_error, "identifier"),
        rx.form(
            rx.vstack(
                rx.el.label(t("login.identifier"), html_for="identifier", class_name="label"),
                rx.el.p(t("login.identifier.hint"), id="identifier-hint", class_name="hint"),
                rx.input(id="identifier", name="identifier", auto_complete="username", input_mode="numeric",
                         max_length=10, aria_describedby="identifier-hint", size="3", width="100%"),
                rx.el.label(t("login.password"), html_for="password", class_name="label"),
                rx.input(id="password", name="password", type="password", auto_complete="current-password",
                         max_length=128, size="3", width="100%"),
                rx.button(t("login.submit"), type="submit", size="3", class_name="primary"),
                spacing="2",
                align="stretch",
                width="100%",
            ),
            on_submit=on_submit,
            reset_on_submit=False,
            width="100%",
        ),
        spacing="4",
        align="stretch",
        width="100%",
        max_width="28rem",
    )


def advisor_card(S: type[ChangeFlow]) -> rx.Component:
    return rx.box(
        rx.text(S.agency_name, weight="bold"),
        rx.text(S.agency_phone),
        rx.text(rx.cond(LangState.lang == "en", S.agency_hours_en, S.agency_hours_fr)),
        class_name="advisor-card",
    )


def overview_screen(S: type[ChangeFlow]) -> rx.Component:
    """Step 1, « Mes coordonnées »."""
    return rx.vstack(
        title(t("overview.title")),
        rx.cond(S.outcome != "", notice("info", rx.text(t_var(S.outcome)))),
        rx.box(
            rx.heading(t("overview.secure.phone"), as_="h2", size="4"),
            rx.text(t("overview.secure.phone.hint"), class_name="hint"),
            rx.hstack(
                masked_number(S.masked_first, S.masked_last_two, S.masked),
                rx.spacer(),
                rx.cond(
                    S.eligible,
                    rx.button(t("overview.modify"), on_click=S.start_change, size="3", class_name="primary",
                              aria_label=t("overview.modify.label"), id="modify"),
                ),
                align="center",
                width="100%",
                wrap="wrap",
            ),
            rx.cond(
                S.cooling_off_until != "",
                rx.text(t("overview.cooling.off"), " ", S.cooling_off_until, ".", class_name="hint"),
            ),
            class_name="card",
        ),
        rx.cond(
            ~S.eligible,
            notice(
                "warning",
                rx.heading(t("overview.ineligible.title"), as_="h2", size="4"),
                rx.foreach(S.reasons, lambda r: rx.text(t_var("ineligible." + r))),
                rx.button(t("overview.contact.advisor"), on_click=S.show_advisor_for_eligibility, size="3",
                          class_name="primary", margin_top="0.5rem"),
            ),
        ),
        spacing="4",
        align="stretch",
        width="100%",
    )


# France first, then by French name (the default language).
_REGION_ORDER = ["FR"] + sorted((c for c in REGIONS if c != "FR"), key=lambda c: MESSAGES["fr"][f"region.{c}"])


def _region_option(code: str) -> rx.Component:
    return rx.el.option(t(f"region.{code}"), value=code)


def region_select(field_id: str, **props: Any) -> rx.Component:
    """The country of the number: France first, then by French name."""
    return rx.box(
        rx.el.label(t("new.country"), html_for=field_id, class_name="label small"),
        rx.el.select(*[_region_option(c) for c in _REGION_ORDER], id=field_id, name="country",
                     class_name="native-select", **props),
    )


def number_screen(S: type[ChangeFlow]) -> rx.Component:
    """Step 2, one question: the new number."""
    invalid = S.number_error != ""
    return rx.vstack(
        step_indicator(S.step),
        error_summary(S.number_error, "new-number"),
        rx.form(
            rx.vstack(
                title(t("new.title")),
                rx.el.label(t("new.label"), html_for="new-number", class_name="label"),
                rx.el.p(t("new.hint"), id="new-number-hint", class_name="hint"),
                field_error(S.number_error, "new-number"),
                rx.hstack(
                    region_select("country", value=S.region, on_change=S.set_region),
                    rx.box(
                        rx.input(id="new-number", name="number", default_value=S.number_input,
                                 data_phone_format=S.region,
                                 type="tel", auto_complete="tel-national", input_mode="tel", max_length=40, size="3",
                                 aria_invalid=rx.cond(invalid, "true", "false"),
                                 aria_describedby=rx.cond(invalid, "new-number-hint new-number-error",
                                                          "new-number-hint"),
                                 class_name=rx.cond(invalid, "input-error", ""), width="100%"),
                        flex="1",
                    ),
                    align="end",
                    width="100%",
                    wrap="wrap",
                ),
                rx.hstack(
                    rx.button(t("continue"), type="submit", size="3", class_name="primary"),
                    rx.button(t("cancel"), type="button", on_click=S.cancel_flow, size="3", variant="outline"),
                    spacing="3",
                    wrap="wrap",
                ),
                spacing="2",
                align="stretch",
                width="100%",
            ),
            on_submit=S.submit_number,
            reset_on_submit=False,
            width="100%",
        ),
        spacing="4",
        align="stretch",
        width="100%",
    )


def confirm_screen(S: type[ChangeFlow]) -> rx.Component:
    """Step 3: the number in full, attached to the customer's name."""
    return rx.vstack(
        step_indicator(S.step),
        title(t("confirm.title")),
        rx.box(
            rx.text(
                t("confirm.phone"), " ",
                rx.el.strong(S.new_national, class_name="number", id="confirm-number"),
                " — ", t("confirm.on"), " ", rx.el.strong(S.first_name, " ", S.last_name.upper()),
                size="5",
            ),
            rx.text(t("confirm.explain"), class_name="hint"),
            class_name="card",
        ),
        rx.hstack(
            rx.button(t("confirm.submit"), on_click=S.confirm, size="3", class_name="primary"),
            rx.button(t("confirm.edit"), on_click=S.edit_number, size="3", variant="outline"),
            rx.button(t("cancel"), on_click=S.cancel_flow, size="3", variant="ghost"),
            spacing="3",
            wrap="wrap",
        ),
        spacing="4",
        align="stretch",
        width="100%",
    )


def proof_screen(S: type[ChangeFlow]) -> rx.Component:
    """§12.3, one question: the code just sent to the new number (the phone sees nothing before it)."""
    return rx.vstack(
        step_indicator(S.step),
        error_summary(S.code_error, "proof-code"),
        rx.form(
            rx.vstack(
                title(t("proof.title"), " ", rx.el.span(S.new_national, class_name="nowrap", id="proof-number")),
                rx.text(t("proof.intro")),
                code_field("proof-code", "proof.label", "proof.hint", S.code_error, 6, web_otp=True),
                rx.cond(S.code_tries_left > 0,
                        rx.text(t("sms.tries.left"), " ", S.code_tries_left, class_name="hint", id="proof-tries")),
                rx.cond(S.proof_notice != "", notice("info", rx.text(t_var(S.proof_notice), role="status"))),
                rx.hstack(
                    rx.button(t("proof.submit"), type="submit", size="3", class_name="primary"),
                    rx.button(t("proof.resend"), type="button", on_click=S.resend_proof, size="3",
                              variant="outline"),
                    rx.button(t("cancel"), type="button", on_click=S.cancel_request, size="3", variant="ghost"),
                    spacing="3",
                    wrap="wrap",
                ),
                rx.hstack(
                    rx.text(t("proof.wrong.number"), class_name="hint"),
                    rx.button(t("proof.change.number"), type="button", on_click=S.start_change, size="2",
                              variant="ghost"),
                    align="center",
                    wrap="wrap",
                ),
                spacing="3",
                align="stretch",
                width="100%",
            ),
            on_submit=S.prove_number,
            reset_on_submit=True,
            width="100%",
        ),
        spacing="4",
        align="stretch",
        width="100%",
    )


def outcome_screen(S: type[ChangeFlow]) -> rx.Component:
    """Step 4: success, or why not and what next."""
    return rx.vstack(
        rx.cond(S.outcome_kind == "success", step_indicator(S.step)),
        rx.box(
            title(t_var(S.outcome)),
            rx.cond(
                S.outcome_kind == "success",
                rx.vstack(
                    rx.text(t("success.number"), " ", masked_number(S.masked_first, S.masked_last_two, S.masked)),
                    rx.text(t("success.body")),
                    rx.cond(S.cooling_off_until != "", rx.text(t("overview.cooling.off"), " ", S.cooling_off_until,
                                                               ".")),
                ),
            ),
            rx.cond(S.outcome == "applying.title", rx.text(t("applying.body"))),
            class_name=rx.cond(S.outcome_kind == "success", "notice notice-success", "notice notice-info"),
            role="status",
        ),
        rx.match(
            S.outcome,
            ("outcome.cancelled", j3_exits(S)),
            ("outcome.blocked", _advisor_button(S, "securpass_blocked")),
            ("outcome.failed", _advisor_button(S, "repeated_failure")),
            ("outcome.proof.failed", _advisor_button(S, "proof_failed")),
            ("success.title", rx.fragment()),
            ("applying.title", rx.fragment()),
            rx.button(t("start.again"), on_click=S.start_change, size="3", class_name="primary"),
        ),
        rx.button(t("back.to.details"), on_click=S.back_to_overview, size="3", variant="outline"),
        spacing="4",
        align="stretch",
        width="100%",
    )


def _advisor_button(S: type[ChangeFlow], reason: str) -> rx.Component:
    return rx.button(t("overview.contact.advisor"), on_click=S.show_advisor(reason), size="3", class_name="primary")


def j3_exits(S: type[ChangeFlow]) -> rx.Component:
    """J3: the customer who changed smartphone cancels at step 4 and gets two ways out."""
    return rx.box(
        rx.heading(t("j3.title"), as_="h2", size="4"),
        rx.vstack(
            rx.button(t("j3.activate"), on_click=S.activation_help, size="3", class_name="primary"),
            rx.button(t("j3.no.access"), on_click=S.show_advisor("changed_phone"), size="3", variant="outline"),
            spacing="3",
            align="start",
        ),
        class_name="card",
    )


def activation_help_screen(S: type[ChangeFlow]) -> rx.Component:
    """J3, first way out: the Sécur'Pass activation procedure on the new smartphone."""
    return rx.vstack(
        title(t("j3.procedure.title")),
        rx.el.ol(
            rx.el.li(t("j3.procedure.1")),
            rx.el.li(t("j3.procedure.2")),
            rx.el.li(t("j3.procedure.3"), " ", masked_number(S.masked_first, S.masked_last_two, S.masked)),
            rx.el.li(t("j3.procedure.4")),
            class_name="procedure",
        ),
        rx.link(t("j3.open.app"), href=APP_ROUTE, class_name="primary-link"),
        rx.button(t("j3.no.access"), on_click=S.show_advisor("changed_phone"), size="3", variant="outline"),
        rx.button(t("back.to.details"), on_click=S.back_to_overview, size="3", variant="ghost"),
        spacing="4",
        align="stretch",
        width="100%",
    )


def advisor_screen(S: type[ChangeFlow]) -> rx.Component:
    """J6: the advisor, the call-back request, and the anti-fraud reminder."""
    return rx.vstack(
        title(t("advisor.title")),
        with_catalog(rx.cond(S.advisor_notice != "", notice("warning", rx.text(message(S.advisor_notice)),
                                                            role="alert"))),
        rx.text(t("advisor.intro")),
        rx.box(
            rx.cond(S.advisor_name != "", rx.text(t("advisor.your.advisor"), " ", rx.el.strong(S.advisor_name))),
            advisor_card(S),
            rx.text(t("advisor.reason"), " ", t_var(S.reason_key), class_name="hint"),
            class_name="card",
        ),
        rx.cond(
            S.contact_done,
            notice("success", rx.text(t("advisor.callback.done"), role="status")),
            rx.button(t("advisor.callback"), on_click=S.request_callback, size="3", class_name="primary"),
        ),
        fraud_warning("advisor.fraud"),
        rx.button(t("back.to.details"), on_click=S.back_to_overview, size="3", variant="outline"),
        spacing="4",
        align="stretch",
        width="100%",
    )


def code_field(field_id: str, label_key: str, hint_key: str, error: rx.Var, digits: int,
               web_otp: bool = False) -> rx.Component:
    """A code field: digits, the one-time-code autofill, paste allowed; ``web_otp``: WebOTP may fill it
    (assets/ui.js; only for a code whose SMS ends with this site's ``@host #code`` line)."""
    invalid = error != ""
    return rx.vstack(
        rx.el.label(t(label_key), html_for=field_id, class_name="label"),
        rx.el.p(t(hint_key), id=f"{field_id}-hint", class_name="hint"),
        field_error(error, field_id),
        rx.input(id=field_id, name=field_id.split("-")[-1], input_mode="numeric", auto_complete="one-time-code",
                 max_length=digits + 2, size="3", width="14rem", aria_describedby=f"{field_id}-hint",
                 aria_invalid=rx.cond(invalid, "true", "false"), **({"data_web_otp": "1"} if web_otp else {})),
        spacing="1",
        align="start",
    )


def stale_screen(S: type[ChangeFlow]) -> rx.Component:
    """J7: before anything else, is the secure number still the right one?"""
    return rx.vstack(
        title(t("stale.title"), " ", masked_number(S.masked_first, S.masked_last_two, S.masked), t("stale.qmark")),
        rx.text(t("stale.intro")),
        error_summary(S.code_error, "stale-yes"),
        rx.vstack(
            rx.button(t("stale.yes"), on_click=S.stale_yes, size="3", class_name="primary", id="stale-yes"),
            rx.button(t("stale.no"), on_click=S.stale_change, size="3", variant="outline"),
            rx.cond(S.stale_later_allowed, rx.button(t("stale.later"), on_click=S.stale_later, size="3",
                                                      variant="ghost")),
            spacing="3",
            align="start",
        ),
        spacing="4",
        align="stretch",
        width="100%",
    )


def stale_code_screen(S: type[ChangeFlow]) -> rx.Component:
    return rx.vstack(
        title(t("stale.code.title")),
        rx.text(t("act.code.sent"), " ", masked_number(S.masked_first, S.masked_last_two, S.masked)),
        error_summary(S.code_error, "stale-code"),
        rx.form(
            rx.vstack(
                code_field("stale-code", "act.sms.code", "act.sms.code.hint", S.code_error, 8),
                rx.button(t("stale.confirm"), type="submit", size="3", class_name="primary"),
                spacing="3",
                align="start",
            ),
            on_submit=S.stale_confirm,
            reset_on_submit=True,
        ),
        rx.button(t("act.resend"), on_click=S.stale_yes, size="2", variant="ghost"),
        spacing="4",
        align="stretch",
        width="100%",
    )
