"""The 分析 page's further figures, beyond riskBreakdown: monthly rates, voucher compliance by region ×
purpose, abnormal borrowers. Definitions (README "Analytics"):

- recovery rate of a month's loans = what offsets, cash returns and salary deductions took off them
  (net of reversals) ÷ their amount; write-offs are losses, shown apart, never recoveries;
- average days to settle = mean of (settled − disbursed) over that month's loans now SETTLED;
- outstanding at a month's end = every ledger entry recorded up to then (all loans in scope);
- clearance pass rate = offboardings completed in the month with no write-off on the leaver's loans ÷
  offboardings completed; timeliness = those cleared by their last working day ÷ completed;
- voucher compliance = expense lines with a voucher file ÷ expense lines, over the reimbursements that
  offset loans disbursed in the range, by the borrower's region and the loan's purpose;
- abnormal borrower = at least ABNORMAL_MIN loans in the range and at least ABNORMAL_FACTOR times the
  average count of those who borrowed.

A rate whose denominator is zero is None (the page shows "—"). Every figure is one grouped statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from tortoise import connections
from tortoise.functions import Count, Sum

from server.domain.money import from_fen
from server.domain.vocab import RECOVERY_KINDS, EntryKind, LoanStatus, OffboardingStatus, ReimbursementStatus
from server.models import Employee, LedgerEntry, Offboarding
from server.services.analytics import (
    BreakdownRow,
    Dimension,
    Scope,
    breakdown_in,
    disbursed_in,
    is_postgres,
    month_sql,
    months_between,
    resolve_range,
    scope_for,
    totals,
    utc_bounds,
)
from server.services.base import Viewer, local_date

ABNORMAL_MIN = 3
ABNORMAL_FACTOR = 2
ABNORMAL_SHOWN = 20


def ratio(numerator: int | Decimal, denominator: int | Decimal) -> float | None:
    return float(numerator) / float(denominator) if denominator else None


@dataclass(frozen=True)
class MonthRates:
    month: str
    loans: int
    disbursed: Decimal
    overdue_rate: float | None
    recovered: Decimal
    written_off: Decimal
    recovery_rate: float | None
    settled_loans: int
    average_days_to_settle: Decimal | None
    outstanding: Decimal  # at the month's end (today for the current month)
    offboardings: int
    clearance_pass_rate: float | None
    clearance_on_time_rate: float | None


@dataclass(frozen=True)
class ComplianceCell:
    region: str
    purpose: str
    lines: int
    with_voucher: int

    @property
    def rate(self) -> float | None:
        return ratio(self.with_voucher, self.lines)


@dataclass(frozen=True)
class Borrower:
    employee_id: int
    employee_no: str
    name: str
    position: str
    loans: int
    amount: Decimal


@dataclass(frozen=True)
class Offboarded:
    employee_id: int
    employee_no: str
    name: str
    month: str
    written_off: bool
    salary_deducted: bool
    late: bool


# ---------------------------------------------------------------- raw SQL, both dialects


def _placeholders(sql: str) -> str:
    """'?' placeholders (SQLite) as $1, $2 … for asyncpg."""
    if not is_postgres():
        return sql
    parts = sql.split("?")
    return "".join(p + (f"${i + 1}" if i < len(parts) - 1 else "") for i, p in enumerate(parts))


async def fetch(sql: str, params: list[Any]) -> list[dict[str, Any]]:
    return list(await connections.get("default").execute_query_dict(_placeholders(sql), params))


def _scope_sql(scope: Scope, employee: str) -> tuple[str, list[Any]]:
    where, params = [], []
    if scope.employee_ids is not None:
        ids = sorted(scope.employee_ids) or [-1]
        where.append(f"{employee}.id IN ({', '.join('?' * len(ids))})")
        params.extend(ids)
    if scope.department_id is not None:
        where.append(f"{employee}.department_id = ?")
        params.append(scope.department_id)
    if scope.region_id is not None:
        where.append(f"{employee}.region_id = ?")
        params.append(scope.region_id)
    return "".join(f" AND {w}" for w in where), params


def _kinds(kinds: Any) -> str:
    return ", ".join(f"'{EntryKind(k).value}'" for k in kinds)  # enum members only: no user text


def _days_sql(later: str, earlier: str) -> str:
    if is_postgres():
        return f"EXTRACT(EPOCH FROM ({later} - {earlier})) / 86400.0"
    return f"(julianday({later}) - julianday({earlier}))"


# ---------------------------------------------------------------- monthly rates


async def _cohort_ledger(scope: Scope, start: date, end: date) -> dict[str, dict[str, Any]]:
    low, high = utc_bounds(start, end)
    scope_sql, params = _scope_sql(scope, "emp")
    recovery, write_off = _kinds(RECOVERY_KINDS), _kinds([EntryKind.WRITE_OFF])
    reversal = EntryKind.REVERSAL.value
    sql = f"""
        SELECT {month_sql('l.disbursed_at')} AS m,
               SUM(CASE WHEN e.kind IN ({recovery}) OR (e.kind = '{reversal}' AND r.kind IN ({recovery}))
                        THEN -e.delta_fen ELSE 0 END) AS recovered,
               SUM(CASE WHEN e.kind IN ({write_off}) OR (e.kind = '{reversal}' AND r.kind IN ({write_off}))
                        THEN -e.delta_fen ELSE 0 END) AS written_off
        FROM ledger_entry e JOIN loan l ON l.id = e.loan_id JOIN employee emp ON emp.id = l.employee_id
             LEFT JOIN ledger_entry r ON r.id = e.reverses_id
        WHERE l.disbursed_at >= ? AND l.disbursed_at < ?{scope_sql}
        GROUP BY 1"""
    return {str(r["m"]): r for r in await fetch(sql, [low, high, *params])}


async def _settle_days(scope: Scope, start: date, end: date) -> dict[str, dict[str, Any]]:
    low, high = utc_bounds(start, end)
    scope_sql, params = _scope_sql(scope, "emp")
    sql = f"""
        SELECT {month_sql('l.disbursed_at')} AS m, COUNT(*) AS n,
               SUM({_days_sql('l.settled_at', 'l.disbursed_at')}) AS days
        FROM loan l JOIN employee emp ON emp.id = l.employee_id
        WHERE l.disbursed_at >= ? AND l.disbursed_at < ? AND l.status = '{LoanStatus.SETTLED.value}'
              AND l.settled_at IS NOT NULL{scope_sql}
        GROUP BY 1"""
    return {str(r["m"]): r for r in await fetch(sql, [low, high, *params])}


async def _outstanding_by_month_end(scope: Scope, start: date, end: date) -> dict[str, Decimal]:
    low, high = utc_bounds(start, end)
    scope_sql, params = _scope_sql(scope, "emp")
    base = ("FROM ledger_entry e JOIN loan l ON l.id = e.loan_id JOIN employee emp ON emp.id = l.employee_id "
            "WHERE e.recorded_at < ?")
    before = await fetch(f"SELECT SUM(e.delta_fen) AS t {base}{scope_sql}", [low, *params])
    rows = await fetch(f"SELECT {month_sql('e.recorded_at')} AS m, SUM(e.delta_fen) AS t {base} "
                       f"AND e.recorded_at >= ?{scope_sql} GROUP BY 1", [high, low, *params])
    by_month = {str(r["m"]): int(r["t"] or 0) for r in rows}
    running = int((before[0]["t"] if before else 0) or 0)
    out = {}
    for month in months_between(start, end):
        running += by_month.get(month, 0)
        out[month] = from_fen(running)
    return out


async def offboarded(scope: Scope, start: date, end: date) -> list[Offboarded]:
    """Offboardings completed in the range: whether a write-off or a salary deduction closed them, and
    whether clearance came after the last working day."""
    low, high = utc_bounds(start, end)
    rows = await Offboarding.filter(scope.q(), status=OffboardingStatus.COMPLETED, completed_at__gte=low,
                                    completed_at__lt=high).order_by("completed_at", "id").values(
        "employee_id", "employee__employee_no", "employee__name", "completed_at", "cleared_at", "last_working_day")
    ids = sorted({r["employee_id"] for r in rows})
    kinds: dict[int, set[str]] = {}
    if ids:
        for entry in await LedgerEntry.filter(
                loan__employee_id__in=ids, kind__in=[EntryKind.WRITE_OFF, EntryKind.SALARY_DEDUCTION],
                reversals__id__isnull=True).values("loan__employee_id", "kind"):
            kinds.setdefault(entry["loan__employee_id"], set()).add(entry["kind"])
    out = []
    for r in rows:
        closed = local_date(r["completed_at"])
        cleared = local_date(r["cleared_at"]) if r["cleared_at"] else closed
        got = kinds.get(r["employee_id"], set())
        out.append(Offboarded(r["employee_id"], r["employee__employee_no"], r["employee__name"],
                              f"{closed.year:04d}-{closed.month:02d}", EntryKind.WRITE_OFF in got,
                              EntryKind.SALARY_DEDUCTION in got, cleared > r["last_working_day"]))
    return out


async def monthly_rates(scope: Scope, start: date, end: date, months: list[BreakdownRow]) -> list[MonthRates]:
    """`months`: the MONTH breakdown of the same scope and range (loans, amounts, overdue)."""
    ledger = await _cohort_ledger(scope, start, end)
    settled = await _settle_days(scope, start, end)
    owed = await _outstanding_by_month_end(scope, start, end)
    leavers = await offboarded(scope, start, end)
    out = []
    for row in months:
        got = ledger.get(row.key, {})
        recovered, written_off = from_fen(int(got.get("recovered") or 0)), from_fen(int(got.get("written_off") or 0))
        done = settled.get(row.key, {})
        n_settled = int(done.get("n") or 0)
        days = (Decimal(str(done.get("days") or 0)) / n_settled).quantize(Decimal("0.1")) if n_settled else None
        month_leavers = [o for o in leavers if o.month == row.key]
        out.append(MonthRates(
            month=row.key, loans=row.loans, disbursed=row.amount,
            overdue_rate=ratio(row.overdue_loans, row.loans), recovered=recovered, written_off=written_off,
            recovery_rate=ratio(recovered, row.amount), settled_loans=n_settled, average_days_to_settle=days,
            outstanding=owed[row.key], offboardings=len(month_leavers),
            clearance_pass_rate=ratio(sum(not o.written_off for o in month_leavers), len(month_leavers)),
            clearance_on_time_rate=ratio(sum(not o.late for o in month_leavers), len(month_leavers)),
        ))
    return out


# ---------------------------------------------------------------- compliance and borrowers


async def voucher_compliance(scope: Scope, start: date, end: date) -> list[ComplianceCell]:
    low, high = utc_bounds(start, end)
    scope_sql, params = _scope_sql(scope, "emp")
    sql = f"""
        SELECT reg.code AS region, l.purpose AS purpose, COUNT(*) AS lines,
               SUM(CASE WHEN EXISTS (SELECT 1 FROM attachment a WHERE a.expense_line_id = x.id)
                        THEN 1 ELSE 0 END) AS with_voucher
        FROM expense_line x
             JOIN reimbursement rb ON rb.id = x.reimbursement_id
             JOIN (SELECT DISTINCT reimbursement_id, loan_id FROM reimbursement_offset WHERE state = 'APPLIED') o
                  ON o.reimbursement_id = rb.id
             JOIN loan l ON l.id = o.loan_id JOIN employee emp ON emp.id = l.employee_id
             JOIN region reg ON reg.id = emp.region_id
        WHERE l.disbursed_at >= ? AND l.disbursed_at < ? AND rb.status <> '{ReimbursementStatus.REJECTED.value}'
              {scope_sql}
        GROUP BY reg.code, l.purpose ORDER BY reg.code, l.purpose"""
    return [ComplianceCell(str(r["region"]), str(r["purpose"]), int(r["lines"]), int(r["with_voucher"] or 0))
            for r in await fetch(sql, [low, high, *params])]


async def abnormal_borrowers(scope: Scope, start: date, end: date) -> list[Borrower]:
    counts = await (disbursed_in(scope, start, end).annotate(n=Count("id"), amount=Sum("amount_fen"))
                    .group_by("employee_id").values("employee_id", "n", "amount"))
    if not counts:
        return []
    average = sum(int(r["n"]) for r in counts) / len(counts)
    flagged = sorted((r for r in counts if int(r["n"]) >= max(ABNORMAL_MIN, ABNORMAL_FACTOR * average)),
                     key=lambda r: (-int(r["n"]), r["employee_id"]))[:ABNORMAL_SHOWN]
    people = {p["id"]: p for p in await Employee.filter(id__in=[r["employee_id"] for r in flagged]).values(
        "id", "employee_no", "name", "position__name")}
    return [Borrower(r["employee_id"], people[r["employee_id"]]["employee_no"], people[r["employee_id"]]["name"],
                     people[r["employee_id"]]["position__name"], int(r["n"]), from_fen(int(r["amount"] or 0)))
            for r in flagged]


# ---------------------------------------------------------------- the page's whole answer


@dataclass(frozen=True)
class Overview:
    start: date
    end: date
    positions: list[BreakdownRow]
    regions: list[BreakdownRow]
    departments: list[BreakdownRow]
    purposes: list[BreakdownRow]
    months: list[BreakdownRow]
    rates: list[MonthRates]
    compliance: list[ComplianceCell]
    borrowers: list[Borrower]
    leavers: list[Offboarded]

    @property
    def total(self) -> BreakdownRow:
        return totals(self.positions) if self.positions else totals(self.months)


async def overview_in(scope: Scope, start: date, end: date, locale: str | None,
                      on: date | None = None) -> Overview:
    def part(dimension: Dimension) -> Any:
        return breakdown_in(scope, dimension, start, end, locale, on)

    months = await part(Dimension.MONTH)
    return Overview(
        start=start, end=end, positions=await part(Dimension.POSITION), regions=await part(Dimension.REGION),
        departments=await part(Dimension.DEPARTMENT), purposes=await part(Dimension.PURPOSE), months=months,
        rates=await monthly_rates(scope, start, end, months), compliance=await voucher_compliance(scope, start, end),
        borrowers=await abnormal_borrowers(scope, start, end), leavers=await offboarded(scope, start, end),
    )


async def overview(viewer: Viewer, start: date | None = None, end: date | None = None,
                   department: str | None = None, region: str | None = None, on: date | None = None) -> Overview:
    scope = await scope_for(viewer, department, region)
    start, end = resolve_range(start, end, on)
    return await overview_in(scope, start, end, viewer.locale, on)
