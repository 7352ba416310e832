"""Re-routing waiting SUPERVISOR steps when the people change (issue 12).

When HR changes an employee's supervisor, the SUPERVISOR steps still waiting on that employee's pending
loans and reimbursements move to the new supervisor; when a supervisor leaves (their offboarding
completes), the steps waiting for them move to the one above. Who takes over is
server/domain/approvals.pick_approver: never the applicant, never one who decided another step of the
chain, only someone with an active account, else the next one up. Each moved object gets one audit
entry, and the new approver is told when the step is the one waiting now. Runs inside the caller's
transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tortoise.expressions import Q

from server.domain import approvals
from server.domain.roles import SUPERVISOR
from server.domain.vocab import EmployeeStatus, LoanStatus, ReimbursementStatus
from server.models import ApprovalStep, Employee, Loan, Reimbursement, User
from server.services import audit, workflow
from server.services.base import Viewer, lock_employee

MAX_LEVELS = 20  # an org chart deeper than this is a loop in the data, not a hierarchy

# Why a step moved (stored in the audit entry, in the source language).
SUPERVISOR_CHANGED = "supervisor_changed"
APPROVER_LEFT = "approver_left"


async def supervisor_of(employee_id: int) -> int | None:
    found: Any = await Employee.filter(id=employee_id).first().values_list("supervisor_id", flat=True)
    return int(found) if found is not None else None


async def chain_above(employee_id: int | None) -> list[int]:
    """`employee_id` and everyone above them, nearest first (one statement per level)."""
    out: list[int] = []
    current = employee_id
    while current is not None and current not in out and len(out) < MAX_LEVELS:
        out.append(current)
        current = await supervisor_of(current)
    return out


async def _ids(qs: Any) -> set[int]:
    return {int(i) for i in await qs}


async def usable_approvers(employee_ids: Sequence[int]) -> set[int]:
    """Of `employee_ids`, those who can still decide: not LEFT, with an active account."""
    ids = list(set(employee_ids))
    if not ids:
        return set()
    present = await _ids(Employee.filter(id__in=ids).exclude(status=EmployeeStatus.LEFT).values_list("id", flat=True))
    return await _ids(User.filter(employee_id__in=list(present), is_active=True).values_list("employee_id", flat=True))


def _waiting_steps() -> Any:
    """Undecided SUPERVISOR steps of pending loans and reimbursements."""
    pending = (Q(loan__status=LoanStatus.PENDING_APPROVAL)
               | Q(reimbursement__status=ReimbursementStatus.PENDING_APPROVAL))
    return ApprovalStep.filter(pending, role=SUPERVISOR, decision__isnull=True, skipped=False)


async def _move(viewer: Viewer, step: ApprovalStep, candidates: list[int], reason: str) -> int | None:
    """Move one step to the first fitting candidate; returns the new approver (None: it stays)."""
    owner: Any = await (Loan.get(id=step.loan_id) if step.loan_id is not None  # type: ignore[attr-defined]
                        else Reimbursement.get(id=step.reimbursement_id))  # type: ignore[attr-defined]
    applicant: int = owner.employee_id
    await lock_employee(applicant)  # the same lock a decision takes: no decision slips in meanwhile
    await step.refresh_from_db()
    if step.decision is not None or owner.status != LoanStatus.PENDING_APPROVAL:
        return None
    key = {"loan_id": owner.id} if isinstance(owner, Loan) else {"reimbursement_id": owner.id}
    siblings = await ApprovalStep.filter(**key).order_by("order")
    deciders = [s.decided_by_id for s in siblings if s.decided_by_id is not None]  # type: ignore[attr-defined]
    excluded = await _ids(User.filter(id__in=deciders, employee_id__not_isnull=True).values_list(
        "employee_id", flat=True)) if deciders else set()
    target = approvals.pick_approver(candidates, await usable_approvers(candidates), applicant, excluded)
    old = step.approver_id  # type: ignore[attr-defined]
    if target is None or target == old:
        return None
    step.approver_id = target  # type: ignore[attr-defined]
    await step.save(update_fields=["approver_id"])
    kind = "loan" if isinstance(owner, Loan) else "reimbursement"
    await audit.record(viewer, f"{kind}.reroute", kind, owner.id, {"step": step.order, "approverId": old},
                       {"step": step.order, "approverId": target, "reason": reason})
    if step.is_current:
        if isinstance(owner, Loan):
            await workflow.loan_decided(viewer, owner)  # a pending loan: its current approver is told
        else:
            await workflow.reimbursement_moved(viewer, owner)
    return target


async def supervisor_changed(viewer: Viewer, employee_id: int, old_supervisor_id: int | None,
                             new_supervisor_id: int | None) -> int:
    """The employee's supervisor changed: their waiting SUPERVISOR steps go to the new one (or, with
    none, to the one above the old supervisor), the next one up when that one may not take them.
    Returns how many steps moved."""
    start = new_supervisor_id
    if start is None and old_supervisor_id is not None:
        start = await supervisor_of(old_supervisor_id)
    candidates = await chain_above(start)
    steps = await _waiting_steps().filter(Q(loan__employee_id=employee_id) | Q(reimbursement__employee_id=employee_id))
    moved = 0
    for step in steps:
        if await _move(viewer, step, candidates, SUPERVISOR_CHANGED) is not None:
            moved += 1
    return moved


async def approver_left(viewer: Viewer, employee_id: int) -> int:
    """A supervisor left: the steps waiting for them go to the one above (and further up if needed)."""
    candidates = await chain_above(await supervisor_of(employee_id))
    moved = 0
    for step in await _waiting_steps().filter(approver_id=employee_id).order_by("id"):
        if await _move(viewer, step, candidates, APPROVER_LEFT) is not None:
            moved += 1
    return moved
