"""Offboarding clearance (离职清款): the contract's Offboarding; start, confirm, complete, cancel."""

from __future__ import annotations

import asyncio
import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from schema.loaders import load
from schema.types.common import Counted, PageInfo, connection, decode_cursor, page_size, tr, viewer
from schema.types.enums import OffboardingStatus
from schema.types.org import Employee
from server.domain.vocab import Role
from server.models import Offboarding as OffboardingModel
from server.services import certificates as certificate_service
from server.services import offboarding as offboarding_service

if TYPE_CHECKING:
    from schema.types.loans import Loan
    from schema.types.reimbursements import Reimbursement


async def _clearance(info: Info, model: OffboardingModel) -> offboarding_service.Clearance:
    return await load(info, "clearances", model.employee_id)


@strawberry.type(description="What the viewer may do on an offboarding now: true exactly when the mutation would "
                              "not be refused for permission or state.")
class OffboardingViewerCan:
    model: strawberry.Private[OffboardingModel]

    @strawberry.field(description="confirmClearance")
    async def confirm(self, info: Info) -> bool:
        c = await _clearance(info, self.model)
        return offboarding_service.confirm_refusal(viewer(info), self.model, c) is None

    @strawberry.field(description="completeOffboarding")
    async def complete(self, info: Info) -> bool:
        c = await _clearance(info, self.model)
        return offboarding_service.complete_refusal(viewer(info), self.model, c) is None

    @strawberry.field(description="cancelOffboarding")
    def cancel(self, info: Info) -> bool:
        return offboarding_service.cancel_refusal(viewer(info), self.model) is None

    @strawberry.field(description="settleLoan on the leaver's open loans while the clearance is pending "
                                  "(each loan's own viewerCan.settle has the last word)")
    def settle(self, info: Info) -> bool:
        return offboarding_service.settle_refusal(viewer(info), self.model) is None

    @strawberry.field(description="The reason confirmClearance would be refused now, for a viewer whose duty it is "
                                  "(FINANCE); null when it is allowed or not the viewer's duty.")
    async def confirm_refused_because(self, info: Info) -> str | None:
        c = await _clearance(info, self.model)
        return tr(info, offboarding_service.duty_refusal_message(
            viewer(info), Role.FINANCE, offboarding_service.confirm_refusal(viewer(info), self.model, c)))

    @strawberry.field(description="The reason completeOffboarding would be refused now, for a viewer whose duty it "
                                  "is (HR); null when it is allowed or not the viewer's duty.")
    async def complete_refused_because(self, info: Info) -> str | None:
        c = await _clearance(info, self.model)
        return tr(info, offboarding_service.duty_refusal_message(
            viewer(info), Role.HR, offboarding_service.complete_refusal(viewer(info), self.model, c)))


@strawberry.type
class Offboarding:
    model: strawberry.Private[OffboardingModel]

    @strawberry.field(description="What the viewer may do on this offboarding now (from the enforcing services).")
    def viewer_can(self) -> OffboardingViewerCan:
        return OffboardingViewerCan(model=self.model)

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.model.id))

    @strawberry.field
    async def employee(self, info: Info) -> Employee:
        return Employee(model=await load(info, "employees", self.model.employee_id))

    @strawberry.field
    def status(self) -> OffboardingStatus:
        return OffboardingStatus(self.model.status)

    @strawberry.field
    def last_working_day(self) -> datetime.date:
        return self.model.last_working_day

    @strawberry.field
    def reason(self) -> str | None:
        return self.model.reason

    @strawberry.field(description="Owed now on the employee's loans, from the ledger: it updates as money comes in.")
    async def outstanding(self, info: Info) -> Decimal:
        return (await _clearance(info, self.model)).outstanding

    @strawberry.field(description="Loans with a balance, oldest first.")
    async def open_loans(self, info: Info) -> list[Annotated[Loan, strawberry.lazy("schema.types.loans")]]:
        from schema.types.loans import Loan

        return [Loan(model=x.loan) for x in (await _clearance(info, self.model)).loans]

    @strawberry.field(description="Reimbursements pending approval that still reserve an offset on a loan.")
    async def pending_reimbursements(
        self, info: Info
    ) -> list[Annotated[Reimbursement, strawberry.lazy("schema.types.reimbursements")]]:
        from schema.types.reimbursements import Reimbursement

        ids = (await _clearance(info, self.model)).pending_reimbursement_ids
        rows = await asyncio.gather(*(load(info, "reimbursements", i) for i in ids))
        return [Reimbursement(model=r) for r in rows if r]

    @strawberry.field(description="Why clearance cannot be confirmed now (loans and amounts); empty when clear.")
    async def blockers(self, info: Info) -> list[str]:
        return [tr(info, m) or "" for m in (await _clearance(info, self.model)).blockers]

    @strawberry.field
    async def cleared_by(self, info: Info) -> Employee | None:
        if self.model.cleared_by_id is None:
            return None
        row = await load(info, "employees", self.model.cleared_by_id)
        return Employee(model=row) if row else None

    @strawberry.field
    def cleared_at(self) -> datetime.datetime | None:
        return self.model.cleared_at

    @strawberry.field
    def completed_at(self) -> datetime.datetime | None:
        return self.model.completed_at

    @strawberry.field
    def cancelled_at(self) -> datetime.datetime | None:
        return self.model.cancelled_at

    @strawberry.field(description="When the offboarding was started.")
    def created_at(self) -> datetime.datetime:
        return self.model.created_at


@strawberry.type(description="One loan on the 离职清款证明: what was borrowed and how it was settled.")
class CertificateLoan:
    number: str
    amount: Decimal
    disbursed_on: datetime.date | None
    settled_on: datetime.date | None
    status_label: str = strawberry.field(description="The loan's state in Chinese, as printed (已结清, 已核销).")
    offset: Decimal
    cash_return: Decimal
    salary_deduction: Decimal
    write_off: Decimal
    notes: list[str] = strawberry.field(description="Receipt, payroll and write-off references of its settlements.")


@strawberry.type(description="The data of the printable 离职清款证明, available once finance confirmed the clearance.")
class ClearanceCertificate:
    number: str
    offboarding_id: strawberry.ID
    status: OffboardingStatus
    employee_no: str
    employee_name: str
    department: str
    position: str
    hire_date: datetime.date
    last_working_day: datetime.date
    reason: str | None
    loans: list[CertificateLoan]
    total_borrowed: Decimal
    total_offset: Decimal
    total_cash_return: Decimal
    total_salary_deduction: Decimal
    total_write_off: Decimal
    outstanding: Decimal
    cleared_by_name: str
    cleared_by_no: str | None
    cleared_at: datetime.datetime = strawberry.field(description="When finance confirmed, in the company's time zone.")
    cleared_on: datetime.date
    completed_at: datetime.datetime | None
    issued_on: datetime.date
    verification_code: str | None = strawberry.field(
        default=None, description="Random code of /verify/<code>, printed with its QR code (the number alone reveals nothing).")
    company_name: str = strawberry.field(default="", description="The COMPANY_NAME setting, printed on the certificate.")

    @classmethod
    def of(cls, cert: offboarding_service.Certificate) -> ClearanceCertificate:
        loans = [CertificateLoan(
            number=x.number, amount=x.amount, disbursed_on=x.disbursed_on, settled_on=x.settled_on,
            status_label=x.status, offset=x.offset, cash_return=x.cash_return, salary_deduction=x.salary_deduction,
            write_off=x.write_off, notes=list(x.notes),
        ) for x in cert.loans]
        return cls(
            number=cert.number, offboarding_id=strawberry.ID(str(cert.offboarding_id)),
            status=OffboardingStatus(cert.status), employee_no=cert.employee_no, employee_name=cert.employee_name,
            department=cert.department, position=cert.position, hire_date=cert.hire_date,
            last_working_day=cert.last_working_day, reason=cert.reason, loans=loans,
            total_borrowed=cert.total_borrowed, total_offset=cert.total_offset,
            total_cash_return=cert.total_cash_return, total_salary_deduction=cert.total_salary_deduction,
            total_write_off=cert.total_write_off, outstanding=cert.outstanding, cleared_by_name=cert.cleared_by_name,
            cleared_by_no=cert.cleared_by_no, cleared_at=cert.cleared_at, cleared_on=cert.cleared_on,
            completed_at=cert.completed_at, issued_on=cert.issued_on,
        )


@strawberry.type
class OffboardingEdge:
    node: Offboarding
    cursor: str


@strawberry.type
class OffboardingConnection(Counted):
    edges: list[OffboardingEdge]
    page_info: PageInfo


@strawberry.type
class OffboardingQuery:
    @strawberry.field
    async def offboarding(self, info: Info, id: strawberry.ID) -> Offboarding | None:
        row = await offboarding_service.get_offboarding(viewer(info), id)
        return Offboarding(model=row) if row else None

    @strawberry.field(description="The 离职清款证明 of an offboarding; CONFLICT until finance has confirmed it.")
    async def clearance_certificate(self, info: Info, offboarding_id: strawberry.ID) -> ClearanceCertificate:
        cert = ClearanceCertificate.of(await offboarding_service.clearance_certificate(viewer(info), offboarding_id))
        cert.verification_code = await certificate_service.code_for(viewer(info), int(cert.offboarding_id))
        cert.company_name = await certificate_service.company_name()
        return cert

    @strawberry.field(description="Offboardings the viewer may see, newest first (HR's list).")
    async def offboardings(
        self, info: Info, status: list[OffboardingStatus] | None = None, first: int | None = 50,
        after: str | None = None,
    ) -> OffboardingConnection:
        position = decode_cursor(after)
        page = await offboarding_service.list_offboardings(
            viewer(info), [s.value for s in status or []], page_size(first), position)
        return connection(page, Offboarding, OffboardingEdge, OffboardingConnection)


@strawberry.type
class OffboardingMutation:
    @strawberry.mutation
    async def start_offboarding(
        self, info: Info, employee_id: strawberry.ID, last_working_day: datetime.date, reason: str | None = None,
    ) -> Offboarding:
        return Offboarding(model=await offboarding_service.start_offboarding(
            viewer(info), employee_id, last_working_day, reason))

    @strawberry.mutation(description="Finance confirms that nothing is owed; CLEARANCE_BLOCKED while anything is.")
    async def confirm_clearance(self, info: Info, offboarding_id: strawberry.ID) -> Offboarding:
        return Offboarding(model=await offboarding_service.confirm_clearance(viewer(info), offboarding_id))

    @strawberry.mutation(description="HR completes the exit; CLEARANCE_BLOCKED until clearance is confirmed.")
    async def complete_offboarding(self, info: Info, offboarding_id: strawberry.ID) -> Offboarding:
        return Offboarding(model=await offboarding_service.complete_offboarding(viewer(info), offboarding_id))

    @strawberry.mutation(description="HR cancels an open offboarding: the employee stays, ACTIVE again.")
    async def cancel_offboarding(self, info: Info, offboarding_id: strawberry.ID) -> Offboarding:
        return Offboarding(model=await offboarding_service.cancel_offboarding(viewer(info), offboarding_id))
