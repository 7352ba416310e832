"""The monthly report built by a real ARQ worker (burst mode) on real Redis."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

from jobs.reports import generate_risk_report
from jobs.worker import CRON_JOBS, FUNCTIONS
from server.models import Job, RiskReport
from server.services import jobs as job_service
from server.services import reports
from server.services.base import atomic
from tests.jobs.conftest import token
from tests.services import analytics_data


async def test_worker_builds_the_report(db, job_settings, run_burst):
    await analytics_data.build()
    job_id = f"report:{token(job_settings)}"
    async with atomic():
        await job_service.submit(reports.KIND, "generate_risk_report", "2026-05", job_id=job_id)
    worker = await run_burst()
    assert (worker.jobs_complete, worker.jobs_failed) == (1, 0)
    job = await Job.get(id=job_id)
    report = await RiskReport.get(month="2026-05")
    assert (job.state, job.result) == ("DONE", {"month": "2026-05", "reportId": report.id})
    assert any(f["section"] == "offboardings" and "R2" in str(f["message"]) for f in report.content["findings"])


def test_registered_with_a_monthly_cron_in_company_time(settings):
    assert generate_risk_report in FUNCTIONS
    monthly = [c for c in CRON_JOBS if c.name == "monthly_risk_report"]
    assert len(monthly) == 1 and monthly[0].coroutine is generate_risk_report
    run = dataclasses.replace(monthly[0])
    run.calculate_next(datetime(2026, 5, 15, 12, 0, tzinfo=settings.tz))
    assert run.next_run.replace(microsecond=0) == datetime(2026, 6, 1, 6, 0, tzinfo=settings.tz)
    assert reports.previous_month(date(2026, 6, 1)) == "2026-05"
