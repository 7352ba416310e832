"""What blocks an offboarding, and how it may be settled."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from server.domain.money import ZERO, fmt


@dataclass(frozen=True)
class OwedLoan:
    number: str
    outstanding: Decimal


@dataclass(frozen=True)
class PendingReimbursement:
    number: str
    offset_total: Decimal


def blockers(loans: Sequence[OwedLoan], pending: Sequence[PendingReimbursement]) -> list[str]:
    """Human-readable reasons why clearance cannot be confirmed; empty when nothing is owed."""
    out = [f"借款 {loan.number} 未结清 {fmt(loan.outstanding)}" for loan in loans if loan.outstanding > 0]
    out += [
        f"报销单 {r.number} 待审批，拟冲抵 {fmt(r.offset_total)}" for r in pending if r.offset_total > 0
    ]
    return out


def total_owed(loans: Sequence[OwedLoan]) -> Decimal:
    return sum((loan.outstanding for loan in loans), ZERO)


def blocked_message(reasons: list[str], owed: Decimal) -> str:
    return (
        f"离职清款未完成，尚欠 {fmt(owed)}：" + "；".join(reasons) + f" (clearance blocked: {fmt(owed)} owed)"
    )
