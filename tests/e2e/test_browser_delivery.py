"""The channels page in headless Chromium, at desktop and phone width: add a robot, its secret never
shown again, test-send recorded; no script errors under the CSP; nothing wider than the phone."""

from __future__ import annotations

import pytest

from tests.e2e.test_browser import ARTIFACTS, VIEWPORTS, chromium, save_screenshot, server  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser

SECRET = "SECbrowser-secret-0123456789abcdef"


@pytest.mark.parametrize("width", list(VIEWPORTS))
def test_admin_adds_a_robot_and_test_sends(server, chromium, width):  # noqa: F811
    from playwright.sync_api import expect

    context = chromium.new_context(viewport=VIEWPORTS[width], is_mobile=width == "phone", locale="zh-CN")
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda msg: problems.append(f"console: {msg.text}") if msg.type == "error" else None)

    page.goto(server + "/login")
    page.fill("#f-username", "admin")
    page.fill("#f-password", "admin-pass-123")
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#bell")).to_have_attribute("hx-trigger", "every 30s")
    page.goto(server + "/admin/channels")
    expect(page.get_by_role("heading", name="通知渠道")).to_be_visible()

    name = f"风控群-{width}"
    page.select_option("#f-kind", "DINGTALK")
    page.fill("#f-name", name)
    page.fill("#f-target", "https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef0123456789abcdef")
    page.fill("#f-secret", SECRET)
    page.locator("#channel-form button.primary").click()
    row = page.locator("#channels tr", has_text=name)
    expect(row).to_contain_text("钉钉机器人")
    expect(row).to_contain_text("••••cdef")
    assert SECRET not in page.content() and "0123456789abcdef0123456789abcdef" not in page.content()

    row.get_by_role("button", name="发送测试").click()
    expect(page.get_by_role("status")).to_contain_text("测试消息已排队发送")
    expect(page.locator("#deliveries tbody tr").first).to_contain_text("测试消息")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow}px wider than the screen"
    page.evaluate("window.scrollTo(0, 0)")
    save_screenshot(page, ARTIFACTS / f"{width}-channels.png")
    assert problems == []
    context.close()
