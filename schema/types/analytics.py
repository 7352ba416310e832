"""Analytics: the contract's riskBreakdown, and the 分析 page's further figures (rates, compliance,
abnormal borrowers) and the monthly report, beyond the contract."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Annotated

import strawberry
from strawberry.types import Info

from schema.types.common import viewer
from schema.types.enums import Dimension, LoanPurpose
from schema.types.jobs import Job
from server.services import analytics as analytics_service
from server.services import analytics_rates as rates_service


@strawberry.type(description="One group of loans disbursed in the range (see docs/api.md for the definitions).")
class BreakdownRow:
    model: strawberry.Private[analytics_service.BreakdownRow]

    @strawberry.field(description="Position, region or department code, purpose enum name, or YYYY-MM.")
    def key(self) -> str:
        return self.model.key

    @strawberry.field(description="The name in the viewer's language.")
    def label(self) -> str:
        return self.model.label

    @strawberry.field(description="Loans disbursed in the range.")
    def loans(self) -> int:
        return self.model.loans

    @strawberry.field(description="Their amounts summed.")
    def amount(self) -> Decimal:
        return self.model.amount

    @strawberry.field(description="What is still owed on them now.")
    def outstanding(self) -> Decimal:
        return self.model.outstanding

    @strawberry.field(description="How many of them are overdue today.")
    def overdue_loans(self) -> int:
        return self.model.overdue_loans

    @strawberry.field(description="overdueLoans / loans, 0 … 1; 0.0 for a row without loans.")
    def overdue_rate(self) -> float:
        return self.model.overdue_rate


@strawberry.type(description="One month's key rates (null: nothing to divide by; pages show \"—\").")
class MonthRates:
    month: str
    loans: int
    disbursed: Decimal
    overdue_rate: float | None
    recovered: Decimal = strawberry.field(description="Offsets, cash returns and salary deductions, net of reversals.")
    written_off: Decimal = strawberry.field(description="Losses: never counted as recovered.")
    recovery_rate: float | None
    settled_loans: int
    average_days_to_settle: Decimal | None
    outstanding: Decimal = strawberry.field(description="Owed at the month's end, on every loan in scope.")
    offboardings: int
    clearance_pass_rate: float | None
    clearance_on_time_rate: float | None


@strawberry.type(description="Expense lines with a voucher file, by the borrower's region and the loan's purpose.")
class ComplianceCell:
    region: str
    region_name: str
    purpose: LoanPurpose
    purpose_label: str
    lines: int
    with_voucher: int
    rate: float | None


@strawberry.type
class AbnormalBorrower:
    employee_id: strawberry.ID
    employee_no: str
    name: str
    position: str
    loans: int
    amount: Decimal


@strawberry.type
class Leaver:
    employee_no: str
    name: str
    month: str
    written_off: bool
    salary_deducted: bool
    late: bool


@strawberry.type(description="The 分析 page's figures for a range and filters, in one answer.")
class AnalyticsOverview:
    model: strawberry.Private[rates_service.Overview]
    region_names: strawberry.Private[dict[str, str]]

    @strawberry.field(name="from")
    def from_(self) -> datetime.date:
        return self.model.start

    @strawberry.field
    def to(self) -> datetime.date:
        return self.model.end

    @strawberry.field(description="Every loan of the range once: the sum of any breakdown.")
    def total(self) -> BreakdownRow:
        return BreakdownRow(model=analytics_service.totals(self.model.months))

    @strawberry.field
    def positions(self) -> list[BreakdownRow]:
        return [BreakdownRow(model=r) for r in self.model.positions]

    @strawberry.field
    def regions(self) -> list[BreakdownRow]:
        return [BreakdownRow(model=r) for r in self.model.regions]

    @strawberry.field
    def departments(self) -> list[BreakdownRow]:
        return [BreakdownRow(model=r) for r in self.model.departments]

    @strawberry.field
    def purposes(self) -> list[BreakdownRow]:
        return [BreakdownRow(model=r) for r in self.model.purposes]

    @strawberry.field
    def months(self) -> list[BreakdownRow]:
        return [BreakdownRow(model=r) for r in self.model.months]

    @strawberry.field
    def monthly_rates(self) -> list[MonthRates]:
        return [MonthRates(**r.__dict__) for r in self.model.rates]

    @strawberry.field
    def voucher_compliance(self, info: Info) -> list[ComplianceCell]:
        return [ComplianceCell(region=c.region, region_name=self.region_names.get(c.region, c.region),
                               purpose=LoanPurpose(c.purpose),
                               purpose_label=analytics_service.purpose_label(c.purpose, viewer(info).locale),
                               lines=c.lines, with_voucher=c.with_voucher, rate=c.rate)
                for c in self.model.compliance]

    @strawberry.field
    def abnormal_borrowers(self) -> list[AbnormalBorrower]:
        return [AbnormalBorrower(employee_id=strawberry.ID(str(b.employee_id)), employee_no=b.employee_no,
                                 name=b.name, position=b.position, loans=b.loans, amount=b.amount)
                for b in self.model.borrowers]

    @strawberry.field(description="Offboardings completed in the range; how each closed.")
    def offboardings(self) -> list[Leaver]:
        return [Leaver(employee_no=o.employee_no, name=o.name, month=o.month, written_off=o.written_off,
                       salary_deducted=o.salary_deducted, late=o.late) for o in self.model.leavers]


@strawberry.type
class AnalyticsQuery:
    @strawberry.field(description=(
        "Loans disbursed between from and to (company dates, both included; default the 12 months up to "
        "today) grouped by a dimension. FINANCE, HR, ADMIN, AUDITOR: everyone; a SUPERVISOR: their reports."))
    async def risk_breakdown(
        self, info: Info, dimension: Dimension,
        from_: Annotated[datetime.date | None, strawberry.argument(name="from")] = None,
        to: datetime.date | None = None,
    ) -> list[BreakdownRow]:
        rows = await analytics_service.breakdown(viewer(info), dimension.value, from_, to)
        return [BreakdownRow(model=r) for r in rows]

    @strawberry.field(description=(
        "Beyond the contract: every figure of the 分析 page: breakdowns, monthly rates, voucher compliance, "
        "abnormal borrowers and offboardings for a range, optionally one department or region by code."))
    async def analytics(
        self, info: Info, from_: Annotated[datetime.date | None, strawberry.argument(name="from")] = None,
        to: datetime.date | None = None, department: str | None = None, region: str | None = None,
    ) -> AnalyticsOverview:
        result = await rates_service.overview(viewer(info), from_, to, department, region)
        return AnalyticsOverview(model=result, region_names={r.key: r.label for r in result.regions})


@strawberry.type
class AnalyticsMutation:
    @strawberry.mutation(description="FINANCE or ADMIN: build the monthly loan-risk report for a month (YYYY-MM) "
                                     "in a background job.")
    async def generate_risk_report(self, info: Info, month: str) -> Job:
        from server.services import reports as report_service

        return Job(model=await report_service.request_report(viewer(info), month))
