"""The monthly loan-risk report on the known data set: findings, the PDF's text, the XLSX's numbers."""

from __future__ import annotations

import io
import subprocess
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from server.domain.errors import Forbidden, ValidationFailed
from server.services import analytics_rates, report_render, reports
from tests.services import analytics_data


@pytest.fixture
async def data(db):
    return await analytics_data.build()


def pdf_text(blob: bytes) -> str:
    done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=blob, capture_output=True, check=True)
    return done.stdout.decode("utf-8")


async def test_march_findings_in_chinese_and_english(data):
    report = await reports.build_report("2026-03", on=analytics_data.TODAY)
    zh = dict(report_render.findings(report.content, "zh_CN"))
    assert zh["岗位逾期"] == ["销售代表 逾期率 100.0%（1/1 笔），建议借款额度由 10,000.00 元调整为 5,000.00 元。"]
    assert zh["用途与区域凭证"] == ["各区域、各用途的凭证合规率均达到 80.0%。"]
    assert zh["异常借款"] == ["本月没有借款次数异常的员工。"]
    assert zh["离职清款"] == ["本月离职人员均按时结清，无核销或工资扣款。"]
    en = dict(report_render.findings(report.content, "en"))
    # The same stored report in English; names of positions are data and stay as entered.
    assert en["Overdue by position"] == [
        "销售代表: overdue rate 100.0% (1 of 1 loans); suggested loan limit 5,000.00 CNY instead of 10,000.00 CNY."]
    assert en["Abnormal borrowing"] == ["Nobody borrowed abnormally often this month."]
    assert report.content["total"]["loans"] == 2


async def test_may_without_disbursements_names_the_late_write_off(data):
    report = await reports.build_report("2026-05", on=analytics_data.TODAY)
    zh = dict(report_render.findings(report.content, "zh_CN"))
    assert zh["岗位逾期"] == ["本月没有逾期借款的岗位。"]
    assert zh["离职清款"] == ["赵经理（R2）离职清款：核销；晚于最后工作日结清。"]
    text = pdf_text(report_render.pdf_bytes(report.content, "zh_CN"))
    assert "2026年05月 借款风险报告" in text
    assert "赵经理（R2）离职清款：核销；晚于最后工作日结清。" in text
    assert "本月没有逾期借款的岗位。" in text
    # A month with no loans: rates with nothing to divide by print "—", never a division error.
    assert "—" in text


async def test_pdf_has_the_findings_and_is_reproducible(data):
    report = await reports.build_report("2026-03", on=analytics_data.TODAY)
    blob = report_render.pdf_bytes(report.content, "zh_CN")
    assert blob == report_render.pdf_bytes(report.content, "zh_CN")
    text = pdf_text(blob).replace("\n", "").replace(" ", "")
    assert "销售代表逾期率100.0%（1/1笔），建议借款额度由10,000.00元调整为5,000.00元。" in text
    english = pdf_text(report_render.pdf_bytes(report.content, "en"))
    assert "Risk report" in english or "risk report" in english


async def test_xlsx_sheets_are_numbers_and_totals_match_the_page(data):
    report = await reports.build_report("2026-03", on=analytics_data.TODAY)
    book = load_workbook(io.BytesIO(report_render.xlsx(report.content, "zh_CN")))
    assert book.sheetnames == ["positions", "regions", "departments", "purposes", "monthly_rates",
                               "voucher_compliance", "abnormal_borrowers", "offboardings"]
    rows = list(book["positions"].iter_rows(values_only=True))
    assert rows[0] == ("岗位", "借款笔数", "借款金额", "未结清", "逾期笔数", "逾期率")
    total = rows[-1]
    page = await analytics_rates.overview(data.finance, *reports.parse_month("2026-03"), on=analytics_data.TODAY)
    figures = page.total
    assert total == ("合计", figures.loans, float(figures.amount), float(figures.outstanding), figures.overdue_loans,
                     figures.overdue_rate)
    assert total[1:5] == (2, 2800.0, 2000.0, 1)
    assert isinstance(rows[1][2], (int, float)) and book["positions"]["F2"].number_format == "0.0%"
    rates = list(book["monthly_rates"].iter_rows(values_only=True))
    assert len(rates) == 1 + 12  # the twelve months up to the report's month
    assert rates[-1][0] == "2026年03月" and rates[-1][2] == 2800.0


async def test_stored_once_per_month_and_listed(data):
    await reports.build_report("2026-03", on=analytics_data.TODAY)
    await reports.build_report("2026-03", on=analytics_data.TODAY)
    await reports.build_report("2026-05", on=analytics_data.TODAY)
    assert [r.month for r in await reports.list_reports(data.finance)] == ["2026-05", "2026-03"]
    with pytest.raises(Forbidden):
        await reports.list_reports(data.supervisor)
    with pytest.raises(Forbidden):
        await reports.request_report(type(data.finance)(**{**data.finance.__dict__, "roles": frozenset({"AUDITOR"})}),
                                     "2026-03")
    with pytest.raises(ValidationFailed):
        await reports.get_report(data.finance, "2026-13")
    assert reports.previous_month(analytics_data.TODAY.replace(month=1, day=1)) == "2025-12"


def test_suggested_limit_bands():
    from server.domain.reporting import suggested_limit

    assert suggested_limit(Decimal("10000.00"), 0.30) == Decimal("5000.00")
    assert suggested_limit(Decimal("10000.00"), 0.2999) == Decimal("7000.00")
    assert suggested_limit(Decimal("10000.00"), 0.15) == Decimal("7000.00")
    assert suggested_limit(Decimal("10050.00"), 0.05) == Decimal("9000.00")
    assert suggested_limit(Decimal("10000.00"), 0.0499) == Decimal("10000.00")
