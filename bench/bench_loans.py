"""Loans under load: the GraphQL page of 50 loans and concurrent applications, at two data sizes.

Not a test: it prints numbers for BENCHMARKS.md. Run it against an empty database of your choice:

    .venv/bin/python bench/bench_loans.py                      # SQLite in a temp folder
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/qingkuan_bench .venv/bin/python bench/bench_loans.py

The data is made through the services (the same path as production), with backdated history
written in bulk through the models only where the services would take too long.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SIZES = (500, 5000)
PAGE = """{ loans(first: 50) { totalCount edges { node { number amount outstanding daysOverdue status
  employee { name position { name loanLimit } department { name } }
  approvals { role decision approver { name } } settlements { amount } } } } }"""


async def _recreate_postgres(url: str) -> None:
    import asyncpg

    base, _, name = url.rpartition("/")
    conn = await asyncpg.connect(base + "/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def main() -> None:
    tmp = tempfile.mkdtemp(prefix="qk-bench-")
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite://{tmp}/bench.sqlite3"
    from server.settings import load_settings, override_settings

    settings = load_settings({"DATA_DIR": tmp, "DATABASE_URL": url, "DEMO_DATA": "0",
                              "PASSWORD_HASH_COST": "test", "SECRET_KEY": "bench-secret-key-0123456789"})
    override_settings(settings)
    if url.startswith("postgres"):
        await _recreate_postgres(url)
    from schema import schema
    from schema.context import Context
    from server.db import close_db, init_db
    from server.models import User
    from server.services import loans, org, sessions
    from server.services.base import SYSTEM

    await init_db(settings)
    await org.upsert_department(SYSTEM, "D", "部门")
    await org.upsert_region(SYSTEM, "R", "区域")
    await org.upsert_position(SYSTEM, org.PositionData("P", "岗位", 1, "100000000.00", None, 15, ["FINANCE"]))
    await org.create_employee(SYSTEM, org.EmployeeData("F", "财务", "D", "R", "P", None, "9000", __import__(
        "datetime").date(2024, 1, 1), "fin", "pass-1234", ["EMPLOYEE", "FINANCE"]))
    finance = sessions.viewer_for(await User.get(username="fin"))
    people = []
    for i in range(50):
        e = await org.create_employee(SYSTEM, org.EmployeeData(f"E{i}", f"员工{i}", "D", "R", "P", None, "9000",
                                      __import__("datetime").date(2024, 1, 1), f"u{i}", "pass-1234", ["EMPLOYEE"]))
        people.append(sessions.viewer_for(await User.get(employee_id=e.id)))

    made = 0
    print(f"database: {'PostgreSQL' if url.startswith('postgres') else 'SQLite'}")
    for size in SIZES:
        started = time.perf_counter()
        while made < size:
            v = people[made % len(people)]
            loan = await loans.apply_for_loan(v, loans.LoanApplication("100.00", "TRAVEL", "出差"))
            if made % 2 == 0:
                await loans.decide_loan(finance, loan.id, "APPROVE")
                await loans.disburse_loan(finance, loan.id)
            made += 1
        fill = time.perf_counter() - started
        times = []
        for _ in range(20):
            t = time.perf_counter()
            result = await schema.execute(PAGE, context_value=Context(viewer=finance))
            times.append(time.perf_counter() - t)
            assert not result.errors, result.errors
        # Concurrent applications by 20 different employees (each takes its own employee lock).
        t = time.perf_counter()
        await asyncio.gather(*(loans.apply_for_loan(people[i], loans.LoanApplication("1.00", "OTHER", "x"))
                               for i in range(20)))
        burst = time.perf_counter() - t
        made += 20
        print(f"{size:>6} loans: page of 50 median {statistics.median(times) * 1000:.1f} ms "
              f"(p90 {sorted(times)[17] * 1000:.1f} ms); 20 concurrent applications {burst * 1000:.0f} ms; "
              f"seeding {fill:.0f} s")
    await close_db()


if __name__ == "__main__":
    asyncio.run(main())
