"""Assemble an evidence package (证据包) in the background: server/services/evidence.py does the work.

At-least-once: a job already DONE is skipped; a redelivered one rebuilds the ZIP from scratch (the
file is written beside its final name and moved into place only when complete)."""

from __future__ import annotations

import logging
from typing import Any

from server.services import evidence
from server.services import jobs as job_service

log = logging.getLogger("qingkuan.jobs.evidence")


async def build_evidence_package(ctx: dict[str, Any], package_id: int, job_id: str) -> dict[str, Any] | None:
    if not await job_service.begin(evidence.KIND, job_id):
        return None
    try:
        result = await evidence.build(int(package_id), job_id)
    except Exception as exc:
        log.exception("evidence package %s failed", package_id)
        await job_service.fail(job_id, f"{type(exc).__name__}: {exc}")
        # A broken chain or a damaged original will not mend by retrying: fail, do not raise for a retry.
        return None
    await job_service.finish(job_id, result)
    log.info("evidence package %s built: %s (%s bytes)", package_id, result["sha256"], result["size"])
    return result
