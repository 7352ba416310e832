"""Delivery jobs: the collector every minute, and one send job per Delivery with retries and backoff.

- `collect_deliveries` (cron, every minute): new notifications and alerts → Delivery rows (unique
  keys make reruns harmless), due digests, and every PENDING delivery handed to the queue.
- `send_delivery(delivery_id)`: one try; a failure before MAX_ATTEMPTS raises `Retry(defer=...)`
  (exponential backoff from DELIVERY_RETRY_SECONDS), so ARQ runs it again later. ARQ's own try
  limit is higher than ours: postponing for a robot's rate limit does not count as an attempt.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from arq import Retry, cron
from arq.constants import default_queue_name
from arq.worker import func

from server.domain.vocab import DeliveryStatus
from server.services import delivery, sending

log = logging.getLogger("qingkuan.jobs.deliveries")

# Our attempts are capped by sending.MAX_ATTEMPTS; these leave room for rate-limit postponements.
ARQ_MAX_TRIES = 50


async def collect_deliveries(ctx: dict[str, Any]) -> dict[str, int]:
    return await delivery.collect()


async def send_delivery(ctx: dict[str, Any], delivery_id: int) -> str:
    outcome = await sending.attempt(int(delivery_id))
    if outcome.status == DeliveryStatus.PENDING and outcome.retry_in is not None:
        raise Retry(defer=outcome.retry_in)
    return str(outcome.status)


async def send_audit_result(job_id: str, result: dict[str, Any]) -> None:
    """The audit verification's result and head out to the channels and ADMIN/AUDITOR e-mail.
    Never fails the verification itself."""
    try:
        ids = await delivery.queue_audit_result(job_id, result)
        await delivery.enqueue_pending(ids)
    except Exception:  # noqa: BLE001 - the verification's result stands; the collector retries enqueueing
        log.exception("could not queue the audit result for delivery (job %s)", job_id)


FUNCTIONS: list[Any] = [collect_deliveries, func(send_delivery, name="send_delivery", max_tries=ARQ_MAX_TRIES)]
# A cron run's job id is its name and time: the queue in the name keeps deployments that share one Redis
# (different JOB_QUEUE) from taking each other's minute.
_QUEUE = os.environ.get("JOB_QUEUE", "").strip() or default_queue_name
CRON_JOBS: list[Any] = [cron(collect_deliveries, name=f"minutely_collect_deliveries:{_QUEUE}", run_at_startup=False)]
