"""Salary deductions: the 20% check before one, and each deduction's consent (or its absence, flagged)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import strawberry
from strawberry.types import Info

from schema.types.common import tr, viewer
from server.services import deductions as deduction_service


@strawberry.type(description="This month's salary deductions of the loan's employee with the amount asked about, "
                             "against 20% of the monthly salary (《工资支付暂行规定》Art. 16).")
class SalaryDeductionCheck:
    monthly_salary: Decimal
    cap: Decimal
    deducted_this_month: Decimal
    warning: str | None


@strawberry.type(description="One salary deduction of a loan and the employee's consent to it, if any.")
class SalaryDeduction:
    state: strawberry.Private[deduction_service.DeductionConsentState]

    @strawberry.field
    def ledger_entry_id(self) -> strawberry.ID:
        return strawberry.ID(str(self.state.entry_id))

    @strawberry.field
    def amount(self) -> Decimal:
        return self.state.amount

    @strawberry.field
    def recorded_at(self) -> datetime.datetime:
        return self.state.recorded_at

    @strawberry.field(description="True when no consent is recorded: allowed, but flagged.")
    def without_consent(self) -> bool:
        return self.state.consent is None

    @strawberry.field(description="NOTE (a signed note recorded by FINANCE or HR) or EMPLOYEE_CONFIRMATION.")
    def consent_kind(self) -> str | None:
        return self.state.consent.kind if self.state.consent else None

    @strawberry.field
    def consent_note(self) -> str | None:
        return self.state.consent.note if self.state.consent else None

    @strawberry.field
    def consent_recorded_at(self) -> datetime.datetime | None:
        return self.state.consent.recorded_at if self.state.consent else None


@strawberry.type
class DeductionQuery:
    @strawberry.field(description="Before a salary deduction (FINANCE): warns when the month's deductions would "
                                  "exceed 20% of the monthly salary.")
    async def salary_deduction_check(self, info: Info, loan_id: strawberry.ID, amount: Decimal) -> SalaryDeductionCheck:
        check = await deduction_service.check_deduction(viewer(info), loan_id, amount)
        return SalaryDeductionCheck(monthly_salary=check.monthly_salary, cap=check.cap,
                                    deducted_this_month=check.deducted_this_month, warning=tr(info, check.warning))

    @strawberry.field(description="A loan's salary deductions with their consent.")
    async def loan_salary_deductions(self, info: Info, loan_id: strawberry.ID) -> list[SalaryDeduction]:
        return [SalaryDeduction(state=s) for s in await deduction_service.loan_deductions(viewer(info), loan_id)]


@strawberry.type
class DeductionMutation:
    @strawberry.mutation(description="FINANCE or HR record the employee's signed consent to a deduction (audited).")
    async def record_deduction_consent(self, info: Info, ledger_entry_id: strawberry.ID, note: str) -> SalaryDeduction:
        row = await deduction_service.record_consent(viewer(info), ledger_entry_id, note)
        return await _state(info, row.loan_id, ledger_entry_id)  # type: ignore[attr-defined]

    @strawberry.mutation(description="The employee confirms a deduction from their own pay (audited).")
    async def confirm_salary_deduction(self, info: Info, ledger_entry_id: strawberry.ID) -> SalaryDeduction:
        row = await deduction_service.confirm_deduction(viewer(info), ledger_entry_id)
        return await _state(info, row.loan_id, ledger_entry_id)  # type: ignore[attr-defined]


async def _state(info: Info, loan_id: int, entry_id: str) -> SalaryDeduction:
    states = await deduction_service.loan_deductions(viewer(info), loan_id)
    return SalaryDeduction(state=next(s for s in states if str(s.entry_id) == str(entry_id)))
