"""``/demo/messages`` (demo mode only): what each phone number and email address received.

The page is pushed to: one watcher per server process (:func:`secure_phone.ui.runtime.inbox_watcher`)
notices new messages and refreshes the open inbox pages; no page starts a task of its own.
"""

from __future__ import annotations

import reflex as rx

from secure_phone.services import demo_inbox
from secure_phone.services.demo_inbox import InboxView, MessageView
from secure_phone.settings import demo_mode
from secure_phone.ui import runtime
from secure_phone.ui.components import title, web_shell
from secure_phone.ui.i18n import LangState, t
from secure_phone.ui.paths import MESSAGES_ROUTE


@runtime.inbox_state
class MessagesState(rx.State):
    """The inboxes are read from the database whenever the page is sent (a computed var without cache): the
    codes they show never enter Reflex's state store (pickled to disk or Redis)."""

    version: int = 0  # moved by a refresh or a push: the page is sent again

    @rx.var(cache=False)
    def inboxes(self) -> list[InboxView]:
        return demo_inbox.inboxes(runtime.uow()) if demo_mode() and self.version else []

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


def page() -> rx.Component:
    return web_shell(
        rx.vstack(
            title(t("messages.title")),
            rx.text(t("messages.intro")),
            rx.button(t("messages.refresh"), on_click=MessagesState.refresh, variant="outline", width="fit-content"),
            rx.cond(MessagesState.inboxes.length() == 0, rx.text(t("messages.none"))),
            rx.foreach(MessagesState.inboxes, _inbox),
            spacing="4",
            align="stretch",
            width="100%",
        )
    )


ON_LOAD = [MessagesState.refresh, LangState.sync_html_lang]
