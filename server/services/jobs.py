"""Background jobs as clients see them: the `Job` row's state, progress and result.

A job's row id is its ARQ `_job_id`, so the id a client polls is the id that deduplicates the
queue. ARQ delivers at least once: every transition is a check-and-set on the current state, and
a job that is already DONE is not run again.

    QUEUED ──> RUNNING ──> DONE
                  │  ^
                  v  │ (redelivery after a crash, a retry)
                FAILED
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from server.domain.errors import NotFound
from server.domain.messages import _m
from server.domain.vocab import JobState
from server.models import Job, OutboxJob
from server.queue import QueueUnavailable, enqueue
from server.services.base import Viewer, after_commit, atomic, require_login, utcnow

log = logging.getLogger("qingkuan.jobs")

QUEUED, RUNNING, DONE, FAILED = JobState
STATES = tuple(JobState)
MAX_ERROR_CHARS = 2000


async def create_job(kind: str, job_id: str, created_by: int | None = None) -> Job:
    """The QUEUED row for `job_id`; the existing one when it was already created (idempotent)."""
    job = await Job.filter(id=job_id).first()
    if job is not None:
        return job
    try:
        async with atomic():  # a savepoint: a concurrent creator may win the insert
            return await Job.create(id=job_id, kind=kind, state=QUEUED, progress=0.0, created_by_id=created_by)
    except IntegrityError:
        return await Job.get(id=job_id)


async def submit(kind: str, function_name: str, *args: Any, job_id: str, created_by: int | None = None,
                 **kwargs: Any) -> Job:
    """Create the job's row and its outbox row; once the transaction commits, the relay hands it to the
    queue as `function_name(*args, job_id=..., **kwargs)`.

    Call inside the service's `atomic()` block; the job receives its own id as `job_id`. Arguments
    must be JSON values (they wait in the database). When the queue is down the request still
    succeeds: the job stays QUEUED and a later sweep (`relay_outbox`) enqueues it, once.
    """
    job = await create_job(kind, job_id, created_by)
    await add_to_outbox(function_name, *args, job_id=job_id, **kwargs)

    async def _relay() -> None:
        await relay_outbox(only=job_id)

    after_commit(_relay)
    return job


async def add_to_outbox(function_name: str, *args: Any, job_id: str, **kwargs: Any) -> None:
    """The outbox row, in the caller's transaction; a second one for the same job id is a no-op."""
    if await OutboxJob.filter(job_id=job_id).exists():
        return
    try:
        async with atomic():  # a savepoint: a concurrent submitter may win the insert
            await OutboxJob.create(job_id=job_id, function=function_name, args=list(args),
                                   kwargs={**kwargs, "job_id": job_id})
    except IntegrityError:
        pass


# Redis refused, timed out or is not configured: the row waits for the next sweep.
RELAY_TIMEOUT_S = 3.0
RELAY_BATCH = 100


async def relay_outbox(only: str | None = None, limit: int = RELAY_BATCH) -> int:
    """Hand unsent outbox rows to the queue under their deterministic job ids; mark each one sent.

    Returns how many were handed over. Stops at the first queue failure (the queue is down: the
    rest would fail the same way) and never raises for it. Two relays racing on one row enqueue
    the same `_job_id`, which the queue keeps once; the job itself skips a run when already DONE.
    """
    qs = OutboxJob.filter(sent_at__isnull=True)
    if only is not None:
        qs = qs.filter(job_id=only)
    rows = await qs.order_by("id").limit(limit)
    sent = 0
    for row in rows:
        try:
            await asyncio.wait_for(enqueue(row.function, *(row.args or []), _job_id=row.job_id,
                                           **(row.kwargs or {})), RELAY_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 - any queue failure leaves the row for the next sweep
            reason = f"{type(exc).__name__}: {exc or f'no answer within {RELAY_TIMEOUT_S:g} s'}"
            # No queue started yet (first-start bootstrap, `seed-demo`): expected, and the runtime relays the
            # outbox when it starts; only a queue that should be there and fails is worth a warning.
            log.log(logging.DEBUG if isinstance(exc, QueueUnavailable) else logging.WARNING,
                    "job %s stays in the outbox: the queue is unavailable (%s)", row.job_id, reason)
            await OutboxJob.filter(id=row.id, sent_at__isnull=True).update(
                attempts=F("attempts") + 1, last_error=reason[:MAX_ERROR_CHARS])
            break
        await OutboxJob.filter(id=row.id, sent_at__isnull=True).update(sent_at=utcnow(), last_error=None)
        sent += 1
    return sent


async def pending_outbox() -> int:
    return await OutboxJob.filter(sent_at__isnull=True).count()


async def begin(kind: str, job_id: str) -> bool:
    """Mark the job RUNNING (creating its row for cron runs). False when it is already DONE: skip it."""
    await create_job(kind, job_id)
    moved = await Job.filter(id=job_id, state__in=[QUEUED, RUNNING, FAILED]).update(
        state=RUNNING, progress=0.0, error=None, updated_at=utcnow()
    )
    return bool(moved)


async def report_progress(job_id: str, fraction: float) -> None:
    fraction = min(max(float(fraction), 0.0), 1.0)
    await Job.filter(id=job_id, state=RUNNING).update(progress=fraction, updated_at=utcnow())


async def finish(job_id: str, result: Any) -> None:
    await Job.filter(id=job_id, state=RUNNING).update(
        state=DONE, progress=1.0, result=result, error=None, updated_at=utcnow()
    )


async def fail(job_id: str, error: str) -> None:
    await Job.filter(id=job_id, state__in=[QUEUED, RUNNING]).update(
        state=FAILED, error=error[:MAX_ERROR_CHARS], updated_at=utcnow()
    )


async def get_job(viewer: Viewer, job_id: str) -> Job:
    """A job is visible to whoever started it and to the roles that see everything."""
    require_login(viewer)
    job = await Job.filter(id=str(job_id)).first()
    if job is None or not (viewer.sees_all or (job.created_by_id is not None and job.created_by_id == viewer.user_id)):
        raise NotFound(_m("任务 %(id)s 不存在", id=job_id))
    return job


__all__ = [
    "DONE", "FAILED", "QUEUED", "RUNNING", "STATES", "add_to_outbox", "begin", "create_job", "fail", "finish",
    "get_job", "pending_outbox", "relay_outbox", "report_progress", "submit",
]
