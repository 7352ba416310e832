"""The job queue as the services see it: the ARQ pool and `enqueue`, below the services.

It knows job *names* (strings), never job code: nothing here imports jobs/ or server/services,
so a service that requests a job never pulls the worker in. The worker, its job functions and
the embedded Redis live in jobs/ (which may import everything below it).

Services do not call `enqueue` directly: they request jobs through the outbox
(server/services/jobs.py `submit`), in their own transaction; after the commit the relay
(`relay_outbox`) hands each row to `enqueue` here, and while Redis is down the row waits for
the sweep (jobs/worker.py `sweep_outbox_forever`).

- REDIS_URL set: the web process only enqueues; `python main.py worker` processes do the work.
- REDIS_URL unset: jobs/embedded.py starts a private Redis and installs its pool here.
"""

from __future__ import annotations

from typing import Any

from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.jobs import Job as ArqJob

from server.settings import get_settings

_pool: ArqRedis | None = None


class QueueUnavailable(RuntimeError):
    """No job queue: the runtime is not started and REDIS_URL is unset."""


def redis_settings_for(url: str) -> RedisSettings:
    return RedisSettings.from_dsn(url)


def get_pool() -> ArqRedis:
    """The pool installed by the runtime (or opened lazily by `enqueue`)."""
    if _pool is None:
        raise QueueUnavailable("the job queue is not running (start the app, or set REDIS_URL)")
    return _pool


async def open_pool(redis_settings: RedisSettings, queue_name: str) -> ArqRedis:
    return await create_pool(redis_settings, default_queue_name=queue_name)


def install_pool(pool: ArqRedis | None) -> None:
    """Make `pool` the one `enqueue` uses (None: none). The runtime owns it and closes it."""
    global _pool
    _pool = pool


def release_pool(pool: ArqRedis) -> None:
    """Forget `pool` if it is still the installed one (the runtime is closing it)."""
    global _pool
    if _pool is pool:
        _pool = None


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
        _pool = await open_pool(redis_settings_for(settings.redis_url), settings.job_queue)
    return await _pool.enqueue_job(function_name, *args, _job_id=_job_id, **kwargs)


async def close_pool() -> None:
    global _pool
    pool, _pool = _pool, None
    if pool is not None:
        await pool.aclose(close_connection_pool=True)
