"""Allocating a reimbursement over open loans (oldest first, or as asked).

Offsetting is mandatory: while the employee owes anything, a reimbursement pays off as much
of it as it can (min(total, everything offsettable)) before any money is paid out.
A loan's offsettable amount is its ledger balance less the offsets already reserved by
pending reimbursements, so one balance is never offset twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from server.domain.errors import ValidationFailed
from server.domain.ledger import OPEN_STATUSES
from server.domain.messages import _m
from server.domain.money import ZERO


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


def offsettable(balance: Decimal, reserved: Decimal) -> Decimal:
    """What a new reimbursement may still take off a loan."""
    return max(ZERO, balance - reserved)


def _open(loan: OpenLoan, employee_id: int | None = None) -> bool:
    return (
        loan.status in OPEN_STATUSES and loan.offsettable > 0
        and (employee_id is None or loan.employee_id == employee_id)
    )


def owed(loans: Sequence[OpenLoan], employee_id: int) -> Decimal:
    """Everything the employee's open loans still leave to offset."""
    return sum((loan.offsettable for loan in loans if _open(loan, employee_id)), ZERO)


def allocate_oldest_first(total: Decimal, loans: Sequence[OpenLoan]) -> list[Allocation]:
    """Spread `total` over the open loans, the oldest first, each up to its offsettable amount."""
    remaining = total
    out: list[Allocation] = []
    for loan in sorted(loans, key=lambda x: x.disbursed_order):
        if remaining <= 0:
            break
        if not _open(loan):
            continue
        take = min(remaining, loan.offsettable)
        out.append(Allocation(loan.loan_id, take))
        remaining -= take
    return out


def check_explicit(
    total: Decimal, requested: Sequence[Allocation], loans_by_id: dict[int, OpenLoan], employee_id: int
) -> list[Allocation]:
    """Validate explicit offsets: each on the employee's own open loan, within its balance, sum <= total.

    `loans_by_id` holds every open loan of the employee and every loan named in `requested`.
    Offsetting is mandatory: when the employee owes anything, the reimbursement must offset
    as much as it can (min(total, everything offsettable)).
    """
    merged: dict[int, Decimal] = {}
    for alloc in requested:
        if alloc.amount <= 0:
            raise ValidationFailed(_m("冲抵金额必须大于 0"), field="offsets")
        merged[alloc.loan_id] = merged.get(alloc.loan_id, ZERO) + alloc.amount
    for loan_id, amount in merged.items():
        loan = loans_by_id.get(loan_id)
        if loan is None:
            raise ValidationFailed(_m("借款 %(loan)s 不存在", loan=loan_id), field="offsets")
        if loan.employee_id != employee_id:
            # Someone else's loan: do not echo its number or balance back.
            raise ValidationFailed(
                _m("借款 %(loan)s 不是本人的借款", loan=loan_id), field="offsets"
            )
        if loan.status not in OPEN_STATUSES:
            raise ValidationFailed(
                _m("借款 %(number)s 未放款或已结清，不能冲抵", number=loan.number),
                field="offsets",
            )
        if amount > loan.offsettable:
            raise ValidationFailed(
                _m("冲抵借款 %(number)s 的金额 %(amount)s 超过可冲抵余额 %(balance)s", number=loan.number,
                   amount=amount, balance=loan.offsettable),
                field="offsets",
            )
    offset_total = sum(merged.values(), ZERO)
    if offset_total > total:
        raise ValidationFailed(
            _m("冲抵合计 %(offsets)s 超过报销总额 %(total)s", offsets=offset_total, total=total),
            field="offsets",
        )
    required = min(total, owed(list(loans_by_id.values()), employee_id))
    if offset_total < required:
        raise ValidationFailed(
            _m("报销必须冲抵未结清借款：应冲抵 %(required)s，实际 %(given)s", required=required, given=offset_total),
            field="offsets",
        )
    return [Allocation(k, v) for k, v in merged.items()]


def plan(
    total: Decimal, requested: Sequence[Allocation] | None, loans_by_id: dict[int, OpenLoan], employee_id: int
) -> list[Allocation]:
    """The offsets of a new reimbursement: the explicit ones checked, or oldest first when none were given."""
    if total <= 0:
        raise ValidationFailed(_m("报销总额必须大于 0"), field="lines")
    if requested is None:
        own = [loan for loan in loans_by_id.values() if loan.employee_id == employee_id]
        return allocate_oldest_first(total, own)
    return check_explicit(total, requested, loans_by_id, employee_id)


def offset_total(allocations: Sequence[Allocation]) -> Decimal:
    return sum((a.amount for a in allocations), ZERO)


def payable_of(total: Decimal, offset_sum: Decimal) -> Decimal:
    """What the company pays the employee on a claim of `total` with `offset_sum` offset against loans.

    The one place this rule is written: the schema's `payable`, the pay service, the form panel and the
    list figures all call it. Negative only in a preview whose typed offsets exceed the total (the
    submission refuses those).
    """
    return total - offset_sum


def payable(total: Decimal, allocations: Sequence[Allocation]) -> Decimal:
    """What the company pays on checked allocations (never negative by construction)."""
    out = payable_of(total, offset_total(allocations))
    if out < 0:
        raise ValueError("offsets exceed the total")
    return out


def applicable(reserved: Decimal, balance: Decimal) -> Decimal:
    """At approval: what a reserved offset may still take off its loan.

    Normally the whole reservation. If the loan was meanwhile repaid in cash, deducted or
    written off, only what is still owed: the balance never goes below zero and the
    employee is paid the difference.
    """
    return max(ZERO, min(reserved, balance))
