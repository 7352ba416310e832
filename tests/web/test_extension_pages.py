"""延期申请 on the loan page: the borrower's form, the chain's timeline, the approver's decision; the inbox lists it."""

from __future__ import annotations

from datetime import timedelta

from server.models import Loan, LoanExtension
from server.services.base import today
from tests.factories import make_org
from tests.services.test_reimbursements import disbursed_loan
from tests.web.conftest import text_of


async def test_request_and_approve_an_extension_through_the_pages(browser, second_browser, db):
    await make_org(chain=["SUPERVISOR"])
    loan = await disbursed_loan("600.00")
    await browser.login("sales")
    section = await browser.get(f"/loans/{loan.id}/extensions", headers={"HX-Request": "true"})
    assert 'id="extension-form"' in section.text
    too_early = await browser.post(f"/loans/{loan.id}/extensions", {"newDate": today().isoformat(), "reason": "x"},
                                   headers={"HX-Request": "true"})
    assert too_early.status_code == 200 and "须晚于" in text_of(too_early.text)
    new_date = (today() + timedelta(days=40)).isoformat()
    asked = await browser.post(f"/loans/{loan.id}/extensions", {"newDate": new_date, "reason": "项目回款推迟"})
    assert asked.status_code == 303
    section = text_of((await browser.get(f"/loans/{loan.id}/extensions")).text)
    assert f"→ {new_date}" in section and "等待直属上级审批" in section and "项目回款推迟" in section

    await second_browser.login("manager")
    inbox = text_of((await second_browser.get("/approvals/extensions", headers={"HX-Request": "true"})).text)
    assert loan.number in inbox and "待审批的延期申请" in inbox
    ext = await LoanExtension.get(loan_id=loan.id)
    page = await second_browser.get(f"/loans/{loan.id}/extensions")
    assert f'action="/loans/{loan.id}/extensions/{ext.id}"' in page.text
    rejected = await second_browser.post(f"/loans/{loan.id}/extensions/{ext.id}", {"decision": "REJECT", "comment": ""},
                                         headers={"HX-Request": "true"})
    assert rejected.status_code == 200 and "驳回需要填写意见" in text_of(rejected.text)
    done = await second_browser.post(f"/loans/{loan.id}/extensions/{ext.id}", {"decision": "APPROVE", "comment": "同意"})
    assert done.status_code == 303
    assert (await Loan.get(id=loan.id)).expected_settle_date.isoformat() == new_date
    # The borrower cannot decide, and sees no decision form.
    assert f'action="/loans/{loan.id}/extensions/{ext.id}"' not in (await browser.get(f"/loans/{loan.id}/extensions")).text
