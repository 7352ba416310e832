"""The minute's delivery collection at scale: N notifications and alerts waiting, how long one run takes.

    .venv/bin/python bench/bench_delivery.py --url postgres://postgres@127.0.0.1:5432/qk_bench_delivery \\
        --employees 20000 --notifications 20000 --alerts 20000 --recreate
    .venv/bin/python bench/bench_delivery.py --url postgres://... --employees 400 --notifications 2000 --alerts 500 --recreate

The company comes from bench/generate.py (loans kept small: collection never reads them). Every employee
gets an e-mail address; notifications (one per account, round robin) and alerts are inserted older than
the watermark lag, three robot channels exist. Measured: the first collection (reads up to 20 batches of
1,000 and writes the deliveries and digest items), a second one (nothing new: the idle minute), and the
statements each sends. The queue is a private Redis queue, emptied afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


async def run(url: str, employees: int, notifications: int, alerts: int, recreate: bool) -> dict:
    import asyncpg

    from bench.generate import _recreate, load_postgres

    if recreate:
        await _recreate(url)
    os.environ.setdefault("PASSWORD_HASH_COST", "test")
    await load_postgres(url, employees, max(employees, 100), 20261201)
    conn = await asyncpg.connect("postgres://" + url.split("://", 1)[1].split("?", 1)[0])
    try:
        await conn.execute("UPDATE employee SET email = 'e' || id || '@example.com'")
        await conn.execute("""
            INSERT INTO notification (user_id, title, body, created_at)
            SELECT u.id, '【警告】借款逾期', '您有一笔借款已逾期，请尽快报销', now() - interval '1 hour'
            FROM generate_series(1, $1) AS g(n)
            JOIN (SELECT id, row_number() OVER (ORDER BY id) AS k, count(*) OVER () AS total FROM app_user) u
              ON u.k = (g.n % u.total) + 1""", notifications)
        await conn.execute("""
            INSERT INTO alert (kind, severity, message, dedupe_key, created_at)
            SELECT 'OVERDUE', 'WARNING', '借款逾期 ' || g.n || ' 天', 'bench:' || g.n, now() - interval '1 hour'
            FROM generate_series(1, $1) AS g(n)""", alerts)
        await conn.execute("""
            INSERT INTO channel (kind, name, target, enabled, digest_minutes, include_details, start_alert_id,
                                 created_at, updated_at)
            VALUES ('DINGTALK', 'd', 'http://127.0.0.1:9/robot/send', true, 15, false, 0, now(), now()),
                   ('WECOM', 'w', 'abcdefgh-key', true, 15, false, 0, now(), now()),
                   ('FEISHU', 'f', 'http://127.0.0.1:9/hook/x', true, 15, false, 0, now(), now())""")
        await conn.execute("ANALYZE")
    finally:
        await conn.close()

    from server.db import close_db, init_db
    from server.queue import close_pool
    from server.services import delivery
    from server.settings import load_settings, override_settings
    from tests.querycount import recording

    queue = f"qk-bench:{uuid.uuid4().hex}"
    settings = load_settings({**os.environ, "DATABASE_URL": url, "DEMO_DATA": "0", "SECRET_KEY": "bench-secret-0123456789",
                              "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
                              "JOB_QUEUE": queue, "SMTP_URL": "smtp://127.0.0.1:9"})
    override_settings(settings)
    await init_db(settings)
    out: dict = {"employees": employees, "notifications": notifications, "alerts": alerts}
    try:
        for label in ("first", "idle"):
            with recording() as statements:
                started = time.perf_counter()
                summary = await delivery.collect()
                elapsed = time.perf_counter() - started
            out[label] = {"seconds": round(elapsed, 2), "statements": len(statements.sql), **summary}
    finally:
        from arq.connections import create_pool

        from server.queue import redis_settings_for

        await close_pool()
        redis = await create_pool(redis_settings_for(settings.redis_url or ""))
        keys = [k async for k in redis.scan_iter(match=f"*{queue}*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
        await close_db()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--employees", type=int, default=400)
    parser.add_argument("--notifications", type=int, default=2000)
    parser.add_argument("--alerts", type=int, default=500)
    parser.add_argument("--recreate", action="store_true")
    args = parser.parse_args()
    if not args.url.startswith("postgres"):
        parser.error("--url must name a PostgreSQL database")
    print(json.dumps(asyncio.run(run(args.url, args.employees, args.notifications, args.alerts, args.recreate)),
                     ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
