"""Re-hash the audit log and record whether the chain is intact (on demand and nightly)."""

from __future__ import annotations

import logging
from typing import Any

from server.services import audit
from server.services import jobs as job_service

log = logging.getLogger("qingkuan.jobs.audit")

KIND = "VERIFY_AUDIT_CHAIN"


async def verify_audit_chain(ctx: dict[str, Any], job_id: str | None = None) -> dict[str, Any] | None:
    """Read-only, so a redelivery is harmless; a job already DONE is not run again.

    Cron runs pass no `job_id`: ARQ's own id for the run (deterministic per scheduled time) is used.
    """
    job_id = job_id or str(ctx["job_id"])
    if not await job_service.begin(KIND, job_id):
        return None
    try:
        report = await audit.verify_chain()
    except Exception as exc:
        await job_service.fail(job_id, f"{type(exc).__name__}: {exc}")
        raise
    result = {
        "ok": report.ok,
        "checked": report.checked,
        "firstBrokenId": report.first_broken_id,
        "problem": report.problem,
    }
    if report.ok:
        log.info("audit chain intact: %d entries", report.checked)
    else:
        log.error("audit chain BROKEN at entry %s: %s", report.first_broken_id, report.problem)
    await job_service.finish(job_id, result)
    return result
