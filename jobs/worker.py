"""What the ARQ worker runs: `WorkerSettings` (a plain class, as ARQ expects) and its options.

Two ways to run it, one code path:
- `python main.py worker` (or `arq jobs.worker.WorkerSettings`): a separate process on REDIS_URL;
  its `on_startup` opens the database, `on_shutdown` closes it.
- embedded (REDIS_URL unset): jobs/embedded.py runs the same functions inside the web process, on
  the database the web process already opened.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from arq import cron, func
from arq.connections import RedisSettings
from arq.constants import default_queue_name
from arq.worker import Worker, get_kwargs

from jobs import deliveries
from jobs.audit import verify_audit_chain
from jobs.evidence import build_evidence_package
from jobs.imports import purge_idempotency_keys, run_import_job
from jobs.risk import check_large_loan, run_risk_scan, scan_time
from jobs.webhooks import MAX_TRIES as WEBHOOK_MAX_TRIES
from jobs.webhooks import deliver_webhook, scan_webhook_events, webhook_tick
from jobs.workflow import remind_settle_dates, sync_deputies
from server.db import init_db
from server.queue import close_pool, redis_settings_for
from server.services.jobs import RELAY_BATCH, relay_outbox
from server.settings import Settings, get_settings

log = logging.getLogger("qingkuan.worker")

# Every job function; other areas append theirs here (alerts, evidence, reports, notifications).
FUNCTIONS: list[Any] = [verify_audit_chain]
FUNCTIONS.append(build_evidence_package)
FUNCTIONS += [run_import_job, purge_idempotency_keys]
FUNCTIONS.append(remind_settle_dates)
FUNCTIONS += [run_risk_scan, check_large_loan]

# Times are the company's (TIMEZONE). Cron runs are unique per scheduled time across workers.
CRON_JOBS: list[Any] = [
    cron(verify_audit_chain, name="nightly_verify_audit_chain", hour={2}, minute={30}, run_at_startup=False),
]
CRON_JOBS += [cron(purge_idempotency_keys, name="hourly_purge_idempotency_keys", minute={17}, run_at_startup=False)]

# Delivery (issue 11): the collector every minute, one send job per delivery.
FUNCTIONS += deliveries.FUNCTIONS
CRON_JOBS += deliveries.CRON_JOBS

# Outgoing webhooks (issue 15): each delivery with ARQ's retries; the audit scan also runs on every
# outbox sweep below (not a cron: a cron run would add jobs to every burst worker's counts).
FUNCTIONS += [scan_webhook_events, func(deliver_webhook, name="deliver_webhook", max_tries=WEBHOOK_MAX_TRIES)]
CRON_JOBS.append(cron(remind_settle_dates, name="daily_settle_reminders", hour={9}, minute={0}, run_at_startup=False))
# Issue 12: deputies take their approvers' steps on their first day and hand them back after the last.
FUNCTIONS.append(sync_deputies)
CRON_JOBS.append(cron(sync_deputies, name="daily_sync_deputies", hour={0}, minute={5}, run_at_startup=False))
CRON_JOBS += [cron(run_risk_scan, name="daily_risk_scan", hour={scan_time().hour}, minute={scan_time().minute},
                   run_at_startup=False)]

JOB_TIMEOUT_S = 600

# How often a process that runs jobs hands over outbox rows that could not be enqueued at once
# (the queue was down when their transaction committed).
OUTBOX_SWEEP_S = 15.0


async def sweep_outbox_forever(interval: float = OUTBOX_SWEEP_S) -> None:
    while True:
        try:
            while await relay_outbox() == RELAY_BATCH:
                pass
            await webhook_tick()
        except asyncio.CancelledError:
            raise
        except Exception:  # the database may be away too: try again at the next tick
            log.exception("outbox sweep failed")
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def outbox_sweeper(interval: float = OUTBOX_SWEEP_S) -> AsyncIterator[asyncio.Task]:
    """Run `sweep_outbox_forever` as a task of this event loop until the block exits."""
    task = asyncio.create_task(sweep_outbox_forever(interval), name="outbox-sweep")
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def startup(ctx: dict[str, Any]) -> None:
    """A separate worker process: open (and migrate) the database."""
    settings = get_settings()
    ctx["settings"] = settings
    # Kept: on_shutdown runs outside the task that opened it (see STACK-NOTES, Tortoise 1.x).
    ctx["tortoise"] = await init_db(settings)
    # Jobs whose enqueue failed (Redis was down when they were requested) wait in the outbox.
    ctx["outbox_sweep"] = asyncio.create_task(sweep_outbox_forever(), name="outbox-sweep")
    log.info("worker ready (queue %s)", settings.job_queue)


async def shutdown(ctx: dict[str, Any]) -> None:
    sweep = ctx.pop("outbox_sweep", None)
    if sweep is not None:
        sweep.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweep
    await close_pool()
    tortoise = ctx.pop("tortoise", None)
    if tortoise is not None:
        await tortoise.close_connections()


async def embedded_startup(ctx: dict[str, Any]) -> None:
    """Inside the web process the database is already open; only share the settings."""
    ctx["settings"] = get_settings()


def _env_timezone() -> Any:
    try:
        return ZoneInfo(os.environ.get("TIMEZONE", "").strip() or "Asia/Shanghai")
    except (ZoneInfoNotFoundError, ValueError):
        return None  # load_settings() reports the bad value when the worker starts


class WorkerSettings:
    """For `arq jobs.worker.WorkerSettings`; `python main.py worker` uses the same values."""

    functions = FUNCTIONS
    cron_jobs = CRON_JOBS
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = redis_settings_for(os.environ["REDIS_URL"]) if os.environ.get("REDIS_URL") else RedisSettings()
    queue_name = os.environ.get("JOB_QUEUE", "").strip() or default_queue_name
    timezone = _env_timezone()
    job_timeout = JOB_TIMEOUT_S


def worker_options(settings: Settings, *, embedded: bool = False, **overrides: Any) -> dict[str, Any]:
    """Keyword arguments for `arq.worker.Worker`, from the loaded settings."""
    options: dict[str, Any] = get_kwargs(WorkerSettings)
    options.update(queue_name=settings.job_queue, timezone=settings.tz)
    if embedded:
        options.update(on_startup=embedded_startup, on_shutdown=None, handle_signals=False)
    elif settings.redis_url:
        options["redis_settings"] = redis_settings_for(settings.redis_url)
    options.update(overrides)
    return options


async def stop_worker(worker: Worker) -> None:
    """Stop a worker and release what it holds, whatever state it is in.

    Used instead of `Worker.close()`, which re-raises when a job task was cancelled before it
    started and then skips `on_shutdown`, leaving the database open (the process then hangs).
    Cancelled jobs go back to the queue (ARQ retries on shutdown), so they run again later.
    """
    main = worker.main_task
    if main is not None and not main.done():
        worker.handle_sig(signal.SIGTERM)
    pending = [t for t in (main, *worker.tasks.values()) if t is not None and not t.done()]
    if pending:
        await asyncio.wait(pending)
    try:
        if worker.on_shutdown is not None:
            await worker.on_shutdown(worker.ctx)
    finally:
        pool = worker._pool
        worker._pool = None
        if pool is not None:
            with contextlib.suppress(Exception):
                await pool.delete(worker.health_check_key)
            await pool.aclose(close_connection_pool=True)


async def run_worker(settings: Settings) -> None:
    """`python main.py worker`: run until SIGTERM/SIGINT, then close Redis and the database."""
    worker = Worker(**worker_options(settings))
    try:
        await worker.async_run()
    except asyncio.CancelledError:
        # The worker's own signal handler cancelled its main task: a normal stop.
        log.info("worker stopping")
    finally:
        await stop_worker(worker)

# The monthly loan-risk report (issue 13): 1st of each month, 06:00 company time, for the month before.
from jobs.reports import generate_risk_report  # noqa: E402

FUNCTIONS.append(generate_risk_report)
CRON_JOBS.append(cron(generate_risk_report, name="monthly_risk_report", day={1}, hour={6}, minute={0},
                      run_at_startup=False))
