"""The pages people work in, over real HTTP, with 1 and 2 uvicorn workers: p50, p99 and requests per second.

    python bench/bench_pages.py --db postgres://postgres@127.0.0.1:5432/<db made by bench/generate.py>

Each page runs its GraphQL operations in-process (the HTMX path) and renders its template; the load generator
holds `--clients` keep-alive connections with a logged-in session cookie and asks for the page again as soon as
it has the answer, for `--seconds`. Pages: 申请借款 (/loans/new) as the employee with the most loans, 待我审批
(/approvals), 借款台账 (/ledger) and 财务 (/finance) as a FINANCE clerk. Every answer must be a 200 page (a
redirect to the login page or an error page fails the run). `--quick` (CI): 2 seconds, 4 clients, 1 worker.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGES = [
    ("apply", "/loans/new", "employee"),
    ("inbox", "/approvals", "finance"),
    ("ledger", "/ledger", "finance"),
    ("finance", "/finance", "finance"),
]


def _env(url: str, pool: int) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": url, "DEMO_DATA": "0", "DB_POOL_SIZE": str(pool),
            "SECRET_KEY": "bench-secret-key-0123456789",
            "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
            "PASSWORD_HASH_COST": "test", "PYTHONPATH": str(ROOT)}


SESSIONS = """
import asyncio, json
from server.settings import load_settings, override_settings
async def main():
    s = load_settings(); override_settings(s)
    from tortoise.functions import Count
    from server.db import init_db, close_db
    from server.models import Loan, User
    from server.services import sessions
    await init_db(s, apply_migrations=False)
    finance = [u for u in await User.filter(is_active=True).order_by('id') if 'FINANCE' in u.roles][0]
    busiest = (await Loan.annotate(n=Count('id')).group_by('employee_id').order_by('-n')
               .limit(1).values_list('employee_id', flat=True))[0]
    employee = await User.get(employee_id=busiest)
    keys = {}
    for name, user in (('finance', finance), ('employee', employee)):
        keys[name], _ = await sessions.create_session(user, 1, agent='bench_pages')
    print(json.dumps(keys))
    await close_db()
asyncio.run(main())
"""


def _sessions(url: str) -> dict[str, str]:
    """Session keys of a FINANCE clerk and of the busiest employee, issued in a helper process."""
    out = subprocess.run([sys.executable, "-c", SESSIONS], env=_env(url, 2), capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    return json.loads(out.strip().splitlines()[-1])


async def _load(base: str, path: str, cookie: str, clients: int, seconds: float) -> dict[str, Any]:
    import httpx

    from server.auth import SESSION_COOKIE

    latencies: list[float] = []
    stop = time.perf_counter() + seconds

    async def one(client: httpx.AsyncClient) -> None:
        while time.perf_counter() < stop:
            started = time.perf_counter()
            response = await client.get(path)
            if response.status_code != 200 or 'name="csrf' not in response.text and "<main" not in response.text:
                raise SystemExit(f"{path}: HTTP {response.status_code}, not the page:\n{response.text[:400]}")
            latencies.append(time.perf_counter() - started)

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, cookies={SESSION_COOKIE: cookie}, limits=limits, timeout=120,
                                 follow_redirects=False) as client:
        started = time.perf_counter()
        await asyncio.gather(*(one(client) for _ in range(clients)))
        wall = time.perf_counter() - started
    latencies.sort()
    return {"rps": round(len(latencies) / wall, 1), "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1),
            "p99_ms": round(latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000, 1), "requests": len(latencies)}


def run(url: str, workers: int, clients: int, seconds: float, keys: dict[str, str]) -> dict[str, Any]:
    import httpx

    port = 18800 + workers
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "server.app:create_app", "--factory", "--host", "127.0.0.1", "--port",
         str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"],
        env=_env(url, clients), cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        out: dict[str, Any] = {}
        for name, path, who in PAGES:
            asyncio.run(_load(base, path, keys[who], clients, min(3.0, seconds)))  # warm-up: caches, pools
            out[name] = asyncio.run(_load(base, path, keys[who], clients, seconds))
            print(f"{workers} worker(s) {name}: {out[name]}", file=sys.stderr)
        return out
    finally:
        server.terminate()
        server.wait(timeout=60)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="a PostgreSQL database made by bench/generate.py")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="CI: 2 s per page, 4 clients, 1 worker")
    args = parser.parse_args(argv)
    workers = [1] if args.quick else [1, 2]
    if args.quick:
        args.seconds, args.clients = 2.0, 4
    keys = _sessions(args.db)
    results = {w: run(args.db, w, args.clients, args.seconds, keys) for w in workers}
    report: dict[str, Any] = {"machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
                              "clients": args.clients, "seconds": args.seconds}
    for name, _path, _who in PAGES:
        row = {f"{w}w": results[w][name] for w in workers}
        if len(workers) == 2:
            row["rps_2w_over_1w"] = round(results[2][name]["rps"] / results[1][name]["rps"], 2)
        report[name] = row
    print(json.dumps(report, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
