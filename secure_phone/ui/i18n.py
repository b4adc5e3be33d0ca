"""Rendering the translation catalogue: every visible string goes through :func:`t`."""

from __future__ import annotations

import json

import reflex as rx
from reflex_base.event import EventHandler, EventSpec
from reflex_base.vars.base import VarData

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


# The catalogue, once per page module. A dict literal as a Var (``rx.Var.create(MESSAGES)``) wrote the whole
# catalogue (~100 KB) into the JavaScript of every place that used it — six copies in the /app page's chunk —;
# ``message`` (and ``t_var``) read it from one definition, put in the page module by the component the Var
# carries.
_CATALOG_GLOBAL = "__spMessages"


class MessagesCatalog(rx.Fragment):
    """Defines ``globalThis.__spMessages`` (the catalogue) when the page module loads."""

    def add_custom_code(self) -> list[str]:
        catalog = json.dumps(MESSAGES, ensure_ascii=False, sort_keys=True)
        return [f"globalThis.{_CATALOG_GLOBAL} = globalThis.{_CATALOG_GLOBAL} || {catalog};"]


_CATALOG = rx.Var(_js_expr=f"globalThis.{_CATALOG_GLOBAL}",
                  _var_data=VarData(components=[MessagesCatalog.create()])).to(dict[str, dict[str, str]])


def message(error_key: rx.Var | str) -> rx.Var:
    """The text of a key held in a state var (an error code, an outcome), in the interface language; the page
    that shows it gets the one copy of the catalogue."""
    return _CATALOG[rx.cond(LangState.lang == "en", "en", "fr")][error_key]


def with_catalog(component: rx.Component) -> rx.Component:
    """``component``, with the catalogue defined in its page module (for a ``message`` it shows)."""
    return rx.fragment(MessagesCatalog.create(), component)


def t_var(key: rx.Var | str) -> rx.Var:
    """The text of a key held in a state var (error codes, outcomes)."""
    return message(key)


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
