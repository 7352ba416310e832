"""A risk scan never duplicates an alert or a reminder: the same scan twice, a job retried by ARQ, a worker
killed with SIGKILL in the middle of a scan and another one started. Also the real-time large-loan check
(a job enqueued after applyForLoan commits), Employee.risk and recordBusinessRecord through GraphQL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from arq import Retry

from server import queue
from server.models import Alert, AlertRecipient, AlertReminder, AuditEntry, Job, Notification
from server.services import risk_queries
from server.services.base import today
from server.settings import ROOT
from tests.factories import make_org
from tests.jobs.risk_helpers import AS_OF, JOB, SCAN, bulk_loans, colleague, lines, loan, run_scan

DAY = timedelta(days=1)


async def rich_data(people) -> None:
    """Every scanning rule fires at least once."""
    await loan(people.sales, "4000.80", applied_on=AS_OF, status="PENDING_APPROVAL")  # large, no business
    await loan(people.sales, "500.00", applied_on=AS_OF - 60 * DAY, settle_on=AS_OF - 40 * DAY)  # CRITICAL overdue
    await bulk_loans(people.sales, 4, applied_on=AS_OF - 2 * DAY, settle_on=AS_OF + 30 * DAY)  # frequency, position
    await lines(people.sales, 10, 5)  # vouchers


async def counts() -> dict[str, int]:
    return {
        "alerts": await Alert.all().count(), "recipients": await AlertRecipient.all().count(),
        "notifications": await Notification.all().count(), "reminders": await AlertReminder.all().count(),
        "alert_audit": await AuditEntry.filter(action__startswith="alert.").count(),
    }


async def test_same_scan_twice_changes_nothing(db, gql, run_burst):
    people = await make_org()
    await rich_data(people)
    first = await run_scan(gql, run_burst, AS_OF)
    kinds = set(await Alert.all().values_list("kind", flat=True))
    assert kinds == {"LARGE_LOAN_NO_BUSINESS", "OVERDUE", "POSITION_OVERDUE_RATE", "FREQUENT_BORROWING",
                     "MISSING_VOUCHERS"}
    assert sum(first.result["raised"].values()) == 5 and first.result["reminders"] == 2  # employee and supervisor
    before = await counts()
    second = await run_scan(gql, run_burst, AS_OF)
    assert await counts() == before
    assert second.result["raised"] == {} and second.result["reminders"] == 0


async def test_retried_job_adds_nothing_twice(db, gql, run_burst, monkeypatch):
    people = await make_org()
    await rich_data(people)
    real = risk_queries.position_stats
    calls = {"n": 0}

    async def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:  # half the rules already wrote their alerts
            raise Retry(defer=0.05)
        return await real(*args, **kwargs)

    monkeypatch.setattr(risk_queries, "position_stats", flaky)
    token = await gql.login("admin")
    job = (await gql.ok(SCAN, {"asOf": AS_OF.isoformat()}, token=token))["runRiskScan"]
    worker = await run_burst()
    assert (worker.jobs_retried, worker.jobs_complete, worker.jobs_failed) == (1, 1, 0)
    assert (await gql.ok(JOB, {"id": job["id"]}, token=token))["job"]["state"] == "DONE"
    assert await Alert.all().count() == 5
    assert await Notification.filter(alert__kind="OVERDUE").count() == 2  # one reminder each, not two
    assert await AlertReminder.all().count() == 2


async def test_worker_killed_mid_scan_and_restarted(db, gql, job_settings, tmp_path):
    people = await make_org()
    others = [await colleague(f"S{i}", f"员工{i}", f"sales{i}") for i in range(2, 6)]
    total = 0
    for eid in [people.sales, *others]:
        total += len(await bulk_loans(eid, 60, applied_on=AS_OF - 60 * DAY, settle_on=AS_OF - 20 * DAY))
    env = {**os.environ, "DATA_DIR": str(tmp_path), "DATABASE_URL": job_settings.database_url,
           "REDIS_URL": job_settings.redis_url, "JOB_QUEUE": job_settings.job_queue,
           "SECRET_KEY": job_settings.secret_key, "TIMEZONE": "Asia/Shanghai",
           "AUDIT_KEY_FILE": str(job_settings.data_dir / "audit_key")}

    async def start(log_name: str) -> asyncio.subprocess.Process:
        with (tmp_path / log_name).open("w") as log:
            return await asyncio.create_subprocess_exec(sys.executable, "main.py", "worker", cwd=ROOT, env=env,
                                                        stdout=log, stderr=subprocess.STDOUT)

    token = await gql.login("finance")
    job_id = (await gql.ok(SCAN, {"asOf": AS_OF.isoformat()}, token=token))["runRiskScan"]["id"]
    first = await start("first.log")
    try:
        deadline = time.monotonic() + 120
        # Polling another process's progress in the database: no event to wait for.
        while time.monotonic() < deadline and await Alert.filter(kind="OVERDUE").count() < 20:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        await first.wait()
    finally:
        if first.returncode is None:
            first.kill()
            await first.wait()
    done_before = await Alert.filter(kind="OVERDUE").count()
    assert 0 < done_before < total, (tmp_path / "first.log").read_text()
    assert (await Job.get(id=job_id)).state == "RUNNING"
    # What ARQ does when the killed job's in-progress key expires (job timeout + 10 s): let it run again.
    await queue.get_pool().delete(f"arq:in-progress:{job_id}")

    second = await start("second.log")
    try:
        deadline = time.monotonic() + 240
        job = await Job.get(id=job_id)
        while job.state != "DONE" and time.monotonic() < deadline and second.returncode is None:
            await asyncio.sleep(0.2)
            job = await Job.get(id=job_id)
        assert job.state == "DONE", (tmp_path / "second.log").read_text()
    finally:
        second.send_signal(signal.SIGTERM)
        await asyncio.wait_for(second.wait(), 30)
    assert await Alert.filter(kind="OVERDUE").count() == total
    # Exactly one reminder per alert (employee; 20 days overdue: no supervisor), whatever the kill interrupted.
    assert await AlertReminder.all().count() == total
    assert await Notification.filter(alert__kind="OVERDUE").count() == total
    assert len(set(await Alert.all().values_list("dedupe_key", flat=True))) == await Alert.all().count()


# ---------------------------------------------------------------- real time, GraphQL

APPLY = """mutation($amount: Decimal!) { applyForLoan(input: {amount: $amount, purpose: CLIENT_VISIT,
  description: "拜访客户"}) { id status alerts { kind } } }"""
LOAN_ALERTS = "query($id: ID!) { loan(id: $id) { alerts { kind severity message } } }"
RECORD = """mutation($input: BusinessRecordInput!) { recordBusinessRecord(input: $input) {
  id kind reference amount signedOn employee { employeeNo } } }"""


@pytest.mark.parametrize(("amount", "record_days_before", "alert"), [
    ("4000.00", None, False), ("4000.01", None, True), ("4000.01", 30, False), ("4000.01", 31, True)])
async def test_large_loan_alert_in_real_time(db, gql, run_burst, amount, record_days_before, alert):
    await queue.close_pool()  # reopened on this test's private queue (an earlier test may have opened one)
    await make_org()
    finance = await gql.login("finance")
    if record_days_before is not None:
        signed = (today() - timedelta(days=record_days_before)).isoformat()
        await gql.ok(RECORD, {"input": {"employeeNo": "S1", "kind": "销售合同", "reference": "HT-9",
                                        "amount": "50000.00", "signedOn": signed}}, token=finance)
    sales = await gql.login("sales")
    applied = (await gql.ok(APPLY, {"amount": amount}, token=sales))["applyForLoan"]
    assert applied["status"] == "PENDING_APPROVAL"
    await run_burst()
    manager = await gql.login("manager")
    seen = (await gql.ok(LOAN_ALERTS, {"id": applied["id"]}, token=manager))["loan"]["alerts"]
    assert [a["kind"] for a in seen] == (["LARGE_LOAN_NO_BUSINESS"] if alert else [])
    if alert:
        assert seen[0]["message"].startswith("该员工借款金额异常，请核查用途")
        assert await Notification.filter(alert__kind="LARGE_LOAN_NO_BUSINESS").count() == 2  # manager, finance
        assert await Job.filter(id__startswith=f"risk-loan-{applied['id']}-", state="DONE").exists()


async def test_employee_risk_visibility(db, gql, run_burst):
    people = await make_org()
    await loan(people.sales, "4000.00", applied_on=today() - 60 * DAY, settle_on=today() - 75 * DAY)
    query = "query($id: ID!) { employee(id: $id) { risk { score severity factors { name detail points } } } }"
    for username in ("sales", "manager", "finance", "hr", "admin"):
        token = await gql.login(username)
        risk = (await gql.ok(query, {"id": str(people.sales)}, token=token))["employee"]["risk"]
        assert risk["score"] == 40 and risk["severity"] == "WARNING"
        assert risk["factors"] == [{"name": "当前逾期", "detail": "逾期 75 天的借款 1 笔，未还 4,000.00", "points": 40}]
    error = await gql.error(query, {"id": str(people.manager)}, token=await gql.login("sales"))
    assert error["extensions"]["code"] == "FORBIDDEN"
    clean = (await gql.ok(query, {"id": str(people.manager)}, token=await gql.login("hr")))["employee"]["risk"]
    assert clean == {"score": 0, "severity": "INFO", "factors": []}


async def test_record_business_record_api(db, gql):
    await make_org()
    token = await gql.login("hr")
    made = (await gql.ok(RECORD, {"input": {"employeeNo": "S1", "kind": "订单", "reference": "DD-1",
                                            "amount": "88.80", "signedOn": today().isoformat()}}, token=token))
    assert made["recordBusinessRecord"]["amount"] == "88.80"
    assert made["recordBusinessRecord"]["employee"] == {"employeeNo": "S1"}
    for username, employee_no, code in (("hr", "H1", "FORBIDDEN"), ("sales", "M1", "FORBIDDEN"),
                                        ("hr", "S1", "CONFLICT"), ("hr", "NOPE", "NOT_FOUND")):
        error = await gql.error(RECORD, {"input": {"employeeNo": employee_no, "kind": "订单", "reference": "DD-1",
                                                   "amount": "1.00", "signedOn": today().isoformat()}},
                                token=await gql.login(username))
        assert error["extensions"]["code"] == code, (username, employee_no, error)
    listed = await gql.ok("query($id: ID!) { employee(id: $id) { businessRecords { reference } } }",
                          {"id": str(await _sales_id())}, token=token)
    assert listed["employee"]["businessRecords"] == [{"reference": "DD-1"}]


async def _sales_id() -> int:
    from server.models import Employee

    return (await Employee.get(employee_no="S1")).id
