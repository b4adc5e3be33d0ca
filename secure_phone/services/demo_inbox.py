"""The demo inboxes (demo mode only): what each phone number and email address received (``/demo/messages``).

The demo SMS and email gateways deliver into ``DemoMessage`` (secure_phone.adapters.notifications); this is
the one place that reads it. A new message is announced (:func:`announce_arrivals`, ``events.InboxChanged``):
the open inbox pages are pushed to, nobody polls the table.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import col, select

from secure_phone.adapters import gateways
from secure_phone.adapters.models import DemoMessage
from secure_phone.domain.phone import phone_from_e164
from secure_phone.services import events
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


FILTER_LIMIT = 80
"""The longest filter kept (an address, a number in any spelling)."""


def clean_filter(raw: object) -> str:
    """The filter as typed, bounded (``""`` for anything that is not text)."""
    if not isinstance(raw, str):
        return ""
    return "".join(ch for ch in raw if unicodedata.category(ch)[0] != "C")[:FILTER_LIMIT]


def _matches(query: str, label: str, recipient: str) -> bool:
    """A number in any spelling (« 06 12 34 56 78 », « 0612 », « +33612… ») matches by its digits; anything
    else (an address, a part of one) as a case-insensitive part of the label."""
    if not query:
        return True
    digits = "".join(ch for ch in query if ch.isdigit())
    if digits and all(ch.isdigit() or ch in " .-+()" for ch in query):
        national = "".join(ch for ch in label if ch.isdigit())
        international = "".join(ch for ch in recipient if ch.isdigit())
        return digits in national or digits in international
    return query.casefold() in label.casefold()


def inboxes(uow: UnitOfWork, query: str = "") -> list[InboxView]:
    """Every inbox (those matching ``query``, a number or an address, when given), newest message first;
    nothing at all outside demo mode."""
    if not demo_mode():
        return []
    query = clean_filter(query).strip()
    with uow.read() as session:
        rows = session.exec(select(DemoMessage).order_by(col(DemoMessage.received_at).desc(),
                                                         col(DemoMessage.id).desc())).all()
    boxes: dict[str, InboxView] = {}
    for row in rows:
        label = phone_from_e164(row.recipient).national if row.channel == "sms" else row.recipient
        if not _matches(query, label, row.recipient):
            continue
        box = boxes.setdefault(label, InboxView(recipient=label, channel=row.channel, messages=[]))
        box.messages.append(MessageView(channel=row.channel, subject=row.subject or "", body=row.body,
                                        received=local_time(row.received_at, "fr"), **_smtp(row.smtp_session)))
    return list(boxes.values())


def _announce() -> None:
    events.publish([events.InboxChanged()])


def announce_arrivals() -> None:
    """From now on, every message filed into a demo inbox by this process is announced
    (``events.InboxChanged``, after its commit): the app calls it at start, and so does the separate
    dispatcher (scale-out), whose announcements are relayed to the app's workers. Idempotent."""
    gateways.on_filed(_announce)
