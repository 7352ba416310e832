"""The offboarding, alert and notification pages in headless Chromium on the real server with the demo data.

刘洋 (E004) is leaving with an open loan: finance sees the confirm button disabled with the blocking loan,
settles it through the page, confirms; HR completes the exit and prints the 离职清款证明. Screenshots at
desktop and phone widths go to test-artifacts/ (gitignored) for a person to look at.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from tests.e2e.test_browser import ARTIFACTS, VIEWPORTS, chromium, save_screenshot, server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

FINANCE, HR, PASSWORD = "zhaomin", "zhouting", "demo1234"


def _open(chromium, width: str):  # noqa: F811
    context = chromium.new_context(viewport=VIEWPORTS[width], is_mobile=width == "phone", locale="zh-CN")
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text} {msg.location}")
            if msg.type == "error" else None)

    def shot(name: str) -> None:
        page.evaluate("window.scrollTo(0, 0)")
        save_screenshot(page, ARTIFACTS / f"{width}-{name}.png")

    return context, page, problems, shot


def _login(page, server: str, username: str) -> None:  # noqa: F811
    from playwright.sync_api import expect

    page.goto(server + "/login")
    page.fill("#f-username", username)
    page.fill("#f-password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name=re.compile("您好"))).to_be_visible()


def _logout(page) -> None:
    page.get_by_role("button", name="退出").click()


@pytest.mark.parametrize("width", list(VIEWPORTS))
def test_offboarding_alert_and_notification_pages(server, chromium, width):  # noqa: F811
    from playwright.sync_api import expect

    context, page, problems, shot = _open(chromium, width)
    _login(page, server, FINANCE)

    # The bell leads to the notifications; the leaver's alert is among them.
    bell = page.locator("a#bell")
    expect(bell).to_be_visible()
    unread = int(bell.locator("b.count").inner_text())
    assert unread >= 1
    bell.click()
    expect(page).to_have_url(re.compile(r"/notifications$"))
    expect(page.locator("article.note-item.unread").filter(has_text="刘洋").first).to_be_visible()
    shot("notifications")
    item = page.locator("article.note-item.unread").first
    item.get_by_role("button", name="标为已读").click()
    expect(page.locator("a#bell")).to_contain_text(f"{unread - 1}" if unread > 1 else "通知")
    if unread == 1:
        expect(page.locator("a#bell b.count")).to_have_count(0)

    # Alerts: by kind with the chart; the leaver's alert is critical.
    page.locator("nav.main").get_by_role("link", name="预警").click()
    expect(page).to_have_url(re.compile(r"/alerts$"))
    expect(page.locator("ul.bars.counts svg.bar")).to_have_count(6)
    leaver = page.locator("article.alert-item").filter(has_text="刘洋").filter(has_text="离职未清款").first  # his large-loan alert is listed too
    expect(leaver).to_contain_text("离职未清款")
    expect(leaver.locator(".badge.sev-critical")).to_be_visible()
    shot("alerts")

    # The offboarding list: status and owed amount, and the chart of what leavers owe.
    page.locator("nav.main").get_by_role("link", name="离职清款").click()
    expect(page).to_have_url(re.compile(r"/offboarding$"))
    row = page.locator("table.list tr").filter(has_text="刘洋")
    expect(row).to_contain_text("待清款")
    expect(page.locator('svg.bar[aria-label^="刘洋"]')).to_be_visible()
    shot("offboarding-list")
    page.get_by_role("link", name="全部", exact=True).click()
    expect(page.locator("table.list tr").filter(has_text="胡斌")).to_contain_text("已办结")

    # The blocked clearance: confirm disabled, and why.
    page.get_by_role("link", name="待清款", exact=True).click()
    page.locator("table.list").get_by_role("link", name="刘洋").click()
    expect(page.get_by_role("heading", name=re.compile("离职清款：刘洋"))).to_be_visible()
    expect(page.locator("#confirm-button")).to_be_disabled()
    expect(page.locator("#blockers li").first).to_contain_text("未结清")
    expect(page.locator("#why-confirm")).to_be_visible()
    page.locator("#open-loans details summary").first.click()
    shot("clearance-blocked")

    # The completed case's certificate (胡斌), printable.
    page.goto(server + "/offboarding?status=COMPLETED")
    page.locator("table.list").get_by_role("link", name="胡斌").click()
    page.locator("#certificate-link").click()
    expect(page.get_by_role("heading", name="离职清款证明")).to_be_visible()
    expect(page.get_by_text("清款确认人：赵敏")).to_be_visible()
    expect(page.get_by_role("button", name="打印 / 保存为PDF")).to_be_visible()
    shot("certificate")
    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="打印 / 保存为PDF")).to_be_hidden()
    shot("certificate-print")
    if width == "desktop":
        page.pdf(path=str(ARTIFACTS / "certificate.pdf"), format="A4")
    page.emulate_media(media="screen")
    page.go_back()
    _logout(page)

    # HR starts an offboarding: choosing the employee shows what they owe (HTMX), before anything is sent.
    _login(page, server, HR)
    page.locator("nav.main").get_by_role("link", name="离职清款").click()
    page.get_by_role("link", name="发起离职").click()
    expect(page).to_have_url(re.compile(r"/offboarding/new$"))
    page.select_option("#f-employeeId", label="E006 · 王强 · 销售部")
    expect(page.locator("#summary h2")).to_contain_text("王强")
    shot("offboarding-start")
    _logout(page)

    # An employee's own resignation page.
    _login(page, server, "wangqiang")
    page.locator("nav.main").get_by_role("link", name="离职清款").click()
    page.get_by_role("link", name="提交离职").click()
    expect(page.get_by_role("heading", name="提交离职")).to_be_visible()
    expect(page.locator("#f-lastWorkingDay")).to_be_visible()
    shot("offboarding-resign")

    assert not problems, problems
    context.close()


def test_settle_confirm_complete_and_certify_through_the_pages(server, chromium):  # noqa: F811
    from playwright.sync_api import expect

    context, page, problems, shot = _open(chromium, "desktop")
    _login(page, server, FINANCE)
    page.goto(server + "/offboarding?status=CLEARANCE_PENDING")
    page.locator("table.list").get_by_role("link", name="刘洋").click()
    expect(page.locator("#confirm-button")).to_be_disabled()
    url = page.url

    # Each open loan: part back in cash, the rest from the final pay (HTMX swaps the clearance in place).
    while page.locator("#open-loans article.row-card").count():
        loan = page.locator("#open-loans article.row-card").first
        card = "#" + loan.get_attribute("id")
        number = loan.locator(".head strong a").inner_text()
        owed = Decimal(loan.locator(".amount").inner_text().replace(",", ""))
        cash_amount = min(owed, Decimal("1000.00"))
        loan.locator("details summary").click()
        cash = loan.locator("form.settle-form").filter(has_text="现金归还")
        cash.locator('input[name="amount"]').fill(str(cash_amount))
        cash.locator('input[name="note"]').fill(f"收据 E2E-{number}")
        cash.get_by_role("button").click()
        if owed == cash_amount:
            expect(page.locator(card)).to_have_count(0)
            continue
        expect(page.locator(f"{card} .amount")).to_have_text(f"{owed - cash_amount:,.2f}")
        expect(page.locator(".alert.ok")).to_contain_text("已登记还款")
        loan = page.locator(card)
        loan.locator("details summary").click()
        deduction = loan.locator("form.settle-form").filter(has_text="工资扣款")
        # The amount defaults to what is still owed.
        expect(deduction.locator('input[name="amount"]')).to_have_value(f"{owed - cash_amount:.2f}")
        deduction.locator('input[name="note"]').fill("工资单 PR-E2E-E004")
        deduction.get_by_role("button").click()
        expect(page.locator(card)).to_have_count(0)
    expect(page.locator("#owed")).to_have_text("0.00")
    expect(page.locator("#confirm-button")).to_be_enabled()
    shot("clearance-settled")
    page.locator("#confirm-button").click()
    expect(page.locator("#cleared-by")).to_contain_text("赵敏 确认于")
    _logout(page)

    _login(page, server, HR)
    page.goto(url)
    expect(page.locator("#complete-button")).to_be_enabled()
    asked: list[str] = []
    # Completing cannot be undone: the page asks first, naming the leaver (accepted here).
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.locator("#complete-button").click()
    expect(page.locator(".alert.ok")).to_contain_text("离职已办结")
    assert asked and "确认办结" in asked[0]
    shot("clearance-completed")
    page.locator("#certificate-link").click()
    expect(page.get_by_text("清款确认人：赵敏")).to_be_visible()
    expect(page.get_by_text("离职办结时间")).to_be_visible()
    expect(page.locator("body")).to_contain_text("工资单 PR-E2E-E004")

    assert not problems, problems
    context.close()
