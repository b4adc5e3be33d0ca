"""``/demo/messages``: what each phone number and email address received (demo inboxes)."""

from __future__ import annotations

import dataclasses

import asyncio

import reflex as rx
from sqlmodel import select

from secure_phone.adapters.db import read_only
from secure_phone.adapters.models import DemoMessage
from secure_phone.domain.phone import phone_from_e164
from secure_phone.services.customers import local_time
from secure_phone.ui.components import title, web_shell
from secure_phone.ui.i18n import LangState, t

REFRESH_SECONDS = 2


@dataclasses.dataclass
class MessageView:
    channel: str
    subject: str
    body: str
    received: str


@dataclasses.dataclass
class InboxView:
    recipient: str
    channel: str
    messages: list[MessageView] = dataclasses.field(default_factory=list)


def _inboxes() -> list[InboxView]:
    with read_only() as session:
        rows = session.exec(select(DemoMessage).order_by(DemoMessage.received_at.desc(), DemoMessage.id.desc())).all()  # type: ignore[union-attr]
    boxes: dict[str, InboxView] = {}
    for row in rows:
        label = phone_from_e164(row.recipient).national if row.channel == "sms" else row.recipient
        box = boxes.setdefault(label, InboxView(recipient=label, channel=row.channel, messages=[]))
        box.messages.append(MessageView(channel=row.channel, subject=row.subject or "", body=row.body,
                                        received=local_time(row.received_at, "fr")))
    return list(boxes.values())


class MessagesState(rx.State):
    inboxes: list[InboxView] = []
    _watching: bool = False

    @rx.event
    def refresh(self) -> None:
        self.inboxes = _inboxes()

    @rx.event(background=True)
    async def watch(self):  # type: ignore[no-untyped-def]
        """Keep the inboxes current while the page is open (a demo screen left on display)."""
        async with self:
            if self._watching:
                return
            self._watching = True
        try:
            for _ in range(900):  # 30 minutes at most, then the page's button refreshes
                inboxes = await asyncio.to_thread(_inboxes)
                async with self:
                    if self.router.url.path.rstrip("/") != "/demo/messages":
                        break
                    if inboxes != self.inboxes:
                        self.inboxes = inboxes
                await asyncio.sleep(REFRESH_SECONDS)
        finally:
            async with self:
                self._watching = False


def _message(message: MessageView) -> rx.Component:
    return rx.el.li(
        rx.text(rx.cond(message.channel == "sms", t("messages.sms"), t("messages.email")), " · ",
                t("messages.received"), " ", message.received, class_name="hint"),
        rx.cond(message.subject != "", rx.text(message.subject, weight="bold")),
        rx.text(message.body, white_space="pre-line"),
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


ON_LOAD = [MessagesState.refresh, MessagesState.watch, LangState.sync_html_lang]
