"""A company with years of history, bulk-loaded: the data every scale benchmark runs on.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qk_bench_1m .venv/bin/python bench/generate.py \\
        --employees 20000 --loans 1000000          # about a minute of COPY on PostgreSQL
    .venv/bin/python bench/generate.py --url postgres://... --size small   # CI size, seconds

The database is migrated by the project (server.db.migrate, as `python main.py migrate` does) and
must be empty. Rows are built in Python with a seeded random generator, in chunks of employees, and
written with COPY through asyncpg (PostgreSQL) or with the ORM's bulk insert (SQLite, the tests).
Every COPY names its columns, so columns another change adds (nullable or with a default) do not
break it. After loading, `check()` verifies in SQL what the services guarantee: ledger sums match
statuses, nobody is over their limit, approval steps agree with statuses, offsets with the ledger.

What it builds: departments, regions, positions (limits, approval chains), a supervisor tree
(8 reports each), one account per employee (password demo1234; usernames e<employee_no>,
plus admin / auditor), loans over three years (mostly settled; each employee has at most two
open loans, well inside the limit), their ledger entries, approval steps, reimbursements that offset
loans, pending claims, alerts for overdue loans and a few offboardings.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SIZES = {"tiny": (60, 600), "small": (400, 5000), "medium": (5000, 100_000), "large": (20_000, 1_000_000)}
CHUNK_EMPLOYEES = 1000
PASSWORD = "demo1234"
OPEN = ("DISBURSED", "PARTIALLY_SETTLED")
PURPOSES = ("CLIENT_VISIT", "MARKETING", "TRAVEL", "PROCUREMENT", "OTHER")
CATEGORIES = PURPOSES  # an expense line is classified like the loan it settles

# Table -> the columns written, in order. Named explicitly: a COPY must not depend on column order.
COLUMNS: dict[str, tuple[str, ...]] = {
    "department": ("id", "code", "name"),
    "region": ("id", "code", "name"),
    "position": ("id", "code", "name", "level", "loan_limit_fen", "monthly_limit_fen", "settle_days",
                 "approval_chain"),
    "employee": ("id", "employee_no", "name", "department_id", "region_id", "position_id", "supervisor_id",
                 "monthly_salary_fen", "hire_date", "status", "email", "phone", "lock_version", "created_at"),
    "app_user": ("id", "username", "password_hash", "roles", "employee_id", "is_active", "locale", "created_at"),
    "loan": ("id", "number", "employee_id", "amount_fen", "purpose", "description", "expected_settle_date",
             "status", "rejection_reason", "applied_on", "created_at", "decided_at", "disbursed_at",
             "settled_at", "cancelled_at"),
    "reimbursement": ("id", "number", "employee_id", "status", "total_fen", "created_at", "decided_at", "paid_at"),
    "expense_line": ("id", "reimbursement_id", "order", "category", "amount_fen", "incurred_on", "invoice_no",
                     "description"),
    "reimbursement_offset": ("id", "reimbursement_id", "loan_id", "amount_fen", "state"),
    "ledger_entry": ("id", "loan_id", "kind", "delta_fen", "reimbursement_id", "reference", "note",
                     "recorded_by_id", "recorded_at"),
    "approval_step": ("id", "loan_id", "reimbursement_id", "order", "role", "approver_id", "decided_by_id",
                      "decision", "comment", "decided_at", "skipped", "is_current"),
    "alert": ("id", "kind", "severity", "message", "employee_id", "loan_id", "position_id", "dedupe_key",
              "created_at", "resolved_at", "resolved_by_id", "resolution_note"),
    "alert_recipient": ("id", "alert_id", "employee_id"),
    "offboarding": ("id", "employee_id", "status", "last_working_day", "reason", "started_by_id", "cleared_by_id",
                    "cleared_by_user_id", "created_at", "cleared_at", "completed_at", "cancelled_at"),
    # No id: the migrations already write a row of their own (0004's audit boundary).
    "number_sequence": ("name", "value"),
}
JSON_COLUMNS = {("position", "approval_chain"), ("app_user", "roles")}
# Parents before children (foreign keys are checked row by row by SQLite, at COPY by PostgreSQL).
ORDER = ("department", "region", "position", "employee", "app_user", "loan", "reimbursement", "expense_line",
         "reimbursement_offset", "ledger_entry", "approval_step", "alert", "alert_recipient", "offboarding",
         "number_sequence")


@dataclass
class Ids:
    counters: dict[str, int] = field(default_factory=dict)

    def next(self, table: str) -> int:
        self.counters[table] = self.counters.get(table, 0) + 1
        return self.counters[table]


@dataclass
class Company:
    """What loan generation needs to know about the org."""

    positions: dict[int, dict[str, Any]]
    employees: list[dict[str, Any]]
    user_of: dict[int, int]  # employee id -> user id
    finance: list[int]  # employee ids holding FINANCE


def _at(day: date, rnd: random.Random) -> datetime:
    return datetime(day.year, day.month, day.day, 1 + rnd.randrange(10), rnd.randrange(60), rnd.randrange(60),
                    rnd.randrange(1_000_000), tzinfo=UTC)


def build_org(n_employees: int, rnd: random.Random, ids: Ids, today: date, password_hash: str,
              ) -> tuple[Company, dict[str, list[tuple]]]:
    rows: dict[str, list[tuple]] = {t: [] for t in ORDER}
    n_departments = max(3, n_employees // 250)
    for i in range(n_departments):
        rows["department"].append((ids.next("department"), f"D{i:04d}", f"部门{i}"))
    for i, name in enumerate(("西安", "北京", "上海", "广州", "深圳", "成都", "武汉", "杭州")):
        rows["region"].append((ids.next("region"), f"R{i}", name))
    position_specs = [  # code, name, level, limit (yuan), settle days, chain
        ("VP", "副总裁", 9, 100_000, 30, ["FINANCE"]),
        ("DIR", "总监", 7, 50_000, 30, ["SUPERVISOR", "FINANCE"]),
        ("MGR", "经理", 5, 30_000, 30, ["SUPERVISOR", "FINANCE"]),
        ("SALES", "销售", 3, 10_000, 15, ["SUPERVISOR", "FINANCE"]),
        ("STAFF", "职员", 2, 5_000, 15, ["SUPERVISOR"]),
    ]
    positions: dict[int, dict[str, Any]] = {}
    for code, name, level, limit, days, chain in position_specs:
        pid = ids.next("position")
        positions[pid] = {"code": code, "limit_fen": limit * 100, "settle_days": days, "chain": chain}
        rows["position"].append((pid, code, name, level, limit * 100, None, days, chain))
    by_code = {p["code"]: pid for pid, p in positions.items()}

    employees: list[dict[str, Any]] = []
    user_of: dict[int, int] = {}
    finance: list[int] = []
    n_finance = max(2, n_employees // 400)
    n_hr = max(1, n_employees // 1000)
    for i in range(n_employees):
        eid = ids.next("employee")
        supervisor = None if i == 0 else (i - 1) // 8 + 1  # an 8-ary tree: employee ids start at 1
        depth = 0 if i == 0 else (1 if i <= 8 else (2 if i <= 72 else (3 if i <= 584 else 4)))
        code = ("VP", "DIR", "MGR", "SALES", "SALES" if rnd.random() < 0.7 else "STAFF")[depth]
        has_reports = 8 * i + 1 < n_employees
        if i > 0 and not has_reports and len(finance) < n_finance and i % 37 == 5:
            code = "STAFF"
        roles = ["EMPLOYEE"] + (["SUPERVISOR"] if has_reports else [])
        if i > 0 and not has_reports and len(finance) < n_finance and i % 37 == 5:
            roles.append("FINANCE")
            finance.append(eid)
        elif i > 0 and not has_reports and n_hr > 0 and i % 53 == 7:
            roles.append("HR")
            n_hr -= 1
        status = "ACTIVE"
        if i > 0 and not has_reports and "FINANCE" not in roles and "HR" not in roles and rnd.random() < 0.01:
            status = "LEFT"
        hire = today - timedelta(days=200 + rnd.randrange(3000))
        created = _at(hire, rnd)
        employee = {"id": eid, "no": f"E{eid:06d}", "position_id": by_code[code], "supervisor_id": supervisor,
                    "status": status, "created_at": created, "hire": hire}
        employees.append(employee)
        rows["employee"].append((
            eid, employee["no"], f"员工{eid}", 1 + i % n_departments, 1 + i % 8, by_code[code], supervisor,
            (5000 + rnd.randrange(20000)) * 100, hire, status, None, None, 0, created,
        ))
        uid = ids.next("app_user")
        user_of[eid] = uid
        rows["app_user"].append((uid, f"e{employee['no'].lower()}", password_hash, roles, eid, status != "LEFT",
                                 "zh_CN", created))
    if not finance:  # at least one FINANCE clerk for the chains
        finance.append(employees[-1]["id"])
    for username, roles in (("admin", ["ADMIN"]), ("auditor", ["AUDITOR"])):
        rows["app_user"].append((ids.next("app_user"), username, password_hash, roles, None, True, "zh_CN",
                                 datetime(2020, 1, 1, tzinfo=UTC)))
    return Company(positions, employees, user_of, finance), rows


@dataclass(frozen=True)
class Mix:
    """How the open work is shaped (tests ask for queues longer than a page)."""

    open_weights: tuple[int, int, int, int] = (40, 20, 25, 15)  # DISBURSED, PARTIALLY_SETTLED, PENDING, APPROVED
    claim_share: float = 0.03  # people owing nothing who have a claim waiting for approval


def build_loans(company: Company, employees: list[dict[str, Any]], loans_per_employee: float, rnd: random.Random,
                ids: Ids, today: date, numbers: dict[str, int], mix: Mix = Mix()) -> dict[str, list[tuple]]:
    """Loans (and what hangs off them) for a chunk of employees."""
    rows: dict[str, list[tuple]] = {t: [] for t in ORDER}
    history_days = 3 * 365

    def number(prefix: str, seq: str, year: int) -> str:
        key = f"{seq}-{year}"
        numbers[key] = numbers.get(key, 0) + 1
        return f"{prefix}-{year}-{numbers[key]:06d}"

    def clerk(employee: dict[str, Any]) -> int:
        """A FINANCE clerk other than the applicant (nobody decides on their own money)."""
        others = [f for f in company.finance if f != employee["id"]] or company.finance
        return rnd.choice(others)

    def chain_steps(owner: tuple[int | None, int | None], employee: dict[str, Any], chain: list[str],
                    outcome: str, at: datetime) -> None:
        """outcome: APPROVED (all approve), PENDING1/PENDING2 (waiting at step 1/2), REJECTED (step 1
        rejects), CANCELLED (withdrawn while pending)."""
        for order, role in enumerate(chain, start=1):
            sup = employee["supervisor_id"]
            approver = sup if role == "SUPERVISOR" else None
            skipped = role == "SUPERVISOR" and sup is None
            decision = decided_by = decided_at = comment = None
            current = False
            if not skipped:
                if outcome == "APPROVED" or (outcome == "PENDING2" and order == 1):
                    approver = approver or clerk(employee)
                    decision, decided_by, decided_at = "APPROVE", company.user_of[approver], at + timedelta(hours=order)
                elif outcome == "REJECTED" and order == 1:
                    approver = approver or clerk(employee)
                    decision, decided_by, decided_at = "REJECT", company.user_of[approver], at + timedelta(hours=1)
                    comment = "用途不清"
                elif (outcome == "PENDING1" and order == 1) or (outcome == "PENDING2" and order == 2):
                    current = True
            rows["approval_step"].append((ids.next("approval_step"), owner[0], owner[1], order, role, approver,
                                          decided_by, decision, comment, decided_at, skipped, current))

    def reimbursement(employee: dict[str, Any], total_fen: int, status: str, at: datetime) -> int:
        rid = ids.next("reimbursement")
        paid = at + timedelta(days=2) if status == "PAID" else None
        decided = at + timedelta(days=1) if status in ("PAID", "APPROVED", "REJECTED") else None
        rows["reimbursement"].append((rid, number("BX", "reimbursement", at.year), employee["id"], status, total_fen,
                                      at, decided, paid))
        rows["expense_line"].append((ids.next("expense_line"), rid, 1, rnd.choice(CATEGORIES), total_fen, at.date(),
                                     f"INV{rid:09d}", "差旅费用"))
        waiting = "PENDING2" if rnd.random() < 0.5 or employee["supervisor_id"] is None else "PENDING1"
        chain_steps((None, rid), employee, ["SUPERVISOR", "FINANCE"],
                    {"PAID": "APPROVED", "APPROVED": "APPROVED", "REJECTED": "REJECTED"}.get(status, waiting), at)
        return rid

    def ledger(loan_id: int, kind: str, delta: int, at: datetime, by: int | None, rid: int | None = None) -> None:
        rows["ledger_entry"].append((ids.next("ledger_entry"), loan_id, kind, delta, rid,
                                     None if kind in ("DISBURSEMENT", "OFFSET") else f"REF{loan_id}",
                                     None if kind in ("DISBURSEMENT", "OFFSET") else "结清", by, at))

    for employee in employees:
        position = company.positions[employee["position_id"]]
        limit = position["limit_fen"]
        chain = position["chain"]
        count = max(0, int(rnd.gauss(loans_per_employee, loans_per_employee / 3) + 0.5))
        n_open = 0
        if employee["status"] == "ACTIVE":
            n_open = min(count, 1 if rnd.random() < 0.35 else (2 if rnd.random() < 0.12 else 0))
        pending_claim_ok = True
        for k in range(count):
            is_open = k >= count - n_open
            if is_open:
                created = _at(today - timedelta(days=rnd.randrange(1, 60)), rnd)
                status = rnd.choices(("DISBURSED", "PARTIALLY_SETTLED", "PENDING_APPROVAL", "APPROVED"),
                                     mix.open_weights)[0]
            else:
                created = _at(today - timedelta(days=60 + rnd.randrange(history_days)), rnd)
                status = rnd.choices(("SETTLED", "REJECTED", "AUTO_REJECTED", "CANCELLED", "WRITTEN_OFF"),
                                     (78, 7, 6, 7, 2))[0]
            on = created.date()
            # Two open loans of at most a third of the limit each: never over the limit.
            amount = (100 + rnd.randrange(max(1, limit // 300 - 100))) * 100
            loan_id = ids.next("loan")
            by = company.user_of[clerk(employee)]
            decided = created + timedelta(hours=3)
            disbursed = created + timedelta(days=1)
            settled = cancelled = None
            reason = None
            db_status = "REJECTED" if status == "AUTO_REJECTED" else status
            if status in ("DISBURSED", "PARTIALLY_SETTLED", "SETTLED", "WRITTEN_OFF"):
                ledger(loan_id, "DISBURSEMENT", amount, disbursed, by)
                if status == "PARTIALLY_SETTLED":
                    ledger(loan_id, "CASH_RETURN", -(amount // 2), disbursed + timedelta(days=3), by)
                elif status == "WRITTEN_OFF":
                    settled = disbursed + timedelta(days=90)
                    ledger(loan_id, "WRITE_OFF", -amount, settled, by)
                elif status == "SETTLED":
                    settled = disbursed + timedelta(days=5 + rnd.randrange(20))
                    parts = [amount] if rnd.random() < 0.7 else [amount // 3, amount - amount // 3]
                    for part in parts:
                        how = rnd.choices(("OFFSET", "CASH_RETURN", "SALARY_DEDUCTION"), (50, 35, 15))[0]
                        if how == "OFFSET":
                            rid = reimbursement(employee, part + rnd.randrange(0, 50_000), "PAID", settled)
                            rows["reimbursement_offset"].append((ids.next("reimbursement_offset"), rid, loan_id,
                                                                 part, "APPLIED"))
                            ledger(loan_id, "OFFSET", -part, settled + timedelta(days=1), by, rid)
                        else:
                            ledger(loan_id, how, -part, settled, by)
                chain_steps((loan_id, None), employee, chain, "APPROVED", created)
            elif status == "APPROVED":
                chain_steps((loan_id, None), employee, chain, "APPROVED", created)
            elif status == "PENDING_APPROVAL":
                decided = None
                waiting = "PENDING1"
                if len(chain) > 1 and (employee["supervisor_id"] is None or rnd.random() < 0.5):
                    waiting = "PENDING2"
                chain_steps((loan_id, None), employee, chain, waiting, created)
            elif status == "REJECTED":
                chain_steps((loan_id, None), employee, chain, "REJECTED", created)
                reason = f"审批驳回（{chain[0]}）：用途不清"
            elif status == "AUTO_REJECTED":
                reason = f"超出额度：额度 {limit // 100:,}.00 (over the limit)"
                decided = created
                amount = limit + 100_00
            elif status == "CANCELLED":
                chain_steps((loan_id, None), employee, chain, "CANCELLED", created)
                cancelled, decided = created + timedelta(hours=5), None
            if status in ("PENDING_APPROVAL",):
                disbursed = None
            if status not in ("DISBURSED", "PARTIALLY_SETTLED", "SETTLED", "WRITTEN_OFF"):
                disbursed = None
            if status in OPEN:
                pending_claim_ok = False
                expected = on + timedelta(days=position["settle_days"])
                if expected < today:  # the OVERDUE rule flags every overdue loan
                    aid = ids.next("alert")
                    rows["alert"].append((aid, "OVERDUE", "WARNING", f"借款逾期 {(today - expected).days} 天",
                                          employee["id"], loan_id, None, f"OVERDUE:loan:{loan_id}",
                                          _at(expected + timedelta(days=1), rnd), None, None, None))
                    if employee["supervisor_id"]:
                        rows["alert_recipient"].append((ids.next("alert_recipient"), aid, employee["supervisor_id"]))
            else:
                expected = on + timedelta(days=position["settle_days"])
            rows["loan"].append((
                loan_id, number("JK", "loan", on.year), employee["id"], amount, rnd.choice(PURPOSES), "拜访客户",
                expected, db_status, reason, on, created, decided, disbursed, settled, cancelled,
            ))
        # A few claims waiting for approval, from people who owe nothing (offsets are mandatory).
        if pending_claim_ok and employee["status"] == "ACTIVE" and rnd.random() < mix.claim_share:
            reimbursement(employee, (50 + rnd.randrange(2000)) * 100, "PENDING_APPROVAL",
                          _at(today - timedelta(days=rnd.randrange(1, 20)), rnd))
        if employee["status"] == "LEFT":
            last_day = today - timedelta(days=30 + rnd.randrange(300))
            at = _at(last_day - timedelta(days=10), rnd)
            rows["offboarding"].append((ids.next("offboarding"), employee["id"], "COMPLETED", last_day, "个人原因",
                                        None, employee["supervisor_id"], None, at, at + timedelta(days=5),
                                        at + timedelta(days=10), None))
    return rows


def generate(n_employees: int, n_loans: int, seed: int = 20261201, today: date | None = None,
             password_hash: str = "", mix: Mix = Mix()) -> Iterator[dict[str, list[tuple]]]:
    """The company in batches of rows per table (org first, then loans by chunks of employees)."""
    rnd = random.Random(seed)
    today = today or datetime.now(UTC).date()
    ids = Ids()
    company, org_rows = build_org(n_employees, rnd, ids, today, password_hash)
    yield org_rows
    numbers: dict[str, int] = {}
    per_employee = n_loans / max(1, n_employees)
    for start in range(0, len(company.employees), CHUNK_EMPLOYEES):
        yield build_loans(company, company.employees[start:start + CHUNK_EMPLOYEES], per_employee, rnd, ids,
                          today, numbers, mix)
    yield {"number_sequence": [(name, value) for name, value in sorted(numbers.items())]}


# ---------------------------------------------------------------- writing


async def write_postgres(conn: Any, batch: dict[str, list[tuple]]) -> None:
    """COPY each table's rows (asyncpg's binary COPY), columns named."""
    for table in ORDER:
        records = batch.get(table)
        if not records:
            continue
        columns = COLUMNS[table]
        json_at = [i for i, c in enumerate(columns) if (table, c) in JSON_COLUMNS]
        if json_at:
            records = [tuple(json.dumps(v, ensure_ascii=False) if i in json_at else v for i, v in enumerate(r))
                       for r in records]
        await conn.copy_records_to_table(table, records=records, columns=list(columns))


async def reset_sequences(conn: Any) -> None:
    """The serial ids continue after the loaded rows."""
    for table in ORDER:
        await conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM \"{table}\"), 0) + 1, false)")


async def write_orm(batch: dict[str, list[tuple]]) -> None:
    """For SQLite (the tests): the ORM's bulk insert, so values are stored the way Tortoise stores them."""
    import server.models as model_classes

    models = {m._meta.db_table: m for m in (getattr(model_classes, name) for name in model_classes.__all__)}
    for table in ORDER:
        records = batch.get(table)
        if not records:
            continue
        model = models[table]
        objects = [model(**dict(zip(COLUMNS[table], r, strict=True))) for r in records]
        await model.bulk_create(objects, batch_size=500)


async def load_into_tortoise(n_employees: int, n_loans: int, seed: int = 20261201, today: date | None = None,
                             password_hash: str | None = None, mix: Mix = Mix()) -> dict[str, int]:
    """Load into the database Tortoise has open (the tests): COPY on PostgreSQL, the ORM on SQLite.
    Returns the violations found by `check()`."""
    from tortoise import Tortoise

    conn = Tortoise.get_connection("default")
    batches = generate(n_employees, n_loans, seed, today, password_hash or _password_hash(), mix)
    if conn.capabilities.dialect == "postgres":
        async with conn.acquire_connection() as raw:
            for batch in batches:
                await write_postgres(raw, batch)
            await reset_sequences(raw)
    else:
        for batch in batches:
            await write_orm(batch)
    return await check(conn.execute_query_dict)


# ---------------------------------------------------------------- checking

CHECKS = {
    "ledger sums match statuses": """
        SELECT l.id FROM loan l LEFT JOIN (
            SELECT loan_id, SUM(delta_fen) AS owed, COUNT(*) AS n,
                   SUM(CASE WHEN kind = 'DISBURSEMENT' THEN delta_fen ELSE 0 END) AS paid_out,
                   SUM(CASE WHEN kind = 'DISBURSEMENT' THEN 1 ELSE 0 END) AS disbursements
            FROM ledger_entry GROUP BY loan_id) e ON e.loan_id = l.id
        WHERE (l.status IN ('DISBURSED', 'PARTIALLY_SETTLED', 'SETTLED', 'WRITTEN_OFF')
               AND (e.n IS NULL OR e.disbursements <> 1 OR e.paid_out <> l.amount_fen))
           OR (l.status = 'DISBURSED' AND e.owed <> l.amount_fen)
           OR (l.status = 'PARTIALLY_SETTLED' AND NOT (e.owed > 0 AND e.owed < l.amount_fen))
           OR (l.status IN ('SETTLED', 'WRITTEN_OFF') AND e.owed <> 0)
           OR (l.status NOT IN ('DISBURSED', 'PARTIALLY_SETTLED', 'SETTLED', 'WRITTEN_OFF') AND e.n IS NOT NULL)
        """,
    "nobody over their limit": """
        SELECT e.id FROM employee e JOIN position p ON p.id = e.position_id JOIN (
            SELECT l.employee_id,
                   SUM(CASE WHEN l.status IN ('PENDING_APPROVAL', 'APPROVED') THEN l.amount_fen
                            ELSE COALESCE(o.owed, 0) END) AS committed
            FROM loan l LEFT JOIN (SELECT loan_id, SUM(delta_fen) AS owed FROM ledger_entry GROUP BY loan_id) o
                 ON o.loan_id = l.id
            WHERE l.status IN ('PENDING_APPROVAL', 'APPROVED', 'DISBURSED', 'PARTIALLY_SETTLED')
            GROUP BY l.employee_id) c ON c.employee_id = e.id
        WHERE c.committed > p.loan_limit_fen
        """,
    "one current step exactly while pending": """
        SELECT x.id FROM (
            SELECT l.id, l.status, (SELECT COUNT(*) FROM approval_step s WHERE s.loan_id = l.id AND s.is_current)
                   AS current_steps FROM loan l) x
        WHERE (x.status = 'PENDING_APPROVAL' AND x.current_steps <> 1)
           OR (x.status <> 'PENDING_APPROVAL' AND x.current_steps <> 0)
        """,
    "approved loans approved by every step": """
        SELECT DISTINCT s.loan_id FROM approval_step s JOIN loan l ON l.id = s.loan_id
        WHERE l.status IN ('APPROVED', 'DISBURSED', 'PARTIALLY_SETTLED', 'SETTLED', 'WRITTEN_OFF')
          AND NOT s.skipped AND (s.decision IS NULL OR s.decision <> 'APPROVE')
        """,
    "applied offsets are the ledger's offsets": """
        SELECT o.id FROM reimbursement_offset o LEFT JOIN ledger_entry e
             ON e.reimbursement_id = o.reimbursement_id AND e.loan_id = o.loan_id AND e.kind = 'OFFSET'
        WHERE o.state = 'APPLIED' AND (e.id IS NULL OR -e.delta_fen <> o.amount_fen)
        """,
    "offsets within the claim": """
        SELECT r.id FROM reimbursement r JOIN (
            SELECT reimbursement_id, SUM(amount_fen) AS total FROM reimbursement_offset
            WHERE state <> 'RELEASED' GROUP BY reimbursement_id) o ON o.reimbursement_id = r.id
        WHERE o.total > r.total_fen
        """,
    "people who left owe nothing": """
        SELECT l.id FROM loan l JOIN employee e ON e.id = l.employee_id
        WHERE e.status = 'LEFT' AND l.status IN ('PENDING_APPROVAL', 'APPROVED', 'DISBURSED', 'PARTIALLY_SETTLED')
        """,
}


async def check(fetch: Any) -> dict[str, int]:
    """Violations per invariant (0 everywhere for a consistent company). `fetch(sql)` returns rows."""
    return {name: len(await fetch(sql + " LIMIT 20")) for name, sql in CHECKS.items()}


async def counts(fetch: Any) -> dict[str, int]:
    out = {}
    for table in ("employee", "loan", "ledger_entry", "approval_step", "reimbursement", "alert"):
        rows = await fetch(f'SELECT COUNT(*) AS n FROM "{table}"')
        first = rows[0]
        out[table] = int(first["n"] if isinstance(first, dict) or hasattr(first, "keys") else first[0])
    return out


# ---------------------------------------------------------------- the command


def _password_hash() -> str:
    from server import auth

    return auth.hash_password(PASSWORD)


async def load_postgres(url: str, n_employees: int, n_loans: int, seed: int, migrate: bool = True) -> dict[str, Any]:
    import asyncpg

    from server.settings import load_settings, override_settings

    if migrate:
        settings = load_settings({"SECRET_KEY": "bench-secret-key-0123456789", "PASSWORD_HASH_COST": "test",
                                  **os.environ, "DATABASE_URL": url, "DEMO_DATA": "0"})
        override_settings(settings)
        from server.db import migrate as run_migrate

        await run_migrate(settings)
    conn = await asyncpg.connect("postgres://" + url.split("://", 1)[1].split("?", 1)[0])
    try:
        if await conn.fetchval("SELECT COUNT(*) FROM employee"):
            raise SystemExit("the database already holds employees: generate into an empty, migrated database")
        started = time.perf_counter()
        async with conn.transaction():
            for batch in generate(n_employees, n_loans, seed, password_hash=_password_hash()):
                await write_postgres(conn, batch)
            await reset_sequences(conn)
        loaded = time.perf_counter() - started
        await conn.execute("ANALYZE")
        violations = await check(conn.fetch)
        return {"seconds": round(loaded, 1), "counts": await counts(conn.fetch), "violations": violations}
    finally:
        await conn.close()


async def _recreate(url: str) -> None:
    import asyncpg

    base, _, name = url.split("?", 1)[0].rpartition("/")
    conn = await asyncpg.connect("postgres://" + base.split("://", 1)[1] + "/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("DATABASE_URL", ""), help="PostgreSQL URL (DATABASE_URL)")
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--employees", type=int, help="overrides --size")
    parser.add_argument("--loans", type=int, help="overrides --size")
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--recreate", action="store_true", help="drop and create the database first")
    args = parser.parse_args(argv)
    if not args.url.startswith(("postgres", "asyncpg")):
        parser.error("--url (or DATABASE_URL) must name a PostgreSQL database; SQLite is loaded by the tests")
    n_employees, n_loans = SIZES[args.size]
    n_employees, n_loans = args.employees or n_employees, args.loans or n_loans
    if args.recreate:
        asyncio.run(_recreate(args.url))
    os.environ.setdefault("PASSWORD_HASH_COST", "test")
    result = asyncio.run(load_postgres(args.url, n_employees, n_loans, args.seed))
    print(json.dumps(result, ensure_ascii=False, indent=1))
    return 1 if any(result["violations"].values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
