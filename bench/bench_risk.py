"""The risk scan against a hand-written SQL baseline of the same rules (issue 11), on bench/generate.py data.

    .venv/bin/python bench/generate.py --url postgres://postgres@127.0.0.1:5432/qk_risk_bench --size tiny --recreate
    .venv/bin/python bench/bench_risk.py --url postgres://postgres@127.0.0.1:5432/qk_risk_bench [--reps 5]

Three figures, in one process:
  - evaluate: what the scan reads and decides (server/services/risk.py `evaluate`: one aggregate query per
    rule through the ORM, then the pure rules in Python), against
  - baseline: one hand-written PostgreSQL statement per rule returning the same findings (asyncpg), the
    two interleaved rep by rep, medians reported; their findings are compared key by key;
  - the full scan (`scan`: evaluate, then store alerts and reminders with their audit entries), first on
    the generated data (it writes what is new) and again (the steady state: nothing new to write).
The scan writes into the database: use a database made for the benchmark.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OPEN = "('DISBURSED', 'PARTIALLY_SETTLED')"
BASELINE = {
    "LARGE_LOAN_NO_BUSINESS": """
SELECT 'LARGE_LOAN_NO_BUSINESS:loan:' || l.id FROM loan l JOIN employee e ON e.id = l.employee_id
WHERE l.applied_on BETWEEN $1::date - 7 AND $1::date AND l.status NOT IN ('REJECTED', 'CANCELLED')
  AND l.amount_fen * 100 > e.monthly_salary_fen * 50
  AND NOT EXISTS (SELECT 1 FROM business_record b WHERE b.employee_id = l.employee_id
                  AND b.signed_on BETWEEN l.applied_on - 30 AND l.applied_on)
  AND NOT EXISTS (SELECT 1 FROM alert a WHERE a.kind = 'LARGE_LOAN_NO_BUSINESS' AND a.loan_id = l.id)""",
    "OVERDUE": f"""
SELECT 'OVERDUE:loan:' || l.id FROM loan l JOIN ledger_entry x ON x.loan_id = l.id
WHERE l.status IN {OPEN} AND l.expected_settle_date < $1::date
GROUP BY l.id HAVING SUM(x.delta_fen) > 0""",
    "POSITION_OVERDUE_RATE": f"""
WITH w AS (
  SELECT e.position_id, COUNT(*) AS n,
         COUNT(*) FILTER (WHERE l.status IN {OPEN} AND l.expected_settle_date < $1::date) AS overdue
  FROM loan l JOIN employee e ON e.id = l.employee_id
  WHERE l.disbursed_at >= $2 AND l.disbursed_at < $3 GROUP BY e.position_id)
SELECT 'POSITION_OVERDUE_RATE:position:' || position_id || ':' || to_char($1::date, 'YYYY-MM') FROM w
WHERE n >= 5 AND overdue * 100 > n * 10""",
    "FREQUENT_BORROWING": """
WITH c AS (SELECT e.position_id, l.employee_id, COUNT(*) AS n FROM loan l JOIN employee e ON e.id = l.employee_id
           WHERE l.applied_on BETWEEN $1::date - 29 AND $1::date GROUP BY e.position_id, l.employee_id),
     p AS (SELECT position_id, SUM(n) AS s, COUNT(*) AS k FROM c GROUP BY position_id)
SELECT 'FREQUENT_BORROWING:employee:' || c.employee_id || ':' || to_char($1::date, 'YYYY-MM')
FROM c JOIN p USING (position_id)
WHERE c.n >= 3 AND (p.k = 1 OR c.n * (p.k - 1) >= 3 * (p.s - c.n))""",
    "MISSING_VOUCHERS": """
SELECT 'MISSING_VOUCHERS:region:' || e.region_id || ':' || x.category || ':' || to_char($1::date, 'YYYY-MM')
FROM expense_line x JOIN reimbursement r ON r.id = x.reimbursement_id JOIN employee e ON e.id = r.employee_id
WHERE x.incurred_on BETWEEN $1::date - 89 AND $1::date AND r.status <> 'REJECTED'
GROUP BY e.region_id, x.category
HAVING COUNT(*) >= 5
   AND COUNT(*) FILTER (WHERE EXISTS (SELECT 1 FROM attachment a WHERE a.expense_line_id = x.id)) * 100
       < COUNT(*) * 80""",
}


def _plain_url(url: str) -> str:
    return "postgres://" + url.split("://", 1)[1].split("?", 1)[0]


async def run(url: str, reps: int, as_of: date | None) -> dict[str, Any]:
    import asyncpg

    from server.settings import load_settings, override_settings

    settings = load_settings({**os.environ, "DATABASE_URL": url, "DEMO_DATA": "0", "PASSWORD_HASH_COST": "test",
                              "SECRET_KEY": "bench-secret-key-0123456789"})
    override_settings(settings)
    from server.db import close_db, init_db
    from server.services import risk as risk_service
    from server.services import risk_queries

    await init_db(settings, apply_migrations=True)
    pool = await asyncpg.create_pool(_plain_url(url), min_size=1, max_size=2)
    day = as_of or datetime.now(settings.tz).date()
    start = datetime.combine(day - timedelta(days=364), clock.min, tzinfo=settings.tz)
    end = datetime.combine(day + timedelta(days=1), clock.min, tzinfo=settings.tz)
    out: dict[str, Any] = {"asOf": day.isoformat()}
    try:
        async with pool.acquire() as c:
            out["loans"] = await c.fetchval("SELECT COUNT(*) FROM loan")
            out["employees"] = await c.fetchval("SELECT COUNT(*) FROM employee")

        async def baseline() -> dict[str, set[str]]:
            async with pool.acquire() as c:
                found = {}
                for kind, sql in BASELINE.items():
                    args = (day, start, end) if "$2" in sql else (day,)
                    found[kind] = {r[0] for r in await c.fetch(sql, *args)}
                return found

        async def engine() -> dict[str, set[str]]:
            rules = await risk_queries.rules()
            return {kind: {f.dedupe_key for f in findings}
                    for kind, findings in (await risk_service.evaluate(day, rules)).items()}

        mine, theirs = await engine(), await baseline()  # warm-up, and the comparison
        out["findings"] = {k: len(v) for k, v in mine.items()}
        out["same_findings"] = all(mine[k] == theirs[k] for k in BASELINE)
        if not out["same_findings"]:
            out["differences"] = {k: {"engine_only": sorted(mine[k] - theirs[k])[:5],
                                      "baseline_only": sorted(theirs[k] - mine[k])[:5]} for k in BASELINE}
        times: dict[str, list[float]] = {"evaluate": [], "baseline": []}
        for _ in range(reps):
            for name, work in (("evaluate", engine), ("baseline", baseline)):
                started = time.perf_counter()
                await work()
                times[name].append(time.perf_counter() - started)
        out["evaluate_s"] = round(statistics.median(times["evaluate"]), 3)
        out["baseline_s"] = round(statistics.median(times["baseline"]), 3)
        out["ratio"] = round(out["evaluate_s"] / out["baseline_s"], 2) if out["baseline_s"] else None

        for label in ("first_scan", "second_scan"):
            started = time.perf_counter()
            report = await risk_service.scan(day)
            out[label + "_s"] = round(time.perf_counter() - started, 3)
            out[label] = report.as_result()
    finally:
        await pool.close()
        await close_db()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("DATABASE_URL", ""), help="PostgreSQL URL of bench data")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--as-of", type=date.fromisoformat, default=None, help="default: today (company time)")
    args = parser.parse_args(argv)
    if not args.url.startswith(("postgres", "asyncpg")):
        parser.error("--url must name a PostgreSQL database made by bench/generate.py")
    result = asyncio.run(run(args.url, args.reps, args.as_of))
    print(json.dumps(result, ensure_ascii=False, indent=1))
    return 0 if result["same_findings"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
