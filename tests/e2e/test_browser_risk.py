"""The risk pages in headless Chromium on the real server with the demo data: finance starts a scan from
风险预警 (the embedded worker runs it), filters, opens an employee's risk panel ("why this score");
ADMIN sees the risk rules on the settings page. Screenshots at desktop and phone widths go to
test-artifacts/ (gitignored) for a person to look at."""

from __future__ import annotations

import re
import time

import pytest

from tests.e2e.test_browser import ARTIFACTS, VIEWPORTS, chromium, server  # noqa: F401 (fixtures)
from tests.e2e.test_browser_offboarding import _login, _open

pytestmark = pytest.mark.browser

FINANCE = "zhaomin"


@pytest.mark.parametrize("width", list(VIEWPORTS))
def test_scan_filters_and_employee_risk_panel(server, chromium, width):  # noqa: F811
    from playwright.sync_api import expect

    context, page, problems, shot = _open(chromium, width)
    _login(page, server, FINANCE)
    page.goto(server + "/alerts")
    page.get_by_role("button", name="立即扫描").click()
    expect(page).to_have_url(re.compile(r"/alerts\?scan="))
    deadline = time.monotonic() + 60
    while "风险扫描完成" not in page.locator("#scan-job").inner_text() and time.monotonic() < deadline:
        time.sleep(0.5)
        page.reload()
    expect(page.locator("#scan-job")).to_contain_text("风险扫描完成")
    shot("risk-alerts")

    page.select_option("#f-severity", "CRITICAL")
    page.get_by_role("button", name="筛选").click()
    expect(page).to_have_url(re.compile(r"severity=CRITICAL"))
    for badge in page.locator("article.alert-item .badge").all():
        expect(badge).to_have_class(re.compile("sev-critical"))

    page.goto(server + "/alerts?show=all")
    link = page.locator("article.alert-item a", has_text="风险评分").first
    expect(link).to_be_visible()
    link.click()
    expect(page).to_have_url(re.compile(r"/employees/\d+/risk$"))
    expect(page.locator("#risk-score")).to_contain_text("为什么是这个分数")
    expect(page.locator("#business-records")).to_contain_text("登记业务记录")
    shot("risk-employee")
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1, f"the page scrolls sideways by {overflow}px at {width}"
    assert not problems, problems
    context.close()


def test_admin_sees_the_risk_rules(server, chromium):  # noqa: F811
    from playwright.sync_api import expect

    context, page, problems, shot = _open(chromium, "phone")
    page.goto(server + "/login")
    page.fill("#f-username", "admin")
    page.fill("#f-password", "admin-pass-123")
    page.get_by_role("button", name="登录").click()
    page.goto(server + "/admin/settings")
    section = page.locator("section#risk")
    expect(section).to_contain_text("REMINDER_INTERVAL_DAYS")
    row = section.locator("tr#setting-REMINDER_INTERVAL_DAYS")
    row.locator("input[name=value]").fill("5")
    row.get_by_role("button", name="保存").click()
    expect(page.locator("tr#setting-REMINDER_INTERVAL_DAYS input[name=value]")).to_have_value("5")
    shot("risk-settings")
    assert not problems, problems
    context.close()
