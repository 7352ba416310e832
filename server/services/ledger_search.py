"""借款台账 and 报销台账: every loan and every reimbursement, searched, sorted, keyset-paged, totalled and
exported (duty VIEW_LEDGER: finance, admin, auditor).

The search is one Tortoise queryset; a page, the totals and the export all read it, so the totals are
over the whole filtered set (SQL aggregates) and the export is exactly the filtered list. Overdue
buckets use the one overdue rule (`server.services.loans._overdue`, `server.domain.ledger.days_overdue`).

Judged at 20,000 employees and 1,000,000 loans: a text search first finds matching employees (one
indexed lookup on the employee table, a subquery) instead of joining every loan; pages and exports
read by keyset, never OFFSET; the export streams rows in batches (bounded memory).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.functions import Sum

from server.domain import duties, ledger
from server.domain.errors import ValidationFailed
from server.domain.messages import _m
from server.domain.money import ZERO, from_fen
from server.domain.vocab import LoanPurpose, LoanStatus, OffsetState, ReimbursementStatus
from server.models import Employee, Loan, Reimbursement, ReimbursementOffset
from server.services import sums
from server.services.base import Page, Viewer, _after_q, day_start, paginate, require_login, today
from server.services.loans import _overdue, outstanding_by_loan

MAX_QUERY = 100
EXPORT_BATCH = 1000

# Overdue buckets (days past the expected settle date of an open loan): (lowest, highest or None).
BUCKETS: dict[str, tuple[int, int | None]] = {
    "D1_30": (1, 30), "D31_60": (31, 60), "D61_90": (61, 90), "D90_PLUS": (91, None),
}
BUCKET_LABELS = {"D1_30": _m("逾期 1–30 天").msgid, "D31_60": _m("逾期 31–60 天").msgid,
                 "D61_90": _m("逾期 61–90 天").msgid, "D90_PLUS": _m("逾期 90 天以上").msgid}

# Sort keys a client may ask for, each a keyset order ending with the id.
LOAN_SORTS: dict[str, tuple[str, ...]] = {
    "NEWEST": ("-created_at", "-id"), "OLDEST": ("created_at", "id"),
    "AMOUNT_DESC": ("-amount_fen", "-id"), "AMOUNT_ASC": ("amount_fen", "id"),
    "DUE_SOONEST": ("expected_settle_date", "id"), "DUE_LATEST": ("-expected_settle_date", "-id"),
}
REIMBURSEMENT_SORTS: dict[str, tuple[str, ...]] = {
    "NEWEST": ("-created_at", "-id"), "OLDEST": ("created_at", "id"),
    "AMOUNT_DESC": ("-total_fen", "-id"), "AMOUNT_ASC": ("total_fen", "id"),
}


@dataclass(frozen=True)
class LedgerSearch:
    """Every field optional; empty strings count as absent."""

    text: str | None = None  # employee name (part of it), employee number, or loan/reimbursement number
    statuses: tuple[str, ...] = ()
    purpose: str | None = None
    department_id: int | None = None
    region_id: int | None = None
    date_from: date | None = None  # applied on / submitted on, company-local dates, inclusive
    date_to: date | None = None
    overdue_bucket: str | None = None
    sort: str = "NEWEST"


def _clean(search: LedgerSearch) -> LedgerSearch:
    text = (search.text or "").strip()
    if len(text) > MAX_QUERY:
        raise ValidationFailed(_m("搜索内容不能超过 %(max)s 个字符", max=MAX_QUERY), field="text")
    if search.date_from and search.date_to and search.date_from > search.date_to:
        raise ValidationFailed(_m("开始日期不能晚于结束日期"), field="dateFrom")
    if search.overdue_bucket and search.overdue_bucket not in BUCKETS:
        raise ValidationFailed(_m("未知的逾期区间 %(bucket)s", bucket=search.overdue_bucket), field="overdueBucket")
    if search.purpose and search.purpose not in tuple(LoanPurpose):
        raise ValidationFailed(_m("未知的借款用途 %(purpose)s", purpose=search.purpose), field="purpose")
    return LedgerSearch(text or None, tuple(search.statuses), search.purpose or None, search.department_id,
                        search.region_id, search.date_from, search.date_to, search.overdue_bucket or None,
                        search.sort or "NEWEST")


def _employee_filter(search: LedgerSearch) -> Q | None:
    """Rows of employees matching the text, department and region: a subquery on the employee table."""
    people = Employee.all()
    narrowed = False
    if search.department_id is not None:
        people, narrowed = people.filter(department_id=search.department_id), True
    if search.region_id is not None:
        people, narrowed = people.filter(region_id=search.region_id), True
    if not narrowed:
        return None
    return Q(employee_id__in=Subquery(people.values("id")))


def _text_filter(search: LedgerSearch) -> Q | None:
    if not search.text:
        return None
    people = Employee.filter(Q(employee_no=search.text) | Q(name__icontains=search.text)).values("id")
    return Q(employee_id__in=Subquery(people)) | Q(number=search.text.upper())


def _common(qs: Any, search: LedgerSearch, day_field: str) -> Any:
    for q in (_employee_filter(search), _text_filter(search)):
        if q is not None:
            qs = qs.filter(q)
    if search.statuses:
        qs = qs.filter(status__in=list(search.statuses))
    if search.date_from:
        qs = qs.filter(**{f"{day_field}__gte": search.date_from})
    if search.date_to:
        qs = qs.filter(**{f"{day_field}__lte": search.date_to})
    return qs


def require_ledger(viewer: Viewer) -> None:
    require_login(viewer)
    duties.require(viewer.roles, duties.VIEW_LEDGER)


def loan_query(viewer: Viewer, search: LedgerSearch, on: date | None = None) -> Any:
    """The filtered loans, unpaged (authorization: VIEW_LEDGER sees every loan)."""
    require_ledger(viewer)
    search = _clean(search)
    qs = _common(Loan.all(), search, "applied_on")
    if search.purpose:
        qs = qs.filter(purpose=search.purpose)
    if search.overdue_bucket:
        low, high = BUCKETS[search.overdue_bucket]
        on = on or today()
        qs = _overdue(qs, on).filter(expected_settle_date__lte=on - timedelta(days=low))
        if high is not None:
            qs = qs.filter(expected_settle_date__gte=on - timedelta(days=high))
    return qs


def _order(sorts: dict[str, tuple[str, ...]], sort: str) -> tuple[str, ...]:
    if sort not in sorts:
        raise ValidationFailed(_m("未知的排序方式 %(sort)s", sort=sort), field="sort")
    return sorts[sort]


async def search_loans(viewer: Viewer, search: LedgerSearch, first: int = 50, after: list[Any] | None = None,
                       on: date | None = None) -> Page:
    qs = loan_query(viewer, search, on)
    return await paginate(qs, first, after, _order(LOAN_SORTS, search.sort or "NEWEST"))



def reimbursement_query(viewer: Viewer, search: LedgerSearch) -> Any:
    """The filtered reimbursements, unpaged. Submitted-on dates are the company's days of created_at."""
    require_ledger(viewer)
    search = _clean(search)
    qs = _common(Reimbursement.all(), LedgerSearch(search.text, search.statuses, None, search.department_id,
                                                   search.region_id), "created_at")
    if search.date_from:
        qs = qs.filter(created_at__gte=day_start(search.date_from))
    if search.date_to:
        qs = qs.filter(created_at__lt=day_start(search.date_to + timedelta(days=1)))
    return qs


async def search_reimbursements(viewer: Viewer, search: LedgerSearch, first: int = 50,
                                after: list[Any] | None = None) -> Page:
    qs = reimbursement_query(viewer, search)
    return await paginate(qs, first, after, _order(REIMBURSEMENT_SORTS, search.sort or "NEWEST"))


# ---------------------------------------------------------------- totals (SQL aggregates, whole set)


async def reimbursement_offset_total(qs: Any) -> Decimal:
    """Offsets applied or reserved on the list's reimbursements (released ones freed the loan again)."""
    offsets = ReimbursementOffset.filter(reimbursement_id__in=Subquery(qs.values("id")),
                                         state__in=[OffsetState.RESERVED, OffsetState.APPLIED])
    return await sums.total(offsets, "amount_fen")


async def reimbursement_total(qs: Any) -> Decimal:
    return await sums.total(qs, "total_fen")


# ---------------------------------------------------------------- export (streamed, bounded memory)


async def _batches(qs: Any, order: tuple[str, ...]) -> AsyncIterator[list[Any]]:
    """The whole list in keyset batches: memory holds one batch, however long the list."""
    names = [o.lstrip("-") for o in order]
    after: list[Any] | None = None
    while True:
        batch_qs = qs.filter(_after_q(qs.model, order, after)) if after else qs
        rows = await batch_qs.order_by(*order).limit(EXPORT_BATCH).select_related(
            "employee__department", "employee__region")
        if not rows:
            return
        yield rows
        if len(rows) < EXPORT_BATCH:
            return
        last = rows[-1]
        after = [v.isoformat() if isinstance(v, date) else v for v in (getattr(last, n) for n in names)]


async def loan_rows(viewer: Viewer, search: LedgerSearch, on: date | None = None) -> AsyncIterator[dict[str, Any]]:
    on = on or today()
    qs = loan_query(viewer, search, on)
    async for batch in _batches(qs, _order(LOAN_SORTS, search.sort or "NEWEST")):
        owed = await outstanding_by_loan([r.id for r in batch])
        for r in batch:
            outstanding = owed.get(r.id, ZERO) if r.status in ledger.LEDGER_STATUSES else ZERO
            overdue = ledger.days_overdue(r.expected_settle_date, outstanding, on) \
                if r.status in ledger.OPEN_STATUSES else 0
            yield {
                "number": r.number, "employeeNo": r.employee.employee_no, "employee": r.employee.name,
                "department": r.employee.department.name, "region": r.employee.region.name,
                "purpose": r.purpose, "amount": from_fen(r.amount_fen), "outstanding": outstanding,
                "status": r.status, "appliedOn": r.applied_on, "expectedSettleDate": r.expected_settle_date,
                "daysOverdue": overdue,
            }


async def reimbursement_rows(viewer: Viewer, search: LedgerSearch) -> AsyncIterator[dict[str, Any]]:
    qs = reimbursement_query(viewer, search)
    async for batch in _batches(qs, _order(REIMBURSEMENT_SORTS, search.sort or "NEWEST")):
        offsets: dict[int, int] = {}
        for row in await ReimbursementOffset.filter(
                reimbursement_id__in=[r.id for r in batch], state__in=[OffsetState.RESERVED, OffsetState.APPLIED],
        ).group_by("reimbursement_id").annotate(total=Sum("amount_fen")).values("reimbursement_id", "total"):
            offsets[row["reimbursement_id"]] = int(row["total"] or 0)
        for r in batch:
            offset = from_fen(offsets.get(r.id, 0))
            yield {
                "number": r.number, "employeeNo": r.employee.employee_no, "employee": r.employee.name,
                "department": r.employee.department.name, "region": r.employee.region.name,
                "total": from_fen(r.total_fen), "offset": offset, "payable": from_fen(r.total_fen) - offset,
                "status": r.status, "createdAt": r.created_at, "paidAt": r.paid_at,
            }


STATUSES_LOAN = tuple(LoanStatus)
STATUSES_REIMBURSEMENT = tuple(ReimbursementStatus)
