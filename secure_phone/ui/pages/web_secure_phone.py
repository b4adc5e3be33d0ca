"""``/espace-client/telephone-securise``: J1, the secure number on the web."""

from __future__ import annotations

import reflex as rx

from secure_phone.ui.call_views import call_status
from secure_phone.ui.components import (
    expiry_warning,
    fraud_warning,
    idle_warning,
    step_indicator,
    title,
    web_shell,
)
from secure_phone.ui.flow_views import (
    activation_help_screen,
    advisor_screen,
    confirm_screen,
    login_form,
    number_screen,
    outcome_screen,
    overview_screen,
    proof_screen,
    stale_code_screen,
    stale_screen,
)
from secure_phone.ui.i18n import t
from secure_phone.ui.screens import Screen
from secure_phone.ui.states.web import WebState


def wait_screen() -> rx.Component:
    """Step 4 (web only): waiting for the phone; changes by itself when the phone answers."""
    return rx.vstack(
        step_indicator(WebState.step),
        title(t("wait.title")),
        rx.box(
            rx.text(t("wait.explain")),
            rx.text(t("wait.time.left"), " ",
                    rx.el.strong("5:00", data_countdown_until=WebState.expires_at_ms, class_name="countdown",
                                 aria_live="off")),
            rx.text(t("wait.waiting"), role="status", class_name="hint"),
            class_name="card",
        ),
        expiry_warning(WebState.expires_at_ms, "expiry.approval"),
        fraud_warning("wait.fraud"),
        rx.text(t("wait.cancel.hint"), class_name="hint"),
        rx.button(t("cancel"), on_click=WebState.cancel_request, size="3", variant="outline", id="cancel-request"),
        spacing="4",
        align="stretch",
        width="100%",
    )


def page() -> rx.Component:
    return web_shell(
        idle_warning(WebState),
        rx.cond(
            WebState.logged_in,
            rx.match(
                WebState.screen,
                (Screen.NUMBER.value, number_screen(WebState)),
                (Screen.CONFIRM.value, confirm_screen(WebState)),
                (Screen.PROOF.value, proof_screen(WebState)),
                (Screen.WAIT.value, wait_screen()),
                (Screen.OUTCOME.value, outcome_screen(WebState)),
                (Screen.ADVISOR.value, advisor_screen(WebState)),
                (Screen.ACTIVATION_HELP.value, activation_help_screen(WebState)),
                (Screen.STALE.value, stale_screen(WebState)),
                (Screen.STALE_CODE.value, stale_code_screen(WebState)),
                rx.vstack(overview_screen(WebState), call_status(WebState), spacing="4", width="100%"),  # §12.5
            ),
            # Logged out while the page was open (a session ended elsewhere says why): sign in again here.
            rx.cond(WebState.login_error != "", login_form(WebState, WebState.login_and_go),
                    rx.center(rx.spinner(size="3"), min_height="40vh")),
        ),
        actions=rx.cond(
            WebState.logged_in,
            rx.button(t("logout"), on_click=WebState.logout_and_leave, variant="outline", size="2"),
        ),
    )
