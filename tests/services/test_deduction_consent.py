"""Salary-deduction consent and the 20% check against a real ledger (both databases), and the loan page's flag."""

from __future__ import annotations

from decimal import Decimal

import pytest

from server.domain.errors import Conflict, Forbidden, ValidationFailed
from server.models import AuditEntry, LedgerEntry, User
from server.services import corrections, deductions, loans, sessions
from tests.factories import make_org


async def _viewer(username: str):
    return sessions.viewer_for(await User.get(username=username))


async def _disbursed(amount: str = "3000.00"):
    sales, manager, fin = await _viewer("sales"), await _viewer("manager"), await _viewer("finance")
    loan = await loans.apply_for_loan(sales, loans.LoanApplication(amount, "TRAVEL", "出差"))
    for who in (manager, fin):
        await loans.decide_loan(who, loan.id, "APPROVE")
    await loans.disburse_loan(fin, loan.id)
    return loan


async def test_the_twenty_percent_check_counts_the_month_and_reversals(db):
    await make_org()  # sales earns 8,000.00: 20% is 1,600.00
    loan = await _disbursed()
    fin = await _viewer("finance")
    check = await deductions.check_deduction(fin, loan.id, "1600.00")
    assert (check.cap, check.deducted_this_month, check.warning) == (Decimal("1600.00"), Decimal("0.00"), None)
    assert (await deductions.check_deduction(fin, loan.id, "1600.01")).warning is not None
    await loans.settle_loan(fin, loan.id, "SALARY_DEDUCTION", "1000.00", "十二月工资")
    check = await deductions.check_deduction(fin, loan.id, "600.01")
    assert check.deducted_this_month == Decimal("1000.00") and check.warning is not None
    entry = await LedgerEntry.get(loan_id=loan.id, kind="SALARY_DEDUCTION")
    await corrections.reverse_settlement(fin, entry.id, "扣错了")
    assert (await deductions.check_deduction(fin, loan.id, "1600.00")).deducted_this_month == Decimal("0.00")
    with pytest.raises(Forbidden):
        await deductions.check_deduction(await _viewer("sales"), loan.id, "1.00")


async def test_a_deduction_without_consent_is_flagged_until_confirmed_or_noted(db):
    await make_org()
    loan = await _disbursed()
    fin, sales, hr = await _viewer("finance"), await _viewer("sales"), await _viewer("hr")
    await loans.settle_loan(fin, loan.id, "SALARY_DEDUCTION", "500.00", "十二月")
    await loans.settle_loan(fin, loan.id, "SALARY_DEDUCTION", "400.00", "一月")
    first, second = await LedgerEntry.filter(loan_id=loan.id, kind="SALARY_DEDUCTION").order_by("id")
    states = await deductions.loan_deductions(sales, loan.id)
    assert [s.consent is None for s in states] == [True, True]

    with pytest.raises(Forbidden):
        await deductions.confirm_deduction(fin, first.id)  # not their pay
    await deductions.confirm_deduction(sales, first.id)
    with pytest.raises(Conflict):
        await deductions.confirm_deduction(sales, first.id)
    with pytest.raises(Forbidden):
        await deductions.record_consent(sales, second.id, "自己写的")
    with pytest.raises(ValidationFailed):
        await deductions.record_consent(hr, second.id, " ")
    await deductions.record_consent(hr, second.id, "员工签字的扣款同意书已归档（人事档案）")
    states = await deductions.loan_deductions(fin, loan.id)
    assert [s.consent.kind for s in states] == ["EMPLOYEE_CONFIRMATION", "NOTE"]
    assert await AuditEntry.filter(action="loan.deduction_consent").count() == 2


async def test_another_employees_loan_is_refused_as_loan_refuses_it(db):
    """The same answer as `loans.get_loan` (FORBIDDEN), so a page asking for the loan and its deductions in one
    query gets one status whichever resolver finishes first; a missing loan is NOT_FOUND for everyone."""
    from server.domain.errors import NotFound
    from tests.services.test_reimbursements import colleague

    await make_org()
    loan = await _disbursed()
    await colleague()
    other = await _viewer("sales2")
    with pytest.raises(Forbidden):
        await loans.get_loan(other, loan.id)
    with pytest.raises(Forbidden):
        await deductions.loan_deductions(other, loan.id)
    with pytest.raises(NotFound):
        await deductions.loan_deductions(await _viewer("finance"), 999999)
    assert len(await deductions.loan_deductions(await _viewer("manager"), loan.id)) == 0
