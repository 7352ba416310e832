"""Salary deductions (工资扣回借款): the 20% warning and whether a deduction carries the employee's consent.

《工资支付暂行规定》Art. 16 caps deductions for damages at 20% of the monthly wage, and practitioners get the
employee's written consent before recovering an advance from pay (wave2-facts §2.3). A deduction without
consent is allowed but flagged; one that takes a month's deductions above 20% of the monthly salary is
allowed but warned about.
"""

from __future__ import annotations

from decimal import Decimal

from server.domain.messages import Message, _m
from server.domain.money import CENT, fmt

SALARY_SHARE_LIMIT = Decimal("0.20")
CONSENT_NOTE = "NOTE"  # a signed note, described (and kept on paper or as a file) by FINANCE or HR
CONSENT_CONFIRMED = "EMPLOYEE_CONFIRMATION"  # the employee confirmed it in Qingkuan
CONSENT_KINDS = (CONSENT_NOTE, CONSENT_CONFIRMED)


def monthly_cap(monthly_salary: Decimal) -> Decimal:
    return (monthly_salary * SALARY_SHARE_LIMIT).quantize(CENT)


def over_share(already_this_month: Decimal, amount: Decimal, monthly_salary: Decimal) -> bool:
    """True when this month's deductions with `amount` exceed 20% of the monthly salary (exactly 20% is not)."""
    return already_this_month + amount > monthly_cap(monthly_salary)


def share_warning(already_this_month: Decimal, amount: Decimal, monthly_salary: Decimal) -> Message | None:
    if not over_share(already_this_month, amount, monthly_salary):
        return None
    return _m("本月工资扣款合计 ¥%(total)s，超过月薪 ¥%(salary)s 的 20%%（¥%(cap)s）",
              total=fmt(already_this_month + amount), salary=fmt(monthly_salary), cap=fmt(monthly_cap(monthly_salary)))
