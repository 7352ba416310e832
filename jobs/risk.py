"""The risk scan and the real-time large-loan check, run by the ARQ worker (plain functions calling services).

Both are idempotent: alerts are unique per rule, subject and period, reminders are check-and-set, and a job
already DONE is not run again. A job killed half-way runs again after its in-progress key expires and
carries on from what the keys say is done.
"""

from __future__ import annotations

import logging
import os
from datetime import date, time
from typing import Any

from server.services import jobs as job_service
from server.services import risk as risk_service
from server.services.base import today

log = logging.getLogger("qingkuan.jobs.risk")

DEFAULT_SCAN_AT = time(6, 0)


def scan_time(value: str | None = None) -> time:
    """RISK_SCAN_AT ("HH:MM", company time; default 06:00), read when the worker starts."""
    raw = (os.environ.get("RISK_SCAN_AT", "") if value is None else value).strip()
    if not raw:
        return DEFAULT_SCAN_AT
    try:
        hour, minute = (int(part) for part in raw.split(":"))
        return time(hour, minute)
    except ValueError:
        raise ValueError(f"RISK_SCAN_AT must be HH:MM (company time), not {raw!r}") from None


async def run_risk_scan(ctx: dict[str, Any], as_of: str | None = None, job_id: str | None = None) -> dict | None:
    """Every rule as of `as_of` (ISO date; today in company time when omitted, e.g. the cron run)."""
    job_id = job_id or str(ctx["job_id"])
    if not await job_service.begin(risk_service.KIND, job_id):
        return None
    day = date.fromisoformat(as_of) if as_of else today()

    async def progress(fraction: float) -> None:
        await job_service.report_progress(job_id, fraction)

    try:
        report = await risk_service.scan(day, progress)
    except Exception as exc:
        await job_service.fail(job_id, f"{type(exc).__name__}: {exc}")
        raise
    result = report.as_result()
    log.info("risk scan as of %s: %s", day, result)
    await job_service.finish(job_id, result)
    return result


async def check_large_loan(ctx: dict[str, Any], loan_id: int, job_id: str | None = None) -> dict | None:
    """LARGE_LOAN_NO_BUSINESS for one application, right after it committed."""
    job_id = job_id or str(ctx["job_id"])
    if not await job_service.begin(risk_service.REALTIME_KIND, job_id):
        return None
    try:
        raised = await risk_service.check_large_loan(int(loan_id))
    except Exception as exc:
        await job_service.fail(job_id, f"{type(exc).__name__}: {exc}")
        raise
    result = {"loanId": int(loan_id), "raised": raised}
    await job_service.finish(job_id, result)
    return result
