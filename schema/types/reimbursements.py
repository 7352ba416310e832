"""Reimbursements: the contract's Reimbursement and ExpenseLine; submit/decide/pay; offset preview."""

from __future__ import annotations

import asyncio
import datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

from schema.loaders import load
from schema.types.common import Counted, PageInfo, connection, decode_cursor, page_size, tr, viewer
from schema.types.enums import Decision, LoanPurpose, ReimbursementStatus
from schema.types.loans import ApprovalStep, Attachment, Loan, LoanOffset
from schema.types.org import Employee
from server.domain import offsets, vocab
from server.domain.money import ZERO, from_fen
from server.domain.vocab import OffsetState
from server.models import ExpenseLine as LineModel
from server.models import Reimbursement as ReimbursementModel
from server.services import batch_approvals, duplicates
from server.services import reimbursement_totals as totals
from server.services import reimbursements as service
from server.services.company import FOUR_EYES_PAYOUT

DuplicateKind = strawberry.enum(vocab.DuplicateKind, name="DuplicateKind",
                                description="What an expense line shares with another reimbursement.")


@strawberry.type(description="Another reimbursement carrying the same invoice number or voucher file.")
class DuplicateUse:
    use: strawberry.Private[duplicates.DuplicateUse]

    @strawberry.field
    def kind(self) -> DuplicateKind:
        return DuplicateKind(self.use.kind)

    @strawberry.field
    def reimbursement_id(self) -> strawberry.ID:
        return strawberry.ID(str(self.use.reimbursement_id))

    @strawberry.field
    def reimbursement_number(self) -> str:
        return self.use.number

    @strawberry.field
    def reimbursement_status(self) -> ReimbursementStatus:
        return ReimbursementStatus(self.use.status)

    @strawberry.field(description="True when the other reimbursement is the same employee's.")
    def same_employee(self) -> bool:
        return self.use.same_employee

    @strawberry.field
    def invoice_no(self) -> str | None:
        return self.use.invoice_no

    @strawberry.field(description="The voucher's file name on this line (VOUCHER_FILE).")
    def filename(self) -> str | None:
        return self.use.filename


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

    @strawberry.field(description="True when the line has no voucher: allowed, but flagged (voucher compliance).")
    async def voucher_missing(self, info: Info) -> bool:
        return not await load(info, "line_vouchers", self.model.id)

    @strawberry.field(description=(
        "Other reimbursements with the same invoice number or voucher file (a warning for approvers; "
        "submission refuses these unless the other one was rejected). The employee sees only their own."
    ))
    async def duplicates(self, info: Info) -> list[DuplicateUse]:
        uses = await info.context.loader("line_duplicates", duplicates.duplicates_by_line).load(self.model.id)
        return [DuplicateUse(use=u) for u in duplicates.duplicates_visible_to(viewer(info), uses)]


async def reimbursement_batch_warning(info: Info, row: ReimbursementModel) -> Any:
    """Why it is left out of a batch approval (batch_approvals.reimbursement_warning over its lines)."""
    lines = await load(info, "reimbursement_lines", row.id)
    loader = info.context.loader("line_duplicates", duplicates.duplicates_by_line)
    uses = await asyncio.gather(*(loader.load(line.id) for line in lines))
    vouchers = await asyncio.gather(*(load(info, "line_vouchers", line.id) for line in lines))
    return batch_approvals.reimbursement_warning(viewer(info), uses, vouchers)


@strawberry.type(description="What the viewer may do on a reimbursement now: true exactly when the mutation "
                              "would not be refused for permission or state.")
class ReimbursementViewerCan:
    model: strawberry.Private[ReimbursementModel]

    @strawberry.field(description="decideReimbursement")
    async def decide(self, info: Info) -> bool:
        steps = await load(info, "reimbursement_approvals", self.model.id)
        return service.decide_refusal(viewer(info), self.model, steps) is None

    @strawberry.field(description="decideReimbursements with APPROVE: decideReimbursement allowed and no warning.")
    async def batch_approve(self, info: Info) -> bool:
        return await self.decide(info) and await reimbursement_batch_warning(info, self.model) is None

    @strawberry.field(description="payReimbursement")
    async def pay(self, info: Info) -> bool:
        four_eyes = bool(await load(info, "settings", FOUR_EYES_PAYOUT))
        steps = await load(info, "reimbursement_approvals", self.model.id) if four_eyes else []
        return service.pay_refusal(viewer(info), self.model, four_eyes, steps) is None


@strawberry.type
class Reimbursement:
    model: strawberry.Private[ReimbursementModel]

    @strawberry.field(description="What the viewer may do on this reimbursement now (from the enforcing services).")
    def viewer_can(self) -> ReimbursementViewerCan:
        return ReimbursementViewerCan(model=self.model)

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

    @strawberry.field(description="Why a PENDING_APPROVAL reimbursement can be decided by nobody; null otherwise.")
    async def blocked_reason(self, info: Info) -> str | None:
        if self.model.status != ReimbursementStatus.PENDING_APPROVAL:
            return None
        return tr(info, await load(info, "reimbursement_blocked", self.model.id))

    @strawberry.field(description="Why it is not approved in a batch (a duplicated invoice or voucher, a line "
                                  "without a voucher); null when it may be.")
    async def batch_warning(self, info: Info) -> str | None:
        return tr(info, await reimbursement_batch_warning(info, self.model))

    @strawberry.field
    def total(self) -> Decimal:
        return from_fen(self.model.total_fen)

    async def _offset_total(self, info: Info):  # noqa: ANN202
        rows = await load(info, "reimbursement_offsets", self.model.id)
        return sum((from_fen(r.amount_fen) for r in rows if r.state != OffsetState.RELEASED), ZERO)

    @strawberry.field
    async def offset_total(self, info: Info) -> Decimal:
        return await self._offset_total(info)

    @strawberry.field(description="total - offsetTotal: what the company pays the employee.")
    async def payable(self, info: Info) -> Decimal:
        return offsets.payable_of(from_fen(self.model.total_fen), await self._offset_total(info))

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

    @strawberry.field(description="When the approval chain approved or rejected it.")
    def decided_at(self) -> datetime.datetime | None:
        return self.model.decided_at

    @strawberry.field
    def paid_at(self) -> datetime.datetime | None:
        return self.model.paid_at


@strawberry.type
class ReimbursementEdge:
    node: Reimbursement
    cursor: str


@strawberry.type
class ReimbursementConnection(Counted):
    edges: list[ReimbursementEdge]
    page_info: PageInfo

    @strawberry.field(description="Sum of total over every reimbursement of the list (not the page), "
                                  "rejected ones left out; computed only when asked.")
    async def claimed_total(self) -> Decimal:
        return await totals.claimed_total(self.page.query)

    @strawberry.field(description="Loan offsets standing on every reimbursement of the list, rejected ones left out.")
    async def offset_total(self) -> Decimal:
        return await totals.offset_total(self.page.query)

    @strawberry.field(description="claimedTotal - offsetTotal: what the company pays on the whole list.")
    async def payable_total(self) -> Decimal:
        return await totals.payable_total(self.page.query)

    @strawberry.field(description="Payable on the list's PENDING_APPROVAL and APPROVED reimbursements: not yet paid.")
    async def unpaid_payable(self) -> Decimal:
        return await totals.unpaid_payable(self.page.query)

    @strawberry.field(description="Reimbursements of the list waiting for approval.")
    async def pending_approval_count(self) -> int:
        return await totals.pending_approval_count(self.page.query)


@strawberry.type(description="One offset the server would make (oldest first).")
class ProposedOffset:
    loan: Loan
    amount: Decimal


@strawberry.type(description="What the reimbursement form shows while the total is typed; decided again on submit.")
class OffsetPreview:
    total: Decimal
    owed: Decimal = strawberry.field(
        description="What the viewer still owes that a new reimbursement may offset (pending reservations excluded)."
    )
    offsets: list[ProposedOffset]
    offset_total: Decimal
    payable: Decimal
    open_loans: list[ProposedOffset] = strawberry.field(
        description="Every open loan of the viewer with what a reimbursement may still offset on it, oldest first."
    )


@strawberry.input
class OffsetInput:
    loan_id: strawberry.ID
    amount: Decimal


@strawberry.input
class ExpenseLineInput:
    category: LoanPurpose
    amount: Decimal
    incurred_on: datetime.date
    invoice_no: str | None = None
    description: str | None = None
    vouchers: list[Upload] | None = None
    held_vouchers: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Vouchers kept by holdVouchers (the viewer's own, unused): attached to this line.")


@strawberry.input
class ReimbursementInput:
    lines: list[ExpenseLineInput]
    offsets: list[OffsetInput] | None = strawberry.field(
        default=None, description="Omitted: the server offsets the employee's open loans oldest first."
    )


def _data(input: ReimbursementInput) -> service.ReimbursementData:
    lines = [
        service.ExpenseLineData(
            category=line.category.value, amount=line.amount, incurred_on=line.incurred_on,
            invoice_no=line.invoice_no, description=line.description, vouchers=line.vouchers,
            held_vouchers=line.held_vouchers,
        )
        for line in input.lines
    ]
    offsets = None if input.offsets is None else [service.OffsetRequest(o.loan_id, o.amount) for o in input.offsets]
    return service.ReimbursementData(lines=lines, offsets=offsets)


@strawberry.type
class ReimbursementQuery:
    @strawberry.field
    async def reimbursement(self, info: Info, id: strawberry.ID) -> Reimbursement | None:
        row = await service.get_reimbursement(viewer(info), id)
        return Reimbursement(model=row) if row else None

    @strawberry.field
    async def pending_reimbursement_approvals(self, info: Info) -> list[Reimbursement]:
        return [Reimbursement(model=r) for r in await service.pending_reimbursement_approvals(viewer(info))]

    @strawberry.field(description="pendingReimbursementApprovals paged (keyset, oldest first): the approvers' queue.")
    async def reimbursement_approval_inbox(
        self, info: Info, first: int | None = 50, after: str | None = None,
    ) -> ReimbursementConnection:
        page = await service.reimbursement_approval_inbox(viewer(info), page_size(first), decode_cursor(after))
        return connection(page, Reimbursement, ReimbursementEdge, ReimbursementConnection)

    @strawberry.field(description="Reimbursements the viewer may see, newest first.")
    async def reimbursements(
        self, info: Info, employee_id: strawberry.ID | None = None, status: list[ReimbursementStatus] | None = None,
        first: int | None = 50, after: str | None = None,
    ) -> ReimbursementConnection:
        position = decode_cursor(after)
        page = await service.list_reimbursements(
            viewer(info), employee_id, [s.value for s in status or []], page_size(first), position
        )
        return connection(page, Reimbursement, ReimbursementEdge, ReimbursementConnection)

    @strawberry.field(description="How a reimbursement of `total` would offset the viewer's open loans now.")
    async def offset_preview(self, info: Info, total: Decimal) -> OffsetPreview:
        p = await service.preview_offsets(viewer(info), total)
        return OffsetPreview(
            total=p.total, owed=p.owed, offset_total=p.offset_total, payable=p.payable,
            offsets=[ProposedOffset(loan=Loan(model=loan), amount=amount) for loan, amount in p.offsets],
            open_loans=[ProposedOffset(loan=Loan(model=loan), amount=amount) for loan, amount in p.open_loans],
        )


@strawberry.type
class ReimbursementMutation:
    @strawberry.mutation(description="The viewer claims expenses for themself; open loans are offset first.")
    async def submit_reimbursement(self, info: Info, input: ReimbursementInput) -> Reimbursement:
        return Reimbursement(model=await service.submit_reimbursement(viewer(info), _data(input)))

    @strawberry.mutation(description=(
        "Keep vouchers of a draft on the server (e.g. after a refused submission), checked like any voucher: "
        "pass their ids as heldVouchers of a line. Only the uploader may use or download them."))
    async def hold_vouchers(self, info: Info, files: list[Upload]) -> list[Attachment]:
        return [Attachment(model=a) for a in await service.hold_vouchers(viewer(info), files)]

    @strawberry.mutation
    async def decide_reimbursement(
        self, info: Info, reimbursement_id: strawberry.ID, decision: Decision, comment: str | None = None
    ) -> Reimbursement:
        row = await service.decide_reimbursement(viewer(info), reimbursement_id, decision.value, comment)
        return Reimbursement(model=row)

    @strawberry.mutation
    async def pay_reimbursement(self, info: Info, reimbursement_id: strawberry.ID) -> Reimbursement:
        return Reimbursement(model=await service.pay_reimbursement(viewer(info), reimbursement_id))
