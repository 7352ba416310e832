"""The risk engine's reads: one set-based aggregate query (GROUP BY) per rule, feeding the pure rules of
server/domain/risk.py. Nothing here decides; nothing here writes. Portable ORM queries (SQLite and
PostgreSQL); the overdue definition is the ledger's (`loans._overdue`, `ledger.days_overdue`).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from tortoise.expressions import Subquery
from tortoise.functions import Count, Min, Sum

from server.domain import risk
from server.domain.vocab import (
    CLOSED_LOAN_STATUSES,
    OPEN_OFFBOARDING_STATUSES,
    AlertKind,
    LoanStatus,
    ReimbursementStatus,
    label,
)
from server.models import (
    Alert,
    Attachment,
    BusinessRecord,
    ExpenseLine,
    LedgerEntry,
    Loan,
    Offboarding,
    Position,
    Region,
)
from server.services.base import day_start
from server.services.company import get_settings_map
from server.services.loans import _overdue
from server.settings import get_settings

NOT_APPLIED = (LoanStatus.REJECTED, LoanStatus.CANCELLED)


async def rules() -> risk.RiskRules:
    """The company's risk settings now (effective at the next scan)."""
    return risk.RiskRules.from_settings(await get_settings_map(tuple(risk.SETTING_KEYS.values())))


# ---------------------------------------------------------------- LARGE_LOAN_NO_BUSINESS


async def applications(loans: Any, rules: risk.RiskRules) -> list[risk.Application]:
    """The applications of `loans` (a queryset), each with its latest business record on or before the
    application date: two statements for any number of applications."""
    rows = await loans.exclude(status__in=NOT_APPLIED).values(
        "id", "number", "employee_id", "amount_fen", "applied_on", "status", "employee__monthly_salary_fen")
    if not rows:
        return []
    first_day = min(r["applied_on"] for r in rows) - timedelta(days=rules.business_window_days)
    last_day = max(r["applied_on"] for r in rows)
    signed: dict[int, list[date]] = {}
    records = await (BusinessRecord.filter(employee_id__in=Subquery(loans.values("employee_id")),
                                           signed_on__gte=first_day, signed_on__lte=last_day)
                     .group_by("employee_id", "signed_on").values("employee_id", "signed_on"))
    for rec in records:
        signed.setdefault(rec["employee_id"], []).append(rec["signed_on"])
    out = []
    for row in rows:
        days = sorted(signed.get(row["employee_id"], ()))
        at = bisect.bisect_right(days, row["applied_on"])
        out.append(risk.Application(
            loan_id=row["id"], number=row["number"], employee_id=row["employee_id"], amount_fen=row["amount_fen"],
            salary_fen=row["employee__monthly_salary_fen"] or 0, applied_on=row["applied_on"], status=row["status"],
            last_signed_on=days[at - 1] if at else None))
    return out


def catchup_loans(as_of: date, rules: risk.RiskRules) -> Any:
    """Applications of the catch-up window that have no LARGE_LOAN_NO_BUSINESS alert yet."""
    alerted = Alert.filter(kind=AlertKind.LARGE_LOAN_NO_BUSINESS, loan_id__not_isnull=True).values("loan_id")
    return Loan.filter(applied_on__gte=as_of - timedelta(days=rules.large_loan_catchup_days), applied_on__lte=as_of,
                       ).exclude(id__in=Subquery(alerted))


# ---------------------------------------------------------------- OVERDUE


async def overdue_loans(as_of: date, loans: Any = None) -> list[risk.OverdueLoan]:
    """Loans overdue as of `as_of` (the ledger's definition), with their outstanding: two statements."""
    overdue = _overdue(loans if loans is not None else Loan.all(), as_of)
    rows = await overdue.values("id", "number", "employee_id", "expected_settle_date", "employee__name")
    balances = {r["loan_id"]: int(r["total"] or 0) for r in await (
        LedgerEntry.filter(loan_id__in=Subquery(overdue.values("id"))).group_by("loan_id")
        .annotate(total=Sum("delta_fen")).values("loan_id", "total"))}
    return [risk.OverdueLoan(r["id"], r["number"], r["employee_id"], r["employee__name"], r["expected_settle_date"],
                             balances.get(r["id"], 0)) for r in rows]


# ---------------------------------------------------------------- POSITION_OVERDUE_RATE


async def position_stats(as_of: date, rules: risk.RiskRules) -> tuple[list[risk.PositionStats], int, int]:
    """Per position: loans disbursed in the look-back window and how many of them are overdue as of as_of;
    and the company's two figures."""
    start = risk.window_start(as_of, rules.position_window_days)
    window = Loan.filter(disbursed_at__gte=day_start(start), disbursed_at__lt=day_start(as_of + timedelta(days=1)))
    loans = {r["employee__position_id"]: int(r["n"]) for r in await (
        window.annotate(n=Count("id")).group_by("employee__position_id").values("employee__position_id", "n"))}
    overdue = {r["employee__position_id"]: int(r["n"]) for r in await (
        _overdue(window, as_of).annotate(n=Count("id")).group_by("employee__position_id")
        .values("employee__position_id", "n"))}
    positions = {p["id"]: p for p in await Position.filter(id__in=list(loans)).values("id", "name", "loan_limit_fen")}
    stats = [risk.PositionStats(pid, positions[pid]["name"], n, overdue.get(pid, 0), positions[pid]["loan_limit_fen"])
             for pid, n in sorted(loans.items()) if pid in positions]
    return stats, sum(loans.values()), sum(overdue.values())


# ---------------------------------------------------------------- FREQUENT_BORROWING


async def application_counts(as_of: date, rules: risk.RiskRules) -> dict[int, dict[int, int]]:
    """{position_id: {employee_id: applications (any outcome) in the window}}, only those who applied."""
    start = risk.window_start(as_of, rules.frequent_window_days)
    rows = await (Loan.filter(applied_on__gte=start, applied_on__lte=as_of).annotate(n=Count("id"))
                  .group_by("employee__position_id", "employee_id").values("employee__position_id", "employee_id", "n"))
    return risk.group_counts((r["employee__position_id"], r["employee_id"], r["n"]) for r in rows)


# ---------------------------------------------------------------- MISSING_VOUCHERS


def voucher_lines(as_of: date, rules: risk.RiskRules) -> Any:
    """Reimbursement lines of the window (incurredOn), rejected reimbursements left out."""
    start = risk.window_start(as_of, rules.voucher_window_days)
    return ExpenseLine.filter(incurred_on__gte=start, incurred_on__lte=as_of).exclude(
        reimbursement__status=ReimbursementStatus.REJECTED)


def with_vouchers(lines: Any) -> Any:
    return lines.filter(id__in=Subquery(Attachment.filter(expense_line_id__not_isnull=True).values("expense_line_id")))


async def voucher_stats(as_of: date, rules: risk.RiskRules) -> list[risk.VoucherStats]:
    lines = voucher_lines(as_of, rules)
    group = ("reimbursement__employee__region_id", "category")

    async def counts(qs: Any) -> dict[tuple[int, str], int]:
        rows = await qs.annotate(n=Count("id")).group_by(*group).values(*group, "n")
        return {(r[group[0]], r["category"]): int(r["n"]) for r in rows}

    totals, vouchered = await counts(lines), await counts(with_vouchers(lines))
    regions = {r["id"]: r["name"] for r in await Region.filter(id__in=list({k[0] for k in totals})).values("id", "name")}
    return [risk.VoucherStats(rid, regions.get(rid, str(rid)), purpose, label("purpose", purpose), n,
                              vouchered.get((rid, purpose), 0))
            for (rid, purpose), n in sorted(totals.items())]


# ---------------------------------------------------------------- the scorecard's figures


async def histories(employee_ids: Sequence[int], as_of: date, rules: risk.RiskRules) -> dict[int, risk.EmployeeHistory]:
    """Each employee's scorecard figures as of `as_of`: a fixed number of grouped statements for any number."""
    ids = sorted(set(employee_ids))
    if not ids:
        return {}
    mine = Loan.filter(employee_id__in=ids)
    figures: dict[int, dict[str, int]] = {i: {} for i in ids}

    overdue = _overdue(mine, as_of)
    for r in await overdue.annotate(n=Count("id"), oldest=Min("expected_settle_date")).group_by("employee_id").values(
            "employee_id", "n", "oldest"):
        oldest = r["oldest"] if isinstance(r["oldest"], date) else date.fromisoformat(str(r["oldest"])[:10])
        figures[r["employee_id"]].update(overdue_loans=int(r["n"]), max_days_overdue=(as_of - oldest).days)
    for r in await (LedgerEntry.filter(loan_id__in=Subquery(overdue.values("id"))).annotate(total=Sum("delta_fen"))
                    .group_by("loan__employee_id").values("loan__employee_id", "total")):
        figures[r["loan__employee_id"]]["overdue_outstanding_fen"] = int(r["total"] or 0)

    year_ago = as_of - timedelta(days=365)
    tz = get_settings().tz
    for r in await mine.filter(status__in=sorted(CLOSED_LOAN_STATUSES), settled_at__gte=day_start(year_ago),
                               settled_at__lt=day_start(as_of + timedelta(days=1))).values(
            "employee_id", "settled_at", "expected_settle_date"):
        if r["settled_at"].astimezone(tz).date() > r["expected_settle_date"]:
            row = figures[r["employee_id"]]
            row["settled_late"] = row.get("settled_late", 0) + 1

    for r in await (Alert.filter(kind=AlertKind.LARGE_LOAN_NO_BUSINESS, employee_id__in=ids,
                                 created_at__gte=day_start(year_ago), created_at__lt=day_start(as_of + timedelta(days=1)))
                    .annotate(n=Count("id")).group_by("employee_id").values("employee_id", "n")):
        figures[r["employee_id"]]["large_without_business"] = int(r["n"])

    start = risk.window_start(as_of, rules.frequent_window_days)
    for r in await mine.filter(applied_on__gte=start, applied_on__lte=as_of).annotate(n=Count("id")).group_by(
            "employee_id").values("employee_id", "n"):
        figures[r["employee_id"]]["recent_applications"] = int(r["n"])

    lines = voucher_lines(as_of, rules).filter(reimbursement__employee_id__in=ids)
    key = "reimbursement__employee_id"
    totals = {r[key]: int(r["n"]) for r in await lines.annotate(n=Count("id")).group_by(key).values(key, "n")}
    vouchered = {r[key]: int(r["n"]) for r in await with_vouchers(lines).annotate(n=Count("id")).group_by(key).values(
        key, "n")}
    for eid, n in totals.items():
        figures[eid].update(lines=n, lines_without_vouchers=n - vouchered.get(eid, 0))

    leaving = Offboarding.filter(employee_id__in=ids, status__in=sorted(OPEN_OFFBOARDING_STATUSES)).values("employee_id")
    for r in await (LedgerEntry.filter(loan__employee_id__in=Subquery(leaving)).annotate(total=Sum("delta_fen"))
                    .group_by("loan__employee_id").values("loan__employee_id", "total")):
        if int(r["total"] or 0) > 0:
            figures[r["loan__employee_id"]]["offboarding_outstanding_fen"] = int(r["total"])
    return {i: risk.EmployeeHistory(**figures[i]) for i in ids}


async def scores(employee_ids: Sequence[int], as_of: date) -> dict[int, risk.Score]:
    current = await rules()
    return {i: risk.scorecard(h, current) for i, h in (await histories(employee_ids, as_of, current)).items()}

