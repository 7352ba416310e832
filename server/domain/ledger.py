"""A loan's balance from its append-only ledger; the status derived from it.

Entries carry a signed delta in fen: the disbursement is +amount, every offset, cash
return, salary deduction and write-off is negative. Outstanding = the sum; it is never
stored anywhere else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from server.domain.errors import InvalidTransition, ValidationFailed
from server.domain.money import ZERO, fmt

DISBURSEMENT = "DISBURSEMENT"
OFFSET = "OFFSET"
CASH_RETURN = "CASH_RETURN"
SALARY_DEDUCTION = "SALARY_DEDUCTION"
WRITE_OFF = "WRITE_OFF"
SETTLEMENT_KINDS = (CASH_RETURN, SALARY_DEDUCTION, WRITE_OFF)
REDUCING_KINDS = (OFFSET, *SETTLEMENT_KINDS)

# Loan statuses in which a ledger exists.
LEDGER_STATUSES = frozenset({"DISBURSED", "PARTIALLY_SETTLED", "SETTLED", "WRITTEN_OFF"})
OPEN_STATUSES = frozenset({"DISBURSED", "PARTIALLY_SETTLED"})


@dataclass(frozen=True)
class Entry:
    kind: str
    amount: Decimal  # signed: + disbursement, - reductions


def balance(entries: Iterable[Entry]) -> Decimal:
    return sum((e.amount for e in entries), ZERO)


def status_from_ledger(amount: Decimal, entries: list[Entry]) -> str:
    """The status a disbursed loan must have, given its entries."""
    if not any(e.kind == DISBURSEMENT for e in entries):
        raise ValueError("no disbursement in the ledger")
    outstanding = balance(entries)
    if outstanding > 0:
        return "DISBURSED" if outstanding == amount else "PARTIALLY_SETTLED"
    if any(e.kind == WRITE_OFF for e in entries):
        return "WRITTEN_OFF"
    return "SETTLED"


def check_reduction(kind: str, amount: Decimal, outstanding: Decimal, status: str) -> None:
    """Raise unless `amount` may be taken off a loan with `outstanding` owed."""
    if kind not in REDUCING_KINDS:
        raise ValidationFailed(f"unknown settlement method {kind}", field="method")
    if status not in OPEN_STATUSES:
        raise InvalidTransition(f"借款状态为 {status}，不能登记还款 (loan is {status}; nothing to settle)")
    if amount <= 0:
        raise ValidationFailed("amount must be greater than 0", field="amount")
    if amount > outstanding:
        raise InvalidTransition(
            f"金额 {fmt(amount)} 超过未结清余额 {fmt(outstanding)} "
            f"(amount {fmt(amount)} exceeds the outstanding {fmt(outstanding)})",
            field="amount",
        )


def days_overdue(expected_settle_date: date, outstanding: Decimal, today: date) -> int:
    if outstanding <= 0:
        return 0
    return max(0, (today - expected_settle_date).days)
