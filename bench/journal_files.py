"""Voucher building and the two file layouts for N movements (pure: no database).

    .venv/bin/python bench/journal_files.py 100000
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server.domain import journal  # noqa: E402
from server.domain.journal_layouts import kingdee_xlsx, u8_text  # noqa: E402

KINDS = ("DISBURSEMENT", "OFFSET", "CASH_RETURN", "SALARY_DEDUCTION", "WRITE_OFF", "REIMBURSEMENT_PAYMENT")


def movements(n: int) -> list[journal.Movement]:
    start = date(2026, 1, 1)
    return [journal.Movement(KINDS[i % len(KINDS)], start + timedelta(days=i % 365), Decimal(100 + i % 9000) / 100,
                             f"JK-2026-{i // 3:06d}", f"L{i}", f"E{i % 20000:05d}", "张三", "SALES", "销售部")
            for i in range(n)]


def main(n: int) -> None:
    data = movements(n)
    if "--memory" in sys.argv:
        tracemalloc.start()
    t0 = time.perf_counter()
    vouchers = journal.build_vouchers(data, journal.Accounts())
    t1 = time.perf_counter()
    u8 = u8_text(vouchers)
    t2 = time.perf_counter()
    xlsx = kingdee_xlsx(vouchers)
    t3 = time.perf_counter()
    peak = tracemalloc.get_traced_memory()[1]
    print(f"{n} movements: build {t1 - t0:.2f} s, U8 {t2 - t1:.2f} s ({len(u8) / 1e6:.1f} MB), "
          f"Kingdee XLSX {t3 - t2:.2f} s ({len(xlsx) / 1e6:.1f} MB), peak traced memory {peak / 1e6:.0f} MB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 10000)
