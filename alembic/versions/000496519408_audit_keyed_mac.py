"""audit trail: re-chain the entries from plain SHA-256 to the keyed MAC, once the old chain verifies

Revision ID: 000496519408
Revises: df2fc2cc0f31
Create Date: 2026-12-02 15:10:00.000000

Data only. Each entry's ``hash`` becomes the HMAC-SHA256 (key ``derived_key("audit-mac")``, from the
server secret of the environment that runs the migration: the app must run with the same one) over
the new hash of the entry before it and the entry's content; ``prev_hash`` and the head row follow.
The purge anchor stays as it is: it is the starting value the oldest kept entry is chained to.

The old chain is verified first, with the checks ``audit_cli verify`` made until now (every link,
the head, the anchor recorded by the newest purge); if it does not verify, the migration stops and
changes nothing: re-keying a tampered trail would launder the tampering. Entries are read in batches
(``yield_per``) and updated in batches, in the migration's one transaction. No-op on an empty trail.
The content format is frozen here (as it was at this revision), not imported from the app.
"""
import hashlib
import hmac
import json
from collections.abc import Callable, Sequence
from datetime import UTC

import sqlalchemy as sa

from alembic import op
from secure_phone.settings import derived_key

# revision identifiers, used by Alembic.
revision: str = '000496519408'
down_revision: str | Sequence[str] | None = 'df2fc2cc0f31'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64
BATCH = 1000
CONTENT = ("actor_kind", "actor_id", "customer_id", "action", "outcome", "channel", "ip", "user_agent",
           "request_id", "details")

entries = sa.table("auditentry", sa.column("id", sa.Integer), sa.column("at", sa.DateTime),
                   *(sa.column(name) for name in CONTENT), sa.column("prev_hash"), sa.column("hash"))
heads = sa.table("audithead", sa.column("id", sa.Integer), sa.column("last_hash"))


class AuditTrailTampered(RuntimeError):
    """The trail does not verify under its current scheme: it is not re-chained."""


def _content(prev_hash: str, row: sa.Row) -> bytes:
    values = {name: getattr(row, name) for name in CONTENT}
    at = row.at.replace(tzinfo=UTC)  # stored as naive UTC, hashed timezone-aware
    return json.dumps({"prev": prev_hash, "at": at.isoformat(), **values}, sort_keys=True,
                      separators=(",", ":")).encode()


def _sha256(prev_hash: str, row: sa.Row) -> str:
    return hashlib.sha256(_content(prev_hash, row)).hexdigest()


def _mac(prev_hash: str, row: sa.Row) -> str:
    return hmac.new(derived_key("audit-mac"), _content(prev_hash, row), hashlib.sha256).hexdigest()


def _rechain(old: Callable[[str, sa.Row], str], new: Callable[[str, sa.Row], str], old_name: str) -> None:
    """Verify the chain under ``old``, rewrite it under ``new``; raise (changing nothing) if it does not verify."""
    conn = op.get_bind()
    stored = dict(conn.execute(sa.select(heads.c.id, heads.c.last_hash)).all())
    anchor = stored.get(2, GENESIS)
    old_prev = new_prev = anchor
    recorded_anchor = None
    seen = 0
    pending: list[dict[str, object]] = []
    rewrite = (entries.update().where(entries.c.id == sa.bindparam("b_id"))
               .values(prev_hash=sa.bindparam("b_prev"), hash=sa.bindparam("b_hash")))

    def refuse(what: str) -> AuditTrailTampered:
        return AuditTrailTampered(
            f"audit trail: the {old_name} chain does not verify ({what}); it was not re-keyed (that would launder "
            "the tampering) and nothing was changed: investigate, or restore the trail from a backup, first")

    rows = conn.execute(sa.select(entries).order_by(entries.c.id), execution_options={"yield_per": BATCH})
    for row in rows:
        if row.prev_hash != old_prev or not hmac.compare_digest(old(old_prev, row), row.hash):
            raise refuse(f"broken at entry #{row.id}, action {row.action}")
        if row.action == "audit_purged":
            recorded_anchor = json.loads(row.details).get("anchor")
        new_hash = new(new_prev, row)
        pending.append({"b_id": row.id, "b_prev": new_prev, "b_hash": new_hash})
        old_prev, new_prev, seen = row.hash, new_hash, seen + 1
        if len(pending) == BATCH:
            conn.execute(rewrite, pending)
            pending = []
    if seen == 0:
        return  # an empty trail: nothing to re-chain (a head row, if any, stays at GENESIS or the anchor)
    if stored.get(1) != old_prev:
        raise refuse("entries removed at the end of the chain")
    if 2 in stored and recorded_anchor != anchor:
        raise refuse("entries removed at the start of the chain, beyond the recorded purges")
    if pending:
        conn.execute(rewrite, pending)
    conn.execute(heads.update().where(heads.c.id == 1).values(last_hash=new_prev))


def upgrade() -> None:
    """Re-chain the audit trail from plain SHA-256 to the keyed MAC."""
    _rechain(_sha256, _mac, "SHA-256")


def downgrade() -> None:
    """Re-chain the audit trail from the keyed MAC back to plain SHA-256 (after verifying the MACs)."""
    _rechain(_mac, _sha256, "keyed MAC")
