"""The analytics figures as tables, findings, PDF and XLSX, in a reader's language.

`tables(data, locale)` takes the schema's answer for the 分析 page (AnalyticsOverview as JSON) or a
stored report's content, which has the same field names, so the page, its exports and the report's
three outputs show the same numbers.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.units import mm

from server import i18n, pdf
from server.domain.messages import Message, _m
from server.services.analytics import month_label, purpose_label
from server.services.tabular import Rate, Table, display, xlsx_bytes


def _t(message: Message, locale: str | None) -> str:
    return i18n.render(message, locale)


def _money(value: Any) -> Decimal:
    return Decimal(str(value or "0")).quantize(Decimal("0.01"))


def _rate(value: Any) -> Rate:
    return Rate(None if value is None else float(value))


def _breakdown(name: str, title: Message, first: Message, rows: list[dict[str, Any]], total: dict[str, Any] | None,
               locale: str | None, label: Any = None) -> Table:
    header = [_t(h, locale) for h in (first, _m("借款笔数"), _m("借款金额"), _m("未结清"), _m("逾期笔数"), _m("逾期率"))]
    body = [[label(r) if label else r["label"], r["loans"], _money(r["amount"]), _money(r["outstanding"]),
             r["overdueLoans"], _rate(r["overdueRate"] if r["loans"] else None)] for r in rows]
    last = None
    if total is not None:
        last = [_t(_m("合计"), locale), total["loans"], _money(total["amount"]), _money(total["outstanding"]),
                total["overdueLoans"], _rate(total["overdueRate"] if total["loans"] else None)]
    return Table(name, _t(title, locale), header, body, last)


def tables(data: dict[str, Any], locale: str | None) -> list[Table]:
    total = data.get("total")
    out = [
        _breakdown("positions", _m("各岗位逾期率"), _m("岗位"), data["positions"], total, locale),
        _breakdown("regions", _m("各区域逾期率"), _m("区域"), data["regions"], total, locale),
        _breakdown("departments", _m("各部门逾期率"), _m("部门"), data["departments"], total, locale),
        _breakdown("purposes", _m("各用途逾期率"), _m("用途"), data["purposes"], total, locale,
                   label=lambda r: purpose_label(r["key"], locale)),
    ]
    rates_header = [_t(h, locale) for h in (
        _m("月份"), _m("借款笔数"), _m("放款金额"), _m("逾期率"), _m("已回收"), _m("核销损失"), _m("回收率"),
        _m("平均结清天数"), _m("月末未结清"), _m("离职完成"), _m("清款通过率"), _m("清款及时率"))]
    rates_rows = [[month_label(r["month"], locale), r["loans"], _money(r["disbursed"]), _rate(r["overdueRate"]),
                   _money(r["recovered"]), _money(r["writtenOff"]), _rate(r["recoveryRate"]),
                   None if r["averageDaysToSettle"] is None else Decimal(str(r["averageDaysToSettle"])),
                   _money(r["outstanding"]), r["offboardings"], _rate(r["clearancePassRate"]),
                   _rate(r["clearanceOnTimeRate"])] for r in data["monthlyRates"]]
    out.append(Table("monthly_rates", _t(_m("每月关键指标"), locale), rates_header, rates_rows))
    out.append(Table("voucher_compliance", _t(_m("区域 × 用途凭证合规率"), locale),
                     [_t(h, locale) for h in (_m("区域"), _m("用途"), _m("报销明细行"), _m("有凭证"), _m("合规率"))],
                     [[c["regionName"], purpose_label(c["purpose"], locale), c["lines"], c["withVoucher"],
                       _rate(c["rate"])] for c in data["voucherCompliance"]]))
    out.append(Table("abnormal_borrowers", _t(_m("借款异常频繁的员工"), locale),
                     [_t(h, locale) for h in (_m("工号"), _m("姓名"), _m("岗位"), _m("借款笔数"), _m("借款金额"))],
                     [[b["employeeNo"], b["name"], b["position"], b["loans"], _money(b["amount"])]
                      for b in data["abnormalBorrowers"]]))
    yes, no = _t(_m("是"), locale), _t(_m("否"), locale)
    out.append(Table("offboardings", _t(_m("离职清款"), locale),
                     [_t(h, locale) for h in (_m("工号"), _m("姓名"), _m("月份"), _m("核销"), _m("工资扣款"),
                                              _m("晚于最后工作日"))],
                     [[o["employeeNo"], o["name"], month_label(o["month"], locale), yes if o["writtenOff"] else no,
                       yes if o["salaryDeducted"] else no, yes if o["late"] else no] for o in data["offboardings"]]))
    return out


# ---------------------------------------------------------------- the report

SECTIONS = {
    "positions": _m("岗位逾期"), "compliance": _m("用途与区域凭证"), "borrowers": _m("异常借款"),
    "offboardings": _m("离职清款"),
}


def findings(content: dict[str, Any], locale: str | None) -> list[tuple[str, list[str]]]:
    """(section title, sentences) in the reader's language, from the stored message ids."""
    out: list[tuple[str, list[str]]] = []
    for section, title in SECTIONS.items():
        sentences = [i18n.render(Message.from_json(f["message"]), locale)
                     for f in content["findings"] if f["section"] == section]
        if sentences:
            out.append((_t(title, locale), sentences))
    return out


def title(content: dict[str, Any], locale: str | None) -> str:
    return _t(_m("%(month)s 借款风险报告", month=month_label(content["month"], locale)), locale)


def _cells(row: Any) -> list[str]:
    return [display(c) for c in row]


def _bar_chart(rows: list[dict[str, Any]], caption: str) -> Drawing:
    shown = [r for r in rows if r["loans"]][:12]
    drawing = Drawing(170 * mm, 70 * mm)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 14 * mm, 12 * mm, 150 * mm, 44 * mm
    chart.data = [[round(float(r["overdueRate"]) * 100, 1) for r in shown] or [0]]
    chart.categoryAxis.categoryNames = [r["label"] for r in shown] or ["—"]
    chart.categoryAxis.labels.fontName = pdf.cjk_font()
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.labels.fontName = pdf.cjk_font()
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = colors.HexColor("#c0392b")
    chart.barLabels.fontName = pdf.cjk_font()
    chart.barLabelFormat = "%.1f%%"
    chart.barLabels.nudge = 6
    drawing.add(chart)
    chart.valueAxis.valueMax = 110
    drawing.add(String(0, 66 * mm, caption, fontName=pdf.cjk_font(), fontSize=10))
    return drawing


def _line_chart(rates: list[dict[str, Any]], locale: str | None, caption: str) -> Drawing:
    drawing = Drawing(170 * mm, 70 * mm)
    chart = HorizontalLineChart()
    chart.x, chart.y, chart.width, chart.height = 14 * mm, 12 * mm, 150 * mm, 44 * mm
    series = [[round(float(r[k] or 0) * 100, 1) for r in rates] or [0] for k in ("overdueRate", "recoveryRate")]
    chart.data = series
    chart.categoryAxis.categoryNames = [r["month"][2:] for r in rates] or ["—"]
    chart.categoryAxis.labels.fontName = pdf.cjk_font()
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.lines[0].strokeColor = colors.HexColor("#c0392b")
    chart.lines[1].strokeColor = colors.HexColor("#2471a3")
    drawing.add(chart)
    chart.valueAxis.valueMax = 100
    drawing.add(String(0, 66 * mm, caption, fontName=pdf.cjk_font(), fontSize=10))
    for i, (name, color) in enumerate(((_t(_m("逾期率"), locale), "#c0392b"), (_t(_m("回收率"), locale), "#2471a3"))):
        drawing.add(Rect(14 * mm + i * 40 * mm, 59.5 * mm, 3 * mm, 3 * mm, fillColor=colors.HexColor(color),
                         strokeColor=None))
        drawing.add(String(18 * mm + i * 40 * mm, 60 * mm, f"{name} (%)", fontName=pdf.cjk_font(), fontSize=8))
    return drawing


# The twelve columns of the monthly rates on an A4 page (178 mm between the margins).
RATES_WIDTHS_MM = (17, 11, 19, 12, 19, 15, 12, 13, 20, 10, 13, 13)


def pdf_bytes(content: dict[str, Any], locale: str | None) -> bytes:
    story: list[Any] = [pdf.para(title(content, locale), "title"),
                        pdf.para(_t(_m("统计范围 %(start)s 至 %(end)s（按放款日期），逾期截至 %(as_of)s", start=content["from"],
                                       end=content["to"], as_of=content["asOf"]), locale), "small"),
                        pdf.para(_t(_m("主要发现"), locale), "h1")]
    for section, sentences in findings(content, locale):
        story.append(pdf.para(section, "h2"))
        story.extend(pdf.para(f"• {s}") for s in sentences)
    every = tables(content, locale)
    story.append(pdf.para(_t(_m("图表"), locale), "h1"))
    story.append(_bar_chart(content["positions"], every[0].title))
    story.append(_line_chart(content["monthlyRates"], locale, every[4].title))
    story.append(pdf.para(_t(_m("数据表"), locale), "h1"))
    for table in every:
        story.append(pdf.para(table.title, "h2"))
        rows = [_cells(r) for r in table.rows] + ([_cells(table.total)] if table.total else [])
        widths = [w * mm for w in RATES_WIDTHS_MM] if table.name == "monthly_rates" else None
        story.append(pdf.table(table.header, rows or [["—"] + [""] * (len(table.header) - 1)], widths))
        story.append(pdf.spacer())
    return pdf.build(story, title=title(content, locale), footer=title(content, locale))


def xlsx(content: dict[str, Any], locale: str | None) -> bytes:
    return xlsx_bytes(tables(content, locale))
