"""The 导入 page in a real browser (Chromium, phone width): an HR clerk uploads an employee file with an
error, reads the report, fixes it, imports it, and hands out a set-password link that a new employee opens."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_api_guide import demo_server  # noqa: F401 - fixture
from tests.e2e.test_browser import ARTIFACTS, VIEWPORTS, chromium, save_screenshot  # noqa: F401 - fixture

HEADER = "工号,姓名,部门编码,区域编码,岗位编码,月薪,入职日期,用户名\n"


def test_hr_imports_employees_and_a_new_employee_sets_a_password(demo_server, chromium, tmp_path: Path):  # noqa: F811
    from playwright.sync_api import expect

    server = demo_server.url
    context = chromium.new_context(viewport=VIEWPORTS["phone"], is_mobile=True, locale="zh-CN")
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))

    def shot(name: str) -> None:
        page.evaluate("window.scrollTo(0, 0)")
        save_screenshot(page, ARTIFACTS / f"phone-imports-{name}.png")

    page.goto(server + "/login")
    page.fill("#f-username", "zhouting")
    page.fill("#f-password", "demo1234")
    page.get_by_role("button", name="登录").click()
    page.goto(server + "/imports")
    expect(page.get_by_role("heading", name="导入", exact=True)).to_be_visible()
    shot("index")

    bad = tmp_path / "bad.csv"
    bad.write_bytes((HEADER + "N900,新同事,SALES,XA,NOPE,6000,2025-01-01,newhire\n").encode("gbk"))
    page.set_input_files("#f-file", str(bad))
    page.get_by_role("button", name="上传").click()
    expect(page.get_by_text("未知的编码 NOPE")).to_be_visible()
    shot("report-errors")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1, f"the report is wider than the phone: {width}px"

    page.goto(server + "/imports")
    codes = page.locator("select#f-kind option").all_inner_texts()
    assert "员工" in codes
    good = tmp_path / "good.csv"
    good.write_bytes(b"\xef\xbb\xbf" + (HEADER + "N900,新同事,SALES,XA,SALES,6000,2025-01-01,newhire\n").encode())
    page.set_input_files("#f-file", str(good))
    page.uncheck("input[name=dryRun]")
    page.get_by_role("button", name="上传").click()
    expect(page.get_by_text("导入完成。")).to_be_visible()
    page.get_by_role("button", name="生成链接").click()
    link = page.locator("code.hash", has_text="/set-password/").first.inner_text()
    shot("links")

    newcomer = chromium.new_context(viewport=VIEWPORTS["phone"], is_mobile=True, locale="zh-CN").new_page()
    newcomer.goto(link)
    expect(newcomer.get_by_text("newhire")).to_be_visible()
    newcomer.fill("#f-password", "Xin-Tong-Shi-2026")
    newcomer.fill("#f-confirm", "Xin-Tong-Shi-2026")
    newcomer.get_by_role("button", name="设置密码").click()
    newcomer.fill("#f-username", "newhire")
    newcomer.fill("#f-password", "Xin-Tong-Shi-2026")
    newcomer.get_by_role("button", name="登录").click()
    expect(newcomer.get_by_role("heading", name="您好，新同事")).to_be_visible()
    assert not problems, problems
