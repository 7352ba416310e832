"""Printable 借款单 and 报销单 through the real app: capitals, figures, approvers with times, signature places,
linked from the detail pages, and only for people who may see the record."""

from __future__ import annotations

from server.models import Loan, Reimbursement
from tests.factories import make_org
from tests.services.test_journal_export import _history
from tests.web.conftest import text_of


async def test_loan_and_claim_forms(browser, db):
    await make_org()
    await _history()
    loan, claim = await Loan.get(), await Reimbursement.get()
    await browser.login("sales")
    detail = await browser.get(f"/loans/{loan.id}")
    assert f'href="/loans/{loan.id}/print"' in detail.text
    page = await browser.get(f"/loans/{loan.id}/print")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "借款单" in text and loan.number in text and "张三" in text
    assert "人民币壹仟元整" in text and "¥1,000.00" in text
    assert "李经理" in text and "赵财务" in text and "同意" in text  # the approvers and their decisions
    assert "借款人签字" in text and "出纳" in text
    assert "<script" in page.text and "onclick" not in page.text  # the print button's script is a static file

    assert f'href="/reimbursements/{claim.id}/print"' in (await browser.get(f"/reimbursements/{claim.id}")).text
    form = text_of((await browser.get(f"/reimbursements/{claim.id}/print")).text)
    assert "报销单" in form and claim.number in form
    assert "人民币壹仟贰佰元整" in form and "¥1,200.00" in form  # total
    assert "¥950.00" in form and "人民币贰佰伍拾元整" in form  # offset against the loan, and what was paid
    assert loan.number in form and "报销人签字" in form


async def test_a_stranger_may_not_print(browser, db):
    from datetime import date

    from server.services import org
    from server.services.base import SYSTEM

    await make_org()
    await _history()
    await org.create_employee(SYSTEM, org.EmployeeData(
        employee_no="S2", name="王五", department_code="SALES", region_code="XA", position_code="SALES",
        supervisor_no="M1", monthly_salary="8000.00", hire_date=date(2024, 1, 1), username="wang",
        password="pass-1234", roles=["EMPLOYEE"]))
    loan, claim = await Loan.get(), await Reimbursement.get()
    await browser.login("wang")
    assert (await browser.get(f"/loans/{loan.id}/print")).status_code in (403, 404)
    assert (await browser.get(f"/reimbursements/{claim.id}/print")).status_code in (403, 404)
