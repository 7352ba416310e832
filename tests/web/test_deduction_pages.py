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


async def test_the_settle_form_warns_past_twenty_percent(db, browser):
    await make_org()  # 8,000.00 a month: 1,600.00 may be deducted without a warning
    loan = await _disbursed()
    await browser.login("finance")
    page = await browser.get("/finance")
    assert f'hx-get="/finance/{loan.id}/deduction-check"' in page.text
    url = f"/finance/{loan.id}/deduction-check"
    ok = await browser.get(url, params={"method": "SALARY_DEDUCTION", "amount": "1600.00"}, headers={"HX-Request": "true"})
    assert ok.status_code == 200 and ok.text.strip() == ""
    over = await browser.get(url, params={"method": "SALARY_DEDUCTION", "amount": "1600.01"},
                             headers={"HX-Request": "true"})
    assert "超过月薪" in over.text and "1,600.01" in over.text
    cash = await browser.get(url, params={"method": "CASH_RETURN", "amount": "3000.00"}, headers={"HX-Request": "true"})
    assert cash.text.strip() == ""
