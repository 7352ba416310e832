"""The reimbursement pages in headless Chromium on the real server with the demo data: an engineer claims two
lines (rows added and removed with HTMX, a receipt photo on one line) while the panel shows the offsets and
the payable; the supervisor and finance approve from their queues; finance pays.

Screenshots at desktop and phone widths go to test-artifacts/*-reimb-*.png for a person to look at.
"""

from __future__ import annotations

import re
import struct
import zlib
from decimal import Decimal

import pytest

from tests.e2e.test_browser import ARTIFACTS, VIEWPORTS, chromium, save_screenshot, server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

PASSWORD = "demo1234"
CLAIMANT, SUPERVISOR, FINANCE = "fenglei", "zhengqiang", "sunli"  # 冯磊 (engineer), 郑强 (his CTO), 孙丽


def _money(text: str) -> Decimal:
    return Decimal(text.strip().replace(",", ""))


def _fmt(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def receipt_png(seed: int, width: int = 120, height: int = 160) -> bytes:
    """A receipt-like picture: white paper, grey lines of 'text', a red stamp; `seed` makes each one a new file
    (the server refuses a voucher file already used on another reimbursement)."""
    rows = []
    for y in range(height):
        row = bytearray()
        for x in range(width):
            pixel = (255, 255, 255)
            if 14 <= y < height - 14 and y % 12 < 3 and 12 <= x < width - (30 if y % 24 else 12):
                pixel = (150, 150, 150)
            if (x - 88) ** 2 + (y - 128) ** 2 < 180 and (x - 88) ** 2 + (y - 128) ** 2 > 100:
                pixel = (200, 40, 40)
            if (x, y) == (0, 0):
                pixel = (255, 255, 255 - seed % 200)
            row += bytes(pixel)
        rows.append(b"\0" + bytes(row))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))


@pytest.mark.parametrize("width", list(VIEWPORTS))
def test_claim_approve_and_pay_in_the_browser(server, chromium, width, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    context = chromium.new_context(viewport=VIEWPORTS[width], is_mobile=width == "phone", locale="zh-CN")
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    # A refused form comes back as 422 on purpose; Chromium logs that status like any other failure.
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text} {msg.location}")
            if msg.type == "error" and "status of 422" not in msg.text else None)

    def shot(name: str) -> None:
        page.evaluate("window.scrollTo(0, 0)")
        save_screenshot(page, ARTIFACTS / f"{width}-reimb-{name}.png")

    def login(username: str) -> None:
        page.context.clear_cookies()
        page.goto(server + "/login")
        page.fill("#f-username", username)
        page.fill("#f-password", PASSWORD)
        page.get_by_role("button", name="登录").click()
        expect(page.get_by_role("heading", name=re.compile("您好"))).to_be_visible()

    def no_horizontal_scroll() -> None:
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, f"the page scrolls sideways by {overflow}px"

    invoice = f"E2E-{width}-001"

    # ---------------------------------------------------------------- a first claim, rejected
    login(CLAIMANT)
    page.goto(server + "/reimbursements/new")
    first = page.locator("fieldset.line").nth(0)
    first.locator("input[name$='-amount']").fill("88.00")
    first.locator("input[name$='-invoiceNo']").fill(invoice)
    page.get_by_role("button", name="提交报销").click()
    expect(page.get_by_text("报销已提交，等待审批。")).to_be_visible()
    rejected_number = re.search(r"BX-\d{4}-\d{6}", page.locator("h1").inner_text()).group(0)
    # The same invoice again while the first claim stands: refused, next to the field.
    page.goto(server + "/reimbursements/new")
    page.locator("fieldset.line input[name$='-amount']").fill("88.00")
    page.locator("fieldset.line input[name$='-invoiceNo']").fill(invoice)
    page.get_by_role("button", name="提交报销").click()
    expect(page.locator("fieldset.line small.err")).to_contain_text(f"已在报销单 {rejected_number} 中使用")
    shot("form-refused")
    login(SUPERVISOR)
    page.goto(server + "/approvals/reimbursements")
    item = page.locator("article.reimb-item", has_text=rejected_number)
    item.locator("textarea").fill("请与住宿费合并报销")
    item.get_by_role("button", name="驳回").click()
    expect(page.locator("article.reimb-item", has_text=rejected_number).get_by_text("已驳回")).to_be_visible()

    # ---------------------------------------------------------------- the claimant
    login(CLAIMANT)
    page.get_by_role("link", name="我的报销").click()
    expect(page).to_have_url(re.compile(r"/reimbursements$"))
    page.get_by_role("link", name="新建报销").first.click()
    expect(page).to_have_url(re.compile(r"/reimbursements/new$"))
    owed_line = page.locator("#owed")
    owed = _money(owed_line.get_attribute("data-owed")) if owed_line.count() else Decimal(0)
    shot("form-empty")

    # First line: typing the amount updates the panel (offsets oldest first, the payable).
    first = page.locator("fieldset.line").nth(0)
    first.locator("input[name$='-amount']").press_sequentially("1200.50", delay=30)
    expect(page.locator("#total")).to_have_text("1,200.50")
    expect(page.locator("#offset-total")).to_have_text(_fmt(min(owed, Decimal("1200.50"))))
    first.locator("input[name$='-invoiceNo']").fill(invoice)
    first.locator("input[name$='-description']").fill("西宁现场调试住宿")
    receipt = tmp_path / "住宿小票.png"
    receipt.write_bytes(receipt_png(list(VIEWPORTS).index(width)))
    first.locator("input[type=file]:not([capture])").set_input_files(str(receipt))  # the picker, not the camera

    # Two more rows with HTMX; the third is removed again and the panel recounts.
    page.get_by_role("button", name="+ 添加一行").click()
    expect(page.locator("fieldset.line")).to_have_count(2)
    second = page.locator("fieldset.line").nth(1)
    second.locator("select").select_option("TRAVEL")
    second.locator("input[name$='-amount']").press_sequentially("2000", delay=30)
    second.locator("input[name$='-description']").fill("往返机票")
    expect(page.locator("#total")).to_have_text("3,200.50")
    page.get_by_role("button", name="+ 添加一行").click()
    expect(page.locator("fieldset.line")).to_have_count(3)
    page.locator("fieldset.line").nth(2).locator("input[name$='-amount']").press_sequentially("99", delay=30)
    expect(page.locator("#total")).to_have_text("3,299.50")
    page.locator("fieldset.line").nth(2).get_by_role("button", name="删除此行").click()
    expect(page.locator("fieldset.line")).to_have_count(2)
    expect(page.locator("#total")).to_have_text("3,200.50")
    total = Decimal("3200.50")
    offset = min(owed, total)
    expect(page.locator("#offset-total")).to_have_text(_fmt(offset))
    expect(page.locator("#payable")).to_have_text(_fmt(total - offset))
    no_horizontal_scroll()
    shot("form-filled")

    if owed > 0:
        # By hand: each loan's input starts at the proposal; the figures follow what is typed.
        page.get_by_label("手动指定每笔借款的冲抵金额").check()
        inputs = page.locator("input.offset-input")
        expect(inputs.first).to_be_visible()
        shot("form-manual")
        page.get_by_label("自动：先冲抵最早的借款").check()
        expect(page.locator("input.offset-input")).to_have_count(0)

    page.get_by_role("button", name="提交报销").click()
    expect(page.get_by_text("报销已提交，等待审批。")).to_be_visible()
    number = re.search(r"BX-\d{4}-\d{6}", page.locator("h1").inner_text()).group(0)
    detail_url = page.url.split("?")[0]
    thumb = page.locator("ul.vouchers img").first
    expect(thumb).to_be_visible()
    # The thumbnail may load lazily (below the fold on a phone): bring it into view and wait for it.
    thumb.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle())
    assert page.evaluate("img => img.naturalWidth", thumb.element_handle()) == 120  # the voucher is shown
    expect(page.locator("#payable")).to_have_text(_fmt(total - offset))
    if offset:
        expect(page.locator("a[href^='/loans/']").first).to_be_visible()
    expect(page.get_by_text("1 行没有上传凭证。")).to_be_visible()
    no_horizontal_scroll()
    shot("detail-submitted")

    # ---------------------------------------------------------------- the supervisor, then finance
    login(SUPERVISOR)
    page.get_by_role("link", name="待我审批").click()
    item = page.locator("article.reimb-item", has_text=number)
    expect(item).to_be_visible()  # loaded into the loan inbox as a section
    expect(item.get_by_text("1 行没有上传凭证。")).to_be_visible()
    # The invoice of the rejected claim is pointed out to the approver.
    expect(item.get_by_text("1 行的发票号或凭证也出现在其他报销单中，请核对。")).to_be_visible()
    expect(item.locator("span.flag.bad", has_text=rejected_number)).to_contain_text("已驳回")
    no_horizontal_scroll()
    shot("inbox")
    item.locator("textarea").fill("住宿与机票属实，同意")
    item.get_by_role("button", name="同意").click()
    expect(page.locator("article.reimb-item", has_text=number).get_by_text("已提交您的意见")).to_be_visible()

    login(FINANCE)
    page.goto(server + "/approvals/reimbursements")
    item = page.locator("article.reimb-item", has_text=number)
    item.get_by_role("button", name="同意").click()
    expect(page.locator("article.reimb-item", has_text=number).get_by_text("已批准")).to_be_visible()
    page.get_by_role("link", name="财务", exact=True).click()
    row = page.locator("tr", has_text=number)
    expect(row).to_be_visible()  # loaded into the finance page as a section
    shot("finance")
    row.get_by_role("button", name="登记已付款").click()
    expect(page.locator("tr", has_text=number).get_by_text(f"已登记付款 {_fmt(total - offset)}")).to_be_visible()

    # ---------------------------------------------------------------- the claimant sees it paid
    login(CLAIMANT)
    page.goto(detail_url)
    expect(page.locator("h1")).to_contain_text("已付款")
    expect(page.get_by_text(f"已付款 {_fmt(total - offset)}")).to_be_visible()
    shot("detail-paid")
    page.goto(server + "/reimbursements")
    expect(page.get_by_role("link", name=number)).to_be_visible()
    no_horizontal_scroll()
    shot("mine")

    assert not problems, problems
    context.close()
