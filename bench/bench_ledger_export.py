"""The 借款台账 export of N loans: streamed CSV and XLSX in bounded memory (issue 12).

Not a test: it prints numbers for BENCHMARKS.md. Loans are written in bulk through the models (a
disbursement entry each); the export runs exactly as /ledger/export.* runs it, and the peak Python
memory while exporting is measured with tracemalloc.

    .venv/bin/python bench/bench_ledger_export.py 100000          # SQLite in a temp folder
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/qk_bench_pages .venv/bin/python bench/bench_ledger_export.py 100000
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


async def main(n: int) -> None:
    from server.settings import load_settings, override_settings

    tmp = Path(tempfile.mkdtemp(prefix="qk-bench-export-"))
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite://{tmp / 'bench.sqlite3'}"
    if url.startswith("postgres"):
        import asyncpg

        base, _, name = url.rpartition("/")
        conn = await asyncpg.connect(base + "/postgres")
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()
    settings = load_settings({"DATA_DIR": str(tmp), "DATABASE_URL": url, "SECRET_KEY": "bench-secret-0123456789",
                              "DEMO_DATA": "0", "PASSWORD_HASH_COST": "test", "ADMIN_PASSWORD": "bench-admin-123"})
    override_settings(settings)
    from server.db import close_db, init_db
    from server.exports import csv_stream, xlsx_stream
    from server.models import Employee, LedgerEntry, Loan
    from server.services import ledger_search
    from server.services.base import SYSTEM, utcnow
    from tests.factories import make_org

    await init_db(settings)
    try:
        await make_org()
        people = [e.id for e in await Employee.all()]
        now, today = utcnow(), date.today()
        for start in range(0, n, 5000):
            batch = [Loan(number=f"JK-B-{i:07d}", employee_id=people[i % len(people)], amount_fen=100_00 + i,
                          purpose="TRAVEL", description="bench", expected_settle_date=today - timedelta(days=i % 120),
                          status="DISBURSED", applied_on=today - timedelta(days=i % 200), created_at=now)
                     for i in range(start, min(n, start + 5000))]
            await Loan.bulk_create(batch)
        ids = await Loan.all().values_list("id", "amount_fen")
        for start in range(0, len(ids), 5000):
            await LedgerEntry.bulk_create([LedgerEntry(loan_id=i, kind="DISBURSEMENT", delta_fen=a, recorded_at=now)
                                           for i, a in ids[start:start + 5000]])
        search = ledger_search.LedgerSearch()
        for kind in ("csv", "xlsx"):
            rows = ledger_search.loan_rows(SYSTEM, search)

            async def cells(rows=rows):
                async for r in rows:
                    yield [r["number"], r["employeeNo"], r["employee"], r["department"], r["region"], r["purpose"],
                           r["amount"], r["outstanding"], r["status"], r["appliedOn"], r["expectedSettleDate"],
                           r["daysOverdue"]]

            stream = csv_stream(["h"] * 12, cells()) if kind == "csv" else xlsx_stream("s", ["h"] * 12, cells())
            tracemalloc.start()
            started, size = time.perf_counter(), 0
            async for chunk in stream:
                size += len(chunk)
            elapsed = time.perf_counter() - started
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print(f"{'PostgreSQL' if url.startswith('postgres') else 'SQLite'} {n} loans {kind}: "
                  f"{size / 1e6:.1f} MB in {elapsed:.1f} s, peak Python memory {peak / 1e6:.1f} MB")
    finally:
        await close_db()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000))
