"""Payee bank details (masked) and the bank batch-payment file (网银批量付款)."""

from __future__ import annotations

import base64
import datetime
from decimal import Decimal
from enum import StrEnum

import strawberry
from strawberry.types import Info

from schema.types.common import viewer
from server.domain import payees as rules
from server.models import PayeeAccount as PayeeModel
from server.services import payees as payee_service


class _Format(StrEnum):
    CSV = payee_service.CSV
    XLSX = payee_service.XLSX


BankBatchFormat = strawberry.enum(_Format, name="BankBatchFormat",
                                  description="CSV is UTF-8 with a BOM (as Excel in China expects); XLSX one sheet.")


@strawberry.type(description="An employee's payee bank account; the number is shown masked (last four digits).")
class PayeeAccount:
    model: strawberry.Private[PayeeModel]

    @strawberry.field
    def account_name(self) -> str:
        return self.model.account_name

    @strawberry.field
    def account_no_masked(self) -> str:
        return rules.mask_account(self.model.account_no)

    @strawberry.field
    def bank(self) -> str:
        return self.model.bank

    @strawberry.field
    def branch(self) -> str:
        return self.model.branch

    @strawberry.field
    def updated_at(self) -> datetime.datetime:
        return self.model.updated_at


@strawberry.input
class PayeeAccountInput:
    account_name: str
    account_no: str
    bank: str
    branch: str | None = ""


@strawberry.type(description="What waits to be paid by bank: approved loans not yet disbursed and approved "
                             "reimbursements with a payable amount. Each download is audited.")
class BankBatchFile:
    batch: strawberry.Private[payee_service.BankBatch]

    @strawberry.field
    def filename(self) -> str:
        return self.batch.filename

    @strawberry.field
    def content_type(self) -> str:
        return self.batch.content_type

    @strawberry.field
    def content_base64(self) -> str:
        return base64.b64encode(self.batch.content).decode("ascii")

    @strawberry.field
    def row_count(self) -> int:
        return self.batch.row_count

    @strawberry.field
    def total(self) -> Decimal:
        return self.batch.total

    @strawberry.field(description="Documents left out because their employee has no payee account.")
    def missing_payees(self) -> list[str]:
        return self.batch.missing_payees


@strawberry.type
class PayeeQuery:
    @strawberry.field(description="An employee's payee account (masked), for whoever may see the employee.")
    async def payee_account(self, info: Info, employee_id: strawberry.ID) -> PayeeAccount | None:
        row = await payee_service.get_payee(viewer(info), employee_id)
        return PayeeAccount(model=row) if row else None

    @strawberry.field(description="The bank batch-payment file (FINANCE).")
    async def bank_batch_file(self, info: Info, format: BankBatchFormat) -> BankBatchFile:  # type: ignore[valid-type]
        return BankBatchFile(batch=await payee_service.bank_batch(viewer(info), format.value))


@strawberry.type
class PayeeMutation:
    @strawberry.mutation(description="Set an employee's payee account (the employee themself or HR; audited).")
    async def set_payee_account(self, info: Info, employee_id: strawberry.ID, input: PayeeAccountInput) -> PayeeAccount:
        row = await payee_service.set_payee(viewer(info), employee_id, account_name=input.account_name,
                                            account_no=input.account_no, bank=input.bank, branch=input.branch or "")
        return PayeeAccount(model=row)
