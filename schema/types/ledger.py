"""借款台账 and 报销台账 (duty VIEW_LEDGER): every loan and reimbursement, searched, sorted and paged, with
totals over the whole filtered set. Exports are streamed by the pages (server/web/ledger.py)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from enum import Enum

import strawberry
from strawberry.types import Info

from schema.types.common import PageInfo, connection, decode_cursor, page_size, viewer
from schema.types.enums import LoanPurpose, LoanStatus, ReimbursementStatus
from schema.types.loans import Loan, LoanConnection, LoanEdge, prime_loans
from schema.types.reimbursements import Reimbursement, ReimbursementConnection, ReimbursementEdge
from server.domain.errors import ValidationFailed
from server.domain.messages import _m
from server.services import ledger_search as service
from server.services.base import parse_id


@strawberry.enum(description="Days past the expected settle date of an open loan.")
class OverdueBucket(Enum):
    D1_30 = "D1_30"
    D31_60 = "D31_60"
    D61_90 = "D61_90"
    D90_PLUS = "D90_PLUS"


@strawberry.enum
class LedgerSort(Enum):
    NEWEST = "NEWEST"
    OLDEST = "OLDEST"
    AMOUNT_DESC = "AMOUNT_DESC"
    AMOUNT_ASC = "AMOUNT_ASC"
    DUE_SOONEST = "DUE_SOONEST"
    DUE_LATEST = "DUE_LATEST"


@strawberry.input(description="Every field optional. text: employee name (part of it), employee number or the number.")
class LoanLedgerSearch:
    text: str | None = None
    status: list[LoanStatus] | None = None
    purpose: LoanPurpose | None = None
    department_id: strawberry.ID | None = None
    region_id: strawberry.ID | None = None
    date_from: datetime.date | None = strawberry.field(default=None, description="Applied on or after (company date).")
    date_to: datetime.date | None = None
    overdue_bucket: OverdueBucket | None = None
    sort: LedgerSort = LedgerSort.NEWEST


@strawberry.input(description="Every field optional. Dates are the submission's company-local day.")
class ReimbursementLedgerSearch:
    text: str | None = None
    status: list[ReimbursementStatus] | None = None
    department_id: strawberry.ID | None = None
    region_id: strawberry.ID | None = None
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    sort: LedgerSort = LedgerSort.NEWEST


def _id(value: strawberry.ID | None, what: str) -> int | None:
    return None if value in (None, "") else parse_id(value, what)


def loan_search(search: LoanLedgerSearch | None) -> service.LedgerSearch:
    s = search or LoanLedgerSearch()
    return service.LedgerSearch(
        text=s.text, statuses=tuple(x.value for x in s.status or []), purpose=s.purpose.value if s.purpose else None,
        department_id=_id(s.department_id, "department"), region_id=_id(s.region_id, "region"),
        date_from=s.date_from, date_to=s.date_to, overdue_bucket=s.overdue_bucket.value if s.overdue_bucket else None,
        sort=s.sort.value,
    )


def reimbursement_search(search: ReimbursementLedgerSearch | None) -> service.LedgerSearch:
    s = search or ReimbursementLedgerSearch()
    if s.sort.value not in service.REIMBURSEMENT_SORTS:
        raise ValidationFailed(_m("未知的排序方式 %(sort)s", sort=s.sort.value), field="sort")
    return service.LedgerSearch(
        text=s.text, statuses=tuple(x.value for x in s.status or []),
        department_id=_id(s.department_id, "department"), region_id=_id(s.region_id, "region"),
        date_from=s.date_from, date_to=s.date_to, sort=s.sort.value,
    )


@strawberry.type
class ReimbursementLedgerConnection(ReimbursementConnection):
    edges: list[ReimbursementEdge]
    page_info: PageInfo

    @strawberry.field(description="Sum of total over every reimbursement of the list (not the page).")
    async def total_amount(self) -> Decimal:
        return await service.reimbursement_total(self.page.query)

    @strawberry.field(description="Offsets (reserved or applied) over every reimbursement of the list.")
    async def total_offset(self) -> Decimal:
        return await service.reimbursement_offset_total(self.page.query)

    @strawberry.field(description="totalAmount - totalOffset.")
    async def total_payable(self) -> Decimal:
        return await service.reimbursement_total(self.page.query) - await service.reimbursement_offset_total(
            self.page.query)


@strawberry.type
class LedgerQuery:
    @strawberry.field(description="借款台账: every loan (VIEW_LEDGER), searched and sorted; totals over the filtered set.")
    async def loan_ledger(
        self, info: Info, search: LoanLedgerSearch | None = None, first: int | None = 50, after: str | None = None,
    ) -> LoanConnection:
        page = await service.search_loans(viewer(info), loan_search(search), page_size(first), decode_cursor(after))
        await prime_loans(info, page.rows)
        return connection(page, Loan, LoanEdge, LoanConnection)

    @strawberry.field(description="报销台账: every reimbursement (VIEW_LEDGER), searched and sorted, with totals.")
    async def reimbursement_ledger(
        self, info: Info, search: ReimbursementLedgerSearch | None = None, first: int | None = 50,
        after: str | None = None,
    ) -> ReimbursementLedgerConnection:
        page = await service.search_reimbursements(viewer(info), reimbursement_search(search), page_size(first),
                                                   decode_cursor(after))
        return connection(page, Reimbursement, ReimbursementEdge, ReimbursementLedgerConnection)
