"""Evidence package for one employee with many loans and vouchers: time and peak memory of the build.

Not a test: it prints numbers for BENCHMARKS.md. The build runs in a child process, so its peak
resident memory (ru_maxrss) is the job's alone, interpreter included:

    .venv/bin/python bench/bench_evidence.py                        # 500 loans, 2,000 vouchers, SQLite
    .venv/bin/python bench/bench_evidence.py --loans 20 --vouchers 40 --voucher-kb 10   # a quick run
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/qk_evidence_bench .venv/bin/python bench/bench_evidence.py

The history is written in bulk through the models (the services would take minutes for 2,000
uploads), with the audit entries a real history leaves (written through `audit.record`, so the
chain is sealed and verifies) and the originals placed in the content-addressed store.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _settings(data_dir: str, url: str):
    from server.settings import load_settings, override_settings

    settings = load_settings({"DATA_DIR": data_dir, "DATABASE_URL": url, "DEMO_DATA": "0",
                              "PASSWORD_HASH_COST": "test", "SECRET_KEY": "bench-secret-key-0123456789"})
    override_settings(settings)
    return settings


async def _recreate_postgres(url: str) -> None:
    import asyncpg

    base, _, name = url.rpartition("/")
    conn = await asyncpg.connect(base + "/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def _store(data: bytes) -> tuple[str, int]:
    import hashlib

    from server.storage import path_for

    digest = hashlib.sha256(data).hexdigest()
    target = path_for(digest)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return digest, len(data)


async def generate(settings, loans_n: int, vouchers_n: int, voucher_kb: int) -> tuple[int, str]:
    from server.db import init_db
    from server.models import (
        ApprovalStep,
        Attachment,
        EvidencePackage,
        ExpenseLine,
        LedgerEntry,
        Loan,
        Reimbursement,
        ReimbursementOffset,
        User,
    )
    from server.services import audit, org
    from server.services import jobs as job_service
    from server.services.base import SYSTEM, atomic

    if settings.database_url.startswith("postgres"):
        await _recreate_postgres(settings.database_url)
    await init_db(settings)
    await org.upsert_department(SYSTEM, "SALES", "销售部")
    await org.upsert_region(SYSTEM, "XA", "西安")
    await org.upsert_position(SYSTEM, org.PositionData("SALES", "销售", 3, "99999999.00", None, 15,
                                                       ["SUPERVISOR", "FINANCE"]))
    manager = await org.create_employee(SYSTEM, org.EmployeeData(
        employee_no="M1", name="李经理", department_code="SALES", region_code="XA", position_code="SALES",
        supervisor_no=None, monthly_salary="20000.00", hire_date=date(2020, 1, 1), username="manager",
        password="pass-1234", roles=["EMPLOYEE", "SUPERVISOR"]))
    sales = await org.create_employee(SYSTEM, org.EmployeeData(
        employee_no="S1", name="张三", department_code="SALES", region_code="XA", position_code="SALES",
        supervisor_no="M1", monthly_salary="8000.00", hire_date=date(2021, 3, 1), username="sales",
        password="pass-1234", roles=["EMPLOYEE"]))
    finance = await org.create_employee(SYSTEM, org.EmployeeData(
        employee_no="F1", name="赵财务", department_code="SALES", region_code="XA", position_code="SALES",
        supervisor_no="M1", monthly_salary="8000.00", hire_date=date(2020, 1, 1), username="finance",
        password="pass-1234", roles=["EMPLOYEE", "FINANCE"]))
    finance_user = await User.get(employee_id=finance.id)
    start = datetime(2024, 1, 1, 2, 0, tzinfo=UTC)

    loans = []
    for i in range(loans_n):
        at = start + timedelta(hours=6 * i)
        loans.append(Loan(number=f"JK-2024-{i + 1:06d}", employee_id=sales.id, amount_fen=100_000 + i * 100,
                          purpose="CLIENT_VISIT", description=f"拜访客户第 {i + 1} 次", status="PARTIALLY_SETTLED",
                          expected_settle_date=(at + timedelta(days=15)).date(), applied_on=at.date(), created_at=at,
                          decided_at=at + timedelta(hours=1), disbursed_at=at + timedelta(hours=2)))
    await Loan.bulk_create(loans, batch_size=500)
    loans = await Loan.filter(employee_id=sales.id).order_by("id")
    steps, ledger, documents = [], [], []
    for loan in loans:
        steps += [ApprovalStep(loan_id=loan.id, order=1, role="SUPERVISOR", approver_id=manager.id,
                               decision="APPROVE", comment="同意", decided_at=loan.decided_at),
                  ApprovalStep(loan_id=loan.id, order=2, role="FINANCE", decided_by_id=finance_user.id,
                               decision="APPROVE", decided_at=loan.decided_at)]
        ledger.append(LedgerEntry(loan_id=loan.id, kind="DISBURSEMENT", delta_fen=loan.amount_fen,
                                  recorded_by_id=finance_user.id, recorded_at=loan.disbursed_at))
        digest, size = _store(os.urandom(50 * 1024))
        documents.append(Attachment(sha256=digest, filename="合同.pdf", content_type="application/pdf", size=size,
                                    loan_id=loan.id))
    await ApprovalStep.bulk_create(steps, batch_size=1000)
    await LedgerEntry.bulk_create(ledger, batch_size=1000)
    await Attachment.bulk_create(documents, batch_size=1000)

    per = 4  # lines (one voucher each) per reimbursement
    reimbursements_n = max(1, vouchers_n // per)
    rows = [Reimbursement(number=f"BX-2024-{i + 1:06d}", employee_id=sales.id, status="PAID", total_fen=per * 10_000,
                          created_at=start + timedelta(hours=6 * i + 3), decided_at=start + timedelta(hours=6 * i + 4),
                          paid_at=start + timedelta(hours=6 * i + 5)) for i in range(reimbursements_n)]
    await Reimbursement.bulk_create(rows, batch_size=500)
    rows = await Reimbursement.filter(employee_id=sales.id).order_by("id")
    lines = [ExpenseLine(reimbursement_id=r.id, order=k + 1, category="CLIENT_VISIT", amount_fen=10_000,
                         incurred_on=r.created_at.date(), invoice_no=f"{r.id:06d}{k}") for r in rows for k in range(per)]
    await ExpenseLine.bulk_create(lines, batch_size=1000)
    lines = await ExpenseLine.filter(reimbursement__employee_id=sales.id).order_by("id")
    vouchers = []
    for line in lines[:vouchers_n]:
        digest, size = _store(os.urandom(voucher_kb * 1024))
        vouchers.append(Attachment(sha256=digest, filename="发票.jpg", content_type="image/jpeg", size=size,
                                   expense_line_id=line.id))
    await Attachment.bulk_create(vouchers, batch_size=1000)
    offsets, entries = [], []
    for r, loan in zip(rows, loans, strict=False):
        offsets.append(ReimbursementOffset(reimbursement_id=r.id, loan_id=loan.id, amount_fen=r.total_fen, state="APPLIED"))
        entries.append(LedgerEntry(loan_id=loan.id, kind="OFFSET", delta_fen=-r.total_fen, reimbursement_id=r.id,
                                   recorded_by_id=finance_user.id, recorded_at=r.decided_at))
    await ReimbursementOffset.bulk_create(offsets, batch_size=1000)
    await LedgerEntry.bulk_create(entries, batch_size=1000)

    # The audit entries such a history leaves, sealed and chained as usual (one transaction per 200).
    objects = [("loan", x.id, action) for x in loans for action in ("loan.apply", "loan.approve", "loan.disburse")]
    objects += [("reimbursement", x.id, a) for x in rows for a in ("reimbursement.submit", "reimbursement.approve",
                                                                    "reimbursement.pay")]
    for chunk in range(0, len(objects), 200):
        async with atomic():
            for kind, object_id, action in objects[chunk:chunk + 200]:
                await audit.record(SYSTEM, action, kind, object_id, None, {"bench": True})

    job_id = "evidence-bench"
    async with atomic():
        await job_service.create_job("EVIDENCE_PACKAGE", job_id, finance_user.id)
        package = await EvidencePackage.create(employee_id=sales.id, job_id=job_id, requested_by_id=finance_user.id,
                                               created_at=datetime.now(UTC))
    from server.db import close_db

    await close_db()
    return package.id, job_id


async def build(settings, package_id: int, job_id: str) -> dict:
    from server.db import close_db, init_db
    from server.services import evidence
    from server.services import jobs as job_service

    await init_db(settings)
    try:
        started = time.perf_counter()
        assert await job_service.begin(evidence.KIND, job_id)
        result = await evidence.build(package_id, job_id)
        seconds = time.perf_counter() - started
        verify_started = time.perf_counter()
        verdict = evidence.verify_package(evidence.package_path(package_id))
        verify_seconds = time.perf_counter() - verify_started
    finally:
        await close_db()
    return {"seconds": round(seconds, 1), "size_mb": round(result["size"] / 1e6, 1), "verify_ok": verdict.ok,
            "verify_seconds": round(verify_seconds, 1), "files": verdict.checked_files,
            "audit_entries": verdict.checked_entries,
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loans", type=int, default=500)
    parser.add_argument("--vouchers", type=int, default=2000)
    parser.add_argument("--voucher-kb", type=int, default=100)
    parser.add_argument("--child", nargs=4, metavar=("DATA_DIR", "URL", "PACKAGE", "JOB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        data_dir, url, package_id, job_id = args.child
        print(json.dumps(asyncio.run(build(_settings(data_dir, url), int(package_id), job_id))))
        return
    data_dir = tempfile.mkdtemp(prefix="qk-bench-evidence-")
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite://{data_dir}/bench.sqlite3"
    settings = _settings(data_dir, url)
    started = time.perf_counter()
    package_id, job_id = asyncio.run(generate(settings, args.loans, args.vouchers, args.voucher_kb))
    print(f"generated {args.loans} loans, {args.vouchers} vouchers of {args.voucher_kb} KB in "
          f"{time.perf_counter() - started:.0f} s ({'PostgreSQL' if url.startswith('postgres') else 'SQLite'})")
    child = subprocess.run([sys.executable, __file__, "--child", data_dir, url, str(package_id), job_id],
                           capture_output=True, text=True, check=False)
    if child.returncode:
        print(child.stdout, child.stderr, file=sys.stderr)
        sys.exit(child.returncode)
    print(child.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
