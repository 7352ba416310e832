"""Batch decisions in the approval inbox (待我审批): many loans or reimbursements approved, or rejected, at once.

Each item goes through the single-decision service (decide_loan, decide_reimbursement): the same
checks, its own transaction, its own audit entry and notifications, so one refused item never undoes
the others. An item the inbox shows a warning for (risk alerts on the loan or its applicant, a
duplicated invoice or voucher, a line without a voucher) is not approved in a batch: a person decides
it alone. The warnings are computed here once, for the mutations and for the `viewerCan.batchApprove`
flags of the inbox.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from server.domain import approvals
from server.domain.errors import Conflict, DomainError
from server.domain.messages import Message
from server.domain.vocab import Decision
from server.models import Alert, ApprovalStep, Attachment, ExpenseLine, Loan
from server.services import alerts as alert_service
from server.services import duplicates
from server.services import loans as loan_service
from server.services import reimbursements as reimbursement_service
from server.services.base import Viewer, lookup_id, require_login


@dataclass(frozen=True)
class BatchItem:
    """One item's outcome: the decided row, or the error that refused it (nothing was written then)."""

    id: str
    row: Any | None = None
    error: DomainError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


# ---------------------------------------------------------------- warnings (one rule, two readers)


def loan_warning(applicant_alerts: Sequence[Alert], loan_alerts: Sequence[Alert]) -> Message | None:
    """The loan's warning from the alerts the viewer sees beside it in the inbox (unresolved only)."""
    unresolved = {a.id for a in [*applicant_alerts, *loan_alerts] if a.resolved_at is None}
    return approvals.batch_warning(alerts=len(unresolved))


def reimbursement_warning(viewer: Viewer, line_duplicates: Sequence[Sequence[duplicates.DuplicateUse]],
                          line_vouchers: Sequence[Sequence[Any]]) -> Message | None:
    """The reimbursement's warning from its lines: duplicates the viewer is shown, lines without a voucher."""
    duplicated = sum(1 for uses in line_duplicates if duplicates.duplicates_visible_to(viewer, list(uses)))
    missing = sum(1 for vouchers in line_vouchers if not vouchers)
    return approvals.batch_warning(duplicates=duplicated, missing_vouchers=missing)


async def loan_warnings(viewer: Viewer, ids: Sequence[int]) -> dict[int, Message]:
    """Warnings of many loans in three statements (the loans, their alerts, their applicants' alerts)."""
    loans = await Loan.filter(id__in=list(ids)).only("id", "employee_id")
    if not loans:
        return {}
    by_employee = await alert_service.unresolved_by_employee(viewer, [loan.employee_id for loan in loans])  # type: ignore[attr-defined]
    by_loan = await alert_service.alerts_by_loan(viewer, [loan.id for loan in loans])
    found = {}
    for loan, applicant, own in zip(loans, by_employee, by_loan, strict=True):
        if (warning := loan_warning(applicant, own)) is not None:
            found[loan.id] = warning
    return found


async def reimbursement_warnings(viewer: Viewer, ids: Sequence[int]) -> dict[int, Message]:
    """Warnings of many reimbursements in a constant number of statements."""
    lines = await ExpenseLine.filter(reimbursement_id__in=list(ids)).order_by("id").values("id", "reimbursement_id")
    if not lines:
        return {}
    line_ids = [row["id"] for row in lines]
    uses = await duplicates.duplicates_by_line(line_ids)
    with_voucher = set(await Attachment.filter(expense_line_id__in=line_ids).values_list("expense_line_id", flat=True))
    grouped: dict[int, tuple[list[Any], list[Any]]] = {}
    for row, found in zip(lines, uses, strict=True):
        dups, vouchers = grouped.setdefault(row["reimbursement_id"], ([], []))
        dups.append(found)
        vouchers.append([row["id"]] if row["id"] in with_voucher else [])
    out = {}
    for rid, (dups, vouchers) in grouped.items():
        if (warning := reimbursement_warning(viewer, dups, vouchers)) is not None:
            out[rid] = warning
    return out


# ---------------------------------------------------------------- deciding


async def _batch(
    viewer: Viewer, ids: list[Any], decision: str, comment: str | None,
    warnings: Callable[[Viewer, Sequence[int]], Awaitable[dict[int, Message]]],
    refusal_of: Callable[[Viewer, int], Awaitable[DomainError | None]],
    decide_one: Callable[[Viewer, Any, str, str | None], Awaitable[Any]],
) -> list[BatchItem]:
    require_login(viewer)
    decision = str(getattr(decision, "value", decision))
    wanted = approvals.check_batch(ids)
    # Warnings matter for approving only: rejecting a flagged item in a batch loses nothing.
    flagged = await warnings(viewer, [n for n in map(lookup_id, wanted) if n]) if decision == Decision.APPROVE else {}
    out = []
    for raw in wanted:
        warning = flagged.get(lookup_id(raw))
        if warning is not None:
            # The viewer's own refusal first (not theirs to decide, not visible): a warning says no more.
            refusal = await refusal_of(viewer, lookup_id(raw))
            out.append(BatchItem(raw, error=refusal or Conflict(warning)))
            continue
        try:
            out.append(BatchItem(raw, row=await decide_one(viewer, raw, decision, comment)))
        except DomainError as exc:  # refused: that item's transaction rolled back, the others stand
            out.append(BatchItem(raw, error=exc))
    return out


async def _loan_refusal(viewer: Viewer, loan_id: int) -> DomainError | None:
    try:
        loan = await loan_service.get_loan(viewer, loan_id)
    except DomainError as exc:
        return exc
    if loan is None:
        return None
    steps = await ApprovalStep.filter(loan_id=loan.id).order_by("order")
    return loan_service.decide_refusal(viewer, loan, steps)


async def _reimbursement_refusal(viewer: Viewer, reimbursement_id: int) -> DomainError | None:
    try:
        row = await reimbursement_service.get_reimbursement(viewer, reimbursement_id)
    except DomainError as exc:
        return exc
    if row is None:
        return None
    steps = await ApprovalStep.filter(reimbursement_id=row.id).order_by("order")
    return reimbursement_service.decide_refusal(viewer, row, steps)


async def decide_loans(viewer: Viewer, loan_ids: list[Any], decision: str, comment: str | None = None) -> list[BatchItem]:
    """decideLoan for each of `loan_ids` (at most BATCH_MAX), one transaction each; results in order."""
    return await _batch(viewer, loan_ids, decision, comment, loan_warnings, _loan_refusal, loan_service.decide_loan)


async def decide_reimbursements(
    viewer: Viewer, reimbursement_ids: list[Any], decision: str, comment: str | None = None,
) -> list[BatchItem]:
    """decideReimbursement for each of `reimbursement_ids` (at most BATCH_MAX), one transaction each."""
    return await _batch(viewer, reimbursement_ids, decision, comment, reimbursement_warnings, _reimbursement_refusal,
                        reimbursement_service.decide_reimbursement)

