"""Collecting what to deliver: read the alert tables the risk engine writes and create Delivery rows.

Decoupled from raising alerts (no hook into server/services/alerts.py): a job every minute
(jobs/deliveries.py) reads the notifications and alerts past its watermarks in batches (one SELECT
per batch) and inserts, with `bulk_create(ignore_conflicts=True)` over unique keys,
  - one e-mail Delivery per notification whose user has an e-mail address (`n:<notification>`),
    when SMTP_URL is set;
  - one DigestItem per (enabled channel, alert) (unique per channel and alert);
then turns each channel's waiting items into one DIGEST delivery once its interval has passed since
its last digest. Re-running any step changes nothing. Every PENDING delivery not yet queued is then handed to the
queue under a deterministic job id (jobs/deliveries.py send_delivery); one whose enqueue failed is
handed over at the next run, one queued long ago (REQUEUE_AFTER) again, in case Redis lost it.

Watermarks advance only past rows older than MARK_LAG: a transaction that committed late (its row
id lower than rows already read) is still read on the next runs.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from server.domain.vocab import ChannelKind, DeliveryKind, DeliveryStatus, Role
from server.models import Alert, Channel, Delivery, DeliveryMark, DigestItem, Notification, User
from server.queue import enqueue
from server.services.base import atomic, utcnow
from server.settings import get_settings

log = logging.getLogger("qingkuan.delivery")

BATCH = 1000
MAX_BATCHES = 20  # per run: a backlog of 20,000 rows is read over a few minutes, not in one job
MARK_LAG = timedelta(minutes=5)
ENQUEUE_LIMIT = 500
# Longer than a send job's whole life (5 tries, backoff up to 240 s, rate-limit waits): by then a job
# still PENDING was lost (a flushed Redis) and is handed over again.
REQUEUE_AFTER = timedelta(minutes=30)
NOTIFICATION_MARK, ALERT_MARK = "notification", "alert"
AUDIT_ROLES = (Role.ADMIN, Role.AUDITOR)


def job_id(delivery_id: int) -> str:
    """The send job's id: one job per delivery; the queue's name keeps deployments sharing Redis apart."""
    return f"{get_settings().job_queue}:delivery:{delivery_id}"


async def _mark(name: str) -> int:
    row = await DeliveryMark.filter(name=name).first()
    return row.last_id if row else 0


async def _set_mark(name: str, last_id: int) -> None:
    if not await DeliveryMark.filter(name=name, last_id__lt=last_id).update(last_id=last_id):
        if not await DeliveryMark.filter(name=name).exists():
            await DeliveryMark.bulk_create([DeliveryMark(name=name, last_id=last_id)], ignore_conflicts=True)


def _settled_prefix(rows: Sequence[dict], now: datetime) -> int | None:
    """The last id of the leading rows (by id) old enough to be final: the watermark may move there."""
    last = None
    for row in rows:
        if row["created_at"] > now - MARK_LAG:
            break
        last = row["id"]
    return last


async def collect_notifications(now: datetime) -> int:
    """E-mail deliveries for new notifications (SMTP configured). Returns how many rows were offered."""
    if not get_settings().smtp_url:
        return 0
    offered = 0
    mark = await _mark(NOTIFICATION_MARK)
    for _ in range(MAX_BATCHES):
        rows = await Notification.filter(id__gt=mark).order_by("id").limit(BATCH).values(
            "id", "created_at", "user_id", "user__is_active", "user__employee__email")
        if not rows:
            break
        new = [Delivery(kind=DeliveryKind.NOTIFICATION, dedupe_key=f"n:{r['id']}", user_id=r["user_id"],
                        address=r["user__employee__email"].strip(), notification_id=r["id"],
                        status=DeliveryStatus.PENDING, created_at=now)
               for r in rows if r["user__is_active"] and (r["user__employee__email"] or "").strip()]
        if new:
            await Delivery.bulk_create(new, ignore_conflicts=True)
            offered += len(new)
        settled = _settled_prefix(rows, now)
        if settled is not None:
            await _set_mark(NOTIFICATION_MARK, settled)
        if settled is None or settled != rows[-1]["id"] or len(rows) < BATCH:
            break
        mark = settled
    return offered


async def collect_alerts(now: datetime) -> int:
    """DigestItems for new alerts on every enabled channel. Returns how many were offered."""
    channels = await Channel.filter(enabled=True).values("id", "start_alert_id")
    offered = 0
    mark = await _mark(ALERT_MARK)
    for _ in range(MAX_BATCHES):
        rows = await Alert.filter(id__gt=mark).order_by("id").limit(BATCH).values("id", "created_at")
        if not rows:
            break
        items = [DigestItem(channel_id=c["id"], alert_id=r["id"], created_at=now)
                 for c in channels for r in rows if r["id"] > c["start_alert_id"]]
        if items:
            await DigestItem.bulk_create(items, ignore_conflicts=True)
            offered += len(items)
        settled = _settled_prefix(rows, now)
        if settled is not None:
            await _set_mark(ALERT_MARK, settled)
        if settled is None or settled != rows[-1]["id"] or len(rows) < BATCH:
            break
        mark = settled
    return offered


async def make_digests(now: datetime) -> list[int]:
    """One DIGEST delivery per enabled channel whose interval has passed and that has waiting alerts."""
    created: list[int] = []
    for channel in await Channel.filter(enabled=True).order_by("id"):
        waiting = await DigestItem.filter(channel_id=channel.id, delivery_id__isnull=True).order_by("id").values_list(
            "id", flat=True)
        if not waiting:
            continue
        last = await Delivery.filter(channel_id=channel.id, kind=DeliveryKind.DIGEST).order_by("-created_at").first()
        if last is not None and last.created_at > now - timedelta(minutes=channel.digest_minutes):
            continue
        try:
            async with atomic():
                row = await Delivery.create(kind=DeliveryKind.DIGEST, dedupe_key=f"d:{channel.id}:{waiting[0]}",
                                            channel_id=channel.id, status=DeliveryStatus.PENDING, created_at=now)
                await DigestItem.filter(id__in=list(waiting), delivery_id__isnull=True).update(delivery_id=row.id)
        except IntegrityError:  # another collector made this digest first
            continue
        created.append(row.id)
    return created


async def queue_audit_result(job: str, result: dict[str, Any]) -> list[int]:
    """The audit verification's result and head to every enabled channel and, by e-mail, to every
    ADMIN and AUDITOR with an address: a copy of the head outside the database. Idempotent per job."""
    now = utcnow()
    rows = [Delivery(kind=DeliveryKind.AUDIT, dedupe_key=f"a:{job}:c{c.id}"[:200], channel_id=c.id, payload=result,
                     status=DeliveryStatus.PENDING, created_at=now)
            for c in await Channel.filter(enabled=True).order_by("id")]
    if get_settings().smtp_url:
        users = await User.filter(is_active=True).order_by("id").values("id", "roles", "employee__email")
        rows += [Delivery(kind=DeliveryKind.AUDIT, dedupe_key=f"a:{job}:u{u['id']}"[:200], user_id=u["id"],
                          address=u["employee__email"].strip(), payload=result, status=DeliveryStatus.PENDING,
                          created_at=now)
                 for u in users if set(u["roles"] or []) & set(AUDIT_ROLES) and (u["employee__email"] or "").strip()]
    if rows:
        await Delivery.bulk_create(rows, ignore_conflicts=True)
    keys = [r.dedupe_key for r in rows]
    found = await Delivery.filter(dedupe_key__in=keys or ["-"]).order_by("id").values_list("id", flat=True)
    return [int(i) for i in found]  # type: ignore[call-overload]


async def pending_ids(now: datetime, limit: int = ENQUEUE_LIMIT) -> list[int]:
    """PENDING deliveries never handed to the queue, or handed so long ago that their job may be lost
    (a job waiting for its retry is still in the queue: handing it again is a no-op)."""
    found = await Delivery.filter(Q(queued_at__isnull=True) | Q(queued_at__lt=now - REQUEUE_AFTER),
                                  status=DeliveryStatus.PENDING).order_by("id").limit(limit).values_list("id", flat=True)
    return [int(i) for i in found]  # type: ignore[call-overload]


async def enqueue_pending(ids: Sequence[int]) -> int:
    """Hand deliveries to the queue (a delivery already queued, running or done is not queued again).
    A queue failure is logged: the next collection hands them over again."""
    handed: list[int] = []
    for delivery_id in ids:
        try:
            await enqueue("send_delivery", delivery_id, _job_id=job_id(delivery_id))
        except Exception:  # noqa: BLE001 - the queue is down: the minute's collection tries again
            log.warning("delivery %s waits for the next collection: the queue is unavailable", delivery_id)
            break
        handed.append(delivery_id)
    if handed:
        await Delivery.filter(id__in=handed).update(queued_at=utcnow())
    return len(handed)


async def collect(now: datetime | None = None) -> dict[str, int]:
    """One collection: new rows, due digests, and every PENDING delivery handed to the queue."""
    now = now or utcnow()
    emails = await collect_notifications(now)
    items = await collect_alerts(now)
    digests = await make_digests(now)
    queued = await enqueue_pending(await pending_ids(now))
    return {"emails": emails, "digestItems": items, "digests": len(digests), "queued": queued}


__all__ = ["ChannelKind", "collect", "enqueue_pending", "job_id", "pending_ids", "queue_audit_result"]
