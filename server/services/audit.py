"""The append-only, tamper-evident audit log: one entry per state change, in the same transaction.

Each entry is sealed with HMAC-SHA256 under the audit key (AUDIT_KEY or DATA_DIR/audit_key, never
derived from SECRET_KEY) over every stored column, the previous entry's hash included, and names the
key that sealed it (`key_id`): after a rotation the new key seals and the old ones still verify.
Without the key, nobody can edit an entry and re-hash the rest so that it verifies again.

Truncation is caught twice: the number of entries must equal the `audit` sequence, and each
verification run writes an anchor (the head: last id, last hash, count, signed) that later runs check.

Entries written before migration 0004 (no `key_id`) verify by the old plain-SHA-256 rule up to the
boundary it recorded (`audit_v1_boundary`); an unkeyed entry after it is tampering.

Writing: `record()` only buffers the entry in the current `atomic()` transaction. Just before that
transaction commits, all its entries are written together: reserve their numbers, read the previous
hash, one bulk insert. The chain's head is held (the sequence row lock) for those three statements.
"""

from __future__ import annotations

import contextvars
import copy
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from server.domain import roles
from server.domain.messages import Message, _m
from server.models import AuditAnchor, AuditEntry, Sequence
from server.services import jobs
from server.services.base import (
    Viewer,
    atomic,
    next_sequence,
    register_flusher,
    require_role,
    tx_buffer,
    utcnow,
)
from server.settings import get_settings

GENESIS = "0" * 64
SEQUENCE = "audit"
BOUNDARY = "audit_v1_boundary"
BUFFER = "audit"

# Set by the app's middleware for each HTTP request: the server's id (used when the viewer carries
# none, e.g. a login's own entry) and what a client sent as X-Request-Id, kept beside it.
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
client_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("client_request_id", default=None)

EDITED, MISSING_MIDDLE, MISSING_END, REHASHED, OUT_OF_ORDER = (
    "EDITED", "MISSING_MIDDLE", "MISSING_END", "REHASHED", "OUT_OF_ORDER",
)
KINDS = (EDITED, MISSING_MIDDLE, MISSING_END, REHASHED, OUT_OF_ORDER)


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


def _canonical(items: list[Any]) -> bytes:
    return json.dumps(items, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def entry_hash(
    seq: int, at: str, actor: str, action: str, object_type: str, object_id: str,
    before: Any, after: Any, request_id: str | None, prev_hash: str,
) -> str:
    """The old rule (entries before the boundary): plain SHA-256 over some columns, no key."""
    payload = _canonical([seq, at, actor, action, object_type, object_id, before, after, request_id, prev_hash])
    return hashlib.sha256(payload).hexdigest()


def _payload(row: Any) -> bytes:
    """Every stored column but the hash itself, in a fixed order."""
    return _canonical([
        "v2", int(row.id), row.at.isoformat(), row.actor_user_id, row.actor, row.action, row.object_type,
        row.object_id, row.before, row.after, row.request_id, row.client_request_id, row.key_id, row.prev_hash,
    ])


def seal(key: bytes, row: Any) -> str:
    return hmac.new(key, _payload(row), hashlib.sha256).hexdigest()


def _keys() -> dict[str, bytes]:
    return dict(get_settings().audit_keys)


def _sealing_key() -> tuple[str, bytes]:
    keys = get_settings().audit_keys
    if not keys:
        raise RuntimeError("no audit key configured (AUDIT_KEY or DATA_DIR/audit_key)")
    return keys[-1]


# ---------------------------------------------------------------- writing


@dataclass
class _Pending:
    actor_user_id: int | None
    actor: str
    action: str
    object_type: str
    object_id: str
    before: Any
    after: Any
    request_id: str | None
    client_request_id: str | None


async def record(
    viewer: Viewer, action: str, object_type: str, object_id: Any,
    before: dict | None = None, after: dict | None = None,
) -> None:
    """Append one entry. Call inside the transaction that makes the change: it is written just before
    that transaction commits, and not at all when it rolls back. Outside atomic() it is written at once
    in a transaction of its own."""
    pending = _Pending(
        actor_user_id=viewer.user_id, actor=viewer.username, action=action, object_type=object_type,
        object_id=str(object_id), before=_jsonable(before), after=_jsonable(after),
        request_id=viewer.request_id or request_id.get(), client_request_id=client_request_id.get(),
    )
    buffer = tx_buffer(BUFFER)
    if buffer is not None:
        buffer.append(pending)
        return
    async with atomic():
        buffer = tx_buffer(BUFFER)
        assert buffer is not None
        buffer.append(pending)


async def _flush(pending: list[_Pending]) -> None:
    """Number, chain, seal and insert a transaction's entries: three statements under the head's lock."""
    key_id, key = _sealing_key()
    last = await next_sequence(SEQUENCE, by=len(pending))
    first = last - len(pending) + 1
    prev_hash = GENESIS
    if first > 1:
        found = await AuditEntry.filter(id=first - 1).values_list("hash", flat=True)
        # A missing predecessor is tampering (verify names it); the chain carries on from genesis.
        prev_hash = str(found[0]) if found else GENESIS
    # The time is read under the lock, so ids and times grow together.
    at = utcnow()
    rows = []
    for number, item in enumerate(pending, first):
        row = AuditEntry(
            id=number, at=at, actor_user_id=item.actor_user_id, actor=item.actor, action=item.action,
            object_type=item.object_type, object_id=item.object_id, before=item.before, after=item.after,
            request_id=item.request_id, client_request_id=item.client_request_id, key_id=key_id,
            prev_hash=prev_hash,
        )
        row.hash = seal(key, row)
        prev_hash = row.hash
        rows.append(row)
    await AuditEntry.bulk_create(rows)


register_flusher(BUFFER, _flush)


# ---------------------------------------------------------------- verifying


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    kind: str | None = None
    message: str | None = None  # the zh-CN text of `message_data`
    head_id: int | None = None
    head_hash: str | None = None
    message_data: dict | None = None  # {"id": msgid, "params": {...}}: the reader's language at display

    # The names of the first version, for callers that still use them.
    @property
    def first_broken_id(self) -> int | None:
        return self.first_bad_id

    @property
    def problem(self) -> str | None:
        return self.message

    def as_result(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": self.checked, "firstBadId": self.first_bad_id, "kind": self.kind,
                "message": self.message, "messageData": self.message_data, "headId": self.head_id,
                "headHash": self.head_hash}


def _bad(checked: int, entry_id: int, kind: str, message: Message) -> ChainReport:
    return ChainReport(False, checked, entry_id, kind, str(message), message_data=message.to_json())


async def _counter(name: str) -> int:
    values: list[Any] = list(await Sequence.filter(name=name).values_list("value", flat=True))
    return int(values[0]) if values else 0


def _anchor_payload(anchor: Any) -> bytes:
    return _canonical(["anchor", anchor.at.isoformat(), int(anchor.head_id), anchor.head_hash, int(anchor.count),
                       int(anchor.boundary_id), anchor.key_id])


def _plain_hashes(row: Any) -> set[str]:
    """The hashes someone without the key could have computed for the row's current content."""
    return {
        hashlib.sha256(_payload(row)).hexdigest(),
        entry_hash(int(row.id), row.at.isoformat(), row.actor, row.action, row.object_type, row.object_id,
                   row.before, row.after, row.request_id, row.prev_hash),
    }


async def verify_chain(batch: int = 1000, *, anchor: bool = False) -> ChainReport:
    """Check every entry in order and name the first bad one, with what is wrong with it.

    `anchor=True` (the verification job) writes the head of an intact chain as a new signed anchor.
    """
    keys = _keys()
    boundary = await _counter(BOUNDARY)
    # Read before the scan: entries committed while it runs only make the log longer than this.
    sequence = await _counter(SEQUENCE)
    anchors = await AuditAnchor.all().order_by("id")
    for a in anchors:
        key = keys.get(a.key_id)
        if key is None or not hmac.compare_digest(
                hmac.new(key, _anchor_payload(a), hashlib.sha256).hexdigest(), a.signature):
            return _bad(0, int(a.head_id), EDITED,
                        _m("审计锚点 %(anchor)s（第 %(entry)s 条）的签名无效", anchor=a.id, entry=a.head_id))
        if int(a.boundary_id) != boundary:
            return _bad(0, min(int(a.boundary_id), boundary) + 1, REHASHED,
                        _m("旧规则边界被改动：%(before)s → %(after)s", before=a.boundary_id, after=boundary))
    anchored = {int(a.head_id): a for a in anchors}

    previous: Any = None
    checked = 0
    last_id = 0
    pending_check: tuple[Any, str] | None = None  # a row whose seal failed: decided by the next row

    def decide(row: Any, reason: str, following: Any) -> ChainReport:
        """A row whose seal does not verify: edited in place, or edited and re-hashed without the key.

        Edited in place, its stored hash is still the one the next entry (sealed, intact) points at,
        or the one an anchor holds. Re-hashed, the next entry was re-hashed too, or the hash is one
        anyone can compute (plain SHA-256), or it names a key we do not have.
        """
        if reason == "plain":
            return _bad(checked, row.id, REHASHED,
                        _m("第 %(entry)s 条被改动并用无密钥的 SHA-256 重新计算了哈希", entry=row.id))
        a = anchored.get(int(row.id))
        if (following is not None and following.prev_hash == row.hash and _seal_ok(following)) or (
                a is not None and a.head_hash == row.hash) or (following is None and reason == "edited"):
            return _bad(checked, row.id, EDITED,
                        _m("第 %(entry)s 条被改动：内容与其签封不符", entry=row.id))
        if reason == "unknown-key":
            detail = _m("由未知密钥 %(key)s 签封", key=repr(row.key_id))
        elif reason == "unkeyed":
            detail = _m("在旧规则边界 %(boundary)s 之后却没有密钥签封", boundary=boundary)
        else:
            detail = _m("签封出自别的密钥")
        return _bad(checked, row.id, REHASHED,
                    _m("第 %(entry)s 条被改动并在没有审计密钥的情况下重新计算了哈希（%(detail)s）", entry=row.id,
                       detail=detail))

    def _sealed_under_later_id(row: Any, reach: int = 1000) -> int | None:
        """The id a row was sealed under, when entries before it were deleted and it was moved down."""
        key = keys.get(row.key_id) if row.key_id is not None else None
        if key is None:
            return None
        moved = copy.copy(row)
        for original in range(int(row.id) + 1, int(row.id) + reach + 1):
            moved.id = original
            if hmac.compare_digest(seal(key, moved), row.hash):
                return original
        return None

    def _seal_ok(row: Any) -> bool:
        return _seal_problem(row) is None

    def _seal_problem(row: Any) -> str | None:
        if row.key_id is None:
            if int(row.id) > boundary:
                return "unkeyed"
            digest = entry_hash(int(row.id), row.at.isoformat(), row.actor, row.action, row.object_type,
                                row.object_id, row.before, row.after, row.request_id, row.prev_hash)
            return None if hmac.compare_digest(digest, row.hash) else "edited"
        key = keys.get(row.key_id)
        if key is None:
            return "unknown-key"
        if hmac.compare_digest(seal(key, row), row.hash):
            return None
        return "plain" if row.hash in _plain_hashes(row) else "edited"

    while True:
        rows = await AuditEntry.filter(id__gt=last_id).order_by("id").limit(batch)
        if not rows and pending_check is None:
            break
        for row in rows:
            if pending_check is not None:
                return decide(pending_check[0], pending_check[1], row)
            expected = (int(previous.id) + 1) if previous is not None else 1
            if int(row.id) != expected:
                return _bad(checked, expected, MISSING_MIDDLE,
                            _m("第 %(entry)s 条缺失", entry=expected) if int(row.id) == expected + 1 else
                            _m("第 %(entry)s–%(last)s 条缺失", entry=expected, last=int(row.id) - 1))
            expected_prev = previous.hash if previous is not None else GENESIS
            if row.prev_hash != expected_prev:
                elsewhere = await AuditEntry.filter(hash=row.prev_hash).values_list("id", flat=True)
                if elsewhere:
                    return _bad(checked, row.id, OUT_OF_ORDER,
                                _m("第 %(entry)s 条链接到第 %(other)s 条而非上一条", entry=row.id, other=elsewhere[0]))
                original = _sealed_under_later_id(row)
                if original is not None:
                    return _bad(checked, row.id, MISSING_MIDDLE,
                                _m("第 %(entry)s–%(last)s 条缺失，其后各条被重新编号（第 %(entry)s 条签封时为第 %(original)s 条）",
                                   entry=row.id, last=original - 1, original=original))
            problem = _seal_problem(row)
            if problem is not None:
                pending_check = (row, problem)
                continue
            if previous is not None and row.at < previous.at:
                return _bad(checked, row.id, OUT_OF_ORDER,
                            _m("第 %(entry)s 条的时间早于上一条", entry=row.id))
            anchored_head = anchored.get(int(row.id))
            if anchored_head is not None and anchored_head.head_hash != row.hash:
                return _bad(checked, row.id, REHASHED,
                            _m("第 %(entry)s 条与锚定的哈希不同", entry=row.id))
            previous = row
            checked += 1
        if pending_check is not None and len(rows) < batch:
            return decide(pending_check[0], pending_check[1], None)
        if rows:
            last_id = int(rows[-1].id)
        if len(rows) < batch:
            break

    last = int(previous.id) if previous is not None else 0
    if sequence > last:
        return _bad(checked, last + 1, MISSING_END,
                    _m("末尾缺失第 %(first)s–%(sequence)s 条：审计序号为 %(sequence)s，记录只到第 %(last)s 条",
                       first=last + 1, sequence=sequence, last=last))
    if sequence < last and await _counter(SEQUENCE) < last:
        sequence = await _counter(SEQUENCE)
        return _bad(checked, sequence + 1, OUT_OF_ORDER,
                    _m("第 %(entry)s 条超出审计序号 %(sequence)s", entry=sequence + 1, sequence=sequence))
    if anchors:
        latest = max(anchors, key=lambda x: (int(x.head_id), int(x.id)))
        if int(latest.head_id) > last or int(latest.count) > checked:
            return _bad(checked, last + 1, MISSING_END,
                        _m("末尾缺失：锚点记录到第 %(head)s 条，记录只到第 %(last)s 条", head=latest.head_id, last=last))
    head_hash = previous.hash if previous is not None else GENESIS
    report = ChainReport(True, checked, head_id=last, head_hash=head_hash)
    if anchor:
        await write_anchor(last, head_hash, checked, boundary)
    return report


async def write_anchor(head_id: int, head_hash: str, count: int, boundary: int) -> AuditAnchor:
    key_id, key = _sealing_key()
    row = AuditAnchor(at=utcnow(), head_id=head_id, head_hash=head_hash, count=count, boundary_id=boundary,
                      key_id=key_id)
    row.signature = hmac.new(key, _anchor_payload(row), hashlib.sha256).hexdigest()
    await row.save()
    return row


async def request_verification(viewer: Viewer) -> Any:
    """ADMIN or AUDITOR: queue a re-hash of the whole chain (jobs/audit.py); returns the Job to poll."""
    require_role(viewer, roles.ADMIN, roles.AUDITOR)
    async with atomic():
        job = await jobs.submit("VERIFY_AUDIT_CHAIN", "verify_audit_chain", job_id=f"audit-{uuid.uuid4().hex}",
                                created_by=viewer.user_id)
        await record(viewer, "audit.verify_requested", "job", job.id)
    return job


# ---------------------------------------------------------------- evidence packages (issue 14)


def _exported_row(entry: Mapping[str, Any]) -> Any:
    """An entry as exported to an evidence package (audit.jsonl), back in the shape `seal` reads."""
    from types import SimpleNamespace

    return SimpleNamespace(
        id=int(entry["id"]), at=datetime.fromisoformat(entry["at"]), actor_user_id=entry.get("actorUserId"),
        actor=entry["actor"], action=entry["action"], object_type=entry["objectType"], object_id=entry["objectId"],
        before=entry.get("before"), after=entry.get("after"), request_id=entry.get("requestId"),
        client_request_id=entry.get("clientRequestId"), key_id=entry.get("keyId"), prev_hash=entry["prevHash"],
        hash=entry["hash"],
    )


def exported_seal_problem(entry: Mapping[str, Any]) -> Message | None:
    """None when an exported entry's seal verifies under the configured audit keys."""
    try:
        row = _exported_row(entry)
    except (KeyError, TypeError, ValueError):
        return _m("记录格式无效")
    if row.key_id is None:
        digest = entry_hash(row.id, row.at.isoformat(), row.actor, row.action, row.object_type, row.object_id,
                            row.before, row.after, row.request_id, row.prev_hash)
        return None if hmac.compare_digest(digest, str(row.hash)) else _m("内容与其哈希不符")
    key = _keys().get(row.key_id)
    if key is None:
        return _m("由未知密钥 %(key)s 签封", key=repr(row.key_id))
    return None if hmac.compare_digest(seal(key, row), str(row.hash)) else _m("内容与其签封不符")


def anchor_signature_ok(anchor: Any) -> bool:
    """An anchor row (or the same fields from an evidence manifest) signed by a configured audit key."""
    key = _keys().get(anchor.key_id)
    return key is not None and hmac.compare_digest(
        hmac.new(key, _anchor_payload(anchor), hashlib.sha256).hexdigest(), str(anchor.signature))


def seal_ok(row: Any) -> bool:
    """A stored row sealed by a configured key (the unkeyed old rule is not accepted here)."""
    key = _keys().get(row.key_id) if row.key_id is not None else None
    return key is not None and hmac.compare_digest(seal(key, row), row.hash)
