"""Analytics (issue 13): loans broken down by position, region, department, purpose or month, in SQL.

Definitions (README "Analytics", docs/api.md `riskBreakdown`):
- the range filters on the disbursement date in the company's time zone, both ends included;
  omitted, it is the 12 calendar months up to today (the first day of the month 11 months ago … today);
- a row's `loans` counts the loans disbursed in the range, `amount` sums their amounts, `outstanding`
  is what is still owed on them now (their ledger entries summed), `overdueLoans` how many of them
  are overdue today by the loans service's rule (`loans._overdue`, the one the risk engine uses);
- `overdueRate = overdueLoans / loans` (0.0 for a row without loans; pages show "—");
- every position, region and department is a row, with zeros when none of its people borrowed;
  every purpose and every month of the range too.

Each breakdown costs three statements whatever the number of loans: counts, amounts and overdue counts,
outstanding (loans joined to their ledger), and the labels. Who sees what: VIEW_ANALYTICS (finance,
HR, admin, auditor) the whole company; a supervisor the loans of the people below them; anyone else
FORBIDDEN.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from tortoise import connections
from tortoise.expressions import Q, RawSQL
from tortoise.functions import Count, Sum

from server import i18n
from server.domain import duties, roles
from server.domain.errors import Forbidden, ValidationFailed
from server.domain.messages import _m
from server.domain.money import from_fen
from server.domain.vocab import PURPOSE_LABELS, Dimension, LoanPurpose
from server.models import Department, Loan, Position, Region
from server.services.base import Viewer, require_login, today
from server.services.loans import _overdue
from server.services.org import subtree_ids
from server.settings import get_settings

MAX_RANGE_DAYS = 3700  # ten years and a bit: a month axis longer than this is a typing error

# The loan column (or expression) each dimension groups by.
GROUP_FIELDS: dict[str, str] = {
    Dimension.POSITION: "employee__position_id",
    Dimension.REGION: "employee__region_id",
    Dimension.DEPARTMENT: "employee__department_id",
    Dimension.PURPOSE: "purpose",
    Dimension.MONTH: "month",
}
ORG_MODELS: dict[str, Any] = {Dimension.POSITION: Position, Dimension.REGION: Region,
                              Dimension.DEPARTMENT: Department}


@dataclass(frozen=True)
class BreakdownRow:
    key: str
    label: str
    loans: int
    amount: Decimal
    outstanding: Decimal
    overdue_loans: int

    @property
    def overdue_rate(self) -> float:
        return self.overdue_loans / self.loans if self.loans else 0.0


@dataclass(frozen=True)
class Scope:
    """What part of the company a viewer's figures cover, and the page's filters."""

    employee_ids: frozenset[int] | None  # None: everyone
    department_id: int | None = None
    region_id: int | None = None

    def q(self, prefix: str = "") -> Q:
        conditions: dict[str, Any] = {}
        if self.employee_ids is not None:
            conditions[f"{prefix}employee_id__in"] = sorted(self.employee_ids) or [-1]
        if self.department_id is not None:
            conditions[f"{prefix}employee__department_id"] = self.department_id
        if self.region_id is not None:
            conditions[f"{prefix}employee__region_id"] = self.region_id
        return Q(**conditions)


def may_view(viewer: Viewer) -> bool:
    """The page's gate (the same answer the services give)."""
    return duties.may(viewer.roles, duties.VIEW_ANALYTICS) or (
        viewer.has(roles.SUPERVISOR) and viewer.employee_id is not None)


async def scope_for(viewer: Viewer, department: str | None = None, region: str | None = None) -> Scope:
    require_login(viewer)
    if duties.may(viewer.roles, duties.VIEW_ANALYTICS):
        ids: frozenset[int] | None = None
    elif viewer.has(roles.SUPERVISOR) and viewer.employee_id is not None:
        ids = frozenset(await subtree_ids(viewer.employee_id))
    else:
        raise Forbidden(_m("无权查看分析数据"))
    department_id = await _org_id(Department, department, "department")
    region_id = await _org_id(Region, region, "region")
    return Scope(ids, department_id, region_id)


async def _org_id(model: Any, code: str | None, field: str) -> int | None:
    if not code:
        return None
    found = await model.filter(code=code.strip()).values_list("id", flat=True)
    if not found:
        raise ValidationFailed(_m("未知的代码 %(code)s", code=code), field=field)
    return int(found[0])


# ---------------------------------------------------------------- the range


def default_range(on: date | None = None) -> tuple[date, date]:
    end = on or today()
    start = end.replace(day=1)
    for _ in range(11):
        start = (start - timedelta(days=1)).replace(day=1)
    return start, end


def resolve_range(start: date | None, end: date | None, on: date | None = None) -> tuple[date, date]:
    default_start, default_end = default_range(on)
    end = end or default_end
    start = start or (default_start if end == default_end else default_range(end)[0])
    if start > end:
        raise ValidationFailed(_m("开始日期不能晚于结束日期"), field="from")
    if (end - start).days > MAX_RANGE_DAYS:
        raise ValidationFailed(_m("日期范围过长"), field="from")
    return start, end


def utc_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, end+1 00:00) in the company's time zone, as UTC instants (an index range)."""
    tz = get_settings().tz
    low = datetime.combine(start, time(), tzinfo=tz).astimezone(UTC)
    high = datetime.combine(end + timedelta(days=1), time(), tzinfo=tz).astimezone(UTC)
    return low, high


def months_between(start: date, end: date) -> list[str]:
    out: list[str] = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def month_label(key: str, locale: str | None) -> str:
    year, month = key.split("-")
    return i18n.render(_m("%(year)s年%(month)s月", year=year, month=month), locale)


def is_postgres() -> bool:
    return connections.get("default").capabilities.dialect == "postgres"


def month_sql(column: str) -> str:
    """YYYY-MM of a UTC timestamp column in the company's time zone, in the database's dialect."""
    zone = get_settings().tz
    if is_postgres():
        name = str(zone).replace("'", "")
        return f"to_char(({column} AT TIME ZONE '{name}'), 'YYYY-MM')"
    # SQLite keeps UTC ISO text: shift by the zone's offset (the zones in use keep one offset a year;
    # for a zone with summer time a loan paid out in the hour around midnight of a month's end may
    # count in the neighbouring month on SQLite only).
    offset = datetime.now(zone).utcoffset() or timedelta()
    minutes = int(offset.total_seconds() // 60)
    return f"strftime('%Y-%m', {column}, '{minutes:+d} minutes')"


def disbursed_in(scope: Scope, start: date, end: date) -> Any:
    """The loans disbursed in the range that the scope covers (an unevaluated queryset)."""
    low, high = utc_bounds(start, end)
    return Loan.filter(scope.q(), disbursed_at__gte=low, disbursed_at__lt=high)


# ---------------------------------------------------------------- the breakdown


def overdue_q(loans: Any, on: date) -> Q:
    """The loans service's overdue rule (`loans._overdue`, the risk engine's) as a filter for a conditional
    count, taken from the conditions it adds to `loans` rather than written a second time."""
    before = len(loans._q_objects)
    return Q(*_overdue(loans, on)._q_objects[before:])


def _grouped(qs: Any, dimension: str) -> tuple[Any, str]:
    field = GROUP_FIELDS[dimension]
    if dimension == Dimension.MONTH:
        qs = qs.annotate(month=RawSQL(month_sql('"loan"."disbursed_at"')))
    return qs, field


async def _by_group(qs: Any, dimension: str, **aggregates: Any) -> dict[str, dict[str, Any]]:
    qs, field = _grouped(qs, dimension)
    rows = await qs.annotate(**aggregates).group_by(field).values(field, *aggregates)
    return {str(row[field]): row for row in rows}


async def breakdown(viewer: Viewer, dimension: str, start: date | None = None, end: date | None = None,
                    department: str | None = None, region: str | None = None,
                    on: date | None = None) -> list[BreakdownRow]:
    scope = await scope_for(viewer, department, region)
    start, end = resolve_range(start, end, on)
    return await breakdown_in(scope, Dimension(dimension), start, end, viewer.locale, on)


async def breakdown_in(scope: Scope, dimension: Dimension, start: date, end: date, locale: str | None,
                       on: date | None = None) -> list[BreakdownRow]:
    loans = disbursed_in(scope, start, end)
    counts = await _by_group(loans, dimension, n=Count("id"), amount=Sum("amount_fen"),
                             overdue=Count("id", _filter=overdue_q(loans, on or today())))
    owed = await _by_group(loans, dimension, owed=Sum("ledger__delta_fen"))
    rows = []
    for key, public_key, label in await _keys(scope, dimension, start, end, locale):
        counted = counts.get(key, {})
        rows.append(BreakdownRow(
            key=public_key, label=label,
            loans=int(counted.get("n") or 0), amount=from_fen(int(counted.get("amount") or 0)),
            outstanding=from_fen(int(owed.get(key, {}).get("owed") or 0)),
            overdue_loans=int(counted.get("overdue") or 0),
        ))
    return rows


async def _keys(scope: Scope, dimension: Dimension, start: date, end: date,
                locale: str | None) -> Iterable[tuple[str, str, str]]:
    """(group value, key, label) for every row the breakdown shows, in display order. Org rows group
    by id and are keyed by their code."""
    if dimension == Dimension.MONTH:
        return [(m, m, month_label(m, locale)) for m in months_between(start, end)]
    if dimension == Dimension.PURPOSE:
        return [(p.value, p.value, purpose_label(p, locale)) for p in LoanPurpose]
    model = ORG_MODELS[dimension]
    qs = model.all()
    only = {Dimension.REGION: scope.region_id, Dimension.DEPARTMENT: scope.department_id}.get(dimension)
    if only is not None:
        qs = qs.filter(id=only)
    org_rows = await qs.order_by("code").values("id", "code", "name")
    return [(str(r["id"]), r["code"], r["name"]) for r in org_rows]


def purpose_label(purpose: str, locale: str | None) -> str:
    return i18n.translations(i18n.normalize(locale) or i18n.DEFAULT_LOCALE).gettext(PURPOSE_LABELS[purpose])


def totals(rows: list[BreakdownRow]) -> BreakdownRow:
    """The sum of a breakdown's rows (every loan is in exactly one row of any dimension)."""
    return BreakdownRow(
        key="", label="", loans=sum(r.loans for r in rows), amount=sum((r.amount for r in rows), Decimal("0.00")),
        outstanding=sum((r.outstanding for r in rows), Decimal("0.00")),
        overdue_loans=sum(r.overdue_loans for r in rows),
    )
