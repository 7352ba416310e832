"""Approval chains beyond one decision (issue 12): batch decisions in 待我审批."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from schema.types.common import tr, viewer
from schema.types.enums import Decision
from schema.types.loans import Loan
from schema.types.reimbursements import Reimbursement
from server.services import batch_approvals
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
