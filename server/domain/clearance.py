"""What blocks an offboarding, and how it may be settled."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from server.domain.messages import Message, _m
from server.domain.money import ZERO


@dataclass(frozen=True)
class OwedLoan:
    number: str
    outstanding: Decimal


@dataclass(frozen=True)
class PendingReimbursement:
    number: str
    offset_total: Decimal


def blockers(loans: Sequence[OwedLoan], pending: Sequence[PendingReimbursement]) -> list[Message]:
    """Human-readable reasons why clearance cannot be confirmed; empty when nothing is owed."""
    out = [_m("借款 %(number)s 未结清 %(amount)s", number=loan.number, amount=loan.outstanding)
           for loan in loans if loan.outstanding > 0]
    out += [
        _m("报销单 %(number)s 待审批，拟冲抵 %(amount)s", number=r.number, amount=r.offset_total)
        for r in pending if r.offset_total > 0
    ]
    return out


def total_owed(loans: Sequence[OwedLoan]) -> Decimal:
    return sum((loan.outstanding for loan in loans), ZERO)


def blocked_message(reasons: list[Message], owed: Decimal) -> Message:
    return _m("离职清款未完成，尚欠 %(owed)s：%(reasons)s", owed=owed, reasons=reasons)
