"""Shared layout components: the desktop web shell, the phone frame, steps, errors, numbers."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.vars.number import NumberVar
from reflex_base.event import EventHandler, EventSpec

from secure_phone.services.unit_of_work import configured_policy
from secure_phone.ui.i18n import LangState, lang_switch, message, t, with_catalog

# The title takes the focus only when the focus was lost with the previous screen (assets/ui.js
# does the same for screens pushed from another client); a focus placed elsewhere is kept — in a pane
# of /demo, a focus in another pane or in the page around it too (this framed document lacks the focus).
FOCUS_TITLE = (
    "requestAnimationFrame(() => { const a = document.activeElement, el = document.getElementById('step-title');"
    " if (window.parent !== window && !document.hasFocus()) return;"
    " if (el && (!a || a === document.body || !a.isConnected)) el.focus(); })"
)
FOCUS_ERRORS = "setTimeout(() => { const el = document.getElementById('error-summary'); if (el) el.focus(); }, 60)"


def focus_title() -> EventSpec:
    """Move the focus to the new screen's title (screen readers announce it)."""
    return rx.call_script(FOCUS_TITLE)


def focus_errors() -> EventSpec:
    return rx.call_script(FOCUS_ERRORS)


def title(*children: rx.Component | rx.Var | str, **props: Any) -> rx.Component:
    return rx.heading(*children, as_="h1", size="7", id="step-title", tab_index=-1, class_name="step-title", **props)


def skip_link() -> rx.Component:
    return rx.el.a(t("skip.to.content"), href="#main", class_name="skip-link")


def brand() -> rx.Component:
    return rx.hstack(
        rx.el.span("◆", aria_hidden="true", class_name="brand-mark"),
        rx.text(t("bank.name"), weight="bold", size="4"),
        align="center",
        spacing="2",
    )


def web_shell(*children: rx.Component, actions: rx.Component | None = None) -> rx.Component:
    """The desktop web customer area (responsive)."""
    return rx.box(
        skip_link(),
        rx.el.header(
            rx.hstack(
                rx.link(brand(), href="/", underline="none", color="inherit"),
                rx.spacer(),
                actions or rx.fragment(),
                lang_switch(),
                align="center",
                spacing="4",
                class_name="shell-bar",
            ),
            class_name="site-header",
        ),
        rx.el.main(rx.box(*children, class_name="web-content"), id="main", tab_index=-1),
        on_mount=LangState.sync_html_lang,
        class_name="web-page",
    )


class InlineScript(rx.el.Script):
    """A script the browser runs while it parses the prerendered page (React never runs it again)."""

    dangerouslySetInnerHTML: rx.Var[dict[str, str]]  # noqa: N815


def inline_script(js: str) -> rx.Component:
    return InlineScript.create(dangerouslySetInnerHTML={"__html": js})


def phone_frame(*children: rx.Component, top: rx.Component | None = None, on_lang: EventHandler | None = None,
                boot_js: str | None = None) -> rx.Component:
    """The mobile app: drawn inside a phone outline on a desktop, full screen on a phone.

    ``boot_js`` runs before anything of the page is drawn: it comes first in the prerendered HTML,
    where the browser runs it once the stylesheet is in, before it paints (a script further down
    would let the browser paint what comes before it first, then the rest: two paints).
    """
    return rx.box(
        *([inline_script(boot_js)] if boot_js else []),
        rx.box(
            skip_link(),
            rx.el.header(
                rx.hstack(brand(), rx.spacer(), top or rx.fragment(), lang_switch(on_lang), align="center",
                          spacing="2"),
                class_name="app-header",
            ),
            rx.el.main(rx.box(*children, class_name="app-content"), id="main", tab_index=-1),
            class_name="phone-screen",
        ),
        on_mount=LangState.sync_html_lang,
        class_name="phone-stage",
    )


PROOF_ON = configured_policy().new_number_proof
"""§12.3's switch as this server runs (the pages are built once, at start): the step « Code » exists or not."""

STEP_KEYS = (("step.number", "step.confirm", "step.code", "step.securpass", "step.done") if PROOF_ON
             else ("step.number", "step.confirm", "step.securpass", "step.done"))


def step_indicator(current: NumberVar, keys: tuple[str, ...] = STEP_KEYS) -> rx.Component:
    """Numéro → Confirmation → Sécur'Pass → Terminé, the current one announced as such."""
    items = []
    for index, key in enumerate(keys, start=1):
        is_current = current == index
        items.append(
            rx.el.li(
                rx.el.span(str(index), class_name="step-dot", aria_hidden="true"),
                rx.el.span(t(key)),
                rx.cond(is_current, rx.el.span(" (", t("step.current"), ")", class_name="sr-only")),
                aria_current=rx.cond(is_current, "step", None),
                class_name=rx.cond(is_current, "step current", rx.cond(current > index, "step done", "step")),
            )
        )
    return rx.el.nav(rx.el.ol(*items, class_name="steps"), aria_label=t("steps.label"))



def error_summary(error_key: rx.Var, field_id: str) -> rx.Component:
    """GOV.UK-style summary linked to the field, announced to screen readers."""
    return with_catalog(rx.cond(
        error_key != "",
        rx.box(
            rx.heading(t("error.summary.title"), as_="h2", size="4"),
            rx.el.a(message(error_key), href=f"#{field_id}", class_name="error-link"),
            role="alert",
            id="error-summary",
            tab_index=-1,
            class_name="error-summary",
        ),
    ))


def field_error(error_key: rx.Var, field_id: str) -> rx.Component:
    return with_catalog(rx.cond(
        error_key != "",
        rx.el.p(
            rx.el.span("⚠ ", aria_hidden="true"),
            message(error_key),
            id=f"{field_id}-error",
            class_name="field-error",
        ),
    ))


def masked_number(first: rx.Var, last_two: rx.Var, masked: rx.Var) -> rx.Component:
    """« 06 •• •• •• 78 » with a screen-reader text that reads the visible digits.

    `first` is empty when the mask shows no leading digit (« •• •• 34 », short numbers)."""
    return rx.el.span(
        rx.el.span(masked, aria_hidden="true", class_name="number"),
        rx.cond(
            first != "",
            rx.el.span(t("masked.prefix"), " ", first, " ", t("masked.suffix"), " ", last_two, class_name="sr-only"),
            rx.el.span(t("number.masked_ending"), " ", last_two, class_name="sr-only"),
        ),
    )


def notice(kind: str, *children: rx.Component, **props: Any) -> rx.Component:
    """An outcome panel: an icon and words, never colour alone."""
    icons = {"success": "✔", "info": "ℹ", "warning": "⚠", "error": "✖"}
    return rx.box(
        rx.hstack(
            rx.el.span(icons[kind], aria_hidden="true", class_name="notice-icon"),
            rx.box(*children),
            align="start",
            spacing="3",
        ),
        class_name=f"notice notice-{kind}",
        **props,
    )


def fraud_warning(key: str, title_key: str | None = None) -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.el.span("⚠", aria_hidden="true", class_name="notice-icon"),
            rx.box(
                *([rx.text(t(title_key), weight="bold")] if title_key else []),
                rx.text(t(key)),
            ),
            align="start",
            spacing="3",
        ),
        class_name="fraud-warning",
        role="note",
    )


def expiry_warning(until_ms: rx.Var, key: str, action: rx.Component | None = None) -> rx.Component:
    """WCAG 2.2.1: shown one minute before ``until_ms`` (epoch ms) by assets/securpass.js, announced as an alert;
    ``action``: the way to extend, where the rules allow one."""
    return rx.el.div(
        rx.text(t(key)),
        *([action] if action is not None else []),
        data_warn_until=until_ms, role="alert", class_name="notice notice-warning expiry-warning",
    )


def idle_warning(state: Any) -> rx.Component:
    """The session's idle limit (5 minutes, §12.2): one minute before, a warning and « Rester connecté »."""
    return rx.cond(state.logged_in, expiry_warning(
        state.idle_until_ms, "expiry.session",
        rx.button(t("expiry.stay"), on_click=state.stay_signed_in, size="3", variant="outline", id="stay-signed-in"),
    ))
