"""Re-hash the audit log and record whether the chain is intact (on demand and nightly).

The result names the first bad entry and the kind of tampering, or, for an intact chain, its head
(headId, headHash), which is also written as a signed anchor that later runs check."""

from __future__ import annotations

import logging
from typing import Any

from jobs import deliveries
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
        # An intact chain's head is anchored (signed) in the result and in audit_anchor.
        report = await audit.verify_chain(anchor=True)
    except Exception as exc:
        await job_service.fail(job_id, f"{type(exc).__name__}: {exc}")
        raise
    result = report.as_result()
    if report.ok:
        log.info("audit chain intact: %d entries, head #%s %s", report.checked, report.head_id, report.head_hash)
    else:
        log.error("audit chain BROKEN at entry %s (%s): %s", report.first_bad_id, report.kind, report.message)
    await job_service.finish(job_id, result)
    # A copy of the head outside the database: to the configured channels and ADMIN/AUDITOR e-mail.
    await deliveries.send_audit_result(job_id, result)
    return result
