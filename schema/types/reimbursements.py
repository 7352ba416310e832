"""Reimbursements: the contract's Reimbursement and ExpenseLine (read side)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import strawberry
from strawberry.types import Info

from schema.loaders import load
from schema.types.enums import LoanPurpose, ReimbursementStatus
from schema.types.loans import ApprovalStep, Attachment, LoanOffset
from schema.types.org import Employee
from server.domain.money import ZERO, from_fen
from server.models import ExpenseLine as LineModel
from server.models import Reimbursement as ReimbursementModel


@strawberry.type
class ExpenseLine:
    model: strawberry.Private[LineModel]

    @strawberry.field
    def category(self) -> LoanPurpose:
        return LoanPurpose(self.model.category)

    @strawberry.field
    def amount(self) -> Decimal:
        return from_fen(self.model.amount_fen)

    @strawberry.field
    def incurred_on(self) -> datetime.date:
        return self.model.incurred_on

    @strawberry.field
    def invoice_no(self) -> str | None:
        return self.model.invoice_no

    @strawberry.field
    def description(self) -> str | None:
        return self.model.description

    @strawberry.field
    async def vouchers(self, info: Info) -> list[Attachment]:
        return [Attachment(model=a) for a in await load(info, "line_vouchers", self.model.id)]


@strawberry.type
class Reimbursement:
    model: strawberry.Private[ReimbursementModel]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.model.id))

    @strawberry.field
    def number(self) -> str:
        return self.model.number

    @strawberry.field
    async def employee(self, info: Info) -> Employee:
        return Employee(model=await load(info, "employees", self.model.employee_id))

    @strawberry.field
    def status(self) -> ReimbursementStatus:
        return ReimbursementStatus(self.model.status)

    @strawberry.field
    def total(self) -> Decimal:
        return from_fen(self.model.total_fen)

    async def _offset_total(self, info: Info):  # noqa: ANN202
        rows = await load(info, "reimbursement_offsets", self.model.id)
        return sum((from_fen(r.amount_fen) for r in rows if r.state != "RELEASED"), ZERO)

    @strawberry.field
    async def offset_total(self, info: Info) -> Decimal:
        return await self._offset_total(info)

    @strawberry.field(description="total - offsetTotal: what the company pays the employee.")
    async def payable(self, info: Info) -> Decimal:
        return from_fen(self.model.total_fen) - await self._offset_total(info)

    @strawberry.field
    async def lines(self, info: Info) -> list[ExpenseLine]:
        return [ExpenseLine(model=r) for r in await load(info, "reimbursement_lines", self.model.id)]

    @strawberry.field
    async def offsets(self, info: Info) -> list[LoanOffset]:
        return [LoanOffset(model=r) for r in await load(info, "reimbursement_offsets", self.model.id)]

    @strawberry.field
    async def approvals(self, info: Info) -> list[ApprovalStep]:
        return [ApprovalStep(model=r) for r in await load(info, "reimbursement_approvals", self.model.id)]

    @strawberry.field
    def created_at(self) -> datetime.datetime:
        return self.model.created_at
