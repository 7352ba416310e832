"""Nav items and page gates come from the services' page keys (server.domain.pages over the duties matrix):
a role without the duty sees no nav item and gets 403 (or FORBIDDEN); a role holding it sees and opens it."""

from __future__ import annotations

from server.domain import duties
from server.domain.pages import PAGE_ROLES, PageKey, pages_for
from server.domain.vocab import Role
from tests.factories import make_org
from tests.web.conftest import text_of

NAV = {PageKey.FINANCE: ('href="/finance"', "/finance"), PageKey.ORG: ('href="/admin/positions"', "/admin/positions"),
       PageKey.START_OFFBOARDING: ('href="/offboarding/new"', "/offboarding/new")}


def test_page_keys_follow_the_duties_matrix():
    assert PAGE_ROLES[PageKey.FINANCE] == duties.roles_for(duties.DISBURSE) | duties.roles_for(
        duties.PAY_REIMBURSEMENT) | duties.roles_for(duties.APPROVE_WRITE_OFF)
    assert pages_for([Role.EMPLOYEE]) == frozenset()
    assert pages_for([Role.AUDITOR]) == {PageKey.ALERTS, PageKey.ANALYTICS, PageKey.LEDGER, PageKey.AUDIT_LOG, PageKey.JOURNAL}
    assert PageKey.FINANCE in pages_for([Role.FINANCE]) and PageKey.ORG not in pages_for([Role.FINANCE])
    assert pages_for([Role.HR]) >= {PageKey.ORG, PageKey.START_OFFBOARDING, PageKey.APPROVALS}
    assert PageKey.SETTINGS in pages_for([Role.ADMIN]) and PageKey.SETTINGS not in pages_for([Role.HR])


async def test_graphql_lists_the_viewers_pages_and_duties(gql, db):
    await make_org()
    me = (await gql.ok("{ me { pages duties } }", token=await gql.login("finance")))["me"]
    assert "FINANCE" in me["pages"] and "ORG" not in me["pages"]
    assert duties.DISBURSE in me["duties"] and duties.EDIT_POSITION not in me["duties"]


async def _nav_and_status(browser, username: str, key: PageKey) -> tuple[bool, int]:
    await browser.login(username)
    home = await browser.get("/")
    link, url = NAV[key]
    status = (await browser.get(url)).status_code
    await browser.post("/logout")
    return link in home.text, status


async def test_finance_nav_and_page_only_for_those_holding_its_duties(browser, db):
    await make_org()
    assert await _nav_and_status(browser, "sales", PageKey.FINANCE) == (False, 403)
    assert await _nav_and_status(browser, "hr", PageKey.FINANCE) == (False, 403)
    assert await _nav_and_status(browser, "finance", PageKey.FINANCE) == (True, 200)
    assert (await browser.login("finance")) and (await browser.get("/finance/reimbursements")).status_code == 200


async def test_org_nav_and_offboarding_start_follow_their_duties(browser, db):
    await make_org()
    assert (await _nav_and_status(browser, "sales", PageKey.ORG))[0] is False
    assert (await _nav_and_status(browser, "hr", PageKey.ORG))[0] is True
    await browser.login("finance")
    assert (await browser.get("/offboarding/new")).status_code == 403
    assert "发起离职" not in text_of((await browser.get("/offboarding")).text)
    await browser.post("/logout")
    await browser.login("hr")
    assert (await browser.get("/offboarding/new")).status_code == 200
    assert "发起离职" in text_of((await browser.get("/offboarding")).text)
