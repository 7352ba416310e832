"""Allocating a reimbursement over open loans (oldest first, or as asked)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from server.domain.errors import ValidationFailed
from server.domain.money import ZERO, fmt


@dataclass(frozen=True)
class OpenLoan:
    loan_id: int
    number: str
    employee_id: int
    status: str
    offsettable: Decimal  # outstanding less offsets already reserved by pending reimbursements
    disbursed_order: tuple  # sort key: oldest first


@dataclass(frozen=True)
class Allocation:
    loan_id: int
    amount: Decimal


def allocate_oldest_first(total: Decimal, loans: Sequence[OpenLoan]) -> list[Allocation]:
    remaining = total
    out: list[Allocation] = []
    for loan in sorted(loans, key=lambda x: x.disbursed_order):
        if remaining <= 0:
            break
        take = min(remaining, loan.offsettable)
        if take > 0:
            out.append(Allocation(loan.loan_id, take))
            remaining -= take
    return out


def check_explicit(
    total: Decimal, requested: Sequence[Allocation], loans_by_id: dict[int, OpenLoan], employee_id: int
) -> list[Allocation]:
    """Validate explicit offsets: each on the employee's own open loan, within its balance, sum <= total.

    Offsetting is mandatory: when the employee owes anything, the reimbursement must offset
    as much as it can (min(total, everything offsettable)).
    """
    merged: dict[int, Decimal] = {}
    for alloc in requested:
        if alloc.amount <= 0:
            raise ValidationFailed("offset amount must be greater than 0", field="offsets")
        merged[alloc.loan_id] = merged.get(alloc.loan_id, ZERO) + alloc.amount
    for loan_id, amount in merged.items():
        loan = loans_by_id.get(loan_id)
        if loan is None:
            raise ValidationFailed(f"借款 {loan_id} 不存在 (loan {loan_id} not found)", field="offsets")
        if loan.employee_id != employee_id:
            raise ValidationFailed(
                f"借款 {loan.number} 不是本人的借款 (loan {loan.number} is not the employee's own)",
                field="offsets",
            )
        if loan.status not in ("DISBURSED", "PARTIALLY_SETTLED"):
            raise ValidationFailed(
                f"借款 {loan.number} 未放款或已结清 (loan {loan.number} is {loan.status})", field="offsets"
            )
        if amount > loan.offsettable:
            raise ValidationFailed(
                f"冲抵借款 {loan.number} 的金额 {fmt(amount)} 超过可冲抵余额 {fmt(loan.offsettable)} "
                f"(offset {fmt(amount)} exceeds the loan's balance {fmt(loan.offsettable)})",
                field="offsets",
            )
    offset_total = sum(merged.values(), ZERO)
    if offset_total > total:
        raise ValidationFailed(
            f"冲抵合计 {fmt(offset_total)} 超过报销总额 {fmt(total)} "
            f"(offsets {fmt(offset_total)} exceed the total {fmt(total)})",
            field="offsets",
        )
    owed = sum((loan.offsettable for loan in loans_by_id.values() if loan.employee_id == employee_id), ZERO)
    required = min(total, owed)
    if offset_total < required:
        raise ValidationFailed(
            f"报销必须冲抵未结清借款：应冲抵 {fmt(required)}，实际 {fmt(offset_total)} "
            f"(a reimbursement must offset open loans: {fmt(required)} required, {fmt(offset_total)} given)",
            field="offsets",
        )
    return [Allocation(k, v) for k, v in merged.items()]
