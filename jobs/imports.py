"""Imports over 5,000 rows (importCsv returns at once; the client polls the job, then reads the report),
and the hourly purge of Idempotency-Key records older than 24 hours."""

from __future__ import annotations

import logging
from typing import Any

from server.services import idempotency
from server.services import imports as import_service
from server.services import jobs as job_service

log = logging.getLogger("qingkuan.jobs.imports")


async def run_import_job(ctx: dict[str, Any], report_id: int, job_id: str) -> dict[str, Any] | None:
    """At least once: a report already DONE is not run again (run_import checks its state); the writing
    pass is one transaction, so a crash half-way leaves nothing behind and a redelivery starts over."""
    if not await job_service.begin(import_service.JOB_KIND, job_id):
        return None
    try:
        await import_service.run_import_job(report_id, job_id)
    except Exception as exc:
        await import_service.mark_failed(report_id)
        await job_service.fail(job_id, f"{type(exc).__name__}: {exc}")
        raise
    report = await import_service.report_by_id(report_id)
    result = {"reportId": report.id, "created": report.created, "updated": report.updated,
              "errorCount": report.error_count}
    await job_service.finish(job_id, result)
    return result


async def purge_idempotency_keys(ctx: dict[str, Any]) -> int:
    purged = await idempotency.purge_expired()
    if purged:
        log.info("purged %d expired Idempotency-Key records", purged)
    return purged
