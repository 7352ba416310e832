"""Small page polish in headless Chromium on the real server with the demo data: on a phone every link
of the main nav is on screen (it wraps, it does not scroll sideways); the home card counts both kinds of
pending approvals; HR's employee list offers 办理离职. Screenshots go to test-artifacts/ (gitignored)."""

from __future__ import annotations

import pytest

from tests.e2e.test_browser import ARTIFACTS, VIEWPORTS, chromium, save_screenshot, server  # noqa: F401 (fixtures)
from tests.e2e.test_browser_offboarding import FINANCE, HR, _login, _logout, _open

pytestmark = pytest.mark.browser

FINANCE_NAV = ["首页", "我的借款", "申请借款", "我的报销", "待我审批", "财务", "台账", "离职清款", "预警", "分析", "导入"]


def _nav_links_on_screen(page, width: int) -> list[str]:
    """The nav links whose whole box lies inside the viewport, and the nav's own overflow."""
    boxes = page.eval_on_selector_all("nav.main a", """links => links.map(a => {
        const r = a.getBoundingClientRect();
        return {text: a.textContent.trim(), left: r.left, right: r.right, width: r.width, height: r.height};
    })""")
    return [b["text"] for b in boxes if b["width"] > 0 and b["height"] > 0 and b["left"] >= 0
            and b["right"] <= width]


@pytest.mark.parametrize("width", list(VIEWPORTS))
def test_every_nav_link_is_on_screen_and_the_home_card_counts_both(server, chromium, width):  # noqa: F811
    from playwright.sync_api import expect

    context, page, problems, shot = _open(chromium, width)
    _login(page, server, FINANCE)
    viewport = VIEWPORTS[width]["width"]
    texts = page.eval_on_selector_all("nav.main a", "links => links.map(a => a.textContent.trim())")
    assert texts == FINANCE_NAV
    assert _nav_links_on_screen(page, viewport) == FINANCE_NAV
    nav = page.eval_on_selector("nav.main", "n => ({scroll: n.scrollWidth, client: n.clientWidth})")
    assert nav["scroll"] <= nav["client"], nav  # nothing hidden off to the side
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport
    expect(page.locator("#pending-loans")).to_be_visible()
    expect(page.locator("#pending-reimbursements")).to_be_visible()
    shot("polish-home-finance")

    # The last links are reachable with a tap, no sideways scrolling first.
    page.get_by_role("link", name="预警", exact=True).click()
    expect(page.get_by_role("heading", name="风险预警", exact=True)).to_be_visible()
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="离职清款").click()
    expect(page).to_have_url(server + "/offboarding")
    page.goto(server + "/approvals")
    shot("polish-approvals-finance")
    _logout(page)

    _login(page, server, HR)
    assert _nav_links_on_screen(page, viewport) == page.eval_on_selector_all(
        "nav.main a", "links => links.map(a => a.textContent.trim())")
    page.goto(server + "/admin/employees")
    expect(page.get_by_role("link", name="办理离职").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport
    page.evaluate("window.scrollTo(0, 0)")  # the demo list is long: the first screen is what to look at
    save_screenshot(page, ARTIFACTS / f"{width}-polish-employees-hr.png", full_page=False)
    page.get_by_role("link", name="办理离职").first.click()
    expect(page).to_have_url(server + "/offboarding/new?employee=" + page.url.split("employee=")[-1])
    expect(page.get_by_role("heading", name="发起离职")).to_be_visible()
    shot("polish-offboarding-start")
    assert not problems, problems
    context.close()
