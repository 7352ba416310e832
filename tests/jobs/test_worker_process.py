"""`python main.py worker` as a real separate process: it opens the database itself (on_startup),
processes a job from REDIS_URL, and stops promptly on SIGTERM (on_shutdown closes the database)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

from server.models import AuditEntry, Job
from server.settings import ROOT
from tests.factories import make_org
from tests.jobs.conftest import token
from tests.jobs.test_audit_job import submit_verify


async def test_worker_process_runs_job_and_stops_on_sigterm(db, job_settings, tmp_path):
    await make_org()
    entries = await AuditEntry.all().count()
    env = {
        **os.environ,
        "DATA_DIR": str(tmp_path), "DATABASE_URL": job_settings.database_url, "REDIS_URL": job_settings.redis_url,
        "JOB_QUEUE": job_settings.job_queue, "SECRET_KEY": job_settings.secret_key, "TIMEZONE": "Asia/Shanghai",
            # Every process of one deployment shares the audit key (here: the test run's generated one).
            "AUDIT_KEY_FILE": str(job_settings.data_dir / "audit_key"),
    }
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        proc = await asyncio.create_subprocess_exec(sys.executable, "main.py", "worker", cwd=ROOT, env=env,
                                                    stdout=log, stderr=subprocess.STDOUT)
    try:
        job_id = f"verify:{token(job_settings)}"
        await submit_verify(job_id)
        deadline = time.monotonic() + 30
        job = await Job.get(id=job_id)
        while job.state not in ("DONE", "FAILED") and time.monotonic() < deadline and proc.returncode is None:
            await asyncio.sleep(0.1)
            job = await Job.get(id=job_id)
        assert job.state == "DONE", log_path.read_text()
        assert job.result["checked"] == entries

        proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        code = await asyncio.wait_for(proc.wait(), 15)
        assert code == 0, log_path.read_text()
        assert time.monotonic() - started < 10
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    output = (tmp_path / "worker.log").read_text()
    assert "Starting worker" in output
    assert "Traceback" not in output


def test_worker_without_redis_url_is_a_config_error(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["DATA_DIR"] = str(tmp_path)
    proc = subprocess.run([sys.executable, "main.py", "worker"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "REDIS_URL" in lines[0]
