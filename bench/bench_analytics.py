"""riskBreakdown(POSITION) through the service and through GraphQL, against the bare SQL GROUP BY that
computes the same rows, side by side on bench/generate.py data (PostgreSQL). Prints the figures for
BENCHMARKS.md and fails when the rows differ.

    .venv/bin/python bench/bench_analytics.py --url postgres://postgres@127.0.0.1:5432/qk_bench_a --size tiny
    .venv/bin/python bench/bench_analytics.py --url postgres://.../qk_bench_1m --no-generate   # data already loaded

`--size` (tiny, small, medium, large) loads that size first into a recreated database; `--no-generate`
uses the database as it is (the large size takes about a minute to load). The range is the 12 months
up to the generator's today, as the page asks by default.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BARE_SQL = """
SELECT p.code AS key, p.name AS label, COUNT(l.id) AS loans, COALESCE(SUM(l.amount_fen), 0) AS amount,
       COALESCE(SUM(o.owed), 0) AS outstanding,
       COUNT(l.id) FILTER (WHERE l.status IN ('DISBURSED', 'PARTIALLY_SETTLED') AND l.expected_settle_date < $3)
           AS overdue
FROM position p
LEFT JOIN employee e ON e.position_id = p.id
LEFT JOIN loan l ON l.employee_id = e.id AND l.disbursed_at >= $1 AND l.disbursed_at < $2
LEFT JOIN LATERAL (SELECT SUM(x.delta_fen) AS owed FROM ledger_entry x WHERE x.loan_id = l.id) o ON TRUE
GROUP BY p.id, p.code, p.name
ORDER BY p.code
"""
GRAPHQL = "{ riskBreakdown(dimension: POSITION) { key label loans amount outstanding overdueLoans overdueRate } }"


def _median(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


async def _timed(fn: Any, runs: int) -> tuple[float, Any]:
    await fn()  # warm: plans, caches
    samples, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = await fn()
        samples.append(time.perf_counter() - started)
    return _median(samples), result


async def run(url: str, runs: int) -> dict[str, Any]:
    import asyncpg

    from schema import schema
    from schema.context import build_context
    from server.db import close_db, init_db
    from server.domain import roles
    from server.services import analytics
    from server.services.base import Viewer, today
    from server.settings import load_settings, override_settings

    settings = load_settings({"DATABASE_URL": url, "DEMO_DATA": "0", "PASSWORD_HASH_COST": "test",
                              "SECRET_KEY": "bench-secret-key-0123456789", "DATA_DIR": "/tmp/qk-bench-analytics"})
    override_settings(settings)
    await init_db(settings)
    viewer = Viewer(user_id=1, username="bench", roles=frozenset({roles.FINANCE}))
    start, end = analytics.default_range()
    low, high = analytics.utc_bounds(start, end)
    on = today()
    conn = await asyncpg.connect(url.replace("asyncpg://", "postgres://"))
    try:
        loans = await conn.fetchval("SELECT COUNT(*) FROM loan")
        entries = await conn.fetchval("SELECT COUNT(*) FROM ledger_entry")

        async def bare() -> list[Any]:
            return await conn.fetch(BARE_SQL, low, high, on)

        async def service() -> list[Any]:
            return await analytics.breakdown(viewer, "POSITION")

        async def graphql() -> Any:
            context = await build_context(viewer=viewer, request=None)
            result = await schema.execute(GRAPHQL, context_value=context)
            assert not result.errors, result.errors
            return result.data

        bare_ms, bare_rows = await _timed(bare, runs)
        service_ms, service_rows = await _timed(service, runs)
        graphql_ms, _ = await _timed(graphql, runs)
    finally:
        await conn.close()
        await close_db()
    expected = [(r["key"], int(r["loans"]), int(r["amount"]), int(r["outstanding"]), int(r["overdue"]))
                for r in bare_rows]
    got = [(r.key, r.loans, int(r.amount * 100), int(r.outstanding * 100), r.overdue_loans) for r in service_rows]
    if expected != got:
        raise SystemExit(f"rows differ:\nbare    {expected}\nservice {got}")
    return {"loans": loans, "ledger_entries": entries, "positions": len(got), "range": [str(start), str(end)],
            "loans_in_range": sum(r[1] for r in got), "runs": runs, "bare_sql_ms": round(bare_ms, 1),
            "service_ms": round(service_ms, 1), "graphql_ms": round(graphql_ms, 1),
            "service_ratio": round(service_ms / bare_ms, 2), "graphql_ratio": round(graphql_ms / bare_ms, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("DATABASE_URL", ""), help="PostgreSQL URL")
    parser.add_argument("--size", default="tiny", help="bench/generate.py size to load first")
    parser.add_argument("--no-generate", action="store_true", help="use the data already in the database")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    if not args.url.startswith(("postgres", "asyncpg")):
        parser.error("--url must name a PostgreSQL database")
    if not args.no_generate:
        from bench import generate

        if generate.main(["--url", args.url, "--size", args.size, "--recreate"]) != 0:
            return 1
    print(json.dumps(asyncio.run(run(args.url, args.runs)), ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
