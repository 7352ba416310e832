"""批量同意 in headless Chromium on the real server with the demo data: an engineer applies for two small loans
over the API, his supervisor ticks them in 待我审批 and approves both at once; the page says what each became.

Screenshots at desktop and phone widths go to test-artifacts/*-batch-*.png for a person to look at.
"""

from __future__ import annotations

import re

import httpx
import pytest

from tests.e2e.test_browser import ARTIFACTS, VIEWPORTS, chromium, save_screenshot, server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

PASSWORD = "demo1234"
APPLICANT, SUPERVISOR = "fenglei", "zhengqiang"  # 冯磊 (engineer), 郑强 (his CTO)
WAIT = 20_000  # ms: a loaded machine answers HTMX slower than expect's 5 s default
APPLY = """mutation($a: Decimal!) { applyForLoan(input: {amount: $a, purpose: CLIENT_VISIT, description: "批量审批测试"}) {
  id number status } }"""


def _api_loans(base: str, amounts: list[str]) -> list[dict]:
    with httpx.Client(base_url=base, timeout=30) as client:
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
        save_screenshot(page, ARTIFACTS / f"{width}-batch-{name}.png")

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


def _api(base: str, username: str, query: str, variables: dict | None = None) -> dict:
    with httpx.Client(base_url=base, timeout=30) as client:
        login = client.post("/graphql", json={"query": "mutation($u:String!,$p:String!){login(username:$u,password:$p){token}}",
                                              "variables": {"u": username, "p": PASSWORD}}).json()
        body = client.post("/graphql", json={"query": query, "variables": variables or {}},
                           headers={"Authorization": f"Bearer {login['data']['login']['token']}"}).json()
        assert not body.get("errors"), body
        return body["data"]


@pytest.mark.parametrize("width", list(VIEWPORTS))
def test_deputy_and_extension_in_the_browser(server, chromium, width):  # noqa: F811
    from playwright.sync_api import expect

    me = _api(server, APPLICANT, "{ me { employee { employeeNo loans { id status expectedSettleDate } } } }")["me"]["employee"]
    open_loans = [loan for loan in me["loans"] if loan["status"] in ("DISBURSED", "PARTIALLY_SETTLED")]
    assert open_loans, me
    loan = open_loans[0]
    context = chromium.new_context(viewport=VIEWPORTS[width], is_mobile=width == "phone", locale="zh-CN")
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))

    def shot(name: str) -> None:
        page.evaluate("window.scrollTo(0, 0)")
        save_screenshot(page, ARTIFACTS / f"{width}-batch-{name}.png")

    def login(username: str) -> None:
        page.context.clear_cookies()
        page.goto(server + "/login")
        page.fill("#f-username", username)
        page.fill("#f-password", PASSWORD)
        page.get_by_role("button", name="登录").click()
        expect(page.get_by_role("heading", name=re.compile("您好"))).to_be_visible(timeout=WAIT)

    # The borrower asks for an extension on the loan page.
    login(APPLICANT)
    page.goto(f"{server}/loans/{loan['id']}")
    expect(page.locator("#loan-extensions")).to_be_visible(timeout=WAIT)
    if width == "desktop":  # the phone run (same server) sees the extension asked here, waiting
        form = page.locator("#extension-form")
        page.fill("#x-date", "2099-01-01")  # past the one-year horizon: refused beside the field
        page.fill("#x-reason", "客户回款推迟")
        form.get_by_role("button", name="申请延期").click()
        expect(page.locator("#loan-extensions")).to_contain_text("不能晚于", timeout=WAIT)
        import datetime

        later = datetime.date.fromisoformat(loan["expectedSettleDate"]) + datetime.timedelta(days=10)
        page.fill("#x-date", later.isoformat())
        page.fill("#x-reason", "客户回款推迟")
        page.locator("#extension-form").get_by_role("button", name="申请延期").click()
        expect(page.locator("#loan-extensions")).to_contain_text("等待直属上级审批", timeout=WAIT)
    shot("extension")
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[width]["width"]

    # The supervisor names the borrower as deputy (their own loans stay with the supervisor).
    login(SUPERVISOR)
    page.goto(server + "/account/deputy")
    if width == "desktop":
        import datetime
        from zoneinfo import ZoneInfo

        local_today = datetime.datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the company's day, as the server's
        page.fill('input[name="deputyNo"]', me["employeeNo"])
        page.fill('input[name="startsOn"]', local_today.isoformat())
        page.fill('input[name="endsOn"]', (local_today + datetime.timedelta(days=7)).isoformat())
        page.get_by_role("button", name="指定代理人").click()
        expect(page.locator("#deputy-current")).to_contain_text("生效中", timeout=WAIT)
    else:
        expect(page.locator("#deputy-current")).to_be_visible(timeout=WAIT)
    shot("deputy")
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[width]["width"]
    page.goto(server + "/approvals")
    expect(page.locator("#extension-approvals")).to_be_visible(timeout=WAIT)  # the borrower's extension is still his
    shot("inbox-extensions")
    assert not problems, problems
    context.close()
