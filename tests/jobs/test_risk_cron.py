"""The daily risk scan's schedule: RISK_SCAN_AT (company time, default 06:00), read when the worker starts."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import time

import pytest

from jobs.risk import run_risk_scan, scan_time
from jobs.worker import CRON_JOBS, FUNCTIONS, WorkerSettings
from server.settings import ROOT


def test_scan_time_values():
    assert scan_time("") == time(6, 0)
    assert scan_time("07:30") == time(7, 30)
    assert scan_time(" 23:05 ") == time(23, 5)
    for bad in ("7", "25:00", "06:60", "six"):
        with pytest.raises(ValueError, match="RISK_SCAN_AT"):
            scan_time(bad)


def test_daily_scan_is_registered_in_company_time():
    assert run_risk_scan in FUNCTIONS
    (job,) = [c for c in CRON_JOBS if c.name == "daily_risk_scan"]
    expected = scan_time()
    assert (job.hour, job.minute) == ({expected.hour}, {expected.minute})
    assert job.coroutine is run_risk_scan and not job.run_at_startup
    assert WorkerSettings.timezone is not None  # cron times are the company's (TIMEZONE)


def test_risk_scan_at_is_read_when_the_worker_module_loads():
    code = ("from jobs.worker import CRON_JOBS; c = [j for j in CRON_JOBS if j.name == 'daily_risk_scan'][0]; "
            "print(sorted(c.hour), sorted(c.minute))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "RISK_SCAN_AT": "04:15"},
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[4] [15]"
