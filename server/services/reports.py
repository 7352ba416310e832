"""The monthly loan-risk report (月度借款风险报告): gathered by a job, stored, listed, rendered per reader.

`build_report(month)` runs the analytics for the month (breakdowns, voucher compliance, abnormal
borrowers, offboardings) and for the twelve months up to it (the monthly rates), writes findings
with the pure rules of server/domain/reporting.py, and stores everything as figures plus message
ids and parameters. Rendering (server/services/report_render.py) turns the same stored content into
the page, the PDF and the XLSX in the reader's language, so their numbers cannot disagree.

Cron: jobs/reports.py on the 1st of each month (company time) reports on the month before.
On demand: `generateRiskReport(month)` (GENERATE_REPORT: finance, admin) returns a Job.
Reading: VIEW_ANALYTICS (finance, HR, admin, auditor): the report covers the whole company.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import asdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from server.domain import duties, reporting
from server.domain.errors import ValidationFailed
from server.domain.messages import Message, _m
from server.domain.money import from_fen
from server.domain.vocab import PURPOSE_LABELS
from server.models import Position, RiskReport
from server.services import audit
from server.services import jobs as job_service
from server.services.analytics import Dimension, Scope, breakdown_in, default_range, months_between
from server.services.analytics_rates import Overview, monthly_rates, overview_in
from server.services.base import SYSTEM, Viewer, atomic, require_login, today, utcnow

KIND = "RISK_REPORT"
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(value: str) -> tuple[date, date]:
    match = MONTH.match((value or "").strip())
    if not match:
        raise ValidationFailed(_m("月份须为 YYYY-MM 格式"), field="month")
    start = date(int(match.group(1)), int(match.group(2)), 1)
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return start, end


def previous_month(on: date) -> str:
    last = on.replace(day=1) - timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}"


# ---------------------------------------------------------------- building


def _row(r: Any) -> dict[str, Any]:
    return {"key": r.key, "label": r.label, "loans": r.loans, "amount": str(r.amount),
            "outstanding": str(r.outstanding), "overdueLoans": r.overdue_loans, "overdueRate": r.overdue_rate}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _camel(row: dict[str, Any]) -> dict[str, Any]:
    """snake_case dataclass fields as the schema's camelCase names: stored content reads like the API."""
    def name(key: str) -> str:
        head, *rest = key.split("_")
        return head + "".join(part.title() for part in rest)

    return {name(k): _plain(v) for k, v in row.items()}


async def findings(result: Overview) -> list[dict[str, Any]]:
    limits = {p["code"]: from_fen(p["loan_limit_fen"])
              for p in await Position.all().values("code", "loan_limit_fen")}
    figures = [reporting.PositionFigure(r.key, r.label, r.loans, r.overdue_loans, limits.get(r.key, Decimal("0")))
               for r in result.positions]
    out: list[tuple[str, Message]] = [("positions", m) for m in reporting.position_findings(figures)]
    weak = [c for c in result.compliance if c.rate is not None and c.rate < reporting.COMPLIANCE_TARGET]
    region_names = {r.key: r.label for r in result.regions}
    for cell in sorted(weak, key=lambda c: (c.rate or 0.0, c.region, c.purpose)):
        out.append(("compliance", _m("%(region)s · %(purpose)s 凭证合规率 %(rate)s（%(with)s/%(lines)s 行有凭证）。",
                                     region=region_names.get(cell.region, cell.region),
                                     purpose=_m(reporting_purpose(cell.purpose)),
                                     rate=reporting.percent(cell.rate), lines=cell.lines, **{"with": cell.with_voucher})))
    if not weak:
        out.append(("compliance", _m("各区域、各用途的凭证合规率均达到 %(target)s。",
                                     target=reporting.percent(reporting.COMPLIANCE_TARGET))))
    for b in result.borrowers:
        out.append(("borrowers", _m("%(name)s（%(no)s，%(position)s）本月借款 %(count)s 笔，共 %(amount)s 元，明显多于平均。",
                                    name=b.name, no=b.employee_no, position=b.position, count=b.loans, amount=b.amount)))
    if not result.borrowers:
        out.append(("borrowers", _m("本月没有借款次数异常的员工。")))
    closed = [o for o in result.leavers if o.written_off or o.salary_deducted or o.late]
    for o in closed:
        how = [m for flag, m in ((o.written_off, _m("核销")), (o.salary_deducted, _m("工资扣款")),
                                 (o.late, _m("晚于最后工作日结清"))) if flag]
        out.append(("offboardings", _m("%(name)s（%(no)s）离职清款：%(how)s。", name=o.name, no=o.employee_no, how=how)))
    if not closed:
        out.append(("offboardings", _m("本月离职人员均按时结清，无核销或工资扣款。")))
    return [{"section": section, "message": m.to_json()} for section, m in out]


def reporting_purpose(purpose: str) -> str:
    return PURPOSE_LABELS.get(purpose, purpose)


async def build_content(month: str, on: date | None = None) -> dict[str, Any]:
    start, end = parse_month(month)
    on = on or today()
    scope = Scope(None)
    result = await overview_in(scope, start, end, "zh_CN", on)
    trail_start = default_range(end)[0]
    trail_months = await breakdown_in(scope, Dimension.MONTH, trail_start, end, "zh_CN", on)
    rates = await monthly_rates(scope, trail_start, end, trail_months)
    total = result.total
    region_names = {r.key: r.label for r in result.regions}
    return {
        "month": month, "from": start.isoformat(), "to": end.isoformat(), "asOf": on.isoformat(),
        "findings": await findings(result),
        "total": _row(total) | {"overdueRate": total.overdue_rate},
        "positions": [_row(r) for r in result.positions],
        "regions": [_row(r) for r in result.regions],
        "departments": [_row(r) for r in result.departments],
        "purposes": [_row(r) for r in result.purposes],
        "monthlyRates": [_camel(asdict(r)) for r in rates],
        "voucherCompliance": [_camel(asdict(c)) | {"rate": c.rate, "regionName": region_names.get(c.region, c.region)}
                              for c in result.compliance],
        "abnormalBorrowers": [_camel(asdict(b)) for b in result.borrowers],
        "offboardings": [_camel(asdict(o)) for o in result.leavers],
        "months": months_between(trail_start, end),
    }


async def build_report(month: str, on: date | None = None, user_id: int | None = None) -> RiskReport:
    """Compute and store (replace) the month's report. Idempotent: the same data gives the same content."""
    content = await build_content(month, on)
    async with atomic():
        report = await RiskReport.filter(month=month).select_for_update().first()
        if report is None:
            report = await RiskReport.create(month=month, content=content, as_of=date.fromisoformat(content["asOf"]),
                                             generated_at=utcnow(), generated_by_id=user_id)
        else:
            report.content, report.as_of = content, date.fromisoformat(content["asOf"])
            report.generated_at, report.generated_by_id = utcnow(), user_id  # type: ignore[attr-defined]
            await report.save(update_fields=["content", "as_of", "generated_at", "generated_by_id"])
        await audit.record(SYSTEM, "report.generated", "risk_report", report.id, after={"month": month})
    return report


# ---------------------------------------------------------------- requests and reading


async def request_report(viewer: Viewer, month: str) -> Any:
    """GENERATE_REPORT: queue the month's report; returns the Job to poll (its result names the month)."""
    require_login(viewer)
    duties.require(viewer.roles, duties.GENERATE_REPORT)
    parse_month(month)
    async with atomic():
        job = await job_service.submit(KIND, "generate_risk_report", month, job_id=f"report-{uuid.uuid4().hex}",
                                       created_by=viewer.user_id, user_id=viewer.user_id)
        await audit.record(viewer, "report.requested", "job", job.id, after={"month": month})
    return job


def may_read(viewer: Viewer) -> bool:
    return duties.may(viewer.roles, duties.VIEW_ANALYTICS)


def may_generate(viewer: Viewer) -> bool:
    return duties.may(viewer.roles, duties.GENERATE_REPORT)


async def list_reports(viewer: Viewer) -> list[RiskReport]:
    require_login(viewer)
    duties.require(viewer.roles, duties.VIEW_ANALYTICS)
    return await RiskReport.all().order_by("-month")


async def get_report(viewer: Viewer, month: str) -> RiskReport | None:
    require_login(viewer)
    duties.require(viewer.roles, duties.VIEW_ANALYTICS)
    parse_month(month)
    return await RiskReport.filter(month=month).first()
