"""Figures a person reads are server aggregates over every row of a list, never sums over a page.

Each test makes more rows than a page holds and checks the figure through GraphQL and on the page."""

from __future__ import annotations

from server.services import reimbursements as svc
from tests.factories import make_org
from tests.services.test_reimbursements import approve_reimbursement_chain, disbursed_loan, viewer_of
from tests.web.conftest import text_of
from tests.web.test_reimbursement_pages import submit_claim

FIGURES = """
query($employee: ID!, $first: Int) {
  reimbursements(employeeId: $employee, first: $first) {
    totalCount claimedTotal offsetTotal payableTotal unpaidPayable pendingApprovalCount
    edges { node { id } }
  }
}
"""


async def _twenty_five_claims() -> dict[str, object]:
    """25 claims of 1.00 … 25.00 by S1 against a 100.00 loan (offset oldest first over claims 1-14);
    the newest (25.00) rejected, claim 20 (20.00, no offset) approved and paid."""
    people = await make_org()
    await disbursed_loan("100.00")
    claims = [await submit_claim("sales", f"{i + 1}.00") for i in range(25)]
    await svc.decide_reimbursement(await viewer_of("manager"), claims[24].id, "REJECT", "重复")
    await approve_reimbursement_chain(claims[19].id)
    await svc.pay_reimbursement(await viewer_of("finance"), claims[19].id)
    return {"employee": str(people.sales), "claims": claims}


async def test_reimbursement_figures_cover_every_row_through_graphql(gql, db):
    made = await _twenty_five_claims()
    token = await gql.login("sales")
    data = (await gql.ok(FIGURES, {"employee": made["employee"], "first": 20}, token=token))["reimbursements"]
    assert len(data["edges"]) == 20 and data["totalCount"] == 25
    # 1 + … + 24 = 300.00 claimed (the rejected 25.00 left out); the 100.00 loan offset in full
    assert data["claimedTotal"] == "300.00" and data["offsetTotal"] == "100.00" and data["payableTotal"] == "200.00"
    # 200.00 payable less claim 20's 20.00 already paid; 23 still pending (one rejected, one paid)
    assert data["unpaidPayable"] == "180.00" and data["pendingApprovalCount"] == 23
    # the same figures whatever the page size, also with no rows asked for
    zero = (await gql.ok(FIGURES, {"employee": made["employee"], "first": 0}, token=token))["reimbursements"]
    assert {k: v for k, v in zero.items() if k != "edges"} == {k: v for k, v in data.items() if k != "edges"}


async def test_my_reimbursements_page_shows_the_figures_of_every_row(browser, db):
    await _twenty_five_claims()
    await browser.login("sales")
    text = text_of((await browser.get("/reimbursements")).text)
    # the page lists 20 of 25; its own rows (claims 6-25) would give other figures
    assert text.count("BX-") == 20
    assert "报销单 25 笔" in text and "待审批 23 笔" in text and "尚未付款 180.00" in text
    assert "报销合计 300.00" in text and "冲抵借款 100.00" in text and "实付 200.00" in text
    assert "只统计本页" not in text


async def test_finance_payment_figures_cover_every_approved_claim(browser, db, monkeypatch):
    from server.web import reimbursements as pages

    monkeypatch.setattr(pages, "FINANCE_PAGE", 3)
    await make_org()
    await disbursed_loan("4.00")
    claims = [await submit_claim("sales", f"{i + 1}0.00") for i in range(5)]  # 10.00 … 50.00
    for claim in claims:
        await approve_reimbursement_chain(claim.id)
    await browser.login("finance")
    text = text_of((await browser.get("/finance/reimbursements")).text)
    # 3 of 5 listed; 150.00 claimed, the oldest (10.00) offset 4.00 against the loan
    assert "仅显示前 3 笔" in text and "待付款 5 笔" in text
    assert "待付金额 146.00" in text and "已冲抵借款 4.00" in text


async def test_employee_count_covers_more_than_the_list(browser, db, monkeypatch):
    from server.services import org

    monkeypatch.setattr(org, "EMPLOYEE_LIST_LIMIT", 2)
    await make_org()
    await browser.login("admin")
    text = text_of((await browser.get("/admin/employees")).text)
    assert "共 4 人" in text  # four employees, two listed


async def test_loan_figures_are_counted_by_the_server(gql, db):
    from datetime import timedelta

    from server.models import Loan
    from server.services.base import today

    await make_org()
    late = await disbursed_loan("300.00")
    await disbursed_loan("200.00")
    await Loan.filter(id=late.id).update(expected_settle_date=today() - timedelta(days=3))
    token = await gql.login("sales")
    me = (await gql.ok("{ me { employee { outstanding openLoanCount overdueLoanCount } } }", token=token))
    assert me["me"]["employee"] == {"outstanding": "500.00", "openLoanCount": 2, "overdueLoanCount": 1}
