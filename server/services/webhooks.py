"""Outgoing webhooks: endpoints (ADMIN, MANAGE_WEBHOOKS), events from the audit log, deliveries by ARQ.

How an event reaches a receiver:
1. A business change commits with its audit entry (nothing here is called by the loan, reimbursement,
   offboarding or alert services).
2. `scan_audit()` (jobs/webhooks.py, every minute and after each delivery run) reads the audit
   entries after a watermark, set-based, maps them to events (server/domain/webhooks.py), writes one
   WebhookEvent per entry and one WebhookDelivery per subscribed endpoint, advances the watermark by
   check-and-set and puts one `deliver_webhook` job per delivery in the job outbox — all in one
   transaction. Two scans racing: the loser's CAS fails and its transaction rolls back.
   `emit(type, payload)` does the same for one event inside a caller's transaction.
3. `deliver(id)` POSTs the signed body. A 2xx marks it DELIVERED; anything else schedules the next
   attempt with exponential backoff (ARQ `Retry(defer=...)`), up to MAX_ATTEMPTS, then FAILED.
   At-least-once: a receiver de-duplicates by the event id.
"""

from __future__ import annotations

import secrets
import time
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from server import outbound
from server.domain import duties
from server.domain import webhooks as rules
from server.domain.errors import NotFound, ValidationFailed
from server.domain.messages import _m
from server.domain.vocab import WebhookDeliveryStatus, WebhookEventType
from server.models import (
    AuditEntry,
    Loan,
    Offboarding,
    OutboxJob,
    Reimbursement,
    Sequence,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from server.services import audit
from server.services.base import Page, Viewer, after_commit, atomic, paginate, parse_id, require_login, utcnow
from server.services.jobs import relay_outbox

PENDING, RETRYING, DELIVERED, FAILED = WebhookDeliveryStatus
WATERMARK = "webhook_audit_seen"
AUDIT_SEQUENCE = "audit"
DELIVER_FUNCTION = "deliver_webhook"

# Seconds before the second attempt (then doubled each time); tests make it small.
RETRY_BASE_S = 30.0
REQUEST_TIMEOUT_S = 10.0
# How many audit ids one scan transaction looks at, and how many it takes per run.
SCAN_WINDOW = 2000
SCAN_MAX_WINDOWS = 50
MAX_ERROR_CHARS = 500


class _Raced(Exception):
    """Another scan advanced the watermark first: this one's work is rolled back."""


# ---------------------------------------------------------------- endpoints


def _check_url(url: Any) -> str:
    text = str(url or "").strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(text) > 500:
        raise ValidationFailed(_m("接收地址须为以 HTTP 或 HTTPS 开头的完整网址"), field="url")
    if outbound.saved_refusal(text):
        raise ValidationFailed(_m("该地址指向本机或内部网络，不能作为接收地址"), field="url")
    return text


def _check_events(events: Any) -> list[str]:
    chosen = [str(getattr(e, "value", e)) for e in (events or [])]
    unknown = [e for e in chosen if e not in rules.EVENT_TYPES]
    if unknown:
        raise ValidationFailed(_m("未知的事件类型 %(types)s", types=", ".join(unknown)), field="events")
    return sorted(set(chosen), key=rules.EVENT_TYPES.index)


def _snapshot(row: WebhookEndpoint) -> dict[str, Any]:
    return {"url": row.url, "events": list(row.events or []), "enabled": row.enabled, "description": row.description,
            "secret": rules.mask_secret(row.secret)}


async def _counter(name: str) -> int:
    values: list[Any] = list(await Sequence.filter(name=name).values_list("value", flat=True))
    return int(values[0]) if values else 0


async def _ensure_watermark() -> None:
    """Start at the audit log's head when the first endpoint is made: history is not announced."""
    if await Sequence.filter(name=WATERMARK).exists():
        return
    await Sequence.create(name=WATERMARK, value=await _counter(AUDIT_SEQUENCE))


async def create_endpoint(viewer: Viewer, url: Any, events: Any = None, description: str | None = None,
                          enabled: bool = True) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret, which is returned this once (the API shows it masked)."""
    require_login(viewer)
    duties.require(viewer.roles, duties.MANAGE_WEBHOOKS)
    clean_url, clean_events = _check_url(url), _check_events(events)
    secret = "whsec_" + secrets.token_urlsafe(32)
    now = utcnow()
    async with atomic():
        await _ensure_watermark()
        row = await WebhookEndpoint.create(
            url=clean_url, secret=secret, events=clean_events, enabled=bool(enabled),
            description=(description or "").strip()[:200], created_by_id=viewer.user_id, created_at=now, updated_at=now,
        )
        await audit.record(viewer, "webhook.create", "webhook_endpoint", row.id, None, _snapshot(row))
    return row, secret


async def update_endpoint(viewer: Viewer, endpoint_id: Any, *, url: Any = None, events: Any = None,
                          enabled: bool | None = None, description: str | None = None,
                          rotate_secret: bool = False) -> tuple[WebhookEndpoint, str | None]:
    """Change what is given; a rotated secret is returned this once."""
    require_login(viewer)
    duties.require(viewer.roles, duties.MANAGE_WEBHOOKS)
    async with atomic():
        row = await WebhookEndpoint.filter(id=parse_id(endpoint_id, "webhookEndpoint")).select_for_update().first()
        if row is None:
            raise NotFound(_m("推送接收地址 %(id)s 不存在", id=endpoint_id))
        before = _snapshot(row)
        if url is not None:
            row.url = _check_url(url)
        if events is not None:
            row.events = _check_events(events)
        if enabled is not None:
            row.enabled = bool(enabled)
        if description is not None:
            row.description = description.strip()[:200]
        secret = None
        if rotate_secret:
            secret = row.secret = "whsec_" + secrets.token_urlsafe(32)
        row.updated_at = utcnow()
        await row.save()
        await audit.record(viewer, "webhook.update", "webhook_endpoint", row.id, before,
                           {**_snapshot(row), "secretRotated": bool(rotate_secret)})
    return row, secret


async def list_endpoints(viewer: Viewer) -> list[WebhookEndpoint]:
    require_login(viewer)
    duties.require(viewer.roles, duties.MANAGE_WEBHOOKS)
    return list(await WebhookEndpoint.all().order_by("id"))


# ---------------------------------------------------------------- events


async def _payloads(entries: list[AuditEntry]) -> dict[int, dict[str, Any]]:
    """The data of each entry's event: the object's number and owner, one query per object type."""
    ids: dict[str, set[int]] = {}
    for e in entries:
        if e.object_id.isdigit():
            ids.setdefault(e.object_type, set()).add(int(e.object_id))
    numbers: dict[tuple[str, int], dict[str, Any]] = {}
    for object_type, model in (("loan", Loan), ("reimbursement", Reimbursement), ("offboarding", Offboarding)):
        wanted = ids.get(object_type)
        if not wanted:
            continue
        fields = ["id", "employee__employee_no"] + (["number"] if model is not Offboarding else [])
        for row in await model.filter(id__in=wanted).values(*fields):
            numbers[(object_type, int(row["id"]))] = {
                "number": row.get("number"), "employeeNo": row["employee__employee_no"]}
    out: dict[int, dict[str, Any]] = {}
    for e in entries:
        key = (e.object_type, int(e.object_id)) if e.object_id.isdigit() else None
        found = numbers.get(key, {}) if key else {}
        out[int(e.id)] = {
            "object": {"type": e.object_type, "id": e.object_id, **{k: v for k, v in found.items() if v is not None}},
            "change": e.after, "actor": e.actor, "at": e.at.isoformat(), "auditEntryId": int(e.id),
        }
    return out


async def _fan_out(events: list[WebhookEvent]) -> int:
    """One delivery per enabled, subscribed endpoint, and its job in the outbox (caller's transaction)."""
    if not events:
        return 0
    endpoints = await WebhookEndpoint.filter(enabled=True)
    now = utcnow()
    rows = [WebhookDelivery(endpoint_id=ep.id, event_id=ev.id, status=PENDING, next_attempt_at=now, created_at=now)
            for ev in events for ep in endpoints if rules.subscribed(ep.events, ev.type)]
    if not rows:
        return 0
    await WebhookDelivery.bulk_create(rows)
    created = await WebhookDelivery.filter(event_id__in=[ev.id for ev in events], attempts=0, status=PENDING,
                                           replay_of_id=None).values_list("id", "event_id")
    await _enqueue([(int(i), event_id, 0) for i, event_id in created])
    return len(rows)


def _job_id(event_id: Any, delivery_id: int, attempts: int = 0) -> str:
    """Unique across databases too (ARQ's job keys are global to a Redis): the event's UUID is in it."""
    return f"wh-{uuid.UUID(str(event_id)).hex}-{delivery_id}-a{attempts}"


async def _enqueue(deliveries: list[tuple[int, Any, int]]) -> None:
    """Outbox rows for the deliveries (id, event id, attempts so far), skipping any already there;
    relayed once the transaction commits."""
    if not deliveries:
        return
    wanted = {_job_id(event_id, i, attempts): i for i, event_id, attempts in deliveries}
    existing = set(await OutboxJob.filter(job_id__in=list(wanted)).values_list("job_id", flat=True))
    await OutboxJob.bulk_create([
        OutboxJob(job_id=job_id, function=DELIVER_FUNCTION, args=[delivery_id], kwargs={"job_id": job_id})
        for job_id, delivery_id in wanted.items() if job_id not in existing
    ])

    async def _relay() -> None:
        while await relay_outbox() > 0:
            pass

    after_commit(_relay)


async def emit(event_type: str, payload: dict[str, Any]) -> WebhookEvent:
    """Announce one event from inside the caller's business transaction (rolled back with it)."""
    kind = WebhookEventType(str(getattr(event_type, "value", event_type)))
    event = await WebhookEvent.create(id=uuid.uuid4(), type=kind.value, payload=payload, created_at=utcnow())
    await _fan_out([event])
    return event


async def scan_audit(max_windows: int = SCAN_MAX_WINDOWS) -> int:
    """Turn committed audit entries after the watermark into events; returns how many were written.

    Entry ids are handed out under the audit sequence's row lock, held until commit, so every entry up
    to the committed sequence value is visible: nothing behind the watermark can still appear.
    """
    written = 0
    for _ in range(max_windows):
        try:
            async with atomic():
                # The watermark's row lock first (held until commit): racing scans take turns.
                if not await Sequence.filter(name=WATERMARK).update(value=F("value")):
                    return written  # no endpoint was ever made
                seen, head = await _counter(WATERMARK), await _counter(AUDIT_SEQUENCE)
                if head <= seen:
                    return written
                upto = min(head, seen + SCAN_WINDOW)
                entries = list(await AuditEntry.filter(id__gt=seen, id__lte=upto,
                                                       action__in=list(rules.SOURCE_ACTIONS)).order_by("id"))
                mapped = [(e, rules.event_for(e.action, e.after)) for e in entries]
                chosen = [(e, t) for e, t in mapped if t is not None]
                payloads = await _payloads([e for e, _ in chosen])
                events = [WebhookEvent(id=uuid.uuid4(), type=t.value, payload=payloads[int(e.id)],
                                       audit_entry_id=int(e.id), created_at=e.at) for e, t in chosen]
                if events:
                    await WebhookEvent.bulk_create(events)
                    await _fan_out(events)
                if not await Sequence.filter(name=WATERMARK, value=seen).update(value=upto):
                    raise _Raced
        except (_Raced, IntegrityError):
            continue  # another scan got there first (SQLite has no row lock inside a deferred transaction)
        written += len(events)
    return written


# ---------------------------------------------------------------- delivering


def _body(event: WebhookEvent) -> bytes:
    return rules.body_bytes(str(event.id), event.type, event.created_at.isoformat(), event.payload)


async def deliver(delivery_id: int, client: httpx.AsyncClient | None = None) -> float | None:
    """One attempt. Returns None when done (delivered, failed for good, or nothing to do), else the
    seconds until the next attempt (the job raises ARQ's Retry with it)."""
    delivery = await WebhookDelivery.filter(id=int(delivery_id)).select_related("endpoint", "event").first()
    if delivery is None or delivery.status in (DELIVERED, FAILED):
        return None
    endpoint, event = delivery.endpoint, delivery.event
    body = _body(event)
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json; charset=utf-8", "User-Agent": "Qingkuan-Webhook/1",
        rules.EVENT_HEADER: event.type, rules.EVENT_ID_HEADER: str(event.id),
        rules.DELIVERY_HEADER: str(delivery.id), rules.TIMESTAMP_HEADER: str(timestamp),
        rules.SIGNATURE_HEADER: rules.signature(endpoint.secret, timestamp, body),
    }
    code: int | None = None
    error: str | None = None
    own = client is None
    http = client or httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S, follow_redirects=False)
    try:
        await outbound.check(endpoint.url)
        response = await http.post(endpoint.url, content=body, headers=headers)
        code = response.status_code
        if not 200 <= code < 300:
            error = f"HTTP {code}: {response.text[:200]}"
    except (httpx.HTTPError, outbound.DestinationRefused) as exc:
        error = f"{type(exc).__name__}: {exc}"
    finally:
        if own:
            await http.aclose()
    attempts = delivery.attempts + 1
    now = utcnow()
    if error is None:
        await WebhookDelivery.filter(id=delivery.id).update(
            status=DELIVERED, attempts=attempts, last_status_code=code, last_error=None, last_attempt_at=now,
            delivered_at=now, next_attempt_at=None)
        return None
    if attempts >= rules.MAX_ATTEMPTS:
        await WebhookDelivery.filter(id=delivery.id).update(
            status=FAILED, attempts=attempts, last_status_code=code, last_error=error[:MAX_ERROR_CHARS],
            last_attempt_at=now, next_attempt_at=None)
        return None
    wait = rules.backoff_s(attempts, RETRY_BASE_S)
    await WebhookDelivery.filter(id=delivery.id).update(
        status=RETRYING, attempts=attempts, last_status_code=code, last_error=error[:MAX_ERROR_CHARS],
        last_attempt_at=now, next_attempt_at=now + timedelta(seconds=wait))
    return wait


# A delivery whose next attempt is this late lost its job (Redis keeps nothing on disk here).
LOST_AFTER_S = 600.0


async def sweep_lost(limit: int = 500) -> int:
    """Hand over again the deliveries due long ago, under a job id that names their attempt count."""
    cutoff = utcnow() - timedelta(seconds=LOST_AFTER_S)
    async with atomic():
        due = await WebhookDelivery.filter(status__in=[PENDING, RETRYING], next_attempt_at__lt=cutoff).order_by(
            "next_attempt_at", "id").limit(limit).values_list("id", "event_id", "attempts")
        if due:
            await _enqueue([(int(i), event_id, int(a) + 1) for i, event_id, a in due])
    return len(due)


async def replay(viewer: Viewer, delivery_id: Any) -> WebhookDelivery:
    """Send a delivery's event again to its endpoint, as a new delivery (the log keeps the old one)."""
    require_login(viewer)
    duties.require(viewer.roles, duties.MANAGE_WEBHOOKS)
    async with atomic():
        original = await WebhookDelivery.filter(id=parse_id(delivery_id, "webhookDelivery")).first()
        if original is None:
            raise NotFound(_m("投递记录 %(id)s 不存在", id=delivery_id))
        now = utcnow()
        row = await WebhookDelivery.create(endpoint_id=original.endpoint_id, event_id=original.event_id,  # type: ignore[attr-defined]
                                           status=PENDING, next_attempt_at=now, replay_of_id=original.id,
                                           created_at=now)
        await _enqueue([(row.id, original.event_id, 0)])  # type: ignore[attr-defined]
        await audit.record(viewer, "webhook.replay", "webhook_delivery", row.id, None,
                           {"replayOf": original.id, "event": str(original.event_id)})  # type: ignore[attr-defined]
    return row


async def list_deliveries(viewer: Viewer, first: int, after: list[Any] | None = None, *,
                          endpoint_id: Any = None, status: str | None = None) -> Page:
    require_login(viewer)
    duties.require(viewer.roles, duties.MANAGE_WEBHOOKS)
    qs = WebhookDelivery.all()
    if endpoint_id is not None:
        qs = qs.filter(endpoint_id=parse_id(endpoint_id, "webhookEndpoint"))
    if status is not None:
        qs = qs.filter(status=str(getattr(status, "value", status)))
    return await paginate(qs, first, after, order=("-created_at", "-id"))


async def events_by_id(ids: list[Any]) -> dict[str, WebhookEvent]:
    return {str(e.id): e for e in await WebhookEvent.filter(id__in=list(ids))}


async def endpoints_by_id(ids: list[int]) -> dict[int, WebhookEndpoint]:
    return {e.id: e for e in await WebhookEndpoint.filter(id__in=list(ids))}


__all__ = [
    "DELIVERED", "FAILED", "PENDING", "RETRYING", "create_endpoint", "deliver", "emit", "list_deliveries",
    "list_endpoints", "replay", "scan_audit", "update_endpoint",
]
