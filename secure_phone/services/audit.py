"""Append-only, hash-chained audit trail (spec §9).

Each entry's hash covers the previous entry's hash and the entry's own content, so altering,
removing or reordering a row breaks the chain from that row on. Appends are serialised by
locking the single ``AuditHead`` row, on SQLite and PostgreSQL alike. Phone numbers are masked
before they are written: callers pass only masked values in ``details``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlmodel import Session, select

from secure_phone.adapters.models import AuditEntry, AuditHead

GENESIS = "0" * 64


@dataclass(frozen=True)
class Actor:
    """Who is asking, and from where (carried from the UI into every service call)."""

    kind: str  # customer | device | advisor | system | anonymous
    id: str | None = None
    channel: str | None = None
    ip: str | None = None
    user_agent: str | None = None


SYSTEM = Actor(kind="system")


def _digest(prev_hash: str, entry: AuditEntry) -> str:
    content = json.dumps(
        {
            "prev": prev_hash,
            "at": entry.at.isoformat(),
            "actor_kind": entry.actor_kind,
            "actor_id": entry.actor_id,
            "customer_id": entry.customer_id,
            "action": entry.action,
            "outcome": entry.outcome,
            "channel": entry.channel,
            "ip": entry.ip,
            "user_agent": entry.user_agent,
            "request_id": entry.request_id,
            "details": entry.details,
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(content.encode()).hexdigest()


def record(
    session: Session,
    actor: Actor,
    action: str,
    outcome: str,
    *,
    now: datetime,
    customer_id: int | None = None,
    request_id: str | None = None,
    **details: Any,
) -> AuditEntry:
    """Append one entry in the caller's transaction."""
    head = session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update()).first()
    if head is None:
        head = AuditHead(id=1, last_hash=GENESIS)
        session.add(head)
    entry = AuditEntry(
        at=now.astimezone(timezone.utc),  # hashed as stored: the column keeps UTC
        actor_kind=actor.kind,
        actor_id=actor.id,
        customer_id=customer_id,
        action=action,
        outcome=outcome,
        channel=actor.channel,
        ip=actor.ip,
        user_agent=(actor.user_agent or "")[:300] or None,
        request_id=request_id,
        details=json.dumps(details, sort_keys=True, default=str),
        prev_hash=head.last_hash,
        hash="",
    )
    entry.hash = _digest(head.last_hash, entry)
    head.last_hash = entry.hash
    session.add(entry)
    session.flush()
    return entry


def verify_chain(session: Session) -> int | None:
    """The id of the first entry whose link is broken, or None when the chain is intact."""
    prev = GENESIS
    for entry in session.exec(select(AuditEntry).order_by(AuditEntry.id)):
        if entry.prev_hash != prev or _digest(prev, entry) != entry.hash:
            return entry.id
        prev = entry.hash
    head = session.get(AuditHead, 1)
    if head is not None and head.last_hash != prev:
        return -1  # the newest entries were removed
    return None
