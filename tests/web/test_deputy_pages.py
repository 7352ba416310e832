"""The 代理审批 section of the account: name a deputy, see it, clear it; refusals beside their field."""

from __future__ import annotations

from datetime import timedelta

from server.models import ApproverDeputy
from server.services.base import today
from tests.factories import make_org
from tests.web.conftest import text_of


async def test_name_and_clear_a_deputy(browser, db):
    await make_org()
    await browser.login("manager")
    page = await browser.get("/account/deputy")
    assert page.status_code == 200 and 'id="deputy-form"' in page.text
    start, end = today().isoformat(), (today() + timedelta(days=5)).isoformat()
    mine = await browser.post("/account/deputy", {"deputyNo": "M1", "startsOn": start, "endsOn": end})
    assert mine.status_code == 422 and "不能指定自己为代理人" in text_of(mine.text)
    unknown = await browser.post("/account/deputy", {"deputyNo": "NOPE", "startsOn": start, "endsOn": end})
    assert unknown.status_code == 422 and "代理人不存在" in text_of(unknown.text)
    saved = await browser.post("/account/deputy", {"deputyNo": "F1", "startsOn": start, "endsOn": end})
    assert saved.status_code == 303 and saved.headers["location"] == "/account/deputy?done=set"
    shown = text_of((await browser.get("/account/deputy?done=set")).text)
    assert "赵财务（F1）" in shown and "生效中" in shown
    cleared = await browser.post("/account/deputy/clear", {})
    assert cleared.status_code == 303
    assert (await ApproverDeputy.get()).cleared_at is not None


async def test_an_employee_without_approvals_sees_no_form(browser, db):
    await make_org()
    await browser.login("sales")
    page = await browser.get("/account/deputy")
    assert page.status_code == 200 and 'id="deputy-form"' not in page.text
    assert "您没有需要代理的审批" in text_of(page.text)
    forged = await browser.post("/account/deputy", {"deputyNo": "M1", "startsOn": today().isoformat(),
                                                    "endsOn": today().isoformat()})
    assert forged.status_code == 403
