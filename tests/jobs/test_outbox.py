"""Jobs that cannot be lost: a job requested while Redis is down waits in the outbox (QUEUED) and runs
once, after Redis is back. Uses a private redis-server on a free port, never the machine's shared one."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import shutil
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from arq.worker import Worker

from jobs.embedded import job_runtime
from jobs.worker import stop_worker, worker_options
from server import queue
from server.models import AuditEntry, Job, OutboxJob
from server.queue import redis_settings_for
from server.services import jobs as job_service
from server.settings import Settings, get_settings, override_settings
from tests.factories import PASSWORD, make_org

REDIS_SERVER = shutil.which("redis-server")  # Debian's redis-server, the same binary as the machine's Redis


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivateRedis:
    """A redis-server child on one port that the test may stop and start again."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _spawn(self) -> None:
        assert REDIS_SERVER is not None, "redis-server is not installed (apt-get install redis-server)"
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    async def start(self) -> None:
        self._spawn()
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.1):
                return
            await asyncio.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM
            self.proc.wait(10)
        self.proc = None


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def outage_settings(settings: Settings, private_redis: PrivateRedis) -> AsyncIterator[Settings]:
    previous = get_settings()
    await queue.close_pool()
    private = dataclasses.replace(settings, redis_url=private_redis.url, job_queue=f"qk-test:{uuid.uuid4().hex}")
    override_settings(private)
    try:
        yield private
    finally:
        await queue.close_pool()
        override_settings(previous)


async def burst(settings: Settings) -> Worker:
    assert settings.redis_url
    worker = Worker(**worker_options(settings, embedded=True, redis_settings=redis_settings_for(settings.redis_url),
                                     burst=True, poll_delay=0.05))
    try:
        await worker.async_run()
    finally:
        await stop_worker(worker)
    return worker


async def test_job_requested_while_redis_is_down_runs_once_when_it_is_back(gql, private_redis, outage_settings,
                                                                           caplog):
    await make_org()
    admin = await gql.login("admin", PASSWORD)
    await private_redis.start()
    private_redis.stop()

    # Redis is down: the request still succeeds, the job is QUEUED and waits in the outbox.
    job = (await gql.ok("mutation { verifyAuditChain { id state } }", token=admin))["verifyAuditChain"]
    assert job["state"] == "QUEUED"
    row = await OutboxJob.get(job_id=job["id"])
    assert row.sent_at is None and row.attempts == 1 and row.last_error
    assert row.function == "verify_audit_chain" and row.kwargs == {"job_id": job["id"]}
    assert (await Job.get(id=job["id"])).state == "QUEUED"
    # A configured queue that fails is worth a warning in the operator's log.
    assert any(r.levelname == "WARNING" and job["id"] in r.getMessage() for r in caplog.records)
    # A sweep while Redis is still down changes nothing but the attempt count.
    await queue.close_pool()
    assert await job_service.relay_outbox() == 0
    assert (await OutboxJob.get(job_id=job["id"])).attempts == 2

    await private_redis.start()
    await queue.close_pool()
    assert await job_service.relay_outbox() == 1
    assert (await OutboxJob.get(job_id=job["id"])).sent_at is not None
    worker = await burst(outage_settings)
    # Our job, and whatever the sweep hands over beside it (the webhook scan): none failed.
    assert worker.jobs_complete >= 1 and worker.jobs_failed == 0
    done = await Job.get(id=job["id"])
    assert done.state == "DONE" and done.result["ok"] is True
    assert done.result["checked"] == await AuditEntry.all().count()  # its own request's entry included

    # Nothing left to hand over, and no second run.
    assert await job_service.relay_outbox() == 0
    assert await job_service.pending_outbox() == 0
    again = await burst(outage_settings)
    assert again.jobs_failed == 0
    assert (await Job.get(id=job["id"])).updated_at == done.updated_at


async def test_relay_racing_a_sent_row_does_not_run_the_job_twice(db, private_redis, outage_settings):
    """Two relays hand over the same row (a crash between enqueue and marking it sent): one run."""
    from server.services.base import atomic

    await make_org()
    await private_redis.start()
    async with atomic():
        await job_service.submit("VERIFY_AUDIT_CHAIN", "verify_audit_chain", job_id="verify:twice")
    assert (await OutboxJob.get(job_id="verify:twice")).sent_at is not None
    # As if the mark had been lost: the next sweep enqueues it again.
    await OutboxJob.filter(job_id="verify:twice").update(sent_at=None)
    assert await job_service.relay_outbox() == 1
    assert len(await queue.get_pool().queued_jobs()) == 1

    worker = await burst(outage_settings)
    assert worker.jobs_complete == 1
    first = await Job.get(id="verify:twice")
    await OutboxJob.filter(job_id="verify:twice").update(sent_at=None)
    assert await job_service.relay_outbox() == 1
    again = await burst(outage_settings)
    # Either the queue kept the result (no new queue entry) or the job found itself DONE: no second run.
    assert again.jobs_failed == 0
    final = await Job.get(id="verify:twice")
    assert (final.state, final.result, final.updated_at) == ("DONE", first.result, first.updated_at)
    assert await Job.filter(id="verify:twice").count() == 1


async def test_web_runtime_sweeps_the_outbox_on_start(db, settings, tmp_path):
    """A job left unsent (Redis was down) is handed over by the web process's job runner."""
    from server.services.base import atomic

    await make_org()
    embedded = dataclasses.replace(settings, redis_url=None, data_dir=tmp_path)
    previous = get_settings()
    await queue.close_pool()
    override_settings(embedded)
    try:
        async with atomic():  # no queue at all: the job waits in the outbox
            await job_service.submit("VERIFY_AUDIT_CHAIN", "verify_audit_chain", job_id="verify:later")
        assert (await OutboxJob.get(job_id="verify:later")).sent_at is None

        async with job_runtime(embedded):
            for _ in range(200):
                job = await Job.get(id="verify:later")
                if job.state in ("DONE", "FAILED"):
                    break
                await asyncio.sleep(0.05)
        assert job.state == "DONE" and job.result["ok"] is True
        assert (await OutboxJob.get(job_id="verify:later")).sent_at is not None
    finally:
        override_settings(previous)


async def test_no_queue_started_yet_keeps_jobs_in_the_outbox_without_warnings(db, settings, caplog):
    """The first start loads the demo company before the job runtime starts: its jobs wait in the outbox
    for the runtime's first sweep, and the console does not fill with a warning per job."""
    no_redis = dataclasses.replace(settings, redis_url=None)
    override_settings(no_redis)
    try:
        await queue.close_pool()
        await OutboxJob.create(job_id="outbox-no-queue-1", function="verify_audit_chain", args=[],
                               kwargs={"job_id": "outbox-no-queue-1"})
        caplog.set_level("DEBUG", logger="qingkuan.jobs")
        assert await job_service.relay_outbox() == 0
        row = await OutboxJob.get(job_id="outbox-no-queue-1")
        assert row.sent_at is None and row.attempts == 1 and "not running" in row.last_error
        assert not [r for r in caplog.records if r.levelname == "WARNING"]
        assert any("outbox-no-queue-1" in r.getMessage() for r in caplog.records if r.levelname == "DEBUG")
    finally:
        override_settings(settings)
