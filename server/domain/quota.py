"""Loan quota: limit, committed, available, monthly use; the auto-reject decision and its reason."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from server.domain.messages import Message, _m
from server.domain.money import ZERO
from server.domain.vocab import CANCELLABLE_LOAN_STATUSES, LoanStatus

# Statuses whose amount is committed before any money moves.
RESERVING_STATUSES = CANCELLABLE_LOAN_STATUSES
# Statuses whose amount counts as applied for in a month.
MONTHLY_EXCLUDED = frozenset({LoanStatus.REJECTED, LoanStatus.CANCELLED})


@dataclass(frozen=True)
class LoanSnapshot:
    """What the quota needs to know of one loan."""

    amount: Decimal
    status: str
    outstanding: Decimal
    applied_on: date  # in the company's time zone


@dataclass(frozen=True)
class Quota:
    limit: Decimal
    committed: Decimal
    available: Decimal
    monthly_limit: Decimal | None
    monthly_used: Decimal

    @property
    def monthly_available(self) -> Decimal | None:
        if self.monthly_limit is None:
            return None
        return max(ZERO, self.monthly_limit - self.monthly_used)


def compute_quota(
    limit: Decimal, monthly_limit: Decimal | None, loans: Iterable[LoanSnapshot], today: date
) -> Quota:
    committed = ZERO
    monthly_used = ZERO
    for loan in loans:
        if loan.status in RESERVING_STATUSES:
            committed += loan.amount
        else:
            committed += loan.outstanding  # 0 for anything not disbursed
        if loan.status not in MONTHLY_EXCLUDED and (loan.applied_on.year, loan.applied_on.month) == (
            today.year,
            today.month,
        ):
            monthly_used += loan.amount
    available = max(ZERO, limit - committed)
    return Quota(limit, committed, available, monthly_limit, monthly_used)


def rejection_reason(quota: Quota, amount: Decimal) -> Message | None:
    """None when the application fits; otherwise a reason a person understands (a message id)."""
    if amount > quota.available:
        return _m("超出岗位借款额度：额度 %(limit)s，已占用 %(committed)s，可借 %(available)s，本次申请 %(amount)s。",
                  limit=quota.limit, committed=quota.committed, available=quota.available, amount=amount)
    monthly_available = quota.monthly_available
    if quota.monthly_limit is not None and monthly_available is not None and amount > monthly_available:
        return _m("超出岗位月度借款限额：月度限额 %(limit)s，本月已申请 %(used)s，本月可借 %(available)s，本次申请 %(amount)s。",
                  limit=quota.monthly_limit, used=quota.monthly_used, available=monthly_available, amount=amount)
    return None
