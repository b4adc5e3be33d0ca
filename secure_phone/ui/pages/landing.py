"""``/``: one place to start a demo."""

from __future__ import annotations

import reflex as rx

from secure_phone.settings import demo_mode
from secure_phone.ui.components import title, web_shell
from secure_phone.ui.i18n import t
from secure_phone.ui.paths import ADVISOR_ROUTE, APP_ROUTE, DEMO_ROUTE, MESSAGES_ROUTE


def _entry(href: str, label: str, hint: str) -> rx.Component:
    return rx.el.li(
        rx.link(rx.text(t(label), weight="bold", size="4"), href=href),
        rx.text(t(hint), class_name="hint"),
        class_name="card",
    )


def page() -> rx.Component:
    return web_shell(
        rx.vstack(
            title(t("landing.title")),
            rx.text(t("landing.intro")),
            rx.el.ul(
                *([_entry(DEMO_ROUTE, "landing.demo", "landing.demo.hint")] if demo_mode() else []),
                _entry("/connexion", "landing.web", "landing.web.hint"),
                _entry(APP_ROUTE, "landing.app", "landing.app.hint"),
                *([_entry(MESSAGES_ROUTE, "landing.messages", "landing.messages.hint")] if demo_mode() else []),
                _entry(ADVISOR_ROUTE, "landing.advisor", "landing.advisor.hint"),
                class_name="entry-list",
            ),
            spacing="4",
            align="stretch",
        )
    )
