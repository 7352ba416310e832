"""Batch readers behind the GraphQL DataLoaders: one query per relation for a whole page.

They fetch by id only; the objects they are reached from were already authorized.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from tortoise.models import Model

from server.domain.messages import Message
from server.domain.vocab import OffsetState
from server.models import (
    ApprovalStep,
    Attachment,
    Department,
    Employee,
    ExpenseLine,
    LedgerEntry,
    Loan,
    Position,
    Region,
    Reimbursement,
    ReimbursementOffset,
    WriteOffProposal,
)
from server.services.loans import outstanding_by_loan


async def _by_id(model: type[Model], ids: Sequence[int]) -> list[Any]:
    rows = {r.pk: r for r in await model.filter(id__in=list(set(ids)))}
    return [rows.get(i) for i in ids]


async def employees(ids: Sequence[int]) -> list[Employee | None]:
    return await _by_id(Employee, ids)


async def positions(ids: Sequence[int]) -> list[Position | None]:
    return await _by_id(Position, ids)


async def departments(ids: Sequence[int]) -> list[Department | None]:
    return await _by_id(Department, ids)


async def regions(ids: Sequence[int]) -> list[Region | None]:
    return await _by_id(Region, ids)


async def loans(ids: Sequence[int]) -> list[Loan | None]:
    return await _by_id(Loan, ids)


async def reimbursements(ids: Sequence[int]) -> list[Reimbursement | None]:
    return await _by_id(Reimbursement, ids)


async def _grouped(model: type[Model], key: str, ids: Sequence[int], order: tuple[str, ...]) -> list[list[Any]]:
    groups: dict[int, list[Any]] = defaultdict(list)
    for row in await model.filter(**{f"{key}__in": list(set(ids))}).order_by(*order):
        groups[getattr(row, key)].append(row)
    return [groups.get(i, []) for i in ids]


async def loan_approvals(ids: Sequence[int]) -> list[list[ApprovalStep]]:
    return await _grouped(ApprovalStep, "loan_id", ids, ("order",))


async def reimbursement_approvals(ids: Sequence[int]) -> list[list[ApprovalStep]]:
    return await _grouped(ApprovalStep, "reimbursement_id", ids, ("order",))


async def loan_ledgers(ids: Sequence[int]) -> list[list[LedgerEntry]]:
    return await _grouped(LedgerEntry, "loan_id", ids, ("recorded_at", "id"))


async def loan_write_off_proposals(ids: Sequence[int]) -> list[list[WriteOffProposal]]:
    return await _grouped(WriteOffProposal, "loan_id", ids, ("proposed_at", "id"))


async def loan_attachments(ids: Sequence[int]) -> list[list[Attachment]]:
    return await _grouped(Attachment, "loan_id", ids, ("id",))


async def entry_attachments(ids: Sequence[int]) -> list[list[Attachment]]:
    return await _grouped(Attachment, "ledger_entry_id", ids, ("id",))


async def line_vouchers(ids: Sequence[int]) -> list[list[Attachment]]:
    return await _grouped(Attachment, "expense_line_id", ids, ("id",))


async def reimbursement_lines(ids: Sequence[int]) -> list[list[ExpenseLine]]:
    return await _grouped(ExpenseLine, "reimbursement_id", ids, ("order", "id"))


async def loan_offsets(ids: Sequence[int]) -> list[list[ReimbursementOffset]]:
    """Offsets applied to each loan or still reserved by a pending reimbursement (not released)."""
    groups: dict[int, list[Any]] = defaultdict(list)
    for row in await ReimbursementOffset.filter(loan_id__in=list(set(ids))).exclude(state=OffsetState.RELEASED).order_by("id"):
        groups[row.loan_id].append(row)
    return [groups.get(i, []) for i in ids]


async def reimbursement_offsets(ids: Sequence[int]) -> list[list[ReimbursementOffset]]:
    return await _grouped(ReimbursementOffset, "reimbursement_id", ids, ("id",))


async def outstanding(ids: Sequence[int]) -> list[Decimal]:
    balances = await outstanding_by_loan(ids)
    return [balances[i] for i in ids]


# ---------------------------------------------------------------- alerts and offboarding


async def alerts(ids: Sequence[int]) -> list[Any]:
    from server.models import Alert

    return await _by_id(Alert, ids)


async def alert_recipients(ids: Sequence[int]) -> list[list[Employee]]:
    from server.services.alerts import recipients_of

    return await recipients_of(ids)


async def clearances(employee_ids: Sequence[int]) -> list[Any]:
    """Each employee's clearance (open loans, pending offsets), recomputed from the ledger."""
    from server.services.offboarding import clearances as batch

    return await batch(employee_ids)


# ---------------------------------------------------------------- separation of duties


async def loan_blocked(ids: Sequence[int]) -> list[Message | None]:
    from server.services.duties import blocked_reasons

    return await blocked_reasons("loan_id", await _by_id(Loan, ids))


async def reimbursement_blocked(ids: Sequence[int]) -> list[Message | None]:
    from server.services.duties import blocked_reasons

    return await blocked_reasons("reimbursement_id", await _by_id(Reimbursement, ids))


async def position_histories(ids: Sequence[int]) -> list[list[Any]]:
    from server.services.org import position_histories as batch

    return await batch(ids)


async def employee_roles(ids: Sequence[int]) -> list[list[str]]:
    """The roles of each employee's account (none without an account)."""
    from server.models import User

    roles = {r["employee_id"]: sorted(r["roles"] or []) for r in await User.filter(
        employee_id__in=list(set(ids))).values("employee_id", "roles")}
    return [roles.get(i, []) for i in ids]


async def settings(keys: Sequence[str]) -> list[Any]:
    """Company settings by key (the stored value or the default), read once per request."""
    from server.services.company import get_setting

    return [await get_setting(k) for k in keys]


async def user_labels(user_ids: Sequence[int]) -> list[str | None]:
    """Who an account is, as a page names them: its employee's name, else the username (one statement)."""
    from server.models import User

    rows = {r["id"]: r for r in await User.filter(id__in=list(set(user_ids))).values("id", "username", "employee__name")}
    return [(rows[i]["employee__name"] or rows[i]["username"]) if i in rows else None for i in user_ids]
