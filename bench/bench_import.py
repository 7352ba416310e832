"""importCsv at size: time and memory of a dry run and a real import of N generated rows.

Not a test: it prints numbers for BENCHMARKS.md. Memory is the peak of Python allocations during the
import (tracemalloc), beside the process's resident set before and after, so "bounded" can be read off:
the peak must not grow with N. BENCH_TRACE=0 leaves tracemalloc off (it slows Python several times):
then only the resident set is shown, and the times are the real ones.

    .venv/bin/python bench/bench_import.py                       # 2,000 rows of each kind, SQLite
    BENCH_ROWS=100000 .venv/bin/python bench/bench_import.py     # the issue's 100,000 rows
    BENCH_KINDS=EMPLOYEES BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/qk_bench_import \
        .venv/bin/python bench/bench_import.py
"""

from __future__ import annotations

import asyncio
import csv
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_file(path: Path, kind: str, rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        if kind == "EMPLOYEES":
            writer.writerow(["工号", "姓名", "部门编码", "区域编码", "岗位编码", "上级工号", "月薪", "入职日期", "用户名"])
            for i in range(rows):
                writer.writerow([f"B{i:06d}", f"员工{i}", "D", "R", "P", "B000000" if i else "", "8000.00",
                                 "2024-01-01", f"bench{i:06d}"])
        else:
            writer.writerow(["工号", "类型", "编号", "金额", "签订日期"])
            for i in range(rows):
                writer.writerow(["E1", "订单", f"DD-{i:07d}", "100.00", "2025-06-01"])


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
    rows = int(os.environ.get("BENCH_ROWS", "2000"))
    kinds = os.environ.get("BENCH_KINDS", "BUSINESS_RECORDS,EMPLOYEES").split(",")
    tmp = tempfile.mkdtemp(prefix="qk-bench-import-")
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite://{tmp}/bench.sqlite3"
    from server.settings import load_settings, override_settings

    settings = load_settings({"DATA_DIR": tmp, "DATABASE_URL": url, "DEMO_DATA": "0", "PASSWORD_HASH_COST": "test",
                              "SECRET_KEY": "bench-secret-key-0123456789", "IMPORT_MAX_MB": "200"})
    override_settings(settings)
    if url.startswith("postgres"):
        await _recreate_postgres(url)
    from server.db import close_db, init_db
    from server.models import ImportReport
    from server.services import imports, org
    from server.services.base import SYSTEM, Viewer
    from server.services.imports import run_import

    await init_db(settings)
    await org.upsert_department(SYSTEM, "D", "部门")
    await org.upsert_region(SYSTEM, "R", "区域")
    await org.upsert_position(SYSTEM, org.PositionData("P", "岗位", 1, "10000.00", None, 15, ["FINANCE"]))
    await org.create_employee(SYSTEM, org.EmployeeData(
        employee_no="E1", name="销售", department_code="D", region_code="R", position_code="P", supervisor_no=None,
        monthly_salary="8000", hire_date=date(2024, 1, 1), username="sales", password="bench-pass-1234",
        roles=["EMPLOYEE"]))
    admin = await org.create_admin("admin", "bench-pass-1234", SYSTEM, enforce_policy=False)
    viewer = Viewer(user_id=admin.id, username="admin", roles=frozenset({"ADMIN"}))
    print(f"database: {'PostgreSQL' if url.startswith('postgres') else 'SQLite'}, rows: {rows:,}")
    for kind in kinds:
        path = Path(tmp) / f"{kind}.csv"
        write_file(path, kind, rows)
        size_mb = path.stat().st_size / 1024 / 1024
        for dry in (True, False):
            rss_before = _rss_mb()
            trace = os.environ.get("BENCH_TRACE", "1") == "1"
            if trace:
                tracemalloc.start()
            started = time.perf_counter()
            # Synchronously, whatever the size (the ARQ job runs this same function).
            digest, size, name = await imports._store(path.read_bytes() if rows <= 0 else _Reader(path))
            fmt = imports.detect(imports.file_path(digest), None)
            total = imports.count_rows(imports.file_path(digest), fmt)
            report = await ImportReport.create(kind=kind, dry_run=dry, state="QUEUED", filename=name,
                                               file_sha256=digest, file_size=size, encoding=fmt.encoding,
                                               rows=total, created_by_id=admin.id,
                                               created_at=__import__("server.services.base", fromlist=["utcnow"]).utcnow())
            report = await run_import(viewer, report.id)
            elapsed = time.perf_counter() - started
            peak = tracemalloc.get_traced_memory()[1] if trace else 0
            if trace:
                tracemalloc.stop()
            print(f"{kind:17} {'dry run' if dry else 'import ':8} {size_mb:6.1f} MB file  {elapsed:7.1f} s  "
                  f"{rows / elapsed:8.0f} rows/s  peak Python memory {peak / 1024 / 1024:6.1f} MB  "
                  f"max RSS {rss_before:6.0f} → {_rss_mb():6.0f} MB  created {report.created:,} "
                  f"updated {report.updated:,} errors {report.error_count}")
    await close_db()


class _Reader:
    """The file as an upload (read in chunks), so the benchmark never holds it whole either."""

    def __init__(self, path: Path) -> None:
        self.handle = path.open("rb")
        self.filename = path.name

    async def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        if not data:
            self.handle.close()
        return data


if __name__ == "__main__":
    asyncio.run(main())
