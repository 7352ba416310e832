"""借款台账 and 审计日志 in headless Chromium on the real server with the demo data, at desktop and 390 px:
search (HTMX, the URL follows), an overdue bucket, the CSV and XLSX downloads; the auditor's log, a
filter by object, and verify-now. Screenshots go to test-artifacts/ (gitignored)."""

from __future__ import annotations

import re
import zipfile

import pytest

from tests.e2e.test_browser import ARTIFACTS, VIEWPORTS, chromium, save_screenshot, server  # noqa: F401 (fixtures)
from tests.e2e.test_browser_offboarding import FINANCE, _login, _logout, _open

pytestmark = pytest.mark.browser
AUDITOR = "qianshen"


@pytest.mark.parametrize("width", list(VIEWPORTS))
def test_ledger_search_and_export(server, chromium, width):  # noqa: F811
    from playwright.sync_api import expect

    context, page, problems, shot = _open(chromium, width)
    _login(page, server, FINANCE)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="台账").click()
    expect(page.get_by_role("heading", name="借款台账")).to_be_visible()
    total = page.locator("#ledger-totals dd").first.inner_text()
    assert re.match(r"\d+ 笔", total), total
    shot("ledger-loans")

    page.get_by_role("searchbox").fill("张")
    page.get_by_role("button", name="搜索").click()
    expect(page).to_have_url(re.compile(r"/ledger\?q=%E5%BC%A0"))
    names = page.locator("#ledger-table tbody tr td:nth-child(2)").all_inner_texts()
    assert names and all("张" in n for n in names), names
    shot("ledger-search")

    page.get_by_role("link", name="清除").click()
    page.locator("select[name=overdue]").select_option("D1_30")
    page.get_by_role("button", name="搜索").click()
    expect(page).to_have_url(re.compile("overdue=D1_30"))
    days = [int(d) for d in page.locator("#ledger-table tbody tr td:nth-child(9)").all_inner_texts() if d.strip()]
    assert all(1 <= d <= 30 for d in days), days

    with page.expect_download() as csv_download:
        page.get_by_role("link", name="导出 CSV").click()
    content = open(csv_download.value.path(), "rb").read()
    assert content.startswith("\ufeff".encode()) and "单号".encode() in content
    assert content.decode("utf-8-sig").count("\r\n") == len(days) + 1
    with page.expect_download() as xlsx_download:
        page.get_by_role("link", name="导出 XLSX").click()
    with zipfile.ZipFile(xlsx_download.value.path()) as book:
        assert book.read("xl/worksheets/sheet1.xml").count(b"<row>") == len(days) + 1

    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[width]["width"]
    page.goto(server + "/ledger/reimbursements")
    expect(page.get_by_role("heading", name="报销台账")).to_be_visible()
    shot("ledger-reimbursements")
    assert not problems, problems
    _logout(page)
    context.close()


@pytest.mark.parametrize("width", list(VIEWPORTS))
def test_audit_log_page(server, chromium, width):  # noqa: F811
    from playwright.sync_api import expect

    context, page, problems, shot = _open(chromium, width)
    _login(page, server, AUDITOR)
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="审计日志").click()
    expect(page.get_by_role("heading", name="审计日志")).to_be_visible()
    rows = page.locator("#audit-table tbody tr")
    expect(rows.first).to_be_visible()
    shot("audit-log")

    page.locator("select[name=type]").select_option("loan")
    page.get_by_role("button", name="搜索").click()
    expect(page).to_have_url(re.compile("type=loan"))
    objects = page.locator("#audit-table tbody tr td:nth-child(5) a:first-child").all_inner_texts()
    assert objects and all(o.startswith("loan ") for o in objects), objects
    page.locator("#audit-table tbody tr td:nth-child(5) a:first-child").first.click()
    expect(page).to_have_url(re.compile(r"/loans/\d+$"))

    page.goto(server + "/audit")
    page.get_by_role("button", name="立即校验").click()
    expect(page.get_by_role("status")).to_contain_text("校验已排队")
    # The embedded worker runs the job; the page then shows the result and the head.
    for _ in range(40):
        page.goto(server + "/audit")
        if "上次校验通过" in page.locator("#chain-result").inner_text():
            break
        page.wait_for_timeout(500)
    expect(page.locator("#chain-result")).to_contain_text("上次校验通过")
    expect(page.locator("#chain-status code.hash")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[width]["width"]
    shot("audit-log-verified")
    assert not problems, problems
    context.close()


@pytest.mark.parametrize("width", list(VIEWPORTS))
def test_disbursing_asks_first_naming_the_person_and_amount(server, chromium, width):  # noqa: F811
    """The desktop run dismisses the dialog; the phone run (the last) accepts it."""
    from playwright.sync_api import expect

    context, page, problems, shot = _open(chromium, width)
    _login(page, server, FINANCE)
    page.goto(server + "/finance")
    row = page.locator("tr[id^=d-]").first
    expect(row).to_be_visible()
    name = row.locator("td").nth(1).inner_text().split()[0]
    amount = row.locator("td").nth(2).inner_text().strip()
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    row.locator("summary").click()  # the disburse form: method, the bank's reference, the payment date
    row.locator("input[name=reference]").fill("ICBC-E2E-1")
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[width]["width"]
    shot("finance-disburse-form")
    row.get_by_role("button", name="确认放款").click()
    page.wait_for_timeout(300)
    assert asked and name in asked[0] and amount in asked[0], asked
    expect(row).to_be_visible()  # dismissed: nothing happened
    if width != "phone":  # the demo has one loan waiting: the last run (the phone's) pays it out
        assert not problems, problems
        context.close()
        return
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    row.get_by_role("button", name="确认放款").click()
    expect(page.get_by_role("status")).to_contain_text("已放款")
    shot("finance-after-confirmed-disbursement")
    assert not problems, problems
    context.close()


@pytest.mark.parametrize("width", list(VIEWPORTS))
def test_certificate_verification_page(server, chromium, width):  # noqa: F811
    """HR opens a completed clearance's certificate; its QR link opens, without a login, the page that
    confirms it with the name masked; the sequential number verifies nothing."""
    from playwright.sync_api import expect

    from tests.e2e.test_browser_offboarding import HR

    context, page, problems, shot = _open(chromium, width)
    _login(page, server, HR)
    page.goto(server + "/offboarding?status=COMPLETED")
    link = page.locator("a[href^='/offboarding/']").filter(has_text=re.compile(".+")).first
    target = None
    for href in page.eval_on_selector_all("a[href^='/offboarding/']", "links => links.map(a => a.getAttribute('href'))"):
        if re.fullmatch(r"/offboarding/\d+", href or ""):
            response = page.request.get(server + href + "/certificate")
            if response.status == 200:
                target = href
                break
    assert target, "the demo company has a cleared offboarding"
    del link
    page.goto(server + target + "/certificate")
    expect(page.locator("svg.qr")).to_be_visible()
    verify = page.locator(".verify .link").inner_text().strip()
    assert re.fullmatch(r"http://localhost:\d+/verify/[A-Za-z0-9_-]{22,}", verify), verify
    number = re.search(r"LZQK-\d{4}-\d{6}", page.locator(".number").inner_text()).group(0)
    name = page.locator("dl.facts dd").first.inner_text().strip()
    # Every column of the loans table fits the screen (no sideways scrolling inside the certificate).
    widths = page.eval_on_selector(".scroll", "s => [s.scrollWidth, s.clientWidth]")
    assert widths[0] <= widths[1], widths
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[width]["width"]
    shot("certificate-with-qr")

    public = chromium.new_context(viewport=VIEWPORTS[width], is_mobile=width == "phone", locale="zh-CN")
    visitor = public.new_page()
    visitor.goto(verify)
    expect(visitor.get_by_role("status")).to_contain_text("证明有效")
    expect(visitor.locator("#masked-name")).to_have_text(name[0] + "*" * (len(name) - 1))
    assert name not in visitor.locator("main").inner_text()
    assert number in visitor.locator("main").inner_text()
    assert visitor.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[width]["width"]
    save_screenshot(visitor, ARTIFACTS / f"{width}-certificate-verified.png")
    missing = visitor.goto(server + "/verify/" + number)
    assert missing is not None and missing.status == 404
    expect(visitor.get_by_role("alert")).to_contain_text("未找到该证明")
    public.close()
    assert not problems, problems
    context.close()
