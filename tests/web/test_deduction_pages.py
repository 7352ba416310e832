"""The loan page's salary-deduction flag and the employee's confirmation, through the real app."""

from __future__ import annotations

from server.models import LedgerEntry
from server.services import loans
from tests.factories import make_org
from tests.services.test_deduction_consent import _disbursed, _viewer


async def test_the_loan_page_shows_the_flag_and_the_employee_confirms(db, browser):
    await make_org()
    loan = await _disbursed()
    await loans.settle_loan(await _viewer("finance"), loan.id, "SALARY_DEDUCTION", "500.00", "十二月")
    entry = await LedgerEntry.get(loan_id=loan.id, kind="SALARY_DEDUCTION")
    await browser.login("sales")
    assert f'hx-get="/loans/{loan.id}/deductions"' in (await browser.get(f"/loans/{loan.id}")).text
    fragment = await browser.get(f"/loans/{loan.id}/deductions", headers={"HX-Request": "true"})
    assert "未登记员工同意" in fragment.text and "我同意此项扣款" in fragment.text
    done = await browser.post(f"/loans/{loan.id}/deductions/{entry.id}/consent", follow_redirects=False)
    assert done.status_code == 303
    assert "员工已在系统中确认" in (await browser.get(f"/loans/{loan.id}/deductions")).text
