"""批量同意 in headless Chromium on the real server with the demo data: an engineer applies for two small loans
over the API, his supervisor ticks them in 待我审批 and approves both at once; the page says what each became.

Screenshots at desktop and phone widths go to test-artifacts/*-batch-*.png for a person to look at.
"""

from __future__ import annotations

import re

import httpx
import pytest

from tests.e2e.test_browser import ARTIFACTS, VIEWPORTS, chromium, server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

PASSWORD = "demo1234"
APPLICANT, SUPERVISOR = "fenglei", "zhengqiang"  # 冯磊 (engineer), 郑强 (his CTO)
APPLY = """mutation($a: Decimal!) { applyForLoan(input: {amount: $a, purpose: CLIENT_VISIT, description: "批量审批测试"}) {
  id number status } }"""


def _api_loans(server: str, amounts: list[str]) -> list[dict]:
    with httpx.Client(base_url=server, timeout=30) as client:
        login = client.post("/graphql", json={"query": "mutation($u:String!,$p:String!){login(username:$u,password:$p){token}}",
                                              "variables": {"u": APPLICANT, "p": PASSWORD}}).json()
        token = login["data"]["login"]["token"]
        out = []
        for amount in amounts:
            body = client.post("/graphql", json={"query": APPLY, "variables": {"a": amount}},
                               headers={"Authorization": f"Bearer {token}"}).json()
            assert not body.get("errors"), body
            out.append(body["data"]["applyForLoan"])
        return out


@pytest.mark.parametrize("width", list(VIEWPORTS))
def test_batch_approve_in_the_browser(server, chromium, width):  # noqa: F811
    from playwright.sync_api import expect

    loans = _api_loans(server, ["120.00", "80.00"])
    assert all(loan["status"] == "PENDING_APPROVAL" for loan in loans), loans
    context = chromium.new_context(viewport=VIEWPORTS[width], is_mobile=width == "phone", locale="zh-CN")
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)

    def shot(name: str) -> None:
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(ARTIFACTS / f"{width}-batch-{name}.png"), full_page=True)

    page.goto(server + "/login")
    page.fill("#f-username", SUPERVISOR)
    page.fill("#f-password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name=re.compile("您好"))).to_be_visible()
    page.goto(server + "/approvals")
    expect(page.get_by_role("heading", name="待我审批")).to_be_visible()
    for loan in loans:
        box = page.locator(f'#loan-{loan["id"]} input[name="ids"]')
        expect(box).to_be_visible()
        box.check()
    shot("ticked")
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[width]["width"]

    page.fill("#batch-loans-comment", "同意，批量")
    page.locator("#batch-loans").get_by_role("button", name="批量同意").click()
    result = page.locator(".batch-result")
    expect(result).to_contain_text("2 项已处理，0 项未通过")
    for loan in loans:
        expect(result).to_contain_text(loan["number"])
        # Decided: no longer waiting for this supervisor.
        expect(page.locator(f'#loan-{loan["id"]}')).to_have_count(0)
    shot("done")
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[width]["width"]
    assert not problems, problems
    context.close()
