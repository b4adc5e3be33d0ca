"""The demo inboxes (demo mode only): what each phone number and email address received (``/demo/messages``).

The demo SMS and email gateways deliver into ``DemoMessage`` (secure_phone.adapters.notifications); this is
the one place that reads it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from secure_phone.adapters.models import DemoMessage
from secure_phone.domain.phone import phone_from_e164
from secure_phone.services.customers import local_time
from secure_phone.services.unit_of_work import UnitOfWork
from secure_phone.settings import demo_mode


@dataclass
class MessageView:
    channel: str
    subject: str
    body: str
    received: str
    smtp_session: str = ""  # the id of the SMTP session that carried an email to the local receiver ("": none)
    smtp_trace: str = ""  # that session: peer, MAIL FROM, RCPT TO, Message-ID
    smtp_html: bool = False  # the email had an HTML part


def _smtp(record: str | None) -> dict[str, Any]:
    """The SMTP session of a message filed by the local receiver, as shown on the page."""
    if not record:
        return {}
    try:
        session = json.loads(record)
    except ValueError:
        return {}
    trace = " · ".join(str(part) for part in (
        session.get("peer"), f"MAIL FROM <{session.get('mail_from', '')}>",
        "RCPT TO " + ", ".join(f"<{r}>" for r in session.get("rcpt_to", [])),
        f"Message-ID {session.get('message_id', '')}"))
    return {"smtp_session": str(session.get("session", "")), "smtp_trace": trace,
            "smtp_html": "text/html" in session.get("parts", [])}


@dataclass
class InboxView:
    recipient: str
    channel: str
    messages: list[MessageView] = field(default_factory=list)


def inboxes(uow: UnitOfWork) -> list[InboxView]:
    """Every inbox, newest message first; nothing at all outside demo mode."""
    if not demo_mode():
        return []
    with uow.read() as session:
        rows = session.exec(select(DemoMessage).order_by(col(DemoMessage.received_at).desc(),
                                                         col(DemoMessage.id).desc())).all()
    boxes: dict[str, InboxView] = {}
    for row in rows:
        label = phone_from_e164(row.recipient).national if row.channel == "sms" else row.recipient
        box = boxes.setdefault(label, InboxView(recipient=label, channel=row.channel, messages=[]))
        box.messages.append(MessageView(channel=row.channel, subject=row.subject or "", body=row.body,
                                        received=local_time(row.received_at, "fr"), **_smtp(row.smtp_session)))
    return list(boxes.values())


def latest(uow: UnitOfWork) -> int:
    """The newest message's id (0 when none): what the shared inbox watcher compares."""
    with uow.read() as session:
        return session.exec(select(func.max(DemoMessage.id))).one() or 0
