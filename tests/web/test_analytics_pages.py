"""The 分析 page, its exports and the report pages, rendered through the real app."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from server.models import LedgerEntry, Loan
from server.services import reports
from server.services.base import today, utcnow
from tests.factories import make_org


async def _loan(employee_id: int, fen: int, overdue: bool) -> None:
    now = utcnow()
    due = today() - timedelta(days=3) if overdue else today() + timedelta(days=10)
    loan = await Loan.create(number=f"JK-{fen}", employee_id=employee_id, amount_fen=fen, purpose="TRAVEL",
                             description="x", expected_settle_date=due, status="DISBURSED", applied_on=today(),
                             created_at=now, disbursed_at=now)
    await LedgerEntry.create(loan=loan, kind="DISBURSEMENT", delta_fen=fen, recorded_at=now)


@pytest.fixture
async def company(browser):
    people = await make_org()
    await _loan(people.sales, 120_000, overdue=True)
    await _loan(people.sales, 30_000, overdue=False)
    return people


async def test_page_shows_charts_and_tables_with_the_same_numbers(browser, company):
    await browser.login("finance")
    response = await browser.get("/analytics")
    assert response.status_code == 200, response.text
    html = response.text
    assert 'data-chart="{&#34;type&#34;: &#34;bar&#34;' in html  # escaped JSON for the static script
    assert "<script>" not in html and "/static/analytics.js" in html
    assert 'id="table-positions"' in html and "1,500.00" in html and "50.0%" in html
    assert "—" in html  # rates of empty months


async def test_csv_has_a_bom_and_xlsx_numbers(browser, company):
    await browser.login("finance")
    response = await browser.get("/analytics/export/positions.csv")
    assert response.status_code == 200
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "岗位" and ["销售", "2", "1500.00", "1500.00", "1", "50.0%"] in rows
    assert rows[-1][:3] == ["合计", "2", "1500.00"]
    response = await browser.get("/analytics/export/all.xlsx")
    book = load_workbook(io.BytesIO(response.content))
    assert "monthly_rates" in book.sheetnames
    sheet = list(book["positions"].iter_rows(values_only=True))
    assert ("销售", 2, 1500.0, 1500.0, 1, 0.5) in sheet
    assert (await browser.get("/analytics/export/nothing.csv")).status_code == 404


async def test_employee_is_refused_and_supervisor_sees_reports(browser, second_browser, company):
    await browser.login("sales")
    assert (await browser.get("/analytics")).status_code == 403
    await second_browser.login("manager")
    response = await second_browser.get("/analytics")
    assert response.status_code == 200 and "1,500.00" in response.text
    assert "生成报告" not in response.text


async def test_report_page_pdf_and_xlsx(browser, company):
    month = today().strftime("%Y-%m")
    await reports.build_report(month)
    await browser.login("finance")
    page = await browser.get("/analytics")
    assert f'href="/analytics/reports/{month}"' in page.text
    response = await browser.get(f"/analytics/reports/{month}")
    assert response.status_code == 200 and "主要发现" in response.text and "销售 逾期率 50.0%" in response.text
    pdf = await browser.get(f"/analytics/reports/{month}.pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    xlsx = await browser.get(f"/analytics/reports/{month}.xlsx")
    assert load_workbook(io.BytesIO(xlsx.content)).sheetnames[0] == "positions"
    assert (await browser.get("/analytics/reports/2001-01")).status_code == 404


async def test_home_dashboard_for_finance_only(browser, second_browser, company):
    home = await browser.login("finance")
    html = home.text
    assert 'id="risk-dashboard"' in html and 'href="/analytics#q-positions"' in html
    assert "1,500.00" in html and "1,200.00" in html  # outstanding now, overdue now
    assert "销售</a> — 50.0%" in html
    home = await second_browser.login("sales")
    assert 'id="risk-dashboard"' not in home.text


async def test_filters_and_bad_input(browser, company):
    await browser.login("finance")
    first = today().replace(day=1).isoformat()
    response = await browser.get(f"/analytics?from={first}&to={today().isoformat()}&department=SALES&region=XA")
    assert response.status_code == 200
    assert 'option value="XA" selected' in response.text
    assert f"positions.csv?from={first}" in response.text  # exports carry the filters
    csv_rows = (await browser.get(f"/analytics/export/regions.csv?region=XA&from={first}")).content.decode("utf-8-sig")
    assert csv_rows.splitlines()[1].startswith("西安,2,1500.00")
    assert (await browser.get("/analytics?from=2026-13-01")).status_code == 400
    assert (await browser.get("/analytics?region=NOWHERE")).status_code == 400
