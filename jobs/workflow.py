"""Workflow jobs: the daily reminder before each open loan's expected settle date.

Idempotent: each reminder is unique per loan and expected settle date (server/services/workflow.py),
so a re-run or a redelivery writes nothing, and a missed day is caught up by the next run."""

from __future__ import annotations

import logging
from typing import Any

from server.services import rerouting, workflow

log = logging.getLogger("qingkuan.jobs.workflow")


async def remind_settle_dates(ctx: dict[str, Any]) -> int:
    written = await workflow.send_settle_reminders()
    log.info("settle reminders written: %d", written)
    return written


async def sync_deputies(ctx: dict[str, Any]) -> int:
    """Daily (issue 12): deputies starting or ending take or hand back their approvers' waiting steps."""
    moved = await rerouting.sync_all_deputies()
    log.info("approval steps moved for deputies: %d", moved)
    return moved
