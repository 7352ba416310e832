"""The home dashboard: what waits for an approver (loans and reimbursements) and the way to resign."""

from __future__ import annotations

import re

from server.services import offboarding as offboarding_service
from server.services.base import today
from tests.factories import make_org
from tests.web.conftest import text_of
from tests.web.test_loans import pending_loan, viewer
from tests.web.test_reimbursement_pages import submit_claim


def pending_counts(page: str) -> tuple[int, int]:
    loans = re.search(r'id="pending-loans">(\d+)<', page)
    reimbursements = re.search(r'id="pending-reimbursements">(\d+)<', page)
    assert loans and reimbursements, "the card shows both counts"
    return int(loans.group(1)), int(reimbursements.group(1))


async def test_waiting_card_counts_loans_and_reimbursements(browser, db):
    await make_org()
    await pending_loan("1000.00")
    await submit_claim("sales", "300.00")
    await submit_claim("sales", "200.00")
    home = await browser.login("manager")  # the salesperson's supervisor decides first on both
    assert pending_counts(home.text) == (1, 2)
    text = text_of(home.text)
    assert "待我审批" in text and "借款申请 1" in text and "报销单 2" in text
    assert 'href="/approvals" id="pending-reimbursements"' in home.text


async def test_nothing_waiting_shows_zero_for_both(browser, db):
    await make_org()
    home = await browser.login("finance")
    assert pending_counts(home.text) == (0, 0)


async def test_an_employee_sees_no_approval_card_but_a_quiet_resign_link(browser, db):
    await make_org()
    home = await browser.login("sales")
    assert "待我审批" not in text_of(home.text)
    assert 'href="/offboarding/resign"' in home.text and "提交离职" in text_of(home.text)
    assert (await browser.get("/offboarding/resign")).status_code == 200


async def test_no_resign_link_once_offboarding_started(browser, db):
    people = await make_org()
    await offboarding_service.start_offboarding(await viewer("hr"), people.sales, today(), "合同到期")
    home = await browser.login("sales")
    assert 'href="/offboarding/resign"' not in home.text
