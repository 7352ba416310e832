"""分析: the seed's questions answered with a chart and a table each (the same numbers), CSV/XLSX exports
of every table, and the monthly loan-risk reports (list, page, PDF, XLSX, generate on demand).

Figures come from the schema's `analytics` query (server aggregates); the tables are built by
server/services/report_render.py, which the report's PDF and workbook use too. Charts are drawn by
/static/analytics.js (vendored ECharts) from the JSON in each chart's data-chart attribute: no inline
script (CSP).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from urllib.parse import urlencode

from starlette.responses import Response

from server import i18n
from server.domain.errors import Forbidden, ValidationFailed
from server.services import report_render, reports
from server.services.tabular import Rate, Table, csv_bytes, display, numeric, xlsx_bytes
from server.web.core import Page, PageError, check_read, refuse_if_forbidden

OVERVIEW = """
query($from: Date, $to: Date, $department: String, $region: String) {
  analytics(from: $from, to: $to, department: $department, region: $region) {
    from to
    total { loans amount outstanding overdueLoans overdueRate }
    positions { key label loans amount outstanding overdueLoans overdueRate }
    regions { key label loans amount outstanding overdueLoans overdueRate }
    departments { key label loans amount outstanding overdueLoans overdueRate }
    purposes { key label loans amount outstanding overdueLoans overdueRate }
    monthlyRates { month loans disbursed overdueRate recovered writtenOff recoveryRate settledLoans
                   averageDaysToSettle outstanding offboardings clearancePassRate clearanceOnTimeRate }
    voucherCompliance { region regionName purpose purposeLabel lines withVoucher rate }
    abnormalBorrowers { employeeId employeeNo name position loans amount }
    offboardings { employeeNo name month writtenOff salaryDeducted late }
  }
  departments { code name }
  regions { code name }
}
"""
GENERATE = "mutation($month: String!) { generateRiskReport(month: $month) { id state } }"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _date(page: Page, name: str) -> str | None:
    raw = (page.request.query_params.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw).isoformat()
    except ValueError as exc:
        raise PageError(400, page._("日期格式应为 YYYY-MM-DD")) from exc


def _filters(page: Page) -> dict[str, Any]:
    params = page.request.query_params
    return {"from": _date(page, "from"), "to": _date(page, "to"),
            "department": (params.get("department") or "").strip() or None,
            "region": (params.get("region") or "").strip() or None}


async def _data(page: Page) -> tuple[dict[str, Any], dict[str, Any]]:
    filters = _filters(page)
    result = await page.gql(OVERVIEW, filters)
    refuse_if_forbidden(result)
    return check_read(result), filters


def _series(rows: list[dict[str, Any]], key: str) -> list[float | None]:
    return [None if r[key] is None else round(float(r[key]) * 100, 1) for r in rows]


def charts(data: dict[str, Any], page: Page) -> dict[str, str]:
    """Each chart's data as JSON for its data-chart attribute (percentages with one decimal)."""
    a = data["analytics"]
    rates = a["monthlyRates"]
    months = [r["month"] for r in rates]

    def bar(rows: list[dict[str, Any]]) -> str:
        return json.dumps({"type": "bar", "percent": True, "labels": [r["label"] for r in rows],
                           "series": [{"name": page._("逾期率"), "data": _series(rows, "overdueRate")}]},
                          ensure_ascii=False)

    def line(names_keys: list[tuple[str, str]], percent: bool = True) -> str:
        return json.dumps({"type": "line", "percent": percent, "labels": months, "series": [
            {"name": name, "data": _series(rates, key) if percent else [float(r[key]) for r in rates]}
            for name, key in names_keys]}, ensure_ascii=False)

    return {
        "positions": bar(a["positions"]), "regions": bar(a["regions"]), "purposes": bar(a["purposes"]),
        "rates": line([(page._("逾期率"), "overdueRate"), (page._("回收率"), "recoveryRate")]),
        "clearance": line([(page._("清款通过率"), "clearancePassRate"), (page._("清款及时率"), "clearanceOnTimeRate")]),
        "outstanding": line([(page._("月末未结清"), "outstanding")], percent=False),
    }


def position_ratio(positions: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The worst position's overdue rate against the best one that borrowed ("3 倍"); None when not comparable."""
    borrowed = [p for p in positions if p["loans"]]
    if len(borrowed) < 2:
        return None
    worst = max(borrowed, key=lambda p: (p["overdueRate"], p["key"]))
    best = min(borrowed, key=lambda p: (p["overdueRate"], p["key"]))
    if best["overdueRate"] <= 0 or worst["key"] == best["key"]:
        return None
    return {"worst": worst["label"], "best": best["label"], "times": f"{worst['overdueRate'] / best['overdueRate']:.1f}"}


def compliance_matrix(cells: list[dict[str, Any]]) -> dict[str, Any]:
    """Region × purpose: rows are the regions with expense lines, columns every purpose that has any."""
    purposes: dict[str, str] = {}
    regions: dict[str, str] = {}
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for c in cells:
        purposes.setdefault(c["purpose"], c["purposeLabel"])
        regions.setdefault(c["region"], c["regionName"])
        found[(c["region"], c["purpose"])] = c
    return {"purposes": list(purposes.values()),
            "rows": [(name, [found.get((code, p)) for p in purposes]) for code, name in regions.items()]}


def heat(rate: Rate) -> str:
    if rate.value is None:
        return "heat-none"
    return f"heat-{min(4, int(rate.value * 5))}"


async def analytics_page(page: Page) -> Response:
    data, filters = await _data(page)
    tables = report_render.tables(data["analytics"], page.locale)
    query = urlencode({k: v for k, v in filters.items() if v})
    listed = [r.month for r in await reports.list_reports(page.viewer)] if reports.may_read(page.viewer) else []
    return await page.render("analytics/index.html", {
        "a": data["analytics"], "tables": {t.name: t for t in tables}, "charts": charts(data, page),
        "filters": filters, "departments": data["departments"], "regions": data["regions"], "query": query,
        "ratio": position_ratio(data["analytics"]["positions"]),
        "matrix": compliance_matrix(data["analytics"]["voucherCompliance"]), "heat": heat, "Rate": Rate, "cell": display, "numeric": numeric,
        "reports": listed, "can_generate": reports.may_generate(page.viewer),
        "generated": page.request.query_params.get("generated"),
    })


async def export(page: Page, name: str, fmt: str) -> Response:
    data, filters = await _data(page)
    tables = report_render.tables(data["analytics"], page.locale)
    stem = f"analytics-{data['analytics']['from']}-{data['analytics']['to']}"
    if name == "all" and fmt == "xlsx":
        return _file(xlsx_bytes(tables), XLSX, f"{stem}.xlsx")
    table = next((t for t in tables if t.name == name), None)
    if table is None or fmt not in ("csv", "xlsx"):
        raise PageError(404, page._("没有这个表"))
    if fmt == "csv":
        return _file(csv_bytes(table), "text/csv; charset=utf-8", f"{stem}-{name}.csv")
    return _file(xlsx_bytes([table]), XLSX, f"{stem}-{name}.xlsx")


def _file(body: bytes, content_type: str, filename: str) -> Response:
    return Response(body, media_type=content_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# ---------------------------------------------------------------- reports


async def generate(page: Page) -> Response:
    month = page.value("month")
    result = await page.gql(GENERATE, {"month": month})
    refuse_if_forbidden(result)
    if result.errors:
        raise PageError(400, result.errors[0].message)
    return page.redirect(f"/analytics?generated={month}")


async def _report(page: Page, month: str) -> dict[str, Any]:
    try:
        report = await reports.get_report(page.viewer, month)
    except Forbidden as exc:
        raise PageError(403, i18n.render(exc.msg, page.locale)) from exc
    except ValidationFailed as exc:
        raise PageError(404, i18n.render(exc.msg, page.locale)) from exc
    if report is None:
        raise PageError(404, page._("该月报告尚未生成"))
    return report.content


async def report_page(page: Page, month: str) -> Response:
    content = await _report(page, month)
    tables: list[Table] = report_render.tables(content, page.locale)
    return await page.render("analytics/report.html", {
        "content": content, "title": report_render.title(content, page.locale),
        "findings": report_render.findings(content, page.locale), "tables": tables, "heat": heat, "Rate": Rate, "cell": display,
        "numeric": numeric,
    })


async def report_file(page: Page, month: str, fmt: str) -> Response:
    content = await _report(page, month)
    if fmt == "pdf":
        return _file(report_render.pdf_bytes(content, page.locale), "application/pdf", f"risk-report-{month}.pdf")
    if fmt == "xlsx":
        return _file(report_render.xlsx(content, page.locale), XLSX, f"risk-report-{month}.xlsx")
    raise PageError(404, page._("没有这个表"))
