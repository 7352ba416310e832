"""会计凭证导出 page through the real app: totals from the server, both downloads, who may open it; the account
codes are text settings on 公司设置."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from server.services import company
from server.services.base import today
from tests.factories import make_org
from tests.services.test_journal_export import _history
from tests.web.conftest import text_of


async def test_finance_sees_totals_and_downloads_both_layouts(browser, db):
    await make_org()
    await _history()
    await browser.login("finance")
    day = today().isoformat()
    page = await browser.get(f"/finance/journal?from={day}&to={day}")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "凭证数 6" in text and "分录数 12" in text
    xlsx = await browser.get(f"/finance/journal/download?from={day}&to={day}&layout=KINGDEE")
    assert xlsx.status_code == 200 and "attachment" in xlsx.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(xlsx.content), read_only=True).active
    assert len(list(sheet.iter_rows(values_only=True))) == 13
    u8 = await browser.get(f"/finance/journal/download?from={day}&to={day}&layout=U8")
    assert u8.headers["content-type"].startswith("text/plain")
    assert len(list(csv.reader(io.StringIO(u8.content.decode("gbk"))))) == 12
    bad = await browser.get("/finance/journal?from=2026-13-01&to=x")
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.text


async def test_sales_may_not_export(browser, db):
    await make_org()
    await browser.login("sales")
    assert (await browser.get("/finance/journal")).status_code == 403


async def test_admin_sets_an_account_code_as_text(browser, db):
    await make_org()
    await browser.login("admin")
    page = await browser.get("/admin/settings")
    assert "JOURNAL_ACCOUNT_ADVANCE" in page.text and 'value="1221"' in page.text
    saved = await browser.post("/admin/settings", {"key": "JOURNAL_ACCOUNT_ADVANCE", "kind": "text",
                                                   "value": "1221.01"}, follow_redirects=False)
    assert saved.status_code == 303
    assert await company.get_setting("JOURNAL_ACCOUNT_ADVANCE") == "1221.01"
