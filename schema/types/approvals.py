"""Approval chains beyond one decision (issue 12): batch decisions in the inbox, deputies."""

from __future__ import annotations

import datetime

import strawberry
from strawberry.types import Info

from schema.loaders import load
from schema.types.common import tr, viewer
from schema.types.enums import Decision, LoanStatus
from schema.types.loans import ApprovalStep, Loan
from schema.types.reimbursements import Reimbursement
from server.domain import approvals as approval_rules
from server.models import ApproverDeputy as DeputyModel
from server.models import LoanExtension as ExtensionModel
from server.services import batch_approvals
from server.services import deputies as deputy_service
from server.services import extensions as extension_service
from server.services.base import require_login, today
from server.services.batch_approvals import BatchItem


@strawberry.type(description="A refused item of a batch decision: nothing was written for it.")
class BatchError:
    code: str = strawberry.field(description="The error's extensions.code (FORBIDDEN, CONFLICT, NOT_FOUND, VALIDATION…).")
    message: str = strawberry.field(description="Why, in the viewer's language.")
    field: str | None = None


def _error(info: Info, item: BatchItem) -> BatchError | None:
    if item.error is None:
        return None
    return BatchError(code=item.error.code, message=tr(info, item.error.msg) or "", field=item.error.field)


@strawberry.type(description="One loan of decideLoans: decided (ok, with the loan) or refused (error).")
class LoanBatchResult:
    loan_id: strawberry.ID
    ok: bool
    error: BatchError | None
    loan: Loan | None


@strawberry.type(description="One reimbursement of decideReimbursements: decided (ok) or refused (error).")
class ReimbursementBatchResult:
    reimbursement_id: strawberry.ID
    ok: bool
    error: BatchError | None
    reimbursement: Reimbursement | None


@strawberry.type
class ApprovalsMutation:
    @strawberry.mutation(description=(
        "decideLoan for each loan (at most 100), one transaction and audit entry each, results in order. "
        "With APPROVE a loan with a warning (Loan.batchWarning) is refused: decide it alone."))
    async def decide_loans(
        self, info: Info, loan_ids: list[strawberry.ID], decision: Decision, comment: str | None = None,
    ) -> list[LoanBatchResult]:
        items = await batch_approvals.decide_loans(viewer(info), list(loan_ids), decision.value, comment)
        return [LoanBatchResult(loan_id=strawberry.ID(i.id), ok=i.ok, error=_error(info, i),
                                loan=Loan(model=i.row) if i.row is not None else None) for i in items]

    @strawberry.mutation(description=(
        "decideReimbursement for each reimbursement (at most 100), one transaction each, results in order. "
        "With APPROVE one with a warning (Reimbursement.batchWarning) is refused: decide it alone."))
    async def decide_reimbursements(
        self, info: Info, reimbursement_ids: list[strawberry.ID], decision: Decision, comment: str | None = None,
    ) -> list[ReimbursementBatchResult]:
        items = await batch_approvals.decide_reimbursements(viewer(info), list(reimbursement_ids), decision.value,
                                                            comment)
        return [ReimbursementBatchResult(
            reimbursement_id=strawberry.ID(i.id), ok=i.ok, error=_error(info, i),
            reimbursement=Reimbursement(model=i.row) if i.row is not None else None) for i in items]

    @strawberry.mutation(description=(
        "The viewer (an approver) names a deputy for [startsOn, endsOn] (deputyId, or deputyNo: the employee "
        "number); replaces a previous one. While it runs the viewer's SUPERVISOR steps go to the deputy."))
    async def set_deputy(
        self, info: Info, starts_on: datetime.date, ends_on: datetime.date, deputy_id: strawberry.ID | None = None,
        deputy_no: str | None = None,
    ) -> ApproverDeputy:
        row = await deputy_service.set_deputy(viewer(info), deputy_id, starts_on, ends_on, deputy_no)
        return ApproverDeputy(model=row)

    @strawberry.mutation(description=(
        "The borrower asks to move a disbursed loan's expected settle date to newDate (later than now, within "
        "the maximum settle days from the application), with a reason; the loan's approval chain decides."))
    async def request_loan_extension(
        self, info: Info, loan_id: strawberry.ID, new_date: datetime.date, reason: str,
    ) -> LoanExtension:
        return LoanExtension(model=await extension_service.request_loan_extension(viewer(info), loan_id, new_date,
                                                                                  reason))

    @strawberry.mutation(description="Decide the current step of an extension (REJECT needs a comment).")
    async def decide_loan_extension(
        self, info: Info, extension_id: strawberry.ID, decision: Decision, comment: str | None = None,
    ) -> LoanExtension:
        return LoanExtension(model=await extension_service.decide_loan_extension(
            viewer(info), extension_id, decision.value, comment))

    @strawberry.mutation(description="End the viewer's deputy now (its steps come back); null when there was none.")
    async def clear_deputy(self, info: Info) -> ApproverDeputy | None:
        row = await deputy_service.clear_deputy(viewer(info))
        return ApproverDeputy(model=row) if row else None


# ---------------------------------------------------------------- deputies


@strawberry.type(description="A deputy named by an approver for a period: the approver's SUPERVISOR steps go to "
                              "the deputy while it runs (never the deputy's own applications).")
class ApproverDeputy:
    model: strawberry.Private[DeputyModel]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.model.id))

    @strawberry.field
    async def approver_name(self, info: Info) -> str:
        return (await load(info, "employees", self.model.approver_id)).name  # type: ignore[attr-defined]

    @strawberry.field
    async def deputy_name(self, info: Info) -> str:
        return (await load(info, "employees", self.model.deputy_id)).name  # type: ignore[attr-defined]

    @strawberry.field
    async def deputy_employee_no(self, info: Info) -> str:
        return (await load(info, "employees", self.model.deputy_id)).employee_no  # type: ignore[attr-defined]

    @strawberry.field
    def starts_on(self) -> datetime.date:
        return self.model.starts_on

    @strawberry.field
    def ends_on(self) -> datetime.date:
        return self.model.ends_on

    @strawberry.field(description="True when the period runs today.")
    def active(self) -> bool:
        return self.model.starts_on <= today() <= self.model.ends_on and self.model.cleared_at is None


@strawberry.type(description="What the viewer may do about deputies.")
class DeputyViewerCan:
    @strawberry.field(description="setDeputy")
    def set(self, info: Info) -> bool:
        return deputy_service.set_refusal(viewer(info)) is None

    @strawberry.field(description="clearDeputy (there is a deputy to clear)")
    async def clear(self, info: Info) -> bool:
        return await deputy_service.current_deputy(viewer(info)) is not None


@strawberry.type(description="The viewer's deputy settings (account page).")
class DeputySettings:
    @strawberry.field(description="The viewer's deputy now or to come; null when none.")
    async def current(self, info: Info) -> ApproverDeputy | None:
        row = await deputy_service.current_deputy(viewer(info))
        return ApproverDeputy(model=row) if row else None

    @strawberry.field(description="The approvers the viewer stands in for today.")
    async def acting_for(self, info: Info) -> list[ApproverDeputy]:
        return [ApproverDeputy(model=r) for r in await deputy_service.acting_for(viewer(info))]

    @strawberry.field
    def viewer_can(self) -> DeputyViewerCan:
        return DeputyViewerCan()

    @strawberry.field(description="The longest period a deputy may be named for, in days.")
    def max_days(self) -> int:
        return approval_rules.MAX_DEPUTY_DAYS


# ---------------------------------------------------------------- settle-date extensions


@strawberry.type(description="What the viewer may do on an extension now (from the enforcing service).")
class LoanExtensionViewerCan:
    model: strawberry.Private[ExtensionModel]

    @strawberry.field(description="decideLoanExtension")
    async def decide(self, info: Info) -> bool:
        steps = await load(info, "extension_approvals", self.model.id)
        loan = await load(info, "loans", self.model.loan_id)  # type: ignore[attr-defined]
        return extension_service.decide_refusal(viewer(info), self.model, loan, steps) is None


@strawberry.type(description="A settle-date extension (延期申请): decided by the loan's approval chain; approved, "
                              "the loan's expectedSettleDate becomes requestedDate.")
class LoanExtension:
    model: strawberry.Private[ExtensionModel]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.model.id))

    @strawberry.field
    async def loan(self, info: Info) -> Loan:
        return Loan(model=await load(info, "loans", self.model.loan_id))  # type: ignore[attr-defined]

    @strawberry.field(description="The expected settle date when it was asked for.")
    def previous_date(self) -> datetime.date:
        return self.model.previous_date

    @strawberry.field
    def requested_date(self) -> datetime.date:
        return self.model.requested_date

    @strawberry.field
    def reason(self) -> str:
        return self.model.reason

    @strawberry.field(description="PENDING_APPROVAL, APPROVED or REJECTED.")
    def status(self) -> LoanStatus:
        return LoanStatus(self.model.status)

    @strawberry.field
    def created_at(self) -> datetime.datetime:
        return self.model.created_at

    @strawberry.field
    def decided_at(self) -> datetime.datetime | None:
        return self.model.decided_at

    @strawberry.field
    async def approvals(self, info: Info) -> list[ApprovalStep]:
        return [ApprovalStep(model=r) for r in await load(info, "extension_approvals", self.model.id)]

    @strawberry.field
    def viewer_can(self) -> LoanExtensionViewerCan:
        return LoanExtensionViewerCan(model=self.model)


@strawberry.type
class ApprovalsQuery:
    @strawberry.field(description="The viewer's deputy settings.")
    def deputy_settings(self, info: Info) -> DeputySettings:
        require_login(viewer(info))
        return DeputySettings()

    @strawberry.field(description="Settle-date extensions waiting for the viewer's decision, oldest first.")
    async def pending_loan_extension_approvals(self, info: Info) -> list[LoanExtension]:
        return [LoanExtension(model=r) for r in await extension_service.pending_extension_approvals(viewer(info))]
