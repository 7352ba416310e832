"""Jobs run by real ARQ workers on the machine's Redis (TEST_REDIS_URL, a db other than 0).

Each test gets its own queue name, so runs of other people's tests on the same Redis database
never hand their jobs to our workers (nor ours to theirs).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from arq.worker import Worker

from jobs.worker import stop_worker, worker_options
from server import queue
from server.queue import redis_settings_for
from server.settings import Settings, get_settings, override_settings


@pytest.fixture
async def job_settings(settings: Settings) -> AsyncIterator[Settings]:
    """The test settings with a private queue, installed process-wide for `server.queue.enqueue`."""
    assert settings.redis_url, "tests/conftest.py sets REDIS_URL from TEST_REDIS_URL"
    previous = get_settings()
    private = dataclasses.replace(settings, job_queue=f"qk-test:{uuid.uuid4().hex}")
    await queue.close_pool()  # a pool opened lazily by an earlier test would still point at its queue
    override_settings(private)
    try:
        yield private
    finally:
        await queue.close_pool()
        override_settings(previous)
        # Leave nothing behind on the shared Redis database: every key of this test carries its token.
        async with await _pool(private) as redis:
            keys = [k async for k in redis.scan_iter(match=f"*{token(private)}*")]
            if keys:
                await redis.delete(*keys)


RunBurst = Callable[..., Awaitable[Worker]]


@pytest.fixture
async def run_burst(job_settings: Settings) -> AsyncIterator[RunBurst]:
    """`await run_burst()` runs a burst worker (the WorkerSettings functions, on the already open test
    database) until the queue is empty, and returns it for its counters."""
    workers: list[Worker] = []

    async def run(**overrides: Any) -> Worker:
        assert job_settings.redis_url
        # What the worker's own outbox sweep does on start: a request whose after-commit relay timed
        # out (a loaded machine) is handed over now rather than at the sweep's next tick.
        from server.services.jobs import relay_outbox

        await relay_outbox()
        # No cron jobs unless a test passes its own: the minute's delivery collection would otherwise
        # join any burst that crosses a minute boundary (and count in jobs_complete).
        overrides.setdefault("cron_jobs", [])
        options = worker_options(job_settings, embedded=True, redis_settings=redis_settings_for(job_settings.redis_url),
                                 burst=True, poll_delay=0.05, **overrides)
        worker = Worker(**options)
        workers.append(worker)
        await worker.async_run()
        return worker

    yield run
    for worker in workers:
        await stop_worker(worker)


def token(settings: Settings) -> str:
    """The unique part of the test's queue name; use it in job ids so cleanup finds their keys."""
    return settings.job_queue.rsplit(":", 1)[-1]


async def _pool(settings: Settings) -> Any:
    from arq.connections import create_pool

    assert settings.redis_url
    return await create_pool(redis_settings_for(settings.redis_url), default_queue_name=settings.job_queue)
