"""Append-only, hash-chained audit trail (spec §9).

Each entry's hash covers the previous entry's hash and the entry's own content, so altering,
removing or reordering a row breaks the chain from that row on. Appends are serialised by
locking the ``AuditHead`` row id=1 (which holds the newest hash), on SQLite and PostgreSQL alike.
Phone numbers are masked before they are written: callers pass only masked values in ``details``.

Retention (12 months, ``Policy.audit_retention``): :func:`purge` deletes the oldest entries, a
contiguous run from the start of the chain, and keeps where the remaining chain starts in
``AuditHead`` id=2 (the *anchor*: the ``prev_hash`` of the oldest kept entry, i.e. the hash of
the last purged one; ``GENESIS`` while nothing was ever purged). It then appends an
``audit_purged`` entry that records the anchor, so that moving the anchor to hide the removal of
more entries is detected too: :func:`check_chain` starts from the anchor and requires the newest
``audit_purged`` entry to name it. Running ``python -m secure_phone.audit_cli verify|purge``
does both from the command line.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import delete, func, insert, update
from sqlmodel import Session, select

from secure_phone.adapters.models import AuditEntry, AuditHead
from secure_phone.services.inputs import free_text
from secure_phone.domain.policy import DEFAULT_POLICY

GENESIS = "0" * 64
HEAD_ID = 1
"""``AuditHead`` row holding the hash of the newest entry; locking it serialises appends and purges."""
ANCHOR_ID = 2
"""``AuditHead`` row holding the ``prev_hash`` of the oldest kept entry once the chain was purged."""
END_REMOVED = -1
"""What :func:`verify_chain` returns when the newest entries were removed."""
PURGE_ACTION = "audit_purged"


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


def _lock_head(session: Session) -> AuditHead:
    """Lock the head row for the rest of the transaction (``SELECT … FOR UPDATE``; SQLite's write
    transactions are already exclusive), creating it on an empty trail."""
    head = session.exec(select(AuditHead).where(AuditHead.id == HEAD_ID).with_for_update()).first()
    if head is None:
        head = AuditHead(id=HEAD_ID, last_hash=GENESIS)
        session.add(head)
    return head


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
    """Append one entry in the caller's transaction.

    Written with three Core statements (lock and read the head, insert, move the head): the trail is
    appended to by nearly every event, and the ORM's unit of work cost several times as much.
    """
    locked = session.execute(
        select(AuditHead.last_hash).where(AuditHead.id == HEAD_ID).with_for_update()  # type: ignore[arg-type]
    ).first()
    prev_hash = locked[0] if locked is not None else GENESIS
    entry = AuditEntry(
        at=now.astimezone(timezone.utc),  # hashed as stored: the column keeps UTC
        actor_kind=actor.kind,
        actor_id=free_text(actor.id, 100) or None,
        customer_id=customer_id,
        action=action,
        outcome=outcome,
        channel=actor.channel,
        ip=free_text(actor.ip, 64) or None,
        user_agent=free_text(actor.user_agent, 300) or None,
        request_id=free_text(request_id, 100) or None,
        details=json.dumps(details, sort_keys=True, default=str),  # JSON escapes control characters
        prev_hash=prev_hash,
        hash="",
    )
    entry.hash = _digest(prev_hash, entry)
    if locked is None:
        session.execute(insert(AuditHead).values(id=HEAD_ID, last_hash=entry.hash))
    else:
        session.execute(update(AuditHead).where(AuditHead.id == HEAD_ID).values(last_hash=entry.hash))  # type: ignore[arg-type]
    values = {c.name: getattr(entry, c.name) for c in AuditEntry.__table__.columns if c.name != "id"}  # type: ignore[attr-defined]
    entry.id = session.execute(insert(AuditEntry).values(**values)).inserted_primary_key[0]
    return entry


@dataclass(frozen=True)
class ChainReport:
    """The outcome of a verification.

    ``problem``: None when intact; ``"link"`` (the entry ``broken_at`` was altered, or an entry
    before it removed or altered with its hash recomputed); ``"start"`` (entries were removed at the
    start of the chain beyond what the purges recorded: ``broken_at`` is the oldest entry left);
    ``"end"`` (the newest entries were removed: ``broken_at`` is :data:`END_REMOVED`).
    """

    entries: int
    """Entries verified: all of them when intact, those before the break otherwise."""
    broken_at: int | None = None
    problem: str | None = None
    at: datetime | None = None
    """When the entry ``broken_at`` was recorded (its stored value, possibly altered)."""
    action: str | None = None
    last_id: int | None = None
    """The newest entry still in the chain (None when it is empty)."""
    anchor: str = GENESIS

    @property
    def intact(self) -> bool:
        return self.problem is None


class ChainBroken(Exception):
    """The chain does not verify: the purge refuses to delete anything (it would erase the evidence)."""

    def __init__(self, report: ChainReport) -> None:
        super().__init__(f"audit chain broken at entry {report.broken_at} ({report.problem})")
        self.report = report


def check_chain(session: Session) -> ChainReport:
    """Walk the chain from the anchor (or GENESIS) to the head and report the first broken link."""
    anchor_row = session.get(AuditHead, ANCHOR_ID)
    anchor = anchor_row.last_hash if anchor_row is not None else GENESIS
    prev, count = anchor, 0
    first: AuditEntry | None = None
    last_id: int | None = None
    recorded_anchor: object = None  # the anchor named by the newest audit_purged entry
    query = select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=1000)
    result = session.exec(query)
    try:
        for entry in result:
            if first is None:
                first = entry
            if entry.prev_hash != prev or _digest(prev, entry) != entry.hash:
                return ChainReport(count, entry.id, "link", entry.at, entry.action, last_id, anchor)
            if entry.action == PURGE_ACTION:
                recorded_anchor = json.loads(entry.details).get("anchor")
            prev, count, last_id = entry.hash, count + 1, entry.id
    finally:
        result.close()
    head = session.get(AuditHead, HEAD_ID)
    if head is not None and head.last_hash != prev:
        return ChainReport(count, END_REMOVED, "end", last_id=last_id, anchor=anchor)
    if anchor_row is not None and recorded_anchor != anchor:
        # The anchor was moved (or set) without the purge that should have recorded it: entries
        # were removed at the start of the chain.
        assert first is not None  # an empty chain with a head would have been reported above
        return ChainReport(0, first.id, "start", first.at, first.action, last_id, anchor)
    return ChainReport(count, last_id=last_id, anchor=anchor)


def verify_chain(session: Session) -> int | None:
    """The id of the first entry whose link is broken, :data:`END_REMOVED` (-1) when the newest
    entries were removed, or None when the chain is intact."""
    return check_chain(session).broken_at


def purge(
    session: Session,
    *,
    now: datetime,
    retention: timedelta = DEFAULT_POLICY.audit_retention,
    actor: Actor = SYSTEM,
) -> int:
    """Delete the entries older than ``now - retention``, oldest first; return how many.

    Only the contiguous run at the start of the chain is deleted: the purge stops at the first
    entry recorded at or after the cutoff, so the kept chain has no hole. It records the anchor
    (``AuditHead`` id=2) and appends an ``audit_purged`` entry, in the caller's transaction,
    under the lock of the head row. A chain that does not verify is left untouched
    (:class:`ChainBroken`): tampered entries are evidence.
    """
    if retention <= timedelta(0):
        raise ValueError("the retention must be positive")
    _lock_head(session)
    report = check_chain(session)
    if not report.intact:
        raise ChainBroken(report)
    cutoff = now.astimezone(timezone.utc) - retention
    first_kept = session.exec(select(func.min(AuditEntry.id)).where(AuditEntry.at >= cutoff)).one()
    last_query = select(func.max(AuditEntry.id))
    if first_kept is not None:
        last_query = last_query.where(AuditEntry.id < first_kept)
    last_purged_id = session.exec(last_query).one()
    count = 0
    new_anchor: str | None = None
    if last_purged_id is not None:
        last_purged = session.get(AuditEntry, last_purged_id)
        assert last_purged is not None
        new_anchor = last_purged.hash  # the prev_hash of the oldest kept entry
        count = session.execute(delete(AuditEntry).where(AuditEntry.id <= last_purged_id)).rowcount
    anchor_row = session.get(AuditHead, ANCHOR_ID)
    if anchor_row is None:
        anchor_row = AuditHead(id=ANCHOR_ID, last_hash=GENESIS)
    if new_anchor is not None:
        anchor_row.last_hash = new_anchor
    session.add(anchor_row)
    session.flush()
    record(session, actor, PURGE_ACTION, "ok", now=now, count=count, cutoff=cutoff.isoformat(),
           anchor=anchor_row.last_hash)
    return count
