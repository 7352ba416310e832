"""The scale targets of issue 9, side by side in one run, on databases made by bench/generate.py.

    # two companies: 5,000 and 1,000,000 loans (see bench/generate.py)
    .venv/bin/python bench/generate.py --url postgres://postgres@127.0.0.1:5432/qk_bench_5k --size small --recreate
    .venv/bin/python bench/generate.py --url postgres://postgres@127.0.0.1:5432/qk_bench_1m --size large --recreate
    .venv/bin/python bench/bench_scale.py --db postgres://...qk_bench_5k --db postgres://...qk_bench_1m

Each measurement runs in a fresh process per database and round, the databases interleaved round by
round (the machine is shared: ratios of interleaved runs, not absolute times). The last database is
the one the concurrency and write measurements use. `--quick` is the CI size: one round, few
repetitions, no concurrency runs; it fails only if something crashes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGE_FIELDS = """pageInfo { hasNextPage endCursor } edges { node { id number amount outstanding daysOverdue status
  employee { name position { name loanLimit } department { name } }
  approvals { role decision approver { name } } settlements { amount } } }"""
PAGE = "query($e: ID, $s: [LoanStatus!], $a: String) { loans(employeeId: $e, status: $s, first: 50, after: $a) { " \
       + PAGE_FIELDS + " } }"
PAGE_ALL = "{ loans(first: 50) { " + PAGE_FIELDS + " } }"
TOTALS = "{ loans(first: 0) { totalCount totalAmount totalOutstanding } }"


def inbox_all() -> str:
    """The whole approval inbox in one query (the page's own fields): what a client without paging would ask."""
    from server.web.loans import INBOX_FIELDS

    return "{ pendingLoanApprovals { " + INBOX_FIELDS + " } }"

# The same rows and fields as PAGE, as one hand-written statement.
BARE_PAGE = """
SELECT l.id, l.number, l.amount_fen, l.status, l.expected_settle_date, l.created_at,
       e.name AS employee, p.name AS position, p.loan_limit_fen, d.name AS department,
       (SELECT COALESCE(SUM(x.delta_fen), 0) FROM ledger_entry x WHERE x.loan_id = l.id) AS owed,
       (SELECT json_agg(json_build_object('role', s.role, 'decision', s.decision, 'approver', a.name)
                        ORDER BY s."order")
          FROM approval_step s LEFT JOIN employee a ON a.id = s.approver_id WHERE s.loan_id = l.id) AS approvals,
       (SELECT json_agg(-x.delta_fen ORDER BY x.recorded_at, x.id) FROM ledger_entry x
          WHERE x.loan_id = l.id AND x.kind IN ('CASH_RETURN', 'SALARY_DEDUCTION', 'WRITE_OFF')) AS settlements
FROM loan l JOIN employee e ON e.id = l.employee_id JOIN position p ON p.id = e.position_id
     JOIN department d ON d.id = e.department_id
WHERE {where}
ORDER BY l.created_at DESC, l.id DESC LIMIT 50
"""
BARE_INBOX = """
WITH pending AS (
  SELECT l.* FROM loan l
  WHERE l.id IN (SELECT s.loan_id FROM approval_step s WHERE s.is_current AND s.role = 'FINANCE')
    AND l.status = 'PENDING_APPROVAL' AND l.employee_id <> $1
  ORDER BY l.created_at, l.id LIMIT $2)
SELECT q.id, q.number, q.amount_fen, q.purpose, q.description, q.created_at, q.expected_settle_date, q.status,
       e.name, e.employee_no, p.name AS position, p.loan_limit_fen, d.name AS department,
       (SELECT json_agg(json_build_object('role', s.role, 'decision', s.decision, 'approver', a.name,
                                          'current', s.is_current) ORDER BY s."order")
          FROM approval_step s LEFT JOIN employee a ON a.id = s.approver_id WHERE s.loan_id = q.id) AS approvals,
       (SELECT json_agg(json_build_object('id', o.id, 'number', o.number, 'amount', o.amount_fen, 'status', o.status,
               'owed', (SELECT COALESCE(SUM(x.delta_fen), 0) FROM ledger_entry x WHERE x.loan_id = o.id)))
          FROM loan o WHERE o.employee_id = q.employee_id
           AND o.status IN ('PENDING_APPROVAL', 'APPROVED', 'DISBURSED', 'PARTIALLY_SETTLED')) AS open_loans,
       (SELECT json_agg(json_build_object('kind', al.kind, 'message', al.message))
          FROM alert al WHERE al.employee_id = q.employee_id AND al.resolved_at IS NULL) AS alerts
FROM pending q JOIN employee e ON e.id = q.employee_id JOIN position p ON p.id = e.position_id
     JOIN department d ON d.id = e.department_id
ORDER BY q.created_at, q.id
"""


def _plain_url(url: str) -> str:
    return "postgres://" + url.split("://", 1)[1].split("?", 1)[0]


def _env(url: str, pool: int) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": url, "DEMO_DATA": "0", "DB_POOL_SIZE": str(pool),
            "SECRET_KEY": "bench-secret-key-0123456789", "REDIS_URL": os.environ.get("BENCH_REDIS_URL",
                                                                                    "redis://127.0.0.1:6379/14"),
            "PASSWORD_HASH_COST": "test", "PYTHONPATH": str(ROOT)}


async def _timed(work: Any, reps: int) -> float:
    """Median milliseconds of `reps` runs after a warm-up."""
    for _ in range(max(2, reps // 5)):
        await work()
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        await work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


# ---------------------------------------------------------------- one process, one database


async def measure(url: str, reps: int) -> dict[str, Any]:
    import asyncpg
    import httpx

    from server.settings import load_settings, override_settings

    settings = load_settings(_env(url, 10))
    override_settings(settings)
    from schema import schema
    from schema.context import build_context
    from schema.types.common import encode_cursor
    from server.app import create_app
    from server.db import close_db, init_db
    from server.models import User
    from server.services import sessions
    from server.web.loans import INBOX
    from tests.querycount import recording

    await init_db(settings, apply_migrations=False)
    pool = await asyncpg.create_pool(_plain_url(url), min_size=2, max_size=4)
    out: dict[str, Any] = {}
    try:
        async with pool.acquire() as c:
            finance_user = await c.fetchrow(
                "SELECT id, username, employee_id FROM app_user WHERE roles::jsonb ? 'FINANCE' ORDER BY id LIMIT 1")
            busiest = await c.fetchval(
                "SELECT employee_id FROM loan GROUP BY employee_id ORDER BY COUNT(*) DESC LIMIT 1")
            deep = await c.fetchrow("SELECT created_at, id FROM loan ORDER BY created_at DESC, id DESC "
                                    "OFFSET 49950 LIMIT 1")
            out["loans"] = await c.fetchval("SELECT COUNT(*) FROM loan")
            out["pending_for_finance"] = await c.fetchval(
                "SELECT COUNT(*) FROM loan WHERE status = 'PENDING_APPROVAL' AND id IN "
                "(SELECT loan_id FROM approval_step WHERE is_current AND role = 'FINANCE') AND employee_id <> $1",
                finance_user["employee_id"])
        user = await User.get(id=finance_user["id"])
        viewer = sessions.viewer_for(user, None)
        token = await sessions.issue_token(user)
        deep_cursor = encode_cursor([deep["created_at"].isoformat(), deep["id"]]) if deep else None

        async def gql(query: str, variables: dict | None = None) -> Any:
            result = await schema.execute(query, variable_values=variables or {},
                                          context_value=await build_context(viewer))
            assert not result.errors, result.errors
            return result.data

        app = create_app(settings, with_lifespan=False)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench",
                                   headers={"Authorization": f"Bearer {token}"})

        async def http(query: str, variables: dict | None = None) -> Any:
            response = await client.post("/graphql", json={"query": query, "variables": variables or {}})
            body = response.json()
            assert response.status_code == 200 and not body.get("errors"), body
            return body

        async def bare(where: str, *args: Any) -> Any:
            async with pool.acquire() as c:
                return await c.fetch(BARE_PAGE.replace("{where}", where), *args)

        cases = {
            "page": (lambda: gql(PAGE), lambda: bare("TRUE")),
            "page_1000": (lambda: gql(PAGE, {"a": deep_cursor}), None),
            "http_page": (lambda: http(PAGE), lambda: bare("TRUE")),
            "http_by_employee": (lambda: http(PAGE, {"e": str(busiest)}), lambda: bare("l.employee_id = $1", busiest)),
            "http_by_status": (lambda: http(PAGE, {"s": ["DISBURSED", "PARTIALLY_SETTLED"]}),
                               lambda: bare("l.status = ANY($1::text[])", ["DISBURSED", "PARTIALLY_SETTLED"])),
            "totals": (lambda: gql(TOTALS), None),
        }

        async def bare_inbox(limit: int) -> Any:
            async with pool.acquire() as c:
                return await c.fetch(BARE_INBOX, finance_user["employee_id"], limit)

        cases["inbox_page"] = (lambda: gql(INBOX), lambda: bare_inbox(50))
        cases["inbox_all"] = (lambda: gql(inbox_all()), lambda: bare_inbox(100_000))
        for name, (ours, theirs) in cases.items():
            slow = name in ("inbox_all", "totals")
            n = max(3, reps // 4) if slow else reps
            with recording() as statements:
                await ours()
            out[name] = {"ms": round(await _timed(ours, n), 2), "statements": len(statements.sql)}
            if theirs is not None:
                out[name]["bare_ms"] = round(await _timed(theirs, n), 2)
        await client.aclose()
    finally:
        await pool.close()
        await close_db()
    return out


# ---------------------------------------------------------------- concurrency over HTTP, and writes


async def _load(url: str, query: str, token: str, clients: int, seconds: float) -> dict[str, Any]:
    import httpx

    latencies: list[float] = []
    stop = time.perf_counter() + seconds
    cpu0, wall0 = time.process_time(), time.perf_counter()

    async def one(client: httpx.AsyncClient) -> None:
        while time.perf_counter() < stop:
            started = time.perf_counter()
            response = await client.post("/graphql", json={"query": query})
            assert response.status_code == 200, response.text
            latencies.append(time.perf_counter() - started)

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, limits=limits,
                                 timeout=60) as client:
        await asyncio.gather(*(one(client) for _ in range(clients)))
    wall = time.perf_counter() - wall0
    latencies.sort()
    return {"rps": round(len(latencies) / wall, 1), "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1),
            "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
            "loadgen_cpu_share": round((time.process_time() - cpu0) / wall, 2)}


async def _bare_load(url: str, clients: int, pool_size: int, seconds: float) -> dict[str, Any]:
    import asyncpg

    pool = await asyncpg.create_pool(_plain_url(url), min_size=pool_size, max_size=pool_size)
    done = 0
    stop = time.perf_counter() + seconds
    started = time.perf_counter()

    async def one() -> None:
        nonlocal done
        while time.perf_counter() < stop:
            async with pool.acquire() as c:
                await c.fetch(BARE_PAGE.replace("{where}", "TRUE"))
            done += 1

    await asyncio.gather(*(one() for _ in range(clients)))
    await pool.close()
    return {"rps": round(done / (time.perf_counter() - started), 1)}


def _token(url: str) -> str:
    """A FINANCE user's API token, issued in a helper process (the server runs in another)."""
    code = ("import asyncio, sys\n"
            "from server.settings import load_settings, override_settings\n"
            "async def main():\n"
            "    s = load_settings(); override_settings(s)\n"
            "    from server.db import init_db, close_db\n"
            "    from server.services import sessions\n"
            "    from server.models import User\n"
            "    await init_db(s, apply_migrations=False)\n"
            "    users = [u for u in await User.all().order_by('id') if 'FINANCE' in u.roles]\n"
            "    print(await sessions.issue_token(users[0]))\n"
            "    await close_db()\n"
            "asyncio.run(main())\n")
    return subprocess.run([sys.executable, "-c", code], env=_env(url, 2), capture_output=True, text=True,
                          check=True).stdout.strip().splitlines()[-1]


def concurrency(url: str, workers: int, clients: int, pool: int, seconds: float) -> dict[str, Any]:
    port = 18700 + workers
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "server.app:create_app", "--factory", "--port", str(port),
         "--workers", str(workers), "--log-level", "warning", "--no-access-log"],
        env=_env(url, pool), cwd=ROOT)
    try:
        import httpx

        for _ in range(120):
            try:
                httpx.get(f"http://127.0.0.1:{port}/graphql", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.5)
        token = _token(url)
        asyncio.run(_load(f"http://127.0.0.1:{port}", PAGE_ALL, token, clients, 3))  # warm-up
        return asyncio.run(_load(f"http://127.0.0.1:{port}", PAGE_ALL, token, clients, seconds))
    finally:
        server.terminate()
        server.wait(timeout=30)


async def writes(url: str, clients: int, seconds: float) -> dict[str, Any]:
    """applyForLoan through the services, `clients` at once (two clients per applicant, so the limit
    check races), against bare SQL taking the same locks in the same order; limit breaches in SQL."""
    import asyncpg

    from server.settings import load_settings, override_settings

    settings = load_settings(_env(url, clients))
    override_settings(settings)
    from bench.generate import CHECKS
    from server.db import close_db, init_db
    from server.models import User
    from server.services import loans as loan_service
    from server.services import sessions

    await init_db(settings, apply_migrations=False)
    users = [u for u in await User.filter(is_active=True, employee_id__not_isnull=True).order_by("-id").limit(200)
             if u.roles == ["EMPLOYEE"]][: max(1, clients // 2)]
    viewers = [sessions.viewer_for(u, None) for u in users]
    stop = time.perf_counter() + seconds
    done = rejected = 0

    async def client(i: int) -> None:
        nonlocal done, rejected
        viewer = viewers[i % len(viewers)]
        while time.perf_counter() < stop:
            loan = await loan_service.apply_for_loan(viewer, loan_service.LoanApplication(
                amount="900.00", purpose="OTHER", description="压测"))
            done += 1
            rejected += loan.status == "REJECTED"

    started = time.perf_counter()
    await asyncio.gather(*(client(i) for i in range(clients)))
    ours = done / (time.perf_counter() - started)
    employee_ids = [u.employee_id for u in users]  # type: ignore[attr-defined]
    await close_db()

    pool = await asyncpg.create_pool(_plain_url(url), min_size=clients, max_size=clients)
    bare_done = 0
    stop = time.perf_counter() + seconds

    async def bare(i: int) -> None:
        nonlocal bare_done
        eid = employee_ids[i % len(employee_ids)]
        while time.perf_counter() < stop:
            async with pool.acquire() as c, c.transaction():
                await c.execute("UPDATE employee SET lock_version = lock_version + 1 WHERE id = $1", eid)
                await c.fetch("SELECT l.id, l.amount_fen, l.status, SUM(x.delta_fen) FROM loan l LEFT JOIN ledger_entry x"
                              " ON x.loan_id = l.id WHERE l.employee_id = $1 AND l.status IN ('PENDING_APPROVAL',"
                              " 'APPROVED', 'DISBURSED', 'PARTIALLY_SETTLED') GROUP BY l.id", eid)
                loan_id = await c.fetchval(
                    "INSERT INTO loan (number, employee_id, amount_fen, purpose, description, expected_settle_date,"
                    " status, applied_on, created_at) VALUES ($1, $2, 1, 'OTHER', 'bare', CURRENT_DATE, 'CANCELLED',"
                    " CURRENT_DATE, now()) RETURNING id", f"bare-{os.urandom(8).hex()}", eid)
                await c.execute("INSERT INTO approval_step (loan_id, \"order\", role, skipped, is_current) VALUES"
                                " ($1, 1, 'SUPERVISOR', false, false), ($1, 2, 'FINANCE', false, false)", loan_id)
                seq = await c.fetchval("UPDATE number_sequence SET value = value + 1 WHERE name = 'bench-bare'"
                                       " RETURNING value")
                await c.execute("UPDATE loan SET number = $1 WHERE id = $2", f"bare-{seq}-{loan_id}", loan_id)
                await c.execute("UPDATE number_sequence SET value = value + 1 WHERE name = 'audit'")
            bare_done += 1

    async with pool.acquire() as c:
        await c.execute("INSERT INTO number_sequence (name, value) VALUES ('bench-bare', 0) ON CONFLICT DO NOTHING")
        await c.execute("INSERT INTO number_sequence (name, value) VALUES ('audit', 0) ON CONFLICT DO NOTHING")
    started = time.perf_counter()
    await asyncio.gather(*(bare(i) for i in range(clients)))
    theirs = bare_done / (time.perf_counter() - started)
    async with pool.acquire() as c:
        breaches = len(await c.fetch(CHECKS["nobody over their limit"]))
        await c.execute("DELETE FROM approval_step WHERE loan_id IN (SELECT id FROM loan WHERE description = 'bare')")
        await c.execute("DELETE FROM loan WHERE description = 'bare'")
    await pool.close()
    return {"apply_per_s": round(ours, 1), "bare_per_s": round(theirs, 1), "ratio": round(ours / theirs, 2),
            "auto_rejected": rejected, "limit_breaches": breaches}


# ---------------------------------------------------------------- the run


def _child(what: str, url: str, extra: list[str]) -> dict[str, Any]:
    result = subprocess.run([sys.executable, __file__, "--child", what, "--db", url, *extra], env=_env(url, 10),
                            capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        raise SystemExit(f"{what} on {url} failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", action="append", required=True, help="a generated PostgreSQL database (repeat)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--quick", action="store_true", help="CI: one round, few repetitions, no load runs")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "measure":
        print(json.dumps(asyncio.run(measure(args.db[0], args.reps)), default=str))
        return 0
    if args.child == "writes":
        print(json.dumps(asyncio.run(writes(args.db[0], args.clients, args.seconds))))
        return 0
    if args.quick:
        args.rounds, args.reps = 1, 5
    rounds: dict[str, list[dict[str, Any]]] = {url: [] for url in args.db}
    for r in range(args.rounds):
        for url in args.db:
            rounds[url].append(_child("measure", url, ["--reps", str(args.reps)]))
            print(f"round {r + 1}: {url.rsplit('/', 1)[-1]} done", file=sys.stderr)
    report: dict[str, Any] = {}
    for url, results in rounds.items():
        merged: dict[str, Any] = {"loans": results[0]["loans"], "pending_for_finance": results[0]["pending_for_finance"]}
        for name in results[0]:
            if isinstance(results[0][name], dict):
                merged[name] = {k: round(statistics.median(x[name][k] for x in results), 2) for k in results[0][name]}
        report[url.rsplit("/", 1)[-1]] = merged
    if not args.quick:
        big = args.db[-1]
        report["concurrency"] = {
            f"{w}_worker{'s' if w > 1 else ''}": concurrency(big, w, args.clients, args.clients, args.seconds)
            for w in (1, 2)}
        report["concurrency"]["bare_sql"] = asyncio.run(_bare_load(big, args.clients, args.clients, args.seconds))
        report["writes"] = _child("writes", big, ["--clients", str(args.clients), "--seconds", str(args.seconds)])
    print(json.dumps(report, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
