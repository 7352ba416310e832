"""The monthly loan-risk report: on the 1st of each month (company time) for the month before, and on
demand (`generateRiskReport`). Re-running a month replaces its report with the same figures, so a
redelivered job is harmless; a job already DONE is not run again."""

from __future__ import annotations

import logging
from typing import Any

from server.services import jobs as job_service
from server.services import reports
from server.services.base import today

log = logging.getLogger("qingkuan.jobs.reports")


async def generate_risk_report(ctx: dict[str, Any], month: str | None = None, job_id: str | None = None,
                               user_id: int | None = None) -> dict[str, Any] | None:
    """Cron runs pass no month (the previous month) and no job id (ARQ's own id for the run)."""
    job_id = job_id or str(ctx["job_id"])
    month = month or reports.previous_month(today())
    if not await job_service.begin(reports.KIND, job_id):
        return None
    try:
        report = await reports.build_report(month, user_id=user_id)
    except Exception as exc:
        await job_service.fail(job_id, f"{type(exc).__name__}: {exc}")
        raise
    result = {"month": report.month, "reportId": report.id}
    log.info("risk report for %s built (%d findings)", month, len(report.content["findings"]))
    await job_service.finish(job_id, result)
    return result
