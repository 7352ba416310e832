"""Approval chains shared by loans and reimbursements: the viewer as an approver, stored steps as
domain steps, the chain saved and advanced, and the queues of what waits for the viewer."""

from __future__ import annotations

from typing import Any

from tortoise.expressions import Q, Subquery

from server.domain import approvals
from server.domain.roles import SUPERVISOR
from server.domain.vocab import LoanStatus
from server.models import ApprovalStep, ApproverDeputy
from server.services import rerouting
from server.services.base import Page, Viewer, paginate, require_login, today, utcnow


def actor(viewer: Viewer) -> approvals.Actor:
    return approvals.Actor(user_id=viewer.user_id or 0, employee_id=viewer.employee_id, roles=viewer.roles)


def to_step(row: ApprovalStep) -> approvals.Step:
    return approvals.Step(
        order=row.order, role=row.role, approver_employee_id=row.approver_id,  # type: ignore[attr-defined]
        decision=row.decision, comment=row.comment, decided_at=row.decided_at, skipped=row.skipped,
        decided_by_user_id=row.decided_by_id,  # type: ignore[attr-defined]
    )


def actor_may_decide(viewer: Viewer, row: ApprovalStep, applicant_id: int) -> bool:
    return approvals.can_decide(to_step(row), actor(viewer), applicant_id)


OLDEST_FIRST = ("created_at", "id")


def waiting_qs(viewer: Viewer, model: Any, owner: str) -> Any:
    """Rows of `model` (Loan or Reimbursement, linked from ApprovalStep by `owner`) whose current
    approval step is the viewer's to decide; never the viewer's own. One statement (a subquery over
    the current steps), so the inbox costs the same for 5 and 500 waiting items."""
    require_login(viewer)
    step_q = Q(role__in=[r for r in viewer.roles if r != SUPERVISOR])
    if viewer.employee_id is not None:
        step_q |= Q(role=SUPERVISOR, approver_id=viewer.employee_id)
    steps = ApprovalStep.filter(step_q, is_current=True, **{f"{owner}__not_isnull": True}).values(owner)
    qs = model.filter(id__in=Subquery(steps), status=LoanStatus.PENDING_APPROVAL)
    if viewer.user_id is not None:
        # One person, one step: a chain the viewer already decided a step of waits for someone else.
        decided = ApprovalStep.filter(decided_by_id=viewer.user_id, **{f"{owner}__not_isnull": True}).values(owner)
        qs = qs.exclude(id__in=Subquery(decided))
    if viewer.employee_id is not None:
        qs = qs.exclude(employee_id=viewer.employee_id)
    return qs


async def waiting_for(viewer: Viewer, model: Any, owner: str) -> list[Any]:
    """Everything waiting for the viewer, oldest first (the contract's unpaged lists)."""
    return await waiting_qs(viewer, model, owner).order_by(*OLDEST_FIRST)


async def waiting_page(viewer: Viewer, model: Any, owner: str, first: int = 50,
                       after: list[Any] | None = None) -> Page:
    """The same, paged by keyset (the inbox pages)."""
    return await paginate(waiting_qs(viewer, model, owner), first, after, OLDEST_FIRST)


async def save_new_chain(steps: list[approvals.Step], **owner: Any) -> None:
    current = approvals.current_step(steps)
    if not steps:
        return
    # One INSERT for the whole chain (a write holds the applicant's lock meanwhile).
    await ApprovalStep.bulk_create([ApprovalStep(
        order=step.order, role=step.role, approver_id=step.approver_employee_id, skipped=step.skipped,
        comment=step.comment, is_current=current is not None and step.order == current.order, **owner,
    ) for step in steps])
    # A supervisor away with a deputy named: the new SUPERVISOR step goes to the deputy (issue 12).
    (column, row), = owner.items()
    if any(s.role == SUPERVISOR and not s.skipped for s in steps) \
            and await ApproverDeputy.filter(cleared_at__isnull=True, ends_on__gte=today()).exists():
        await rerouting.route_new_chain(await ApprovalStep.filter(**{f"{column}_id": row.id}).order_by("order"), row.employee_id)


async def decide_chain(
    viewer: Viewer, rows: list[ApprovalStep], applicant_id: int, decision: str, comment: str | None,
) -> tuple[ApprovalStep, str | None]:
    """Advance a stored chain (loans and reimbursements alike). Returns the decided row and the outcome."""
    steps = [to_step(r) for r in rows]
    step, outcome = approvals.decide(steps, actor(viewer), applicant_id, decision, comment, utcnow())
    row = next(r for r in rows if r.order == step.order)
    row.decision, row.comment, row.decided_at = step.decision, step.comment, step.decided_at  # type: ignore[assignment]
    row.decided_by_id = viewer.user_id  # type: ignore[attr-defined]
    if row.role != SUPERVISOR:
        row.approver_id = viewer.employee_id  # type: ignore[attr-defined]
    nxt = approvals.current_step(steps) if outcome is None else None
    for r in rows:
        want = nxt is not None and r.order == nxt.order
        if r.is_current != want or r is row:
            r.is_current = want
            await r.save()
    return row, outcome
