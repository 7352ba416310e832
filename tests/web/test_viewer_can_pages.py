"""Pages show an action exactly when its `viewerCan` flag is true, for every role and state checked."""

from __future__ import annotations

import re
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx

from server.models import Employee
from server.services import alerts
from server.services.base import SYSTEM, today
from tests.factories import make_org
from tests.schema.test_duties_api import token
from tests.schema.test_reimbursements_api import claim
from tests.schema.test_viewer_can import (
    A_CAN,
    APPLY,
    DECIDE,
    DISBURSE,
    LOAN_CAN,
    O_CAN,
    R_CAN,
    R_DECIDE,
    START,
    SUBMIT,
    USERS,
)
from tests.web.conftest import Browser


@asynccontextmanager
async def browsers(app):
    """One logged-in browser per user."""
    transport = httpx.ASGITransport(app=app)
    clients = {u: httpx.AsyncClient(transport=transport, base_url="https://testserver") for u in USERS}
    try:
        out = {}
        for user, client in clients.items():
            out[user] = Browser(client)
            await out[user].login(user)
        yield out
    finally:
        for client in clients.values():
            await client.aclose()


async def flag_of(gql, query: str, path: str, flag: str, object_id: str, user: str) -> bool:
    body = await gql(query, {"id": object_id}, token=await token(user))
    node = (body.get("data") or {}).get(path)
    if path == "alerts":
        node = next((e["node"] for e in (node or {"edges": []})["edges"] if e["node"]["id"] == object_id), None)
    return bool(node and node["viewerCan"][flag])


async def check(gql, pages: dict[str, Browser], url: str, marker: str, can: tuple[str, str, str], object_id: str,
                expected: set[str]) -> None:
    """For each user: the marker is on the page exactly when the flag is true; the flag is true for `expected`."""
    query, path, flag = can
    shown, flagged = set(), set()
    for user, browser in pages.items():
        page = await browser.get(url)
        if re.search(marker, page.text):
            shown.add(user)
        if await flag_of(gql, query, path, flag, object_id, user):
            flagged.add(user)
    assert flagged == expected, (flag, flagged)
    assert shown == flagged, (url, flag, shown, flagged)


async def test_loan_and_finance_pages_follow_the_flags(app, gql, db):
    await make_org()
    lid = (await gql.ok(APPLY, {"a": "800.00"}, token=await token("sales")))["applyForLoan"]["id"]
    async with browsers(app) as pages:
        cancel = rf'action="/loans/{lid}/cancel"'
        await check(gql, pages, f"/loans/{lid}", cancel, (LOAN_CAN, "loan", "cancel"), lid, {"sales"})
        for who in ("manager", "finance"):
            await gql.ok(DECIDE, {"id": lid}, token=await token(who))
        disburse = rf'action="/finance/{lid}/disburse"'
        await check(gql, pages, "/finance", disburse, (LOAN_CAN, "loan", "disburse"), lid, {"finance"})
        await check(gql, pages, f"/loans/{lid}", cancel, (LOAN_CAN, "loan", "cancel"), lid, {"sales"})
        await gql.ok(DISBURSE, {"id": lid}, token=await token("finance"))
        await check(gql, pages, f"/loans/{lid}", cancel, (LOAN_CAN, "loan", "cancel"), lid, set())
        await check(gql, pages, "/finance", disburse, (LOAN_CAN, "loan", "disburse"), lid, set())
        settle = rf'action="/finance/{lid}/settle"'
        await check(gql, pages, "/finance", settle, (LOAN_CAN, "loan", "settle"), lid, {"finance"})


async def test_own_loan_shows_no_disburse_button(app, gql, db):
    await make_org()
    own = (await gql.ok(APPLY, {"a": "200.00"}, token=await token("finance")))["applyForLoan"]["id"]
    await gql.ok(DECIDE, {"id": own}, token=await token("manager"))
    async with browsers(app) as pages:
        await check(gql, pages, "/finance", rf'action="/finance/{own}/disburse"', (LOAN_CAN, "loan", "disburse"),
                    own, set())


async def test_reimbursement_pages_follow_the_flags(app, gql, db):
    await make_org()
    rid = (await gql.ok(SUBMIT, claim("150.00"), token=await token("sales")))["submitReimbursement"]["id"]
    decide = rf'action="/approvals/reimbursements/{rid}"'
    pay = rf'action="/finance/reimbursements/{rid}/pay"'
    async with browsers(app) as pages:
        url = f"/reimbursements/{rid}"
        await check(gql, pages, url, decide, (R_CAN, "reimbursement", "decide"), rid, {"manager"})
        await check(gql, pages, url, pay, (R_CAN, "reimbursement", "pay"), rid, set())
        for who in ("manager", "finance"):
            await gql.ok(R_DECIDE, {"id": rid}, token=await token(who))
        await check(gql, pages, url, decide, (R_CAN, "reimbursement", "decide"), rid, set())
        await check(gql, pages, url, pay, (R_CAN, "reimbursement", "pay"), rid, {"finance"})
        await check(gql, pages, "/finance/reimbursements", pay, (R_CAN, "reimbursement", "pay"), rid, {"finance"})


async def test_offboarding_and_alert_pages_follow_the_flags(app, gql, db):
    await make_org()
    sales = await Employee.get(employee_no="S1")
    finance = await Employee.get(employee_no="F1")
    off = (await gql.ok(START, {"e": str(sales.id), "d": (today() + timedelta(days=5)).isoformat()},
                        token=await token("hr")))["startOffboarding"]["id"]
    raised = await alerts.raise_alert(SYSTEM, kind="OVERDUE", severity="WARNING", message="逾期", dedupe_key="vp-1",
                                      employee_id=finance.id,
                                      recipients=await alerts.role_recipients("FINANCE", "HR", "ADMIN"))
    aid = str(raised.alert.id)
    async with browsers(app) as pages:
        url = f"/offboarding/{off}"
        # Nothing owed: finance confirms (an enabled button), HR cancels.
        await check(gql, pages, url, r'<button class="primary" id="confirm-button">', (O_CAN, "offboarding", "confirm"),
                    off, {"finance"})
        await check(gql, pages, url, rf'action="/offboarding/{off}/cancel"', (O_CAN, "offboarding", "cancel"),
                    off, {"hr"})
        await check(gql, pages, url, r'<button class="primary" id="complete-button">',
                    (O_CAN, "offboarding", "complete"), off, set())
        # An alert about finance: HR and the ADMIN resolve it, finance does not.
        await check(gql, pages, "/alerts", rf'action="/alerts/{aid}/resolve"', (A_CAN, "alerts", "resolve"), aid,
                    {"hr", "admin"})
