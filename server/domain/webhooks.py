"""Outgoing webhooks as pure rules: which audit entries become which events, the signature, the backoff.

Every state change writes one audit entry in its own transaction (server/services/audit.py), so the
audit log is already an outbox of committed changes: a rolled-back change left no entry, hence no
event. `event_for(action, after)` maps one entry to an event type (or None).

The signature (documented in docs/api.md, "Verifying a webhook"):

    X-Qingkuan-Timestamp: <unix seconds>
    X-Qingkuan-Signature: v1=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>

over the exact bytes of the body, which is UTF-8 JSON.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from server.domain.vocab import LoanStatus, WebhookEventType

EVENT_TYPES: tuple[str, ...] = tuple(t.value for t in WebhookEventType)

SIGNATURE_HEADER = "X-Qingkuan-Signature"
TIMESTAMP_HEADER = "X-Qingkuan-Timestamp"
EVENT_HEADER = "X-Qingkuan-Event"
EVENT_ID_HEADER = "X-Qingkuan-Event-Id"
DELIVERY_HEADER = "X-Qingkuan-Delivery"
SIGNATURE_VERSION = "v1"

# A receiver should refuse a signature older than this (replayed requests).
TOLERANCE_S = 300

# Attempts per delivery and the backoff between them: base, 2×base, 4×base … capped.
MAX_ATTEMPTS = 8
BACKOFF_CAP_S = 3600.0

# Each audit action that can announce an event; loan reductions are named by their ledger kind.
_LOAN_REDUCTIONS = ("loan.offset", "loan.cash_return", "loan.salary_deduction", "loan.write_off")
_CLOSED = frozenset({LoanStatus.SETTLED.value, LoanStatus.WRITTEN_OFF.value})
SOURCE_ACTIONS: tuple[str, ...] = (
    "loan.apply", "loan.auto_reject", "loan.approve", "loan.reject", "loan.disburse", *_LOAN_REDUCTIONS,
    "reimbursement.approve", "reimbursement.pay", "offboarding.start", "offboarding.complete", "alert.raise",
)


def event_for(action: str, after: Any) -> WebhookEventType | None:
    """The event an audit entry announces, or None.

    `loan.approve` is written for every approval step; only the one that approves the loan (its
    status after is APPROVED) is `loan.approved`. A reduction is `loan.settled` when it closes the
    loan (SETTLED, or WRITTEN_OFF by a write-off).
    """
    status = after.get("status") if isinstance(after, dict) else None
    if action == "loan.apply":
        return WebhookEventType.LOAN_SUBMITTED
    if action in ("loan.auto_reject", "loan.reject"):
        return WebhookEventType.LOAN_REJECTED
    if action == "loan.approve":
        return WebhookEventType.LOAN_APPROVED if status == LoanStatus.APPROVED else None
    if action == "loan.disburse":
        return WebhookEventType.LOAN_DISBURSED
    if action in _LOAN_REDUCTIONS:
        return WebhookEventType.LOAN_SETTLED if status in _CLOSED else None
    return {
        "reimbursement.approve": WebhookEventType.REIMBURSEMENT_APPROVED,
        "reimbursement.pay": WebhookEventType.REIMBURSEMENT_PAID,
        "offboarding.start": WebhookEventType.OFFBOARDING_STARTED,
        "offboarding.complete": WebhookEventType.OFFBOARDING_COMPLETED,
        "alert.raise": WebhookEventType.ALERT_RAISED,
    }.get(action)


def body_bytes(event_id: str, event_type: str, created: str, data: Any) -> bytes:
    """The JSON body, byte for byte the same for every attempt of an event."""
    document = {"id": event_id, "type": event_type, "created": created, "data": data}
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The header value: `v1=` and the hex HMAC-SHA256 of `f"{timestamp}.{body}"` keyed by the secret."""
    message = str(int(timestamp)).encode("ascii") + b"." + body
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def verify(secret: str, timestamp: str, body: bytes, header: str, now: float, tolerance: int = TOLERANCE_S) -> bool:
    """What a receiver does (also the documented example): a fresh timestamp and a matching signature."""
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(now - sent) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, sent, body), header or "")


def backoff_s(attempt: int, base_s: float) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based): base·2^(attempt-1), capped."""
    if attempt < 1:
        return 0.0
    return min(base_s * (2 ** (attempt - 1)), BACKOFF_CAP_S)


def mask_secret(secret: str) -> str:
    """What pages and the API show of a signing secret: its prefix and last four characters."""
    if len(secret) <= 8:
        return "•" * len(secret)
    return f"{secret[:6]}…{secret[-4:]}"


def subscribed(events: list[str] | None, event_type: str) -> bool:
    """An endpoint with no events listed receives every event."""
    return not events or event_type in events
