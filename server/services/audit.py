"""The append-only, hash-chained audit log: one entry per state change, in the same transaction."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from server.models import AuditEntry
from server.services.base import Viewer, next_sequence, utcnow

GENESIS = "0" * 64


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return value


def entry_hash(
    seq: int, at: str, actor: str, action: str, object_type: str, object_id: str,
    before: Any, after: Any, request_id: str | None, prev_hash: str,
) -> str:
    payload = json.dumps(
        [seq, at, actor, action, object_type, object_id, before, after, request_id, prev_hash],
        sort_keys=True, ensure_ascii=False, separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


async def record(
    viewer: Viewer, action: str, object_type: str, object_id: Any,
    before: dict | None = None, after: dict | None = None,
) -> AuditEntry:
    """Append one entry. Call inside the transaction that makes the change.

    The counter update serializes writers (row lock on PostgreSQL, write lock on SQLite),
    so the chain never forks.
    """
    seq = await next_sequence("audit")
    prev = await AuditEntry.filter(id=seq - 1).first() if seq > 1 else None
    prev_hash = prev.hash if prev else GENESIS
    at = utcnow()
    # Store the timestamp with the precision the hash saw (PostgreSQL keeps microseconds too).
    at_text = at.isoformat()
    b, a = _jsonable(before), _jsonable(after)
    oid = str(object_id)
    digest = entry_hash(seq, at_text, viewer.username, action, object_type, oid, b, a, viewer.request_id,
                        prev_hash)
    return await AuditEntry.create(
        id=seq, at=at, actor_user_id=viewer.user_id, actor=viewer.username, action=action,
        object_type=object_type, object_id=oid, before=b, after=a, request_id=viewer.request_id,
        prev_hash=prev_hash, hash=digest,
    )


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_broken_id: int | None = None
    problem: str | None = None


async def verify_chain(batch: int = 1000) -> ChainReport:
    """Re-hash every entry in order; name the first one that does not match."""
    prev_hash = GENESIS
    expected_id = 1
    checked = 0
    last_id = 0
    while True:
        rows = await AuditEntry.filter(id__gt=last_id).order_by("id").limit(batch)
        if not rows:
            break
        for row in rows:
            if row.id != expected_id:
                return ChainReport(False, checked, expected_id, f"entry {expected_id} is missing")
            if row.prev_hash != prev_hash:
                return ChainReport(False, checked, row.id, "prev_hash does not match the previous entry")
            digest = entry_hash(
                row.id, row.at.isoformat(), row.actor, row.action, row.object_type, row.object_id,
                row.before, row.after, row.request_id, row.prev_hash,
            )
            if digest != row.hash:
                return ChainReport(False, checked, row.id, "content does not match its hash")
            prev_hash = row.hash
            expected_id += 1
            checked += 1
            last_id = row.id
    return ChainReport(True, checked)


async def request_verification(viewer: Viewer) -> Any:
    """ADMIN or AUDITOR: queue a re-hash of the whole chain (jobs/audit.py); returns the Job to poll."""
    import uuid

    from server.domain import roles as R
    from server.services import jobs
    from server.services.base import atomic, require_role

    require_role(viewer, R.ADMIN, R.AUDITOR)
    async with atomic():
        job = await jobs.submit("VERIFY_AUDIT_CHAIN", "verify_audit_chain", job_id=f"audit-{uuid.uuid4().hex}",
                                created_by=viewer.user_id)
        await record(viewer, "audit.verify_requested", "job", job.id)
    return job
