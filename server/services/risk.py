"""The risk scan: every rule as of a date, from set-based reads (risk_queries), alerts upserted by their
unique key, OVERDUE reminders by check-and-set, so that a rerun, a retried job or a killed worker never
duplicates an alert or a reminder.

    runRiskScan(asOf) ──> Job (QUEUED) ──outbox──> jobs/risk.py run_risk_scan ──> scan(as_of, progress)

Writes go in batches of WRITE_BATCH findings per transaction: a scan killed half-way leaves whole alerts and
reminders only, and the next run carries on where the keys say it stopped.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Subquery

from server.domain import duties, risk
from server.domain import roles as R
from server.domain.errors import Forbidden
from server.domain.messages import _m
from server.domain.vocab import CLOSED_LOAN_STATUSES, AlertKind, Severity
from server.models import Alert, AlertRecipient, AlertReminder, Employee, Loan, Notification, User
from server.services import alerts, audit
from server.services import jobs as job_service
from server.services import risk_queries as queries
from server.services.base import SYSTEM, Viewer, atomic, require_login, today, utcnow
from server.services.org import can_see_employee

KIND = "RISK_SCAN"
REALTIME_KIND = "RISK_LARGE_LOAN"
AUTO_RESOLVED_NOTE = _m("借款已结清或核销，预警自动关闭")

Progress = Callable[[float], Awaitable[None]]
# Findings written per transaction: whole alerts and reminders only (a killed scan loses at most one batch,
# which the next run writes again), and one audit flush per batch instead of per alert.
WRITE_BATCH = 100


@dataclass
class ScanReport:
    as_of: date
    raised: dict[str, int] = field(default_factory=dict)
    reminders: int = 0
    escalated: int = 0
    resolved: int = 0
    reopened: int = 0

    def count(self, kind: str) -> None:
        self.raised[kind] = self.raised.get(kind, 0) + 1

    def as_result(self) -> dict[str, Any]:
        return {"asOf": self.as_of.isoformat(), "raised": dict(sorted(self.raised.items())),
                "raisedTotal": sum(self.raised.values()), "reminders": self.reminders,
                "escalated": self.escalated, "resolved": self.resolved, "reopened": self.reopened}


# ---------------------------------------------------------------- requesting a scan


def scan_refusal(viewer: Viewer) -> Forbidden | None:
    """Why the viewer may not run a scan (also the page's flag)."""
    return duties.role_refusal(viewer.roles, duties.RUN_RISK_SCAN)


async def request_scan(viewer: Viewer, as_of: date | None = None) -> Any:
    """`runRiskScan`: FINANCE or ADMIN; returns the QUEUED job at once (the outbox hands it to the queue)."""
    require_login(viewer)
    if (refusal := scan_refusal(viewer)) is not None:
        raise refusal
    day = as_of or today()
    async with atomic():
        job = await job_service.submit(KIND, "run_risk_scan", day.isoformat(), job_id=f"risk-{uuid.uuid4().hex}",
                                       created_by=viewer.user_id)
        await audit.record(viewer, "risk.scan_requested", "job", job.id, None, {"asOf": day.isoformat()})
    return job


async def enqueue_large_loan_check(loan_id: int) -> None:
    """Inside the transaction that created the application: the real-time LARGE_LOAN_NO_BUSINESS check runs
    after commit (the outbox). The job id is unique per request (not derived from the loan id alone, which a
    restored or recreated database reuses while the queue still remembers the old id); the alert's key makes
    the check itself run-once."""
    await job_service.submit(REALTIME_KIND, "check_large_loan", loan_id,
                             job_id=f"risk-loan-{loan_id}-{uuid.uuid4().hex[:12]}")


# ---------------------------------------------------------------- recipients


class Audience:
    """Role holders (read once per scan) and each subject's supervisor."""

    def __init__(self, by_role: dict[str, alerts.Recipients], supervisors: dict[int, int | None]):
        self.by_role, self.supervisors = by_role, supervisors

    @classmethod
    async def load(cls, employee_ids: set[int]) -> Audience:
        by_role: dict[str, alerts.Recipients] = {
            str(role): await alerts.role_recipients(role) for role in (R.FINANCE, R.HR, R.ADMIN)}
        rows = await Employee.filter(id__in=sorted(employee_ids)).values("id", "supervisor_id") if employee_ids else []
        return cls(by_role, {r["id"]: r["supervisor_id"] for r in rows})

    def recipients(self, finding: risk.Finding) -> alerts.Recipients:
        out = alerts.Recipients()
        for role in finding.recipients:
            if role == risk.EMPLOYEE and finding.employee_id is not None:
                out = out + alerts.Recipients((finding.employee_id,))
            elif role == risk.SUPERVISOR and finding.employee_id is not None:
                boss = self.supervisors.get(finding.employee_id)
                out = out + (alerts.Recipients((boss,)) if boss is not None else alerts.Recipients())
            elif role in self.by_role:
                # The subject is told as an employee or not at all, never as the finance clerk of their own case.
                out = out + self.by_role[role].without_employee(finding.employee_id)
        return out


# ---------------------------------------------------------------- raising findings


async def raise_findings(findings: list[risk.Finding], report: ScanReport, *, notify: bool = True) -> dict[str, Alert]:
    """Store each finding's alert once (its dedupe_key), quoting the subject's score; returns key -> alert for
    every finding, new or existing."""
    keys = [f.dedupe_key for f in findings]
    stored: dict[str, Alert] = {}
    for chunk in range(0, len(keys), 500):
        for a in await Alert.filter(dedupe_key__in=keys[chunk:chunk + 500]):
            stored[a.dedupe_key] = a
    new = [f for f in findings if f.dedupe_key not in stored]
    if not new:
        return stored
    subjects = {f.employee_id for f in new if f.employee_id is not None}
    audience = await Audience.load(subjects)
    scores = await queries.scores(sorted(subjects), report.as_of)
    for chunk in range(0, len(new), WRITE_BATCH):
        async with atomic():
            for finding in new[chunk:chunk + WRITE_BATCH]:
                score = scores.get(finding.employee_id) if finding.employee_id is not None else None
                raised = await alerts.raise_alert(
                    SYSTEM, kind=finding.kind, severity=finding.severity, message=finding.message,
                    dedupe_key=finding.dedupe_key, recipients=audience.recipients(finding),
                    employee_id=finding.employee_id, loan_id=finding.loan_id, position_id=finding.position_id,
                    region_id=finding.region_id, purpose=finding.purpose, score=score.score if score else None,
                    scorecard_version=score.version if score else None, notify=notify)
                stored[finding.dedupe_key] = raised.alert
                if raised.created:
                    report.count(finding.kind)
    return stored


# ---------------------------------------------------------------- OVERDUE: escalation, reminders, resolution


async def _reopen(alert: Alert, report: ScanReport) -> None:
    before = {"resolvedAt": alert.resolved_at, "note": alert.resolution_note}
    if await Alert.filter(id=alert.id, resolved_at__not_isnull=True).update(
            resolved_at=None, resolved_by_id=None, resolution_note=None, auto_resolved=False):
        await audit.record(SYSTEM, "alert.reopen", "alert", alert.id, before, {"resolvedAt": None})
        alert.resolved_at, alert.auto_resolved = None, False
        report.reopened += 1


async def _escalate(alert: Alert, severity: str, report: ScanReport) -> None:
    if await Alert.filter(id=alert.id, severity=alert.severity).update(severity=severity):
        await audit.record(SYSTEM, "alert.escalate", "alert", alert.id, {"severity": alert.severity},
                           {"severity": severity})
        alert.severity = severity
        report.escalated += 1


async def _remind(alert: Alert, employee_id: int, state: AlertReminder | None, as_of: date, rules: risk.RiskRules,
                  body: Any) -> bool:
    """Check-and-set on the (alert, employee) reminder row, then one notification per active account."""
    if not risk.reminder_due(state.last_reminded_on if state else None, as_of, rules, alert.paused_until):
        return False
    if state is None:
        try:
            async with atomic():  # a savepoint: a concurrent scan may have reminded first
                await AlertReminder.create(alert_id=alert.id, employee_id=employee_id, last_reminded_on=as_of)
        except IntegrityError:
            return False
    elif not await AlertReminder.filter(id=state.id, last_reminded_on=state.last_reminded_on).update(
            last_reminded_on=as_of, count=F("count") + 1):
        return False
    await AlertRecipient.get_or_create(alert_id=alert.id, employee_id=employee_id)
    now = utcnow()
    title, title_data = alerts._stored(risk.reminder_title())
    text_body, body_data = alerts._stored(body)
    user_ids = [u["id"] for u in await User.filter(employee_id=employee_id, is_active=True).values("id")]
    for uid in user_ids:
        await Notification.create(user_id=uid, title=title, body=text_body, alert_id=alert.id, created_at=now,
                                  title_data=title_data, body_data=body_data)
    await audit.record(SYSTEM, "alert.remind", "alert", alert.id, None,
                       {"employeeId": employee_id, "on": as_of.isoformat(), "notifiedUsers": user_ids})
    return True


async def scan_overdue(as_of: date, rules: risk.RiskRules, report: ScanReport) -> None:
    pairs = [(risk.overdue(loan, as_of, rules), loan) for loan in await queries.overdue_loans(as_of)]
    by_key = {f.dedupe_key: (f, loan) for f, loan in pairs if f is not None}
    findings = [f for f, _ in by_key.values()]
    stored = await raise_findings(findings, report, notify=False)
    audience = await Audience.load({f.employee_id for f in findings if f.employee_id is not None})
    states: dict[tuple[int, int], AlertReminder] = {}
    alert_ids = [a.id for a in stored.values()]
    for chunk in range(0, len(alert_ids), 500):
        for s in await AlertReminder.filter(alert_id__in=alert_ids[chunk:chunk + 500]):
            states[(s.alert_id, s.employee_id)] = s  # type: ignore[attr-defined]
    items = list(by_key.items())
    for chunk in range(0, len(items), WRITE_BATCH):
        async with atomic():
            for key, (finding, loan) in items[chunk:chunk + WRITE_BATCH]:
                await _follow_up(stored[key], finding, loan, states, audience, as_of, rules, report)
    await resolve_settled(report)


async def _follow_up(alert: Alert, finding: risk.Finding, loan: risk.OverdueLoan,
                     states: dict[tuple[int, int], AlertReminder], audience: Audience, as_of: date,
                     rules: risk.RiskRules, report: ScanReport) -> None:
    """An OVERDUE alert found again: reopen it (unless paused by hand), escalate it, remind whoever is due."""
    if alert.resolved_at is not None:
        if not alert.auto_resolved and alert.paused_until is not None and as_of < alert.paused_until:
            return  # resolved by hand: reminders paused
        await _reopen(alert, report)
    if alert.severity != finding.severity and finding.severity == Severity.CRITICAL:
        await _escalate(alert, finding.severity, report)
    for role in finding.recipients:
        who: int | None
        if role == risk.EMPLOYEE:
            who, body = loan.employee_id, risk.employee_reminder()
        else:
            who, body = audience.supervisors.get(loan.employee_id), risk.supervisor_reminder(loan.employee_name)
        if who is not None and await _remind(alert, who, states.get((alert.id, who)), as_of, rules, body):
            report.reminders += 1


async def resolve_settled(report: ScanReport) -> None:
    """Open OVERDUE alerts whose loan is settled or written off close themselves (no reminder follows)."""
    closed = Loan.filter(status__in=sorted(CLOSED_LOAN_STATUSES)).values("id")
    for alert in await Alert.filter(kind=AlertKind.OVERDUE, resolved_at__isnull=True, loan_id__in=Subquery(closed)):
        async with atomic():
            if await alerts.resolve_by_key(SYSTEM, alert.dedupe_key, AUTO_RESOLVED_NOTE):
                report.resolved += 1


# ---------------------------------------------------------------- the scan


async def evaluate(as_of: date, rules: risk.RiskRules | None = None) -> dict[str, list[risk.Finding]]:
    """What every scanning rule finds as of `as_of`, without writing anything (the scan's reads and rules;
    bench/bench_risk.py compares it with hand-written SQL)."""
    rules = rules or await queries.rules()
    apps = await queries.applications(queries.catchup_loans(as_of, rules), rules)
    stats, company_loans, company_overdue = await queries.position_stats(as_of, rules)
    counts = await queries.application_counts(as_of, rules)
    return {
        AlertKind.LARGE_LOAN_NO_BUSINESS: [f for f in (risk.large_loan_no_business(a, rules) for a in apps) if f],
        AlertKind.OVERDUE: [f for f in (risk.overdue(ln, as_of, rules) for ln in await queries.overdue_loans(as_of))
                            if f],
        AlertKind.POSITION_OVERDUE_RATE: [f for f in (risk.position_overdue_rate(s, company_loans, company_overdue,
                                                                                as_of, rules) for s in stats) if f],
        AlertKind.FREQUENT_BORROWING: [f for group in counts.values() for f in risk.frequent_borrowers(group, as_of,
                                                                                                     rules)],
        AlertKind.MISSING_VOUCHERS: [f for f in (risk.missing_vouchers(v, as_of, rules)
                                                 for v in await queries.voucher_stats(as_of, rules)) if f],
    }



async def scan(as_of: date, progress: Progress | None = None) -> ScanReport:
    """Every rule as of `as_of`. Idempotent: run it twice, the second run adds nothing."""
    rules = await queries.rules()
    report = ScanReport(as_of)

    async def step(done: int) -> None:
        if progress is not None:
            await progress(done / 5)

    apps = await queries.applications(queries.catchup_loans(as_of, rules), rules)
    await raise_findings([f for f in (risk.large_loan_no_business(a, rules) for a in apps) if f], report)
    await step(1)
    await scan_overdue(as_of, rules, report)
    await step(2)
    stats, company_loans, company_overdue = await queries.position_stats(as_of, rules)
    await raise_findings([f for f in (risk.position_overdue_rate(s, company_loans, company_overdue, as_of, rules)
                                      for s in stats) if f], report)
    await step(3)
    counts = await queries.application_counts(as_of, rules)
    await raise_findings([f for group in counts.values() for f in risk.frequent_borrowers(group, as_of, rules)], report)
    await step(4)
    vouchers = await queries.voucher_stats(as_of, rules)
    await raise_findings([f for f in (risk.missing_vouchers(v, as_of, rules) for v in vouchers) if f], report)
    await step(5)
    return report


async def check_large_loan(loan_id: int) -> bool:
    """The real-time check of one application (after it committed). True when an alert was raised."""
    rules = await queries.rules()
    report = ScanReport(today())
    apps = await queries.applications(Loan.filter(id=loan_id), rules)
    await raise_findings([f for f in (risk.large_loan_no_business(a, rules) for a in apps) if f], report)
    return bool(report.raised)


# ---------------------------------------------------------------- OFFBOARDING_OUTSTANDING (from the gate)


async def raise_offboarding_outstanding(viewer: Viewer, offboarding_id: int, employee: Employee, outstanding_fen: int,
                                        message: Any) -> alerts.Raised | None:
    """The offboarding gate's alert through the engine's rule, in the caller's transaction."""
    finding = risk.offboarding_outstanding(offboarding_id, employee.id, outstanding_fen, message)
    if finding is None:
        return None
    audience = await Audience.load({employee.id})
    score = (await queries.scores([employee.id], today())).get(employee.id)
    return await alerts.raise_alert(
        viewer, kind=finding.kind, severity=finding.severity, dedupe_key=finding.dedupe_key, message=finding.message,
        recipients=audience.recipients(finding), employee_id=employee.id,
        score=score.score if score else None, scorecard_version=score.version if score else None)


# ---------------------------------------------------------------- Employee.risk


async def employee_scores(viewer: Viewer, employees: list[Employee]) -> list[risk.Score]:
    """Batch: each employee's score as of today, for whoever may see the employee (their own included)."""
    require_login(viewer)
    for employee in employees:
        if not await can_see_employee(viewer, employee):
            raise Forbidden(_m("无权查看该员工"))
    found = await queries.scores([e.id for e in employees], today())
    return [found[e.id] for e in employees]



__all__ = ["KIND", "ScanReport", "check_large_loan", "enqueue_large_loan_check", "request_scan", "scan"]
