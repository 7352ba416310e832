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

import logging
from typing import Any

from tortoise.exceptions import IntegrityError

from server.domain.errors import NotFound
from server.models import Job
from server.services.base import Viewer, after_commit, atomic, require_login, utcnow

log = logging.getLogger("qingkuan.jobs")

QUEUED, RUNNING, DONE, FAILED = "QUEUED", "RUNNING", "DONE", "FAILED"
STATES = (QUEUED, RUNNING, DONE, FAILED)
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
    """Create the job's row and enqueue `function_name(job_id=..., *args)` once the transaction commits.

    Call inside the service's `atomic()` block; the job receives its own id as `job_id`.
    """
    from jobs.queue import enqueue

    job = await create_job(kind, job_id, created_by)

    async def _enqueue() -> None:
        await enqueue(function_name, *args, _job_id=job_id, job_id=job_id, **kwargs)

    after_commit(_enqueue)
    return job


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
        raise NotFound(f"任务 {job_id} 不存在 (job {job_id} not found)")
    return job


__all__ = [
    "DONE", "FAILED", "QUEUED", "RUNNING", "STATES", "begin", "create_job", "fail", "finish", "get_job",
    "report_progress", "submit",
]
