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
from datetime import date
from typing import Any

from tortoise.expressions import Q

from server.domain import approvals
from server.domain.roles import SUPERVISOR
from server.domain.vocab import EmployeeStatus, LoanStatus, ReimbursementStatus
from server.models import ApprovalStep, ApproverDeputy, Employee, Loan, LoanExtension, Reimbursement, User
from server.services import audit, workflow
from server.services.base import SYSTEM, Viewer, atomic, lock_employee, today

MAX_LEVELS = 20  # an org chart deeper than this is a loop in the data, not a hierarchy

# Why a step moved (stored in the audit entry, in the source language).
SUPERVISOR_CHANGED = "supervisor_changed"
APPROVER_LEFT = "approver_left"
DEPUTY = "deputy"


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
               | Q(reimbursement__status=ReimbursementStatus.PENDING_APPROVAL)
               | Q(extension__status=LoanStatus.PENDING_APPROVAL))
    return ApprovalStep.filter(pending, role=SUPERVISOR, decision__isnull=True, skipped=False)


async def active_deputy(approver_id: int, on: date) -> int | None:
    """The approver's deputy on `on` (not cleared), or None."""
    row = await ApproverDeputy.filter(approver_id=approver_id, starts_on__lte=on, ends_on__gte=on,
                                      cleared_at__isnull=True).order_by("-id").first()
    return row.deputy_id if row is not None else None  # type: ignore[attr-defined]


async def holder_for(approver_id: int, applicant_id: int, excluded: set[int], on: date) -> tuple[int, int | None]:
    """Who holds a SUPERVISOR step of `approver_id` on `on`: (holder, delegated_from). The approver's
    active deputy when the deputy may take it (not the applicant, not a decider of another step, an active
    account), else the approver themself."""
    deputy = await active_deputy(approver_id, on)
    if deputy is not None and approvals.pick_approver([deputy], await usable_approvers([deputy]), applicant_id,
                                                     excluded) == deputy:
        return deputy, approver_id
    return approver_id, None


async def _excluded(siblings: Sequence[ApprovalStep]) -> set[int]:
    """Employees who decided a step of the chain (one person, one step)."""
    deciders = [s.decided_by_id for s in siblings if s.decided_by_id is not None]  # type: ignore[attr-defined]
    if not deciders:
        return set()
    return await _ids(User.filter(id__in=deciders, employee_id__not_isnull=True).values_list("employee_id", flat=True))


def _owner_key(step: ApprovalStep) -> tuple[str, dict[str, int]]:
    for kind, column in (("loan", "loan_id"), ("reimbursement", "reimbursement_id"), ("loan_extension", "extension_id")):
        value = getattr(step, column)
        if value is not None:
            return kind, {column: value}
    raise ValueError("an approval step without an owner")


async def _owner(step: ApprovalStep) -> Any:
    kind, key = _owner_key(step)
    model: Any = {"loan": Loan, "reimbursement": Reimbursement, "loan_extension": LoanExtension}[kind]
    return await model.get(id=next(iter(key.values())))


async def _move(viewer: Viewer, step: ApprovalStep, candidates: list[int], reason: str,
                on: date | None = None) -> int | None:
    """Give one waiting step to the first fitting candidate (or that one's deputy); returns the new holder
    (None: it stays as it is)."""
    owner = await _owner(step)
    applicant: int = owner.employee_id
    await lock_employee(applicant)  # the same lock a decision takes: no decision slips in meanwhile
    await step.refresh_from_db()
    if step.decision is not None or owner.status != LoanStatus.PENDING_APPROVAL:
        return None
    kind, key = _owner_key(step)
    excluded = await _excluded(await ApprovalStep.filter(**key).order_by("order"))
    target = approvals.pick_approver(candidates, await usable_approvers(candidates), applicant, excluded)
    if target is None:
        return None
    holder, delegated_from = await holder_for(target, applicant, excluded, on or today())
    old, old_from = step.approver_id, step.delegated_from_id  # type: ignore[attr-defined]
    if (holder, delegated_from) == (old, old_from):
        return None
    step.approver_id, step.delegated_from_id = holder, delegated_from  # type: ignore[attr-defined]
    await step.save(update_fields=["approver_id", "delegated_from_id"])
    await audit.record(viewer, f"{kind}.reroute", kind, owner.id,
                       {"step": step.order, "approverId": old, "delegatedFrom": old_from},
                       {"step": step.order, "approverId": holder, "delegatedFrom": delegated_from, "reason": reason})
    if step.is_current:
        if isinstance(owner, Loan):
            await workflow.loan_decided(viewer, owner)  # a pending loan: its current approver is told
        elif isinstance(owner, Reimbursement):
            await workflow.reimbursement_moved(viewer, owner)
        else:
            await workflow.extension_waiting(viewer, owner)
    return holder


async def route_new_chain(rows: Sequence[ApprovalStep], applicant_id: int) -> None:
    """At creation: a SUPERVISOR step whose approver has an active deputy goes to the deputy (never the
    applicant), audited as the system's routing. Inside the caller's transaction, before the first
    notification (which then goes to the deputy)."""
    for row in rows:
        approver = row.approver_id  # type: ignore[attr-defined]
        if row.role != SUPERVISOR or row.skipped or approver is None:
            continue
        holder, delegated_from = await holder_for(approver, applicant_id, set(), today())
        if delegated_from is not None:
            await ApprovalStep.filter(id=row.id).update(approver_id=holder, delegated_from_id=delegated_from)
            row.approver_id, row.delegated_from_id = holder, delegated_from  # type: ignore[attr-defined]
            kind, key = _owner_key(row)
            await audit.record(SYSTEM, f"{kind}.reroute", kind, next(iter(key.values())),
                               {"step": row.order, "approverId": approver, "delegatedFrom": None},
                               {"step": row.order, "approverId": holder, "delegatedFrom": approver, "reason": DEPUTY})


async def sync_deputy(viewer: Viewer, approver_id: int, on: date | None = None) -> int:
    """After a deputy is named, cleared or runs out: the approver's waiting steps go to whoever holds them
    today (the deputy, or back to the approver). Returns how many moved."""
    steps = await _waiting_steps().filter(
        Q(approver_id=approver_id, delegated_from_id__isnull=True) | Q(delegated_from_id=approver_id)).order_by("id")
    moved = 0
    for step in steps:
        if await _move(viewer, step, [approver_id], DEPUTY, on) is not None:
            moved += 1
    return moved


async def sync_all_deputies(on: date | None = None) -> int:
    """The daily job: deputies starting or ending today take or hand back their steps (idempotent)."""
    on = on or today()
    approvers = set(await _ids(ApproverDeputy.filter(starts_on__lte=on, ends_on__gte=on, cleared_at__isnull=True)
                               .values_list("approver_id", flat=True)))
    approvers |= await _ids(_waiting_steps().filter(delegated_from_id__not_isnull=True)
                            .values_list("delegated_from_id", flat=True))
    moved = 0
    for approver_id in sorted(approvers):
        async with atomic():
            moved += await sync_deputy(SYSTEM, approver_id, on)
    return moved


async def supervisor_changed(viewer: Viewer, employee_id: int, old_supervisor_id: int | None,
                             new_supervisor_id: int | None) -> int:
    """The employee's supervisor changed: their waiting SUPERVISOR steps go to the new one (or, with
    none, to the one above the old supervisor), the next one up when that one may not take them.
    Returns how many steps moved."""
    start = new_supervisor_id
    if start is None and old_supervisor_id is not None:
        start = await supervisor_of(old_supervisor_id)
    candidates = await chain_above(start)
    steps = await _waiting_steps().filter(Q(loan__employee_id=employee_id) | Q(reimbursement__employee_id=employee_id)
                                          | Q(extension__employee_id=employee_id))
    moved = 0
    for step in steps:
        if await _move(viewer, step, candidates, SUPERVISOR_CHANGED) is not None:
            moved += 1
    return moved


async def approver_left(viewer: Viewer, employee_id: int) -> int:
    """A supervisor (or a deputy) left: the steps waiting for them go to the one above; a step they held as
    a deputy goes back to its approver (or above)."""
    above = await chain_above(await supervisor_of(employee_id))
    moved = 0
    steps = await _waiting_steps().filter(Q(approver_id=employee_id) | Q(delegated_from_id=employee_id)).order_by("id")
    for step in steps:
        owner_of = step.delegated_from_id  # type: ignore[attr-defined]
        candidates = await chain_above(owner_of) if owner_of not in (None, employee_id) else above
        if await _move(viewer, step, candidates, APPROVER_LEFT) is not None:
            moved += 1
    return moved
