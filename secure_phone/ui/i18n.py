"""Rendering the translation catalogue: every visible string goes through :func:`t`."""

from __future__ import annotations

import reflex as rx
from reflex_base.event import EventHandler, EventSpec

from secure_phone.i18n import MESSAGES
from secure_phone.ui.paths import title_script


class LangState(rx.State):
    """The interface language, kept in the browser across visits."""

    lang: str = rx.LocalStorage("fr", name="sp_lang", sync=True)

    @rx.event
    def toggle(self) -> EventSpec:
        self.lang = "en" if self.lang == "fr" else "fr"
        return rx.call_script(title_script(self.lang))

    @rx.event
    def sync_html_lang(self) -> EventSpec:
        """The page's ``lang`` and title follow the interface's language (kept in the browser)."""
        return rx.call_script(title_script(self.lang))


def t(key: str) -> rx.Var:
    """A catalogue text, switched in the browser when the language changes."""
    return rx.cond(LangState.lang == "en", MESSAGES["en"][key], MESSAGES["fr"][key])


_CATALOG_VAR = rx.Var.create(MESSAGES)


def t_var(key: rx.Var | str) -> rx.Var:
    """The text of a key held in a state var (error codes, outcomes)."""
    return _CATALOG_VAR[rx.cond(LangState.lang == "en", "en", "fr")][key]


def lang_switch(after: EventHandler | None = None) -> rx.Component:
    """FR / EN; ``after`` refreshes texts built on the server (the Sécur'Pass approval)."""
    return rx.button(
        t("lang.switch"),
        on_click=[LangState.toggle, after] if after is not None else LangState.toggle,
        variant="ghost",
        aria_label=t("lang.switch.label"),
        lang=rx.cond(LangState.lang == "en", "fr", "en"),
        id="lang-switch",
    )


def phone_of(holder: rx.Var) -> rx.Var:
    """« Smartphone de Camille Martin » / « Camille Martin's smartphone » (``picker.phone.of``)."""
    return t("picker.phone.of").to(str).replace("{name}", holder)
