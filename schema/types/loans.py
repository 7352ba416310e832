"""Loans: the contract's Loan, ApprovalStep, Settlement, Attachment, LoanOffset; apply/decide/disburse/settle."""

from __future__ import annotations

import asyncio
import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

from schema.loaders import BATCHES, load, now_or_later, prime, selected_names
from schema.types.common import Counted, PageInfo, connection, decode_cursor, page_size, tr, tr_stored, tr_text, viewer
from schema.types.enums import (
    Decision,
    DisbursementMethod,
    LoanPurpose,
    LoanStatus,
    Role,
    SettlementMethod,
    WriteOffProposalKind,
    WriteOffProposalStatus,
)
from schema.types.org import Employee, LoanQuota
from server.domain import ledger as ledger_rules
from server.domain.money import from_fen
from server.models import ApprovalStep as StepModel
from server.models import Attachment as AttachmentModel
from server.models import LedgerEntry as EntryModel
from server.models import Loan as LoanModel
from server.models import ReimbursementOffset as OffsetModel
from server.models import WriteOffProposal as ProposalModel
from server.services import batch_approvals
from server.services import corrections as correction_service
from server.services import extensions as extension_service
from server.services import loans as loan_service
from server.services.company import FOUR_EYES_PAYOUT

if TYPE_CHECKING:
    from schema.types.alerts import Alert
    from schema.types.approvals import LoanExtension
    from schema.types.reimbursements import Reimbursement


@strawberry.type
class Attachment:
    model: strawberry.Private[AttachmentModel]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.model.id))

    @strawberry.field
    def filename(self) -> str:
        return self.model.filename

    @strawberry.field
    def content_type(self) -> str:
        return self.model.content_type

    @strawberry.field
    def size(self) -> int:
        return self.model.size

    @strawberry.field
    def sha256(self) -> str:
        return self.model.sha256

    @strawberry.field(description="Download address; the same authorization as the record it belongs to.")
    def url(self) -> str:
        return f"/files/{self.model.id}/{self.model.filename}"


@strawberry.type
class ApprovalStep:
    model: strawberry.Private[StepModel]

    @strawberry.field
    def order(self) -> int:
        return self.model.order

    @strawberry.field
    def role(self) -> Role:
        return Role(self.model.role)

    @strawberry.field
    def approver(self, info: Info) -> Employee | None:
        if self.model.approver_id is None:
            return None
        return now_or_later(info, "employees", self.model.approver_id, lambda r: Employee(model=r) if r else None)

    @strawberry.field(description="A SUPERVISOR step held by a deputy: the name of the approver it is held for.")
    async def on_behalf_of(self, info: Info) -> str | None:
        if self.model.delegated_from_id is None:  # type: ignore[attr-defined]
            return None
        row = await load(info, "employees", self.model.delegated_from_id)  # type: ignore[attr-defined]
        return row.name if row else None

    @strawberry.field
    def decision(self) -> Decision | None:
        return Decision(self.model.decision) if self.model.decision else None

    @strawberry.field(description="The decider's comment, or the system's note in the viewer's language.")
    def comment(self, info: Info) -> str | None:
        return tr_text(info, self.model.comment)

    @strawberry.field
    def decided_at(self) -> datetime.datetime | None:
        return self.model.decided_at

    @strawberry.field(description="True when the step was skipped (no supervisor to ask).")
    def skipped(self) -> bool:
        return self.model.skipped

    @strawberry.field(description="True for the step waiting for a decision.")
    def is_current(self) -> bool:
        return self.model.is_current


@strawberry.type
class Settlement:
    model: strawberry.Private[EntryModel]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.model.id))

    @strawberry.field
    def method(self) -> SettlementMethod:
        return SettlementMethod(self.model.kind)

    @strawberry.field
    def amount(self) -> Decimal:
        return from_fen(-self.model.delta_fen)

    @strawberry.field
    def note(self) -> str | None:
        return self.model.note

    @strawberry.field
    def recorded_at(self) -> datetime.datetime:
        return self.model.recorded_at

    @strawberry.field(description="Who recorded it (the employee's name, else the username).")
    async def recorded_by(self, info: Info) -> str | None:
        if self.model.recorded_by_id is None:
            return None
        return await load(info, "user_labels", self.model.recorded_by_id)

    @strawberry.field(description="The receipt's photo, the payslip: files recorded with the settlement.")
    async def attachments(self, info: Info) -> list[Attachment]:
        return [Attachment(model=a) for a in await load(info, "entry_attachments", self.model.id)]

    @strawberry.field(description="The reversal that undid this settlement, if any (it then no longer counts).")
    async def reversed_by(self, info: Info) -> SettlementReversal | None:
        entries = await load(info, "loan_ledgers", self.model.loan_id)
        found = next((e for e in entries if e.kind == ledger_rules.REVERSAL and e.reverses_id == self.model.id), None)
        return SettlementReversal(model=found) if found else None

    @strawberry.field(description="True when the viewer may reverse it now (for a write-off: propose the reversal).")
    async def viewer_can_reverse(self, info: Info) -> bool:
        loan = await load(info, "loans", self.model.loan_id)
        entries = await load(info, "loan_ledgers", self.model.loan_id)
        return correction_service.may_reverse(viewer(info), loan, self.model, entries)


@strawberry.type(description="A correction: the ledger entry that undoes a settlement (never an edit of it).")
class SettlementReversal:
    model: strawberry.Private[EntryModel]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.model.id))

    @strawberry.field(description="What the reversal puts back on the loan's balance.")
    def amount(self) -> Decimal:
        return from_fen(self.model.delta_fen)

    @strawberry.field
    def reason(self) -> str | None:
        return self.model.note

    @strawberry.field
    def recorded_at(self) -> datetime.datetime:
        return self.model.recorded_at

    @strawberry.field
    async def reverses(self, info: Info) -> Settlement:
        entries = await load(info, "loan_ledgers", self.model.loan_id)
        return Settlement(model=next(e for e in entries if e.id == self.model.reverses_id))


@strawberry.type(description="A write-off, or a write-off's reversal, proposed by FINANCE for an ADMIN to decide.")
class WriteOffProposal:
    model: strawberry.Private[ProposalModel]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.model.id))

    @strawberry.field
    def kind(self) -> WriteOffProposalKind:
        return WriteOffProposalKind(self.model.kind)

    @strawberry.field
    def status(self) -> WriteOffProposalStatus:
        return WriteOffProposalStatus(self.model.status)

    @strawberry.field
    def amount(self) -> Decimal:
        return from_fen(self.model.amount_fen)

    @strawberry.field
    def reason(self) -> str:
        return self.model.reason

    @strawberry.field(description="The proposer's name (or username when the account has no employee record).")
    async def proposed_by(self, info: Info) -> str:
        return await _person(info, self.model.proposer_employee_id, self.model.proposed_by_id)

    @strawberry.field
    def proposed_at(self) -> datetime.datetime:
        return self.model.proposed_at

    @strawberry.field
    async def decided_by(self, info: Info) -> str | None:
        if self.model.decided_by_id is None and self.model.decided_at is None:
            return None
        return await _person(info, None, self.model.decided_by_id)

    @strawberry.field
    def decided_at(self) -> datetime.datetime | None:
        return self.model.decided_at

    @strawberry.field
    def comment(self) -> str | None:
        return self.model.comment

    @strawberry.field(description="For a REVERSAL: the write-off it would undo.")
    async def reverses(self, info: Info) -> Settlement | None:
        if self.model.reverses_id is None:
            return None
        entries = await load(info, "loan_ledgers", self.model.loan_id)
        return Settlement(model=next(e for e in entries if e.id == self.model.reverses_id))

    @strawberry.field(description="True when the viewer may approve or reject it (ADMIN, not the proposer).")
    async def viewer_can_decide(self, info: Info) -> bool:
        if self.model.status != correction_service.PENDING:
            return False
        loan = await load(info, "loans", self.model.loan_id)
        return correction_service.may_decide(viewer(info), loan, self.model)


async def _person(info: Info, employee_id: int | None, user_id: int | None) -> str:
    if employee_id is not None:
        row = await load(info, "employees", employee_id)
        if row is not None:
            return row.name
    if user_id is not None:
        return await correction_service.username_of(user_id)
    return "system"


@strawberry.type(description="One line of a loan's append-only ledger (beyond the contract: the full history).")
class LedgerEntry:
    model: strawberry.Private[EntryModel]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.model.id))

    @strawberry.field
    def kind(self) -> str:
        return self.model.kind

    @strawberry.field(description="Signed: + disbursement, - offsets and settlements.")
    def delta(self) -> Decimal:
        return from_fen(self.model.delta_fen)

    @strawberry.field
    def note(self) -> str | None:
        return self.model.note

    @strawberry.field
    def recorded_at(self) -> datetime.datetime:
        return self.model.recorded_at

    @strawberry.field(description="For a REVERSAL: the entry it undoes.")
    def reverses_id(self) -> strawberry.ID | None:
        return strawberry.ID(str(self.model.reverses_id)) if self.model.reverses_id else None

    @strawberry.field(description="Who recorded it (the employee's name, else the username); null for the system.")
    async def recorded_by(self, info: Info) -> str | None:
        if self.model.recorded_by_id is None:
            return None
        return await load(info, "user_labels", self.model.recorded_by_id)


@strawberry.type(description="How and when a loan's money went out, and who recorded it.")
class Disbursement:
    model: strawberry.Private[EntryModel]

    @strawberry.field(description="Null for loans disbursed before the method was recorded.")
    def method(self) -> DisbursementMethod | None:
        return DisbursementMethod(self.model.method) if self.model.method else None

    @strawberry.field(description="The bank transfer's transaction number (or the cash receipt's), if recorded.")
    def reference(self) -> str | None:
        return self.model.reference

    @strawberry.field(description="The day the money went out (company time zone).")
    def paid_on(self) -> datetime.date | None:
        return self.model.paid_on

    @strawberry.field
    def recorded_at(self) -> datetime.datetime:
        return self.model.recorded_at

    @strawberry.field(description="Who recorded it (the employee's name, else the username).")
    async def recorded_by(self, info: Info) -> str | None:
        if self.model.recorded_by_id is None:
            return None
        return await load(info, "user_labels", self.model.recorded_by_id)


@strawberry.type
class LoanOffset:
    model: strawberry.Private[OffsetModel]

    @strawberry.field
    async def loan(self, info: Info) -> Loan:
        return Loan(model=await load(info, "loans", self.model.loan_id))

    @strawberry.field
    async def reimbursement(
        self, info: Info
    ) -> Annotated[Reimbursement, strawberry.lazy("schema.types.reimbursements")]:
        from schema.types.reimbursements import Reimbursement

        return Reimbursement(model=await load(info, "reimbursements", self.model.reimbursement_id))

    @strawberry.field
    def amount(self) -> Decimal:
        return from_fen(self.model.amount_fen)

    @strawberry.field(description="RESERVED while the reimbursement is pending, APPLIED once approved.")
    def state(self) -> str:
        return self.model.state


async def loan_batch_warning(info: Info, loan: LoanModel) -> Any:
    """Why the loan is left out of a batch approval (batch_approvals.loan_warning over the inbox's alerts)."""
    applicant, own = await asyncio.gather(load(info, "employee_alerts", loan.employee_id),
                                          load(info, "loan_alerts", loan.id))
    return batch_approvals.loan_warning(applicant, own)


@strawberry.type(description="What the viewer may do on a loan now: each flag is true exactly when the mutation "
                              "would not be refused for permission or state (amounts are the viewer's input).")
class LoanViewerCan:
    model: strawberry.Private[LoanModel]

    @strawberry.field(description="decideLoan")
    async def decide(self, info: Info) -> bool:
        steps = await load(info, "loan_approvals", self.model.id)
        return loan_service.decide_refusal(viewer(info), self.model, steps) is None

    @strawberry.field(description="decideLoans with APPROVE: decideLoan allowed and no warning (batchWarning null).")
    async def batch_approve(self, info: Info) -> bool:
        return await self.decide(info) and await loan_batch_warning(info, self.model) is None

    @strawberry.field(description="requestLoanExtension (the borrower, a disbursed loan, no extension waiting)")
    async def request_extension(self, info: Info) -> bool:
        rows = await load(info, "loan_extensions", self.model.id)
        pending = any(r.status == extension_service.PENDING for r in rows)
        return extension_service.request_refusal(viewer(info), self.model, pending) is None

    @strawberry.field(description="cancelLoan")
    def cancel(self, info: Info) -> bool:
        return loan_service.cancel_refusal(viewer(info), self.model) is None

    @strawberry.field(description="disburseLoan")
    async def disburse(self, info: Info) -> bool:
        employee = await load(info, "employees", self.model.employee_id)
        four_eyes = bool(await load(info, "settings", FOUR_EYES_PAYOUT))
        steps = await load(info, "loan_approvals", self.model.id) if four_eyes else []
        return loan_service.disburse_refusal(viewer(info), self.model, employee.status, four_eyes, steps) is None

    @strawberry.field(description="settleLoan with CASH_RETURN or SALARY_DEDUCTION")
    def settle(self, info: Info) -> bool:
        return any(loan_service.settle_refusal(viewer(info), self.model, m) is None
                   for m in (SettlementMethod.CASH_RETURN, SettlementMethod.SALARY_DEDUCTION))

    async def may_propose_write_off(self, info: Info) -> bool:
        rows = await load(info, "loan_write_off_proposals", self.model.id)
        return correction_service.propose_write_off_refusal(viewer(info), self.model, rows) is None

    async def may_approve_write_off(self, info: Info) -> bool:
        rows = await load(info, "loan_write_off_proposals", self.model.id)
        return correction_service.approve_write_off_refusal(viewer(info), self.model, rows) is None

    @strawberry.field(description="proposeWriteOff (or settleLoan with WRITE_OFF as FINANCE)")
    async def propose_write_off(self, info: Info) -> bool:
        return await self.may_propose_write_off(info)

    @strawberry.field(description="approveWriteOff and rejectWriteOff on the pending proposal")
    async def approve_write_off(self, info: Info) -> bool:
        return await self.may_approve_write_off(info)

    @strawberry.field(description="proposeWriteOff or approveWriteOff: the viewer has a part in writing it off now")
    async def write_off(self, info: Info) -> bool:
        return await self.may_propose_write_off(info) or await self.may_approve_write_off(info)


@strawberry.type
class Loan:
    model: strawberry.Private[LoanModel]

    @strawberry.field(description="The risk alerts about this loan the viewer may see, open first (batched per page).")
    async def alerts(self, info: Info) -> list[Annotated[Alert, strawberry.lazy("schema.types.alerts")]]:
        from schema.types.alerts import Alert

        return [Alert(model=r) for r in await load(info, "loan_alerts", self.model.id)]

    @strawberry.field(description="What the viewer may do on this loan now (computed by the enforcing services).")
    def viewer_can(self) -> LoanViewerCan:
        return LoanViewerCan(model=self.model)

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.model.id))

    @strawberry.field
    def number(self) -> str:
        return self.model.number

    @strawberry.field
    def employee(self, info: Info) -> Employee:
        return now_or_later(info, "employees", self.model.employee_id, lambda r: Employee(model=r))

    @strawberry.field
    def amount(self) -> Decimal:
        return from_fen(self.model.amount_fen)

    @strawberry.field
    def purpose(self) -> LoanPurpose:
        return LoanPurpose(self.model.purpose)

    @strawberry.field
    def description(self) -> str:
        return self.model.description

    @strawberry.field
    def expected_settle_date(self) -> datetime.date:
        return self.model.expected_settle_date

    @strawberry.field
    def status(self) -> LoanStatus:
        return LoanStatus(self.model.status)

    @strawberry.field(description="Why the loan was rejected, in the viewer's language.")
    def rejection_reason(self, info: Info) -> str | None:
        return tr_stored(info, self.model.rejection_message, self.model.rejection_reason)

    @strawberry.field(description="Why a PENDING_APPROVAL loan can be decided by nobody (no other holder of the "
                                  "waiting step's role: one person, one step; never the applicant); null otherwise.")
    async def blocked_reason(self, info: Info) -> str | None:
        if self.model.status != LoanStatus.PENDING_APPROVAL:
            return None
        return tr(info, await load(info, "loan_blocked", self.model.id))

    @strawberry.field(description="Why the loan is not approved in a batch (unresolved alerts on it or its applicant "
                                  "that the viewer sees); null when it may be.")
    async def batch_warning(self, info: Info) -> str | None:
        return tr(info, await loan_batch_warning(info, self.model))

    @strawberry.field(description="amount less offsets and settlements, once disbursed; 0 before.")
    def outstanding(self, info: Info) -> Decimal:
        return now_or_later(info, "outstanding", self.model.id, lambda v: v)

    @strawberry.field
    def days_overdue(self, info: Info) -> int:
        return now_or_later(info, "outstanding", self.model.id, lambda v: loan_service.overdue_days(self.model, v))

    @strawberry.field
    def created_at(self) -> datetime.datetime:
        return self.model.created_at

    @strawberry.field
    def disbursed_at(self) -> datetime.datetime | None:
        return self.model.disbursed_at

    @strawberry.field
    def settled_at(self) -> datetime.datetime | None:
        return self.model.settled_at

    @strawberry.field
    def approvals(self, info: Info) -> list[ApprovalStep]:
        return now_or_later(info, "loan_approvals", self.model.id, lambda rows: [ApprovalStep(model=r) for r in rows])

    @strawberry.field(description="Settle-date extensions asked for (延期申请), oldest first.")
    async def extensions(self, info: Info) -> list[Annotated[LoanExtension, strawberry.lazy("schema.types.approvals")]]:
        from schema.types.approvals import LoanExtension

        return [LoanExtension(model=r) for r in await load(info, "loan_extensions", self.model.id)]

    @strawberry.field
    async def offsets(self, info: Info) -> list[LoanOffset]:
        return [LoanOffset(model=r) for r in await load(info, "loan_offsets", self.model.id)]

    @strawberry.field
    def settlements(self, info: Info) -> list[Settlement]:
        return now_or_later(info, "loan_ledgers", self.model.id,
                            lambda entries: [Settlement(model=e) for e in entries if e.kind in ledger_rules.SETTLEMENT_KINDS])

    @strawberry.field(description="Corrections: reversals of settlements, oldest first.")
    async def reversals(self, info: Info) -> list[SettlementReversal]:
        entries = await load(info, "loan_ledgers", self.model.id)
        return [SettlementReversal(model=e) for e in entries if e.kind == ledger_rules.REVERSAL]

    @strawberry.field(description="The write-off (or write-off reversal) waiting for an ADMIN, if any.")
    async def pending_write_off(self, info: Info) -> WriteOffProposal | None:
        rows = await load(info, "loan_write_off_proposals", self.model.id)
        pending = [r for r in rows if r.status == correction_service.PENDING]
        return WriteOffProposal(model=pending[-1]) if pending else None

    @strawberry.field(description="Every write-off proposal on the loan and its decision, oldest first.")
    async def write_off_proposals(self, info: Info) -> list[WriteOffProposal]:
        return [WriteOffProposal(model=r) for r in await load(info, "loan_write_off_proposals", self.model.id)]

    @strawberry.field(description="True when the viewer may propose a write-off now (FINANCE, not their own loan).")
    async def viewer_can_propose_write_off(self, info: Info) -> bool:
        return await LoanViewerCan(model=self.model).may_propose_write_off(info)

    @strawberry.field(description="How and when the money went out; null before disbursement.")
    async def disbursement(self, info: Info) -> Disbursement | None:
        entries = await load(info, "loan_ledgers", self.model.id)
        found = next((e for e in entries if e.kind == ledger_rules.DISBURSEMENT), None)
        return Disbursement(model=found) if found else None

    @strawberry.field
    async def ledger(self, info: Info) -> list[LedgerEntry]:
        return [LedgerEntry(model=e) for e in await load(info, "loan_ledgers", self.model.id)]

    @strawberry.field
    def attachments(self, info: Info) -> list[Attachment]:
        return now_or_later(info, "loan_attachments", self.model.id, lambda rows: [Attachment(model=a) for a in rows])


async def prime_loans(info: Info, rows: list[LoanModel]) -> None:
    """Load what the selection asks about a page of loans in two rounds of batches, so the fields
    answer synchronously (see schema/loaders.py)."""
    names = selected_names(info)
    ids = [r.id for r in rows]
    wants_ledger = "settlements" in names or "ledger" in names or "disbursement" in names
    wants_balance = "outstanding" in names or "daysOverdue" in names
    first: dict[str, Any] = {}
    if "employee" in names:
        first["employees"] = prime(info, "employees", [r.employee_id for r in rows])
    if "approvals" in names:
        first["loan_approvals"] = prime(info, "loan_approvals", ids)
    if wants_ledger:
        first["loan_ledgers"] = prime(info, "loan_ledgers", ids)
    elif wants_balance:
        first["outstanding"] = prime(info, "outstanding", ids)
    if "attachments" in names:
        first["loan_attachments"] = prime(info, "loan_attachments", ids)
    if not first:
        return
    done = dict(zip(first, await asyncio.gather(*first.values()), strict=True))
    if wants_ledger and wants_balance:
        # The balance is the sum of the entries just read: no second statement over the same rows.
        balances = {i: ledger_rules.balance([ledger_rules.Entry(e.kind, from_fen(e.delta_fen)) for e in entries])
                    for i, entries in zip(ids, done["loan_ledgers"], strict=True)}
        info.context.loader("outstanding", BATCHES["outstanding"]).prime_many(balances)
    second = []
    employees = [e for e in done.get("employees", []) if e is not None]
    if "position" in names and employees:
        second.append(prime(info, "positions", [e.position_id for e in employees]))
    if "department" in names and employees:
        second.append(prime(info, "departments", [e.department_id for e in employees]))
    if "approver" in names and "loan_approvals" in done:
        steps = [s for group in done["loan_approvals"] for s in group]
        second.append(prime(info, "employees", [s.approver_id for s in steps if s.approver_id is not None]))
    await asyncio.gather(*second)


@strawberry.type
class LoanEdge:
    node: Loan
    cursor: str


@strawberry.type
class LoanConnection(Counted):
    edges: list[LoanEdge]
    page_info: PageInfo

    @strawberry.field(description="Sum of amount over every loan of the list (not the page); computed only when asked.")
    async def total_amount(self) -> Decimal:
        return await loan_service.sum_amount(self.page.query)

    @strawberry.field(description="Sum of outstanding over every loan of the list; computed only when asked.")
    async def total_outstanding(self) -> Decimal:
        return await loan_service.sum_outstanding(self.page.query)

    @strawberry.field(description="Loans of the list that are open and past their expected settle date.")
    async def overdue_count(self) -> int:
        return await loan_service.count_overdue(self.page.query)

    @strawberry.field(description="Outstanding on the list's overdue loans.")
    async def overdue_outstanding(self) -> Decimal:
        return await loan_service.sum_overdue(self.page.query)


@strawberry.type(description="What the application form shows while the amount is typed.")
class LoanPreview:
    quota: LoanQuota
    after: Decimal | None
    rejection_reason: str | None


@strawberry.input
class LoanApplicationInput:
    amount: Decimal
    purpose: LoanPurpose
    description: str
    expected_settle_date: datetime.date | None = strawberry.field(
        default=None, description="Defaults to today plus the position's settleDays."
    )
    attachments: list[Upload] | None = None


@strawberry.type
class LoanQuery:
    @strawberry.field
    async def loan(self, info: Info, id: strawberry.ID) -> Loan | None:
        row = await loan_service.get_loan(viewer(info), id)
        return Loan(model=row) if row else None

    @strawberry.field
    async def loans(
        self, info: Info, employee_id: strawberry.ID | None = None, status: list[LoanStatus] | None = None,
        first: int | None = 50, after: str | None = None,
    ) -> LoanConnection:
        position = decode_cursor(after)
        page = await loan_service.list_loans(
            viewer(info), employee_id, [s.value for s in status or []], page_size(first), position
        )
        await prime_loans(info, page.rows)
        return connection(page, Loan, LoanEdge, LoanConnection)

    @strawberry.field(description="Loans and reimbursements waiting for the viewer's decision.")
    async def pending_loan_approvals(self, info: Info) -> list[Loan]:
        rows = await loan_service.pending_loan_approvals(viewer(info))
        await prime_loans(info, rows)
        return [Loan(model=r) for r in rows]

    @strawberry.field(description="pendingLoanApprovals paged (keyset, oldest first): the approval inbox.")
    async def loan_approval_inbox(self, info: Info, first: int | None = 50, after: str | None = None) -> LoanConnection:
        page = await loan_service.loan_approval_inbox(viewer(info), page_size(first), decode_cursor(after))
        await prime_loans(info, page.rows)
        return connection(page, Loan, LoanEdge, LoanConnection)

    @strawberry.field(description="Disbursed loans not yet settled, most overdue first over all of them (finance).")
    async def open_loans_by_overdue(
        self, info: Info, first: int | None = 50, after: str | None = None,
    ) -> LoanConnection:
        page = await loan_service.open_loans_by_overdue(viewer(info), page_size(first), decode_cursor(after))
        await prime_loans(info, page.rows)
        return connection(page, Loan, LoanEdge, LoanConnection)

    @strawberry.field(description="The viewer's quota and what an amount would leave (application form).")
    async def loan_preview(self, info: Info, amount: str | None = None) -> LoanPreview:
        quota, after, reason = await loan_service.preview_quota(viewer(info), amount)
        return LoanPreview(
            quota=LoanQuota(limit=quota.limit, committed=quota.committed, available=quota.available,
                            monthly_limit=quota.monthly_limit, monthly_used=quota.monthly_used),
            after=after, rejection_reason=tr(info, reason),
        )


@strawberry.type
class LoanMutation:
    @strawberry.mutation(description="The viewer applies for a loan for themself.")
    async def apply_for_loan(self, info: Info, input: LoanApplicationInput) -> Loan:
        application = loan_service.LoanApplication(
            amount=input.amount, purpose=input.purpose.value, description=input.description,
            expected_settle_date=input.expected_settle_date, attachments=input.attachments,
        )
        return Loan(model=await loan_service.apply_for_loan(viewer(info), application))

    @strawberry.mutation
    async def decide_loan(
        self, info: Info, loan_id: strawberry.ID, decision: Decision, comment: str | None = None
    ) -> Loan:
        return Loan(model=await loan_service.decide_loan(viewer(info), loan_id, decision.value, comment))

    @strawberry.mutation
    async def cancel_loan(self, info: Info, loan_id: strawberry.ID) -> Loan:
        return Loan(model=await loan_service.cancel_loan(viewer(info), loan_id))

    @strawberry.mutation(description=(
        "Pay an approved loan out. `method` defaults to BANK_TRANSFER (recorded without a reference when "
        "no method is named); naming BANK_TRANSFER requires `reference`, the bank's transaction number. "
        "`paidOn` defaults to today and may be neither in the future nor before the approval."))
    async def disburse_loan(
        self, info: Info, loan_id: strawberry.ID, method: DisbursementMethod | None = None,
        reference: str | None = None, paid_on: datetime.date | None = None,
    ) -> Loan:
        return Loan(model=await loan_service.disburse_loan(
            viewer(info), loan_id, method.value if method else None, reference, paid_on))

    @strawberry.mutation(description=(
        "Record a cash return or a salary deduction (or, as FINANCE, propose a write-off). `attachments`: the "
        "cash receipt's photo or the payslip (GraphQL multipart uploads, as applyForLoan's), shown on the "
        "settlement and downloadable by whoever may see the loan; not taken with a write-off."))
    async def settle_loan(
        self, info: Info, loan_id: strawberry.ID, method: SettlementMethod, amount: Decimal,
        note: str | None = None, attachments: list[Upload] | None = None,
    ) -> Loan:
        return Loan(model=await loan_service.settle_loan(viewer(info), loan_id, method.value, amount, note,
                                                         attachments))
