"""The 导入 pages through the real app: upload a file, read its report, download a template, hand out
set-password links, and set a password from one."""

from __future__ import annotations

import re

from server.models import User
from tests.factories import make_org
from tests.jobs.conftest import job_settings  # noqa: F401 - a private job queue for the large file
from tests.web.conftest import text_of

HEADER = "工号,姓名,部门编码,区域编码,岗位编码,月薪,入职日期,用户名\n"


async def test_upload_report_links_and_set_password(browser, second_browser):
    await make_org()
    await browser.login("hr")
    page = await browser.get("/imports")
    assert page.status_code == 200 and "导入" in text_of(page.text)
    template = await browser.get("/imports/templates/employees.csv")
    assert template.content.startswith(b"\xef\xbb\xbf") and "工号" in template.content.decode("utf-8-sig")
    english = await browser.get("/imports/templates/employees.csv?headers=en")
    assert english.content.decode("utf-8-sig").startswith("employeeNo,")

    bad = (HEADER + "E7,新人,SALES,XA,SALES,5000.123,2024-01-01,newbie\n").encode()
    done = await browser.post("/imports", {"kind": "EMPLOYEES"}, files={"file": ("e.csv", bad, "text/csv")})
    assert done.status_code == 303
    report = await browser.get(done.headers["location"])
    text = text_of(report.text)
    assert "月薪" in text and "最多两位小数" in text and "没有写入任何数据" in text

    good = (HEADER + "E7,新人,SALES,XA,SALES,5000,2024-01-01,newbie\n").encode()
    done = await browser.post("/imports", {"kind": "EMPLOYEES"}, files={"file": ("e.csv", good, "text/csv")})
    report = await browser.get(done.headers["location"])
    assert "导入完成" in text_of(report.text)
    links = await browser.post(done.headers["location"] + "/links")
    assert links.status_code == 200
    url = re.search(r"https?://[^<\s]+/set-password/([\w-]+)", links.text)
    assert url, links.text
    token = url.group(1)

    form = await second_browser.get(f"/set-password/{token}")
    assert form.status_code == 200 and "newbie" in form.text
    short = await second_browser.post(f"/set-password/{token}", {"password": "short", "confirm": "short"})
    assert short.status_code == 400
    ok = await second_browser.post(f"/set-password/{token}",
                                   {"password": "Xin-Ren-2026!ok", "confirm": "Xin-Ren-2026!ok"})
    assert ok.status_code == 303 and ok.headers["location"] == "/login"
    assert (await second_browser.get(f"/set-password/{token}")).status_code == 404
    assert (await User.get(username="newbie")).password_hash.startswith("$argon2")
    await second_browser.login("newbie", "Xin-Ren-2026!ok")


async def test_the_import_page_is_refused_to_those_who_may_not_import(browser):
    await make_org()
    await browser.login("sales")
    assert (await browser.get("/imports")).status_code == 403


async def test_a_large_file_shows_a_progress_bar_that_polls_its_block(browser, job_settings):  # noqa: F811
    await make_org()
    await browser.login("finance")
    lines = ["工号,类型,编号,金额,签订日期"] + [f"S1,订单,DD-{i:05d},100.00,2025-06-01" for i in range(5001)]
    done = await browser.post("/imports", {"kind": "BUSINESS_RECORDS", "dryRun": "1"},
                              files={"file": ("big.csv", "\n".join(lines).encode(), "text/csv")})
    assert done.status_code == 303
    page = await browser.get(done.headers["location"])
    assert "<progress" in page.text and 'hx-trigger="every 1s"' in page.text
    fragment = await browser.get(done.headers["location"], headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<section class="card" id="import-progress"')
    assert "<html" not in fragment.text
