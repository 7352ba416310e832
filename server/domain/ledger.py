"""A loan's balance from its append-only ledger; the status derived from it.

Entries carry a signed delta in fen: the disbursement is +amount, every offset, cash
return, salary deduction and write-off is negative. Outstanding = the sum; it is never
stored anywhere else. A mistake is corrected by a REVERSAL: a new entry that points at the
original and carries its negation; no entry is ever edited or removed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from server.domain.errors import InvalidTransition, ValidationFailed
from server.domain.messages import _m
from server.domain.money import ZERO
from server.domain.vocab import (  # noqa: F401  (the ledger's vocabulary, importable from here)
    LEDGER_STATUSES,
    OPEN_STATUSES,
    REDUCING_KINDS,
    REVERSIBLE_KINDS,
    SETTLEMENT_KINDS,
    DisbursementMethod,
    EntryKind,
    LoanStatus,
)

DISBURSEMENT = EntryKind.DISBURSEMENT
OFFSET = EntryKind.OFFSET
CASH_RETURN = EntryKind.CASH_RETURN
SALARY_DEDUCTION = EntryKind.SALARY_DEDUCTION
WRITE_OFF = EntryKind.WRITE_OFF
REVERSAL = EntryKind.REVERSAL


@dataclass(frozen=True)
class Entry:
    kind: str
    amount: Decimal  # signed: + disbursement, - reductions, + a reduction's reversal
    id: int | None = None
    reverses: int | None = None  # for a REVERSAL: the id of the entry it undoes


def standing(entries: Iterable[Entry]) -> list[Entry]:
    """The entries still in force: neither reversals nor reversed."""
    entries = list(entries)
    reversed_ids = {e.reverses for e in entries if e.kind == REVERSAL}
    return [e for e in entries if e.kind != REVERSAL and (e.id is None or e.id not in reversed_ids)]


def balance(entries: Iterable[Entry]) -> Decimal:
    return sum((e.amount for e in entries), ZERO)


def status_from_ledger(amount: Decimal, entries: list[Entry]) -> str:
    """The status a disbursed loan must have, given its entries."""
    if not any(e.kind == DISBURSEMENT for e in entries):
        raise ValueError("no disbursement in the ledger")
    outstanding = balance(entries)
    if outstanding > 0:
        return LoanStatus.DISBURSED if outstanding == amount else LoanStatus.PARTIALLY_SETTLED
    if any(e.kind == WRITE_OFF for e in standing(entries)):
        return LoanStatus.WRITTEN_OFF
    return LoanStatus.SETTLED


def reduction_state_refusal(status: str) -> InvalidTransition | None:
    """Why nothing may be taken off a loan in `status`, or None when it is open."""
    if status not in OPEN_STATUSES:
        return InvalidTransition(_m("借款状态为 %(status)s，不能登记还款", status=status))
    return None


def check_reduction(kind: str, amount: Decimal, outstanding: Decimal, status: str) -> None:
    """Raise unless `amount` may be taken off a loan with `outstanding` owed."""
    if kind not in REDUCING_KINDS:
        raise ValidationFailed(_m("未知的还款方式 %(kind)s", kind=kind), field="method")
    refusal = reduction_state_refusal(status)
    if refusal is not None:
        raise refusal
    if amount <= 0:
        raise ValidationFailed(_m("金额须大于 0"), field="amount")
    if amount > outstanding:
        raise InvalidTransition(
            _m("金额 %(amount)s 超过未结清余额 %(outstanding)s", amount=amount, outstanding=outstanding),
            field="amount",
        )


def check_reversal(original: Entry, entries: list[Entry]) -> None:
    """Raise unless `original` (one of `entries`) may be reversed now."""
    if original.kind == REVERSAL:
        raise InvalidTransition(_m("冲销记录不能再冲销"))
    if original.kind == OFFSET:
        raise InvalidTransition(_m("报销冲抵须通过报销单更正，不能在此冲销"))
    if original.kind not in REVERSIBLE_KINDS:
        raise InvalidTransition(_m("%(kind)s 不能冲销", kind=original.kind))
    if any(e.kind == REVERSAL and e.reverses == original.id for e in entries):
        raise InvalidTransition(_m("该笔记录已冲销"))


def reversal_of(original: Entry) -> Entry:
    return Entry(REVERSAL, -original.amount, reverses=original.id)


def days_overdue(expected_settle_date: date, outstanding: Decimal, today: date) -> int:
    if outstanding <= 0:
        return 0
    return max(0, (today - expected_settle_date).days)


# What disburseLoan records when a caller names no method (the contract's disburseLoan(loanId) and
# older clients): most advances go out by bank transfer; its reference is then simply not recorded.
DEFAULT_DISBURSEMENT_METHOD = DisbursementMethod.BANK_TRANSFER


@dataclass(frozen=True)
class Disbursement:
    method: str
    reference: str | None
    paid_on: date


def check_disbursement(method: str | None, reference: str | None, paid_on: date | None, *,
                       approved_on: date, today: date) -> Disbursement:
    """How and when the money went out. A named bank transfer needs its reference (the bank's
    transaction number); the payment date is neither in the future nor before the approval."""
    if method is None:
        chosen = DEFAULT_DISBURSEMENT_METHOD
    elif method in {m.value for m in DisbursementMethod}:
        chosen = DisbursementMethod(method)
    else:
        raise ValidationFailed(_m("未知的放款方式 %(method)s", method=method), field="method")
    if method == DisbursementMethod.BANK_TRANSFER and not reference:
        raise ValidationFailed(_m("银行转账须填写转账流水号"), field="reference")
    day = paid_on or today
    if day > today:
        raise ValidationFailed(_m("付款日期不能晚于今天"), field="paidOn")
    if day < approved_on:
        raise ValidationFailed(_m("付款日期不能早于审批通过日 %(date)s", date=approved_on.isoformat()), field="paidOn")
    return Disbursement(chosen, reference or None, day)
