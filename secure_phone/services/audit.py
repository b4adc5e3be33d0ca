"""Append-only audit trail that a database writer cannot rewrite (spec §9, §12.2).

**Keyed chain.** Each entry's ``hash`` is an HMAC-SHA256, keyed with ``derived_key("audit-mac")``
(derived from the server secret, which never lies in the database), over the previous entry's hash
and the entry's own content. Verifying entry *i* recomputes its MAC over the *stored* hash of entry
*i-1*: altering a row, or recomputing its hash without the key (plain SHA-256, say) and re-chaining
everything after it, fails at exactly that row; removing or reordering rows breaks the link of the
row after them. Appends are serialised by locking the ``AuditHead`` row id=1 (which holds the newest
hash), on SQLite and PostgreSQL alike. Phone numbers are masked before they are written: callers pass
only masked values in ``details``.

**Signed checkpoints.** A chain alone cannot show that its newest entries were cut off (with the head
row moved back) or that the whole trail was swapped for an older copy. :func:`checkpoint` therefore
signs, with an Ed25519 key derived from the server secret (``derived_key("audit-signing")``), one
JSON line naming the newest entry (id and hash), the number of entries and the purge anchor, and
appends it to a file outside the database and the data folder
(:func:`secure_phone.settings.audit_checkpoint_file`); it records the checkpoint as an
``audit_checkpoint`` entry too, so that deleting the file is detected. The dispatcher writes one every
minute when entries were added; ``audit_cli checkpoint`` and ``audit_cli purge`` write one as well.
:func:`check_trail` verifies the chain and every line of the file.

**Retention** (12 months, ``Policy.audit_retention``): :func:`purge` deletes the oldest entries, a
contiguous run from the start of the chain, and keeps where the remaining chain starts in
``AuditHead`` id=2 (the *anchor*: the ``prev_hash`` of the oldest kept entry, i.e. the hash of
the last purged one; ``GENESIS`` while nothing was ever purged). It records an ``audit_purged``
entry that names the anchor, so that moving the anchor to hide the removal of more entries is
detected too: :func:`check_chain` starts from the anchor and requires the newest ``audit_purged``
entry to name it. A checkpoint may name an entry that a later purge removed.

What the key cannot do: whoever holds the server secret *and* can write the database can rewrite the
trail and sign checkpoints for it; the file must also be append-only for its writer (docs/security.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import bindparam, delete, func, insert, update
from sqlmodel import Session, col, select

from secure_phone.adapters.db import default_url
from secure_phone.adapters.models import AuditEntry, AuditHead
from secure_phone.domain.policy import DEFAULT_POLICY
from secure_phone.services.inputs import free_text
from secure_phone.settings import audit_checkpoint_file, derived_key

if TYPE_CHECKING:  # the unit of work records through this module: no import loop at run time
    from secure_phone.services.unit_of_work import UnitOfWork

GENESIS = "0" * 64
HEAD_ID = 1
"""``AuditHead`` row holding the hash of the newest entry; locking it serialises appends and purges."""
ANCHOR_ID = 2
"""``AuditHead`` row holding the ``prev_hash`` of the oldest kept entry once the chain was purged."""
END_REMOVED = -1
"""What :func:`verify_chain` returns when the newest entries were removed."""
PURGE_ACTION = "audit_purged"
CHECKPOINT_ACTION = "audit_checkpoint"
MAC_KEY = "audit-mac"
SIGNING_KEY = "audit-signing"
CHECKPOINT_FIELDS = ("v", "id", "hash", "count", "at", "anchor")


@dataclass(frozen=True)
class Actor:
    """Who is asking, and from where (carried from the UI into every service call)."""

    kind: str  # customer | device | advisor | system | anonymous
    id: str | None = None
    channel: str | None = None
    ip: str | None = None
    user_agent: str | None = None


SYSTEM = Actor(kind="system")


def _content(prev_hash: str, entry: AuditEntry | Entry) -> bytes:
    """What an entry's MAC covers: the previous hash and every column but the id and the hashes."""
    return json.dumps(
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
    ).encode()


def _mac(prev_hash: str, entry: AuditEntry | Entry) -> str:
    return hmac.new(derived_key(MAC_KEY), _content(prev_hash, entry), hashlib.sha256).hexdigest()


def _lock_head(session: Session) -> AuditHead:
    """Lock the head row for the rest of the transaction (``SELECT … FOR UPDATE``; SQLite's write
    transactions are already exclusive), creating it on an empty trail."""
    head = session.exec(select(AuditHead).where(AuditHead.id == HEAD_ID).with_for_update()).first()
    if head is None:
        head = AuditHead(id=HEAD_ID, last_hash=GENESIS)
        session.add(head)
    return head


_ENTRIES = AuditEntry.__table__  # type: ignore[attr-defined]
_HEADS = AuditHead.__table__  # type: ignore[attr-defined]
# The append's three statements, built once: a statement built per call paid SQLAlchemy's construction and
# cache-key generation on nearly every event (docs/benchmarks.md); these are compiled once and reused.
_READ_HEAD = select(_HEADS.c.last_hash).where(_HEADS.c.id == HEAD_ID).with_for_update()
_NEW_HEAD = insert(_HEADS)
_MOVE_HEAD = update(_HEADS).where(_HEADS.c.id == HEAD_ID).values(last_hash=bindparam("moved_to"))
_APPEND = insert(_ENTRIES)


@dataclass
class Entry:
    """An entry as it is MACed and inserted (the columns of ``AuditEntry`` but the id)."""

    at: datetime
    actor_kind: str
    actor_id: str | None
    customer_id: int | None
    action: str
    outcome: str
    channel: str | None
    ip: str | None
    user_agent: str | None
    request_id: str | None
    details: str
    prev_hash: str
    hash: str = ""


def entry(actor: Actor, action: str, outcome: str, *, now: datetime, customer_id: int | None = None,
          request_id: str | None = None, **details: Any) -> Entry:
    """An entry as :func:`append` will chain it (its link and MAC made then): every field fixed now, the details
    serialised now (what the caller passed cannot change it later)."""
    return Entry(
        at=now.astimezone(UTC),  # MACed as stored: the column keeps UTC
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
        prev_hash="",
    )


def append(session: Session, entries: list[Entry]) -> list[int]:
    """Chain ``entries`` to the trail, in order, in the caller's transaction; their ids.

    Core statements built once (lock and read the head, insert each, move the head), run on the transaction's
    own connection: the trail is appended to by nearly every event, and the ORM's unit of work cost several
    times as much. A unit of work appends its entries when it commits (``Tx.record``), so that the head — one
    row every writer locks — is held for those statements and the commit only.
    """
    if not entries:
        return []
    # What the transaction changed through the ORM is written first (as the ORM's own autoflush did): the head's
    # lock must be the transaction's last. Taken before a pending insert whose foreign key waits on a customer
    # row another transaction holds while it waits for the head, it deadlocked on PostgreSQL.
    session.flush()
    connection = session.connection()
    locked = connection.execute(_READ_HEAD).first()
    prev_hash = locked[0] if locked is not None else GENESIS
    ids = []
    for appended in entries:
        appended.prev_hash = prev_hash
        appended.hash = prev_hash = _mac(prev_hash, appended)
        inserted = connection.execute(_APPEND, dict(vars(appended))).inserted_primary_key
        assert inserted is not None  # a single-row INSERT
        ids.append(int(inserted[0]))
    if locked is None:
        connection.execute(_NEW_HEAD, {"id": HEAD_ID, "last_hash": prev_hash})
    else:
        connection.execute(_MOVE_HEAD, {"moved_to": prev_hash})
    return ids


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
) -> int:
    """Append one entry in the caller's transaction, now; its id."""
    return append(session, [entry(actor, action, outcome, now=now, customer_id=customer_id, request_id=request_id,
                                  **details)])[0]


# --- the chain ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainReport:
    """The outcome of a verification.

    ``problem``: None when intact; ``"link"`` (the entry ``broken_at`` was altered, its MAC recomputed
    without the key, or an entry before it removed); ``"start"`` (entries were removed at the start of
    the chain beyond what the purges recorded: ``broken_at`` is the oldest entry left); ``"end"`` (the
    newest entries were removed, or the head row: ``broken_at`` is :data:`END_REMOVED`).
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
    first_id: int | None = None
    """The oldest entry of the chain (None when it is empty)."""

    @property
    def intact(self) -> bool:
        return self.problem is None


class ChainBroken(Exception):
    """The chain does not verify: the purge refuses to delete anything (it would erase the evidence)."""

    def __init__(self, report: ChainReport) -> None:
        super().__init__(f"audit chain broken at entry {report.broken_at} ({report.problem})")
        self.report = report


def check_chain(session: Session, visit: Callable[[AuditEntry], None] | None = None) -> ChainReport:
    """Walk the chain from the anchor (or GENESIS) to the head and report the first broken link.

    ``visit`` is called with each entry that verified, in order (:func:`check_trail` uses it).
    """
    anchor_row = session.get(AuditHead, ANCHOR_ID)
    anchor = anchor_row.last_hash if anchor_row is not None else GENESIS
    prev, count = anchor, 0
    first: AuditEntry | None = None
    last_id: int | None = None
    recorded_anchor: object = None  # the anchor named by the newest audit_purged entry
    query = select(AuditEntry).order_by(col(AuditEntry.id)).execution_options(yield_per=1000)
    result = session.exec(query)
    try:
        for entry in result:
            if first is None:
                first = entry
            if entry.prev_hash != prev or not hmac.compare_digest(_mac(prev, entry), entry.hash):
                return ChainReport(count, entry.id, "link", entry.at, entry.action, last_id, anchor, first.id)
            if entry.action == PURGE_ACTION:
                recorded_anchor = json.loads(entry.details).get("anchor")
            if visit is not None:
                visit(entry)
            prev, count, last_id = entry.hash, count + 1, entry.id
    finally:
        result.close()
    first_id = first.id if first is not None else None
    head = session.get(AuditHead, HEAD_ID)
    if (head is None and first is not None) or (head is not None and head.last_hash != prev):
        return ChainReport(count, END_REMOVED, "end", last_id=last_id, anchor=anchor, first_id=first_id)
    if anchor_row is not None and recorded_anchor != anchor:
        # The anchor was moved (or set) without the purge that should have recorded it: entries
        # were removed at the start of the chain.
        assert first is not None  # an empty chain with a head would have been reported above
        return ChainReport(0, first.id, "start", first.at, first.action, last_id, anchor, first_id)
    return ChainReport(count, last_id=last_id, anchor=anchor, first_id=first_id)


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
    (``AuditHead`` id=2) and an ``audit_purged`` entry, in the caller's transaction, under the lock of
    the head row; the entry is appended before the deletion, so that ids never start again from 1
    (SQLite reuses the ids of an emptied table) and a checkpoint never names a reused id. A chain that
    does not verify is left untouched (:class:`ChainBroken`): tampered entries are evidence. Once the
    transaction is committed, the caller writes a :func:`checkpoint` (``audit_cli purge`` does).
    """
    if retention <= timedelta(0):
        raise ValueError("the retention must be positive")
    _lock_head(session)
    report = check_chain(session)
    if not report.intact:
        raise ChainBroken(report)
    cutoff = now.astimezone(UTC) - retention
    first_kept = session.exec(select(func.min(AuditEntry.id)).where(AuditEntry.at >= cutoff)).one()
    last_query = select(func.max(AuditEntry.id))
    if first_kept is not None:
        last_query = last_query.where(col(AuditEntry.id) < first_kept)
    last_purged_id = session.exec(last_query).one()
    anchor_row = session.get(AuditHead, ANCHOR_ID) or AuditHead(id=ANCHOR_ID, last_hash=GENESIS)
    count = 0
    if last_purged_id is not None:
        last_purged = session.get(AuditEntry, last_purged_id)
        assert last_purged is not None
        anchor_row.last_hash = last_purged.hash  # the prev_hash of the oldest kept entry
        count = session.exec(select(func.count()).where(col(AuditEntry.id) <= last_purged_id)).one()
    session.add(anchor_row)
    session.flush()
    record(session, actor, PURGE_ACTION, "ok", now=now, count=count, cutoff=cutoff.isoformat(),
           anchor=anchor_row.last_hash)
    if last_purged_id is not None:
        session.execute(delete(AuditEntry).where(col(AuditEntry.id) <= last_purged_id))
    return count


# --- signed checkpoints ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """One signed line of the checkpoint file: the newest entry of the trail at ``at``."""

    id: int
    hash: str
    count: int
    """Entries of the trail (from the anchor) up to and including this one."""
    at: str
    anchor: str
    line: int = 0
    """Its line in the file (1-based); 0 when it was not read from the file."""


def _signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(derived_key(SIGNING_KEY))


def public_key() -> Ed25519PublicKey:
    """The key that verifies the checkpoints (the private one is needed only to sign them)."""
    return _signing_key().public_key()


def _canonical(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _signed_line(fields: dict[str, Any]) -> bytes:
    signature = _b64url(_signing_key().sign(_canonical(fields)))
    return _canonical({**fields, "sig": signature}) + b"\n"


def _parse_line(raw: bytes, key: Ed25519PublicKey, line: int) -> Checkpoint | None:
    """The checkpoint of one line of the file, or None when the key did not sign it (forged, altered,
    damaged). The signature covers the canonical JSON of every field but ``sig``."""
    try:
        data = json.loads(raw)
        if set(data) != {*CHECKPOINT_FIELDS, "sig"} or data["v"] != 1:
            return None
        signature = base64.urlsafe_b64decode(data["sig"] + "=" * (-len(data["sig"]) % 4))
        key.verify(signature, _canonical({name: data[name] for name in CHECKPOINT_FIELDS}))
    except (ValueError, TypeError, InvalidSignature):
        return None
    return Checkpoint(data["id"], data["hash"], data["count"], data["at"], data["anchor"], line)


def _append(path: Path, line: bytes) -> None:
    """One write with O_APPEND, then fsync (and the folder's on creation): a whole line or nothing."""
    created = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        if os.write(fd, line) != len(line):
            raise OSError("short write to the audit checkpoint file")
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def _last_checkpoint(path: Path) -> Checkpoint | None:
    """The newest line of the file when it verifies (to count the entries added since)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 4096))
            lines = handle.read().splitlines()
    except FileNotFoundError:
        return None
    return _parse_line(lines[-1], public_key(), 0) if lines else None


def checkpoint(uow: UnitOfWork, *, actor: Actor = SYSTEM, only_if_new: bool = False) -> Checkpoint | None:
    """Sign the newest entry of the trail, append the line to the checkpoint file, record it.

    In a transaction of its own, under the lock of the head row: every entry it names is committed,
    and two writers (dispatchers, the command line) never interleave. The line is written (and
    synced) before the ``audit_checkpoint`` entry is committed, so the trail never records a
    checkpoint the file lacks. Returns None, writing nothing, on an empty trail, and with
    ``only_if_new`` when nothing was recorded since the last checkpoint.
    """
    now = uow.now
    path = audit_checkpoint_file(uow.url or default_url())
    with uow.write(actor) as tx:
        session = tx.session
        if session.execute(select(AuditHead.id).where(AuditHead.id == HEAD_ID).with_for_update()).first() is None:
            return None
        newest = session.execute(
            select(AuditEntry.id, AuditEntry.hash, AuditEntry.action).order_by(col(AuditEntry.id).desc()).limit(1)
        ).first()
        if newest is None or (only_if_new and newest.action == CHECKPOINT_ACTION):
            return None
        anchor_row = session.get(AuditHead, ANCHOR_ID)
        anchor = anchor_row.last_hash if anchor_row is not None else GENESIS
        count_query = select(func.count()).select_from(AuditEntry)
        previous = _last_checkpoint(path)
        if previous is not None and previous.anchor == anchor and previous.id <= newest.id:
            # Nothing before the previous checkpoint was purged since: count only what came after.
            count = previous.count + session.execute(count_query.where(col(AuditEntry.id) > previous.id)).scalar_one()
        else:
            count = session.execute(count_query).scalar_one()
        fields = {"v": 1, "id": newest.id, "hash": newest.hash, "count": count,
                  "at": now.astimezone(UTC).isoformat(), "anchor": anchor}
        record(session, actor, CHECKPOINT_ACTION, "ok", now=now, id=newest.id, hash=newest.hash)
        _append(path, _signed_line(fields))
    return Checkpoint(newest.id, newest.hash, count, fields["at"], anchor)


@dataclass
class _File:
    """The checkpoint file as read so far (how many lines, the first that does not verify, where to go on)."""

    path: Path
    key: Ed25519PublicKey
    exists: bool = False
    lines: int = 0
    bad_line: int | None = None
    offset: int = 0

    def read(self) -> dict[int, list[Checkpoint]]:
        """Read the lines appended since the last read; return the new ones that verify."""
        new: dict[int, list[Checkpoint]] = {}
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                for raw in handle:
                    if not raw.endswith(b"\n"):
                        break  # being written: read it next time
                    self.lines += 1
                    self.offset += len(raw)
                    parsed = _parse_line(raw, self.key, self.lines)
                    if parsed is None:
                        self.bad_line = self.bad_line or self.lines
                    else:
                        new.setdefault(parsed.id, []).append(parsed)
        except FileNotFoundError:
            return new
        self.exists = True
        return new


@dataclass(frozen=True)
class TrailReport:
    """The chain and the checkpoint file verified together (what ``audit_cli verify`` prints).

    ``problem``: None when both verify, else (after the chain's own problems, see :class:`ChainReport`):
    ``"differs"`` (the entry ``entry_id`` is not the one the checkpoint on ``line`` signed);
    ``"missing"`` (the checkpoint on ``line`` names the entry ``entry_id``, which is gone and was not
    purged: beyond ``chain.last_id``, the newest entries were removed); ``"signature"`` (the line
    ``line`` is not a checkpoint signed by the key); ``"file_missing"`` (the trail records checkpoints,
    the newest by entry ``entry_id``, but there is no file); ``"not_in_file"`` (the checkpoint that
    entry ``entry_id`` records is not in the file).
    """

    chain: ChainReport
    path: Path
    checkpoints: int = 0
    """Lines of the file that verified."""
    recorded: int = 0
    """``audit_checkpoint`` entries in the chain."""
    newest: int | None = None
    """The newest entry a verified line names (entries after it are not covered yet)."""
    problem: str | None = None
    line: int | None = None
    entry_id: int | None = None
    at: datetime | None = None
    action: str | None = None

    @property
    def intact(self) -> bool:
        return self.chain.intact and self.problem is None


def _snapshot(session: Session) -> None:
    """One consistent view for the whole verification (PostgreSQL reads each statement afresh)."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def check_trail(session: Session, path: Path) -> TrailReport:
    """Verify the chain (:func:`check_chain`) and every line of the checkpoint file ``path``.

    Each line must be signed by the checkpoint key; the entry it names must be in the chain with that
    hash, unless a purge since the checkpoint removed it (an id before the oldest kept entry, and an
    anchor that moved); every ``audit_checkpoint`` entry must have its line. ``session`` must be fresh:
    the file is read before the database, so that each line names an entry the database shows, and
    read again for the lines appended meanwhile before a recorded checkpoint is called missing.
    """
    file = _File(path, public_key())
    by_id = file.read()
    _snapshot(session)
    differs: list[tuple[Checkpoint, AuditEntry]] = []
    unmatched: list[tuple[int, AuditEntry]] = []  # (checkpoint id, the audit_checkpoint entry)
    seen: set[int] = set()
    recorded = 0
    newest_record: AuditEntry | None = None

    def visit(entry: AuditEntry) -> None:
        nonlocal recorded, newest_record
        assert entry.id is not None  # read from the table
        for named in by_id.get(entry.id, ()):
            seen.add(named.id)
            if named.hash != entry.hash:
                differs.append((named, entry))
        if entry.action == CHECKPOINT_ACTION:
            recorded, newest_record = recorded + 1, entry
            details = json.loads(entry.details)
            if not any(c.hash == details.get("hash") for c in by_id.get(details.get("id"), ())):
                unmatched.append((details.get("id"), entry))

    chain = check_chain(session, visit)
    report = TrailReport(chain, path, sum(len(c) for c in by_id.values()), recorded, max(by_id, default=None))
    if not chain.intact:
        return report
    if differs:
        named, entry = differs[0]  # the oldest entry: the walk goes in order
        return _problem(report, "differs", named.line, entry)
    for named in sorted((c for cs in by_id.values() for c in cs if c.id not in seen), key=lambda c: c.id):
        purged = chain.first_id is not None and named.id < chain.first_id and named.anchor != chain.anchor
        if not purged:
            return _problem(report, "missing", named.line, entry_id=named.id)
    if file.bad_line is not None:
        return _problem(report, "signature", file.bad_line)
    if unmatched:  # perhaps written after the file was read: read what was appended since
        later = file.read()
        unmatched = [(i, e) for i, e in unmatched if not any(c.hash == json.loads(e.details).get("hash")
                                                                for c in later.get(i, ()))]
    if unmatched and not file.exists:
        return _problem(report, "file_missing", entry=newest_record)
    if unmatched:
        return _problem(report, "not_in_file", entry=unmatched[0][1])
    return report


def _problem(report: TrailReport, problem: str, line: int | None = None, entry: AuditEntry | None = None,
             entry_id: int | None = None) -> TrailReport:
    return TrailReport(report.chain, report.path, report.checkpoints, report.recorded, report.newest, problem, line,
                       entry.id if entry is not None else entry_id, entry.at if entry else None,
                       entry.action if entry else None)
