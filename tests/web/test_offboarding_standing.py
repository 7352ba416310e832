"""An employee being offboarded is told on the home and apply pages; applying is disabled with the reason
(issue 12). The flag is applyForLoan's own check: the GraphQL answer and the mutation agree."""

from __future__ import annotations

from datetime import timedelta

from server.models import Loan
from server.services import offboarding as offboarding_service
from server.services.base import today
from tests.factories import make_org
from tests.web.conftest import text_of
from tests.web.test_loans import disbursed_loan, viewer

STANDING = "{ me { canApply applyBlockedReason offboarding { status lastWorkingDay outstanding } } }"
APPLY = """mutation { applyForLoan(input:{amount:"100.00", purpose:TRAVEL, description:"出差"}) { id } }"""


async def test_active_employee_may_apply(gql, db):
    await make_org()
    token = await gql.login("sales", "pass-1234")
    assert (await gql.ok(STANDING, token=token))["me"] == {"canApply": True, "applyBlockedReason": None,
                                                           "offboarding": None}


async def test_being_offboarded_is_shown_and_agrees_with_the_mutation(gql, browser, db):
    people = await make_org()
    await disbursed_loan("300.00")
    day = today() + timedelta(days=10)
    await offboarding_service.start_offboarding(await viewer("hr"), people.sales, day, "合同到期")
    token = await gql.login("sales", "pass-1234")
    me = (await gql.ok(STANDING, token=token))["me"]
    assert me == {"canApply": False, "applyBlockedReason": "离职办理中，不能申请借款",
                  "offboarding": {"status": "CLEARANCE_PENDING", "lastWorkingDay": day.isoformat(),
                                  "outstanding": "300.00"}}
    err = await gql.error(APPLY, token=token)
    assert err["message"] == me["applyBlockedReason"]

    home = await browser.login("sales")
    text = text_of(home.text)
    assert 'id="offboarding-notice"' in home.text and "离职办理中" in text
    assert f"最后工作日 {day.isoformat()}" in text and "您尚欠借款 300.00 元" in text
    assert 'href="/loans/new"' not in home.text.split('id="offboarding-notice"')[1].split("</section>")[0]
    assert 'id="apply-blocked-reason">离职办理中，不能申请借款' in home.text

    form = await browser.get("/loans/new")
    assert form.status_code == 200
    assert '<fieldset class="plain" disabled' in form.text
    assert "离职办理中，不能申请借款" in text_of(form.text)
    # A post anyway (an old tab) is refused by the service with the same reason.
    before = await Loan.all().count()
    refused = await browser.post("/loans/new", {"amount": "100.00", "purpose": "TRAVEL", "description": "出差"})
    assert refused.status_code in (409, 422) and "离职办理中，不能申请借款" in text_of(refused.text)
    assert await Loan.all().count() == before


async def test_an_active_employee_sees_no_notice(browser, db):
    await make_org()
    home = await browser.login("sales")
    assert 'id="offboarding-notice"' not in home.text and 'href="/loans/new"' in home.text
    form = await browser.get("/loans/new")
    assert "<fieldset class=\"plain\">" in form.text
