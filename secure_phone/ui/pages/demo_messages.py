"""``/demo/messages`` (demo mode only): what each phone number and email address received.

The page is pushed to: a message filed into a demo inbox is announced (``events.InboxChanged``, relayed
through PostgreSQL from the separate dispatcher in scale-out) and the open inbox pages are refreshed
(:mod:`secure_phone.ui.runtime`); nobody polls, and no page starts a task of its own. A plain field filters the
inboxes by number or address, as typed.
"""

from __future__ import annotations

import reflex as rx

from secure_phone.services import demo_inbox
from secure_phone.services.demo_inbox import InboxView, MessageView
from secure_phone.settings import demo_mode
from secure_phone.ui import runtime
from secure_phone.ui.components import inline_script, title, web_shell
from secure_phone.ui.i18n import LangState, t
from secure_phone.ui.paths import MESSAGES_ROUTE


@runtime.inbox_state
class MessagesState(rx.State):
    """The inboxes are read from the database whenever the page is sent (a computed var without cache): the
    codes they show never enter Reflex's state store (pickled to disk or Redis)."""

    version: int = 0  # moved by a refresh or a push: the page is sent again
    query: str = ""  # the filter, as typed (a number or an address: nothing secret)

    @rx.var(cache=False)
    def inboxes(self) -> list[InboxView]:
        return demo_inbox.inboxes(runtime.uow(), self.query) if demo_mode() and self.version else []

    @rx.event
    def filter(self, value: str) -> None:
        """The filter field changed (demo mode only; any text, bounded)."""
        if not demo_mode():
            return
        self.query = demo_inbox.clean_filter(value)
        self.version += 1
        runtime.watch_inbox(self.router.session.client_token)

    @rx.event
    def refresh(self) -> None:
        if not demo_mode():
            return
        self.version += 1
        runtime.watch_inbox(self.router.session.client_token)

    def _on_push(self) -> None:
        if demo_mode() and self.router.url.path.rstrip("/") == MESSAGES_ROUTE:
            self.version += 1
        else:
            runtime.unwatch_inbox(self.router.session.client_token)


def _message(message: MessageView) -> rx.Component:
    return rx.el.li(
        rx.text(rx.cond(message.channel == "sms", t("messages.sms"), t("messages.email")), " · ",
                t("messages.received"), " ", message.received, class_name="hint"),
        rx.cond(message.subject != "", rx.text(message.subject, weight="bold")),
        rx.text(message.body, white_space="pre-line"),
        rx.cond(
            message.smtp_session != "",
            rx.text(t("messages.smtp"), " ", message.smtp_session, " (",
                    rx.cond(message.smtp_html, t("messages.smtp.html"), t("messages.smtp.text")), ") · ",
                    message.smtp_trace, class_name="hint smtp-trace", overflow_wrap="anywhere"),
        ),
        class_name="message",
    )


def _inbox(box: InboxView) -> rx.Component:
    return rx.el.section(
        rx.heading(rx.cond(box.channel == "sms", t("messages.sms"), t("messages.email")), " · ", box.recipient,
                   as_="h2", size="4"),
        rx.el.ul(rx.foreach(box.messages, _message), class_name="messages"),
        class_name="card inbox",
        aria_label=box.recipient,
    )


FRAMED = "if (window.self !== window.top) document.documentElement.classList.add('framed');"
"""In a pane of ``/demo`` the messages come first: the page's header and introduction step aside (assets/styles.css)."""


def page() -> rx.Component:
    return web_shell(
        rx.vstack(
            inline_script(FRAMED),
            title(t("messages.title")),
            rx.text(t("messages.intro"), class_name="inbox-intro"),
            rx.el.div(
                rx.el.label(t("messages.filter"), html_for="inbox-filter", class_name="label"),
                rx.text(t("messages.filter.hint"), id="inbox-filter-hint", class_name="hint"),
                rx.input(id="inbox-filter", type="search", value=MessagesState.query, auto_complete="off",
                         max_length=demo_inbox.FILTER_LIMIT, size="3", width="min(100%, 24rem)",
                         on_change=MessagesState.filter, debounce_timeout=250,
                         aria_describedby="inbox-filter-hint"),
                role="search",
                class_name="inbox-search",
                id="inbox-search",
            ),
            rx.cond(MessagesState.inboxes.length() == 0,
                    rx.text(rx.cond(MessagesState.query == "", t("messages.none"), t("messages.none.filtered")),
                            role="status")),
            rx.foreach(MessagesState.inboxes, _inbox),
            spacing="4",
            align="stretch",
            width="100%",
        )
    )


ON_LOAD = [MessagesState.refresh, LangState.sync_html_lang]
