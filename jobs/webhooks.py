"""Outgoing webhooks as ARQ jobs: the scan that turns audit entries into events (cron, every minute)
and one delivery attempt per run, retried by ARQ with exponential backoff (server/services/webhooks.py)."""

from __future__ import annotations

import logging
from typing import Any

from arq import Retry

from server.domain import webhooks as rules
from server.services import webhooks

log = logging.getLogger("qingkuan.jobs.webhooks")

# ARQ's own limit stays above the service's: the service decides when a delivery has FAILED.
MAX_TRIES = rules.MAX_ATTEMPTS + 2


async def scan_webhook_events(ctx: dict[str, Any], job_id: str | None = None) -> dict[str, int]:
    """Idempotent: the watermark moves by check-and-set, so a redelivered or racing run writes nothing twice."""
    written = await webhooks.scan_audit()
    swept = await webhooks.sweep_lost()
    if written or swept:
        log.info("webhooks: %d new events, %d lost deliveries handed over again", written, swept)
    return {"events": written, "requeued": swept}


async def deliver_webhook(ctx: dict[str, Any], delivery_id: int, job_id: str | None = None) -> str:
    wait = await webhooks.deliver(int(delivery_id))
    if wait is not None:
        raise Retry(defer=wait)
    return "done"


async def webhook_tick() -> None:
    """Called by every outbox sweep (jobs/worker.py, each OUTBOX_SWEEP_S): new events, lost deliveries."""
    await scan_webhook_events({})
