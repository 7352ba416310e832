"""Settle-date extensions (延期申请, issue 12): the borrower asks, before or after the date, to move a disbursed
loan's expected settle date; the loan's approval chain (the borrower's position's chain, the same engine and
steps as loans: ApprovalStep.extension) decides; approved, the date moves, and with it the overdue clock, the
risk rules and the reminders, which all read `Loan.expected_settle_date`. Every step is on the loan's audit
trail and timeline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from server.domain import approvals, duties, validation
from server.domain import ledger as ledger_rules
from server.domain.errors import Conflict, DomainError, Forbidden, InvalidTransition, ValidationFailed
from server.domain.messages import _m
from server.domain.vocab import LoanStatus
from server.models import ApprovalStep, Employee, Loan, LoanExtension, Position
from server.services import audit, workflow
from server.services.approvals import actor, decide_chain, save_new_chain, to_step, waiting_for
from server.services.base import Viewer, atomic, get_locked, require_login, utcnow
from server.services.loans import AUTO_APPROVED, can_see_loan

PENDING = LoanStatus.PENDING_APPROVAL
EXTENDABLE = (LoanStatus.DISBURSED, LoanStatus.PARTIALLY_SETTLED)
MAX_REASON = 1000


def latest_date(loan: Loan) -> date:
    """The furthest a loan's expected settle date may move: MAX_SETTLE_DAYS after it was applied for."""
    return loan.applied_on + timedelta(days=validation.MAX_SETTLE_DAYS)


def request_refusal(viewer: Viewer, loan: Loan, pending: bool) -> DomainError | None:
    """Why the viewer may not ask to extend this loan now (`pending`: an extension already waits)."""
    if not duties.own_money(viewer.employee_id, loan.employee_id):  # type: ignore[attr-defined]
        return Forbidden(_m("只有借款人可以申请延期"))
    if loan.status not in EXTENDABLE:
        return InvalidTransition(_m("借款 %(number)s 状态为 %(status)s，不能申请延期", number=loan.number,
                                    status=loan.status))
    if pending:
        return Conflict(_m("该借款已有待审批的延期申请"))
    return None


def decide_refusal(viewer: Viewer, extension: LoanExtension, loan: Loan,
                   steps: Sequence[ApprovalStep]) -> DomainError | None:
    if extension.status != PENDING:
        return InvalidTransition(_m("延期申请已处理"))
    if loan.status not in ledger_rules.OPEN_STATUSES:
        return InvalidTransition(_m("借款 %(number)s 已结清或核销，无需延期", number=loan.number))
    return approvals.decide_refusal([to_step(r) for r in steps], actor(viewer), extension.employee_id)  # type: ignore[attr-defined]


def _check_date(loan: Loan, new_date: date) -> None:
    if new_date <= loan.expected_settle_date:
        raise ValidationFailed(_m("新的预计报销日期须晚于 %(day)s", day=loan.expected_settle_date.isoformat()),
                               field="newDate")
    if new_date > latest_date(loan):
        raise ValidationFailed(_m("新的预计报销日期不能晚于 %(day)s", day=latest_date(loan).isoformat()),
                               field="newDate")


async def _apply(viewer: Viewer, extension: LoanExtension, loan: Loan, note: str | None = None) -> None:
    """The approved extension moves the loan's date (on the loan's audit trail)."""
    before = loan.expected_settle_date
    extension.status, extension.decided_at = LoanStatus.APPROVED, utcnow()
    await extension.save(update_fields=["status", "decided_at"])
    loan.expected_settle_date = extension.requested_date
    await loan.save(update_fields=["expected_settle_date"])
    await audit.record(viewer, "loan.extend", "loan", loan.id, {"expectedSettleDate": before}, {
        "expectedSettleDate": extension.requested_date, "extensionId": extension.id, "note": note})


async def request_loan_extension(viewer: Viewer, loan_id: Any, new_date: date, reason: str) -> LoanExtension:
    require_login(viewer)
    reason = validation.clean_text(reason, "reason", validation.TEXT) or ""
    if not reason:
        raise ValidationFailed(_m("请填写延期理由"), field="reason")
    if len(reason) > MAX_REASON:
        raise ValidationFailed(_m("说明不能超过 %(max)s 个字符", max=MAX_REASON), field="reason")
    async with atomic():
        loan = await get_locked(Loan, loan_id, "借款", "loan")
        pending = await LoanExtension.filter(loan_id=loan.id, status=PENDING).exists()
        if (refusal := request_refusal(viewer, loan, pending)) is not None:
            raise refusal
        _check_date(loan, new_date)
        employee = await Employee.get(id=loan.employee_id)  # type: ignore[attr-defined]
        position = await Position.get(id=employee.position_id)  # type: ignore[attr-defined]
        extension = await LoanExtension.create(
            loan_id=loan.id, employee_id=employee.id, previous_date=loan.expected_settle_date,
            requested_date=new_date, reason=reason, status=PENDING, requested_by_id=viewer.user_id,
            created_at=utcnow())
        steps = approvals.build_chain(list(position.approval_chain), employee.supervisor_id)  # type: ignore[attr-defined]
        await save_new_chain(steps, extension=extension)
        await audit.record(viewer, "loan.extension_request", "loan", loan.id, {"expectedSettleDate": loan.expected_settle_date}, {
            "extensionId": extension.id, "requestedDate": new_date, "reason": reason, "status": PENDING})
        if approvals.chain_outcome(steps) == LoanStatus.APPROVED:  # every step skipped: nobody to ask
            await _apply(viewer, extension, loan, note=AUTO_APPROVED)
        await workflow.extension_decided(viewer, extension)
    return extension


async def decide_loan_extension(viewer: Viewer, extension_id: Any, decision: str,
                                comment: str | None = None) -> LoanExtension:
    require_login(viewer)
    decision = str(getattr(decision, "value", decision))
    comment = validation.clean_text(comment, "comment", validation.TEXT)
    async with atomic():
        extension = await get_locked(LoanExtension, extension_id, "延期申请", "extension")
        loan = await Loan.get(id=extension.loan_id)  # type: ignore[attr-defined]
        rows = await ApprovalStep.filter(extension_id=extension.id).order_by("order")
        if (refusal := decide_refusal(viewer, extension, loan, rows)) is not None:
            if isinstance(refusal, InvalidTransition) and not await can_see_loan(viewer, loan):
                raise Forbidden(_m("无权审批该借款"))  # a stranger learns nothing of the extension's state
            raise refusal
        row, outcome = await decide_chain(viewer, rows, extension.employee_id, decision, comment)  # type: ignore[attr-defined]
        decided = {"extensionId": extension.id, "step": row.order, "role": row.role, "comment": row.comment}
        if outcome == LoanStatus.APPROVED:
            await _apply(viewer, extension, loan, note=row.comment)
        elif outcome == LoanStatus.REJECTED:
            extension.status, extension.decided_at = LoanStatus.REJECTED, utcnow()
            await extension.save(update_fields=["status", "decided_at"])
            await audit.record(viewer, "loan.extension_reject", "loan", loan.id, {"status": PENDING},
                               {"status": LoanStatus.REJECTED, **decided})
        else:
            await audit.record(viewer, "loan.extension_approve_step", "loan", loan.id, {"status": PENDING},
                               {"status": PENDING, **decided})
        await workflow.extension_decided(viewer, extension)
    return extension


async def pending_extension_approvals(viewer: Viewer) -> list[LoanExtension]:
    """Extensions whose current step is the viewer's to decide (never their own), oldest first."""
    return await waiting_for(viewer, LoanExtension, "extension_id")


# ---------------------------------------------------------------- batch readers (schema DataLoaders)


async def extensions_by_loan(loan_ids: Sequence[int]) -> list[list[LoanExtension]]:
    """Each loan's extensions, oldest first: one statement for a page of loans (reached from authorized loans)."""
    groups: dict[int, list[LoanExtension]] = {i: [] for i in loan_ids}
    for row in await LoanExtension.filter(loan_id__in=list(set(loan_ids))).order_by("created_at", "id"):
        groups[row.loan_id].append(row)  # type: ignore[attr-defined]
    return [groups[i] for i in loan_ids]


async def extension_approvals(extension_ids: Sequence[int]) -> list[list[ApprovalStep]]:
    groups: dict[int, list[ApprovalStep]] = {i: [] for i in extension_ids}
    for row in await ApprovalStep.filter(extension_id__in=list(set(extension_ids))).order_by("order"):
        groups[row.extension_id].append(row)  # type: ignore[attr-defined]
    return [groups[i] for i in extension_ids]
