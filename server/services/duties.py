"""Separation of duties over stored data: who could still decide a waiting step, four eyes on payouts.

The rules are in server/domain/duties.py; this module reads what they need in a constant number of queries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from server.domain.duties import VIEW_POSITION_HISTORY, Holder, blocked_reason, four_eyes_violation, require
from server.domain.errors import Forbidden
from server.domain.messages import Message, _m
from server.domain.vocab import Decision, EmployeeStatus, LoanStatus, Role
from server.models import ApprovalStep, Employee, Loan, User
from server.services.base import Viewer, require_login


async def holders() -> list[Holder]:
    """Every active account (a few hundred at most: roles are a JSON list, filtered in Python)."""
    rows = await User.filter(is_active=True).values("id", "roles", "employee_id")
    left = set(await Employee.filter(
        id__in=[r["employee_id"] for r in rows if r["employee_id"] is not None] or [-1], status=EmployeeStatus.LEFT,
    ).values_list("id", flat=True))
    return [Holder(r["id"], r["employee_id"], frozenset(r["roles"] or [])) for r in rows
            if r["employee_id"] not in left]


async def blocked_reasons(owner: str, rows: Sequence[Any]) -> list[Message | None]:
    """Per loan or reimbursement (`owner` = "loan_id" | "reimbursement_id"): why its waiting step can be
    decided by nobody, or None. Three queries for any number of rows."""
    pending = [r for r in rows if r.status == LoanStatus.PENDING_APPROVAL]
    if not pending:
        return [None for _ in rows]
    steps: dict[int, list[ApprovalStep]] = defaultdict(list)
    for step in await ApprovalStep.filter(**{f"{owner}__in": [r.id for r in pending]}).order_by("order"):
        steps[getattr(step, owner)].append(step)
    people = await holders()
    out: list[Message | None] = []
    for row in rows:
        reason = None
        chain = steps.get(row.id, []) if row.status == LoanStatus.PENDING_APPROVAL else []
        current = next((s for s in chain if s.is_current), None)
        if current is not None:
            earlier = [s.decided_by_id for s in chain if s.decision is not None]  # type: ignore[attr-defined]
            fixed = current.approver_id if current.role == Role.SUPERVISOR else None  # type: ignore[attr-defined]
            reason = blocked_reason(current.role, fixed, people, row.employee_id, earlier)
        out.append(reason)
    return out


def four_eyes_refusal(viewer: Viewer, enabled: bool, steps: Sequence[ApprovalStep]) -> Forbidden | None:
    """With FOUR_EYES_PAYOUT `enabled`, why the viewer may not pay out what these steps approved."""
    approvers = [s.decided_by_id for s in steps if s.decision == Decision.APPROVE]  # type: ignore[attr-defined]
    if four_eyes_violation(enabled, viewer.user_id, approvers):
        return Forbidden(_m("四眼原则：审批过的人不能付款"))
    return None


async def blocked_loans_of_position(viewer: Viewer, position_id: int) -> list[tuple[Loan, Message]]:
    """For the position page: loans of this position's employees that nobody can approve, with the reason."""
    require_login(viewer)
    require(viewer.roles, VIEW_POSITION_HISTORY)
    loans = await Loan.filter(employee__position_id=position_id, status=LoanStatus.PENDING_APPROVAL).order_by("created_at", "id")
    reasons = await blocked_reasons("loan_id", loans)
    return [(loan, reason) for loan, reason in zip(loans, reasons, strict=True) if reason]
