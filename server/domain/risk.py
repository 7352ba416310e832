"""Risk rules and the explainable score, as pure functions over plain data.

Every rule takes `as_of` (a company date) explicitly, so a scan can be evaluated for any day and the
tests need no clock. The scan (server/services/risk.py) feeds these functions from one aggregate
query per rule; the functions decide, word the alert (a message id with parameters) and name its
uniqueness key (rule, subject, period). Comparisons of amounts and rates are exact: integer fen and
integer cross-multiplication, never a float.

Windows, all in company dates, both ends included:
  - business records for a loan applied on D: signedOn in [D - BUSINESS_WINDOW_DAYS, D];
  - the large-loan catch-up: applications with appliedOn in [as_of - LARGE_LOAN_CATCHUP_DAYS, as_of];
  - "the N days up to as_of" (frequency, vouchers, the position look-back): [as_of - (N - 1), as_of].
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from server.domain.ledger import days_overdue
from server.domain.messages import Message, _m
from server.domain.money import from_fen
from server.domain.vocab import AlertKind, LoanStatus, Severity

SCORECARD_VERSION = "2026-12-v1"

# Who an alert goes to, as roles of the subject's organisation (resolved to people by the scan).
EMPLOYEE, SUPERVISOR, FINANCE, HR, ADMIN = "EMPLOYEE", "SUPERVISOR", "FINANCE", "HR", "ADMIN"


@dataclass(frozen=True)
class RiskRules:
    """The company's risk settings (server/services/company.py DEFINITIONS seeds and stores them)."""

    large_loan_salary_percent: int = 50
    business_window_days: int = 30
    large_loan_catchup_days: int = 7
    overdue_critical_days: int = 30
    reminder_interval_days: int = 7
    resolve_pause_days: int = 7
    position_window_days: int = 365
    position_rate_percent: int = 10
    position_min_loans: int = 5
    frequent_window_days: int = 30
    frequent_min_applications: int = 3
    frequent_multiple: int = 3
    voucher_window_days: int = 90
    voucher_min_percent: int = 80
    voucher_min_lines: int = 5
    band_warning: int = 40
    band_critical: int = 70

    @classmethod
    def from_settings(cls, values: Mapping[str, Any]) -> RiskRules:
        """From {SETTING_KEY: value}; a missing key keeps the default."""
        known = {f.name: values[SETTING_KEYS[f.name]] for f in fields(cls) if SETTING_KEYS[f.name] in values}
        return cls(**{k: int(v) for k, v in known.items()})


# Field -> company setting key.
SETTING_KEYS = {f.name: f"RISK_{f.name.upper()}" for f in fields(RiskRules)}
SETTING_KEYS["reminder_interval_days"] = "REMINDER_INTERVAL_DAYS"


def window_start(as_of: date, days: int) -> date:
    """First day of "the `days` days up to as_of" (both ends included)."""
    return as_of - timedelta(days=days - 1)


def month_key(as_of: date) -> str:
    return f"{as_of.year:04d}-{as_of.month:02d}"


def percent(part: int, whole: int) -> Decimal:
    """A rate for display (one decimal); decisions never use it."""
    if whole <= 0:
        return Decimal("0.0")
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass(frozen=True)
class Finding:
    """An alert a rule asks for: what the scan stores under `dedupe_key` (once)."""

    kind: str
    severity: str
    dedupe_key: str
    message: Message
    recipients: tuple[str, ...]
    employee_id: int | None = None
    loan_id: int | None = None
    position_id: int | None = None
    region_id: int | None = None
    purpose: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------- LARGE_LOAN_NO_BUSINESS


@dataclass(frozen=True)
class Application:
    loan_id: int
    number: str
    employee_id: int
    amount_fen: int
    salary_fen: int
    applied_on: date
    status: str
    # The latest business record's signedOn on or before appliedOn (a later one never counts).
    last_signed_on: date | None


def is_large(amount_fen: int, salary_fen: int, rules: RiskRules) -> bool:
    """Strictly more than the share of the monthly salary (exact: 5,000.01 of 10,000.00 is large)."""
    return amount_fen * 100 > salary_fen * rules.large_loan_salary_percent


def has_recent_business(applied_on: date, last_signed_on: date | None, rules: RiskRules) -> bool:
    if last_signed_on is None or last_signed_on > applied_on:
        return False
    return last_signed_on >= applied_on - timedelta(days=rules.business_window_days)


def large_loan_key(loan_id: int) -> str:
    return f"{AlertKind.LARGE_LOAN_NO_BUSINESS}:loan:{loan_id}"


def large_loan_no_business(app: Application, rules: RiskRules) -> Finding | None:
    if app.status in (LoanStatus.REJECTED, LoanStatus.CANCELLED):
        return None
    if not is_large(app.amount_fen, app.salary_fen, rules) or has_recent_business(app.applied_on, app.last_signed_on,
                                                                                 rules):
        return None
    message = _m("该员工借款金额异常，请核查用途：借款 %(number)s 金额 %(amount)s，超过月薪 %(salary)s 的 %(percent)s%%，"
                 "申请前 %(days)s 天内无业务记录",
                 number=app.number, amount=from_fen(app.amount_fen), salary=from_fen(app.salary_fen),
                 percent=rules.large_loan_salary_percent, days=rules.business_window_days)
    return Finding(AlertKind.LARGE_LOAN_NO_BUSINESS, Severity.WARNING, large_loan_key(app.loan_id), message,
                   (SUPERVISOR, FINANCE), employee_id=app.employee_id, loan_id=app.loan_id)


def in_catchup_window(applied_on: date, as_of: date, rules: RiskRules) -> bool:
    return as_of - timedelta(days=rules.large_loan_catchup_days) <= applied_on <= as_of


# ---------------------------------------------------------------- OVERDUE


@dataclass(frozen=True)
class OverdueLoan:
    loan_id: int
    number: str
    employee_id: int
    employee_name: str
    expected_settle_date: date
    outstanding_fen: int


def overdue_key(loan_id: int) -> str:
    return f"{AlertKind.OVERDUE}:loan:{loan_id}"


def overdue_severity(days: int, rules: RiskRules) -> str:
    """WARNING up to the critical day count (30 days overdue is still WARNING), CRITICAL beyond."""
    return Severity.CRITICAL if days > rules.overdue_critical_days else Severity.WARNING


def overdue(loan: OverdueLoan, as_of: date, rules: RiskRules) -> Finding | None:
    days = days_overdue(loan.expected_settle_date, from_fen(loan.outstanding_fen), as_of)
    if days <= 0:
        return None
    message = _m("借款 %(number)s 已逾期：应于 %(date)s 前结清，未还 %(outstanding)s",
                 number=loan.number, date=loan.expected_settle_date.isoformat(),
                 outstanding=from_fen(loan.outstanding_fen))
    return Finding(AlertKind.OVERDUE, overdue_severity(days, rules), overdue_key(loan.loan_id), message,
                   reminded(days, rules), employee_id=loan.employee_id, loan_id=loan.loan_id,
                   data={"daysOverdue": days})


def reminded(days: int, rules: RiskRules) -> tuple[str, ...]:
    """Who is reminded at this many days overdue: the employee; the supervisor too beyond the critical count."""
    if days <= 0:
        return ()
    return (EMPLOYEE, SUPERVISOR) if days > rules.overdue_critical_days else (EMPLOYEE,)


def reminder_due(last_reminded_on: date | None, as_of: date, rules: RiskRules,
                 paused_until: date | None = None) -> bool:
    """A reminder now? The first scan that finds the loan overdue; then each time at least the interval has
    passed since the last one (7 days apart: yes; 6: no). A hand resolution pauses until `paused_until`."""
    if paused_until is not None and as_of < paused_until:
        return False
    return last_reminded_on is None or (as_of - last_reminded_on).days >= rules.reminder_interval_days


def employee_reminder() -> Message:
    return _m("您有一笔借款已逾期，请尽快报销")


def supervisor_reminder(employee_name: str) -> Message:
    return _m("您部门员工%(name)s借款逾期，请督促其报销", name=employee_name)


def reminder_title() -> Message:
    return _m("逾期提醒")


# ---------------------------------------------------------------- POSITION_OVERDUE_RATE


@dataclass(frozen=True)
class PositionStats:
    position_id: int
    name: str
    loans: int  # disbursed in the look-back window
    overdue: int  # of those, overdue as of as_of
    loan_limit_fen: int


def rate_above(part: int, whole: int, limit_percent: int) -> bool:
    """part/whole > limit% exactly (10.1% > 10%; 10% is not)."""
    return whole > 0 and part * 100 > whole * limit_percent


def suggested_limit_fen(limit_fen: int, position_part: int, position_whole: int, company_part: int,
                        company_whole: int) -> int:
    """A lower per-loan limit: the limit scaled by the company's rate over the position's (half the limit when
    the company rate is nil), and at most the limit less the position's overdue share (always a real cut, also
    when the position is the whole company), rounded down to 100.00."""
    if company_part <= 0 or company_whole <= 0:
        scaled = limit_fen // 2
    else:
        scaled = limit_fen * company_part * position_whole // (company_whole * position_part)
    scaled = min(scaled, limit_fen * (position_whole - position_part) // position_whole if position_whole else 0)
    return max(0, scaled - scaled % 10000)


def position_overdue_rate(stats: PositionStats, company_loans: int, company_overdue: int, as_of: date,
                          rules: RiskRules) -> Finding | None:
    if stats.loans < rules.position_min_loans or not rate_above(stats.overdue, stats.loans, rules.position_rate_percent):
        return None
    suggested = suggested_limit_fen(stats.loan_limit_fen, stats.overdue, stats.loans, company_overdue, company_loans)
    message = _m("岗位风险报告：%(position)s 近 %(days)s 天放款 %(loans)s 笔，截至 %(as_of)s 逾期 %(overdue)s 笔，"
                 "逾期率 %(rate)s%%，公司整体 %(company_rate)s%%。建议将单笔借款额度由 %(limit)s 下调至 %(suggested)s，"
                 "或增加一级审批",
                 position=stats.name, days=rules.position_window_days, loans=stats.loans, as_of=as_of.isoformat(),
                 overdue=stats.overdue, rate=str(percent(stats.overdue, stats.loans)),
                 company_rate=str(percent(company_overdue, company_loans)), limit=from_fen(stats.loan_limit_fen),
                 suggested=from_fen(suggested))
    return Finding(AlertKind.POSITION_OVERDUE_RATE, Severity.WARNING,
                   f"{AlertKind.POSITION_OVERDUE_RATE}:position:{stats.position_id}:{month_key(as_of)}", message,
                   (FINANCE, ADMIN), position_id=stats.position_id,
                   data={"loans": stats.loans, "overdue": stats.overdue, "companyLoans": company_loans,
                         "companyOverdue": company_overdue, "suggestedLimitFen": suggested})


# ---------------------------------------------------------------- FREQUENT_BORROWING


def frequent_borrowers(counts: Mapping[int, int], as_of: date, rules: RiskRules) -> list[Finding]:
    """`counts`: applications in the window per employee of ONE position (only those who applied).

    Flagged: at least the minimum count, and at least `frequent_multiple` times the average of the other
    applicants of the position (exactly: count × others ≥ multiple × their sum); alone, the minimum suffices."""
    total, applicants = sum(counts.values()), len(counts)
    out = []
    for employee_id, count in sorted(counts.items()):
        if count < rules.frequent_min_applications:
            continue
        others, others_sum = applicants - 1, total - count
        if others > 0 and count * others < rules.frequent_multiple * others_sum:
            continue
        average = (Decimal(others_sum) / others).quantize(Decimal("0.1"), ROUND_HALF_UP) if others else Decimal("0.0")
        message = _m("该员工近 %(days)s 天申请借款 %(count)s 次，同岗位其他申请人平均 %(average)s 次",
                     days=rules.frequent_window_days, count=count, average=str(average))
        out.append(Finding(AlertKind.FREQUENT_BORROWING, Severity.WARNING,
                           f"{AlertKind.FREQUENT_BORROWING}:employee:{employee_id}:{month_key(as_of)}", message,
                           (SUPERVISOR, FINANCE), employee_id=employee_id,
                           data={"count": count, "others": others, "othersSum": others_sum}))
    return out


# ---------------------------------------------------------------- MISSING_VOUCHERS


@dataclass(frozen=True)
class VoucherStats:
    region_id: int
    region_name: str
    purpose: str
    purpose_label: str
    lines: int
    with_vouchers: int


def missing_vouchers(stats: VoucherStats, as_of: date, rules: RiskRules) -> Finding | None:
    """Vouchers on less than the minimum share of the lines (79% of 100: yes; 80%: no), with enough lines."""
    if stats.lines < rules.voucher_min_lines or stats.with_vouchers * 100 >= stats.lines * rules.voucher_min_percent:
        return None
    message = _m("%(region)s 的 %(purpose)s 报销近 %(days)s 天 %(lines)s 行中仅 %(vouchered)s 行附有凭证（%(rate)s%%，"
                 "低于 %(min)s%%）",
                 region=stats.region_name, purpose=_m(stats.purpose_label), days=rules.voucher_window_days,
                 lines=stats.lines, vouchered=stats.with_vouchers, rate=str(percent(stats.with_vouchers, stats.lines)),
                 min=rules.voucher_min_percent)
    return Finding(AlertKind.MISSING_VOUCHERS, Severity.WARNING,
                   f"{AlertKind.MISSING_VOUCHERS}:region:{stats.region_id}:{stats.purpose}:{month_key(as_of)}",
                   message, (FINANCE,), region_id=stats.region_id, purpose=stats.purpose,
                   data={"lines": stats.lines, "withVouchers": stats.with_vouchers})


# ---------------------------------------------------------------- OFFBOARDING_OUTSTANDING


def offboarding_key(offboarding_id: int) -> str:
    """One OFFBOARDING_OUTSTANDING alert per offboarding (rule, subject, period)."""
    return f"{AlertKind.OFFBOARDING_OUTSTANDING}:offboarding:{offboarding_id}"


def offboarding_outstanding(offboarding_id: int, employee_id: int, outstanding_fen: int,
                            message: Message) -> Finding | None:
    """The offboarding gate's alert: anything still owed when someone starts leaving."""
    if outstanding_fen <= 0:
        return None
    return Finding(AlertKind.OFFBOARDING_OUTSTANDING, Severity.CRITICAL, offboarding_key(offboarding_id), message,
                   (FINANCE, HR, SUPERVISOR), employee_id=employee_id, data={"outstandingFen": outstanding_fen})


# ---------------------------------------------------------------- the explainable score


@dataclass(frozen=True)
class EmployeeHistory:
    """One employee's figures as of a date (the scan and Employee.risk read them in grouped queries)."""

    overdue_loans: int = 0
    max_days_overdue: int = 0
    overdue_outstanding_fen: int = 0
    settled_late: int = 0  # loans closed after their expected settle date, within the look-back
    large_without_business: int = 0  # LARGE_LOAN_NO_BUSINESS alerts within the look-back
    recent_applications: int = 0  # in the frequency window
    lines: int = 0  # reimbursement lines in the voucher window
    lines_without_vouchers: int = 0
    offboarding_outstanding_fen: int = 0  # owed while an offboarding is open


@dataclass(frozen=True)
class Factor:
    name: Message
    detail: Message
    points: int


@dataclass(frozen=True)
class Score:
    score: int
    severity: str
    factors: tuple[Factor, ...]
    version: str = SCORECARD_VERSION


def band(score: int, rules: RiskRules) -> str:
    if score >= rules.band_critical:
        return Severity.CRITICAL
    if score >= rules.band_warning:
        return Severity.WARNING
    return Severity.INFO


def clamp(points: int) -> int:
    return max(0, min(100, points))


def scorecard(history: EmployeeHistory, rules: RiskRules) -> Score:
    """Each factor with the employee's own figures and its points; the sum clamped to 0..100.

    Points (SCORECARD_VERSION): 25 per loan overdue now (+15 once when one is beyond the critical days);
    10 per loan closed late (at most 30); 15 per large loan without business records (at most 30);
    10 for borrowing at or above the frequency minimum; 10 when at least the minimum lines were filed and
    fewer than the voucher share carried vouchers; 40 for an offboarding with money owed."""
    factors: list[Factor] = []
    if history.overdue_loans > 0:
        points = 25 * history.overdue_loans + (15 if history.max_days_overdue > rules.overdue_critical_days else 0)
        factors.append(Factor(_m("当前逾期"), _m("逾期 %(days)s 天的借款 %(count)s 笔，未还 %(outstanding)s",
                                                 days=history.max_days_overdue, count=history.overdue_loans,
                                                 outstanding=from_fen(history.overdue_outstanding_fen)), points))
    if history.settled_late > 0:
        factors.append(Factor(_m("历史逾期"), _m("近一年逾期后才结清的借款 %(count)s 笔", count=history.settled_late),
                              min(30, 10 * history.settled_late)))
    if history.large_without_business > 0:
        factors.append(Factor(_m("业务活动不足"), _m("无业务记录的大额借款 %(count)s 笔",
                                                    count=history.large_without_business),
                              min(30, 15 * history.large_without_business)))
    if history.recent_applications >= rules.frequent_min_applications:
        factors.append(Factor(_m("频繁借款"), _m("近 %(days)s 天申请借款 %(count)s 次",
                                                days=rules.frequent_window_days, count=history.recent_applications), 10))
    if (history.lines >= rules.voucher_min_lines
            and (history.lines - history.lines_without_vouchers) * 100 < history.lines * rules.voucher_min_percent):
        factors.append(Factor(_m("报销不规范"), _m("近 %(days)s 天报销 %(lines)s 行，其中 %(missing)s 行无凭证",
                                                  days=rules.voucher_window_days, lines=history.lines,
                                                  missing=history.lines_without_vouchers), 10))
    if history.offboarding_outstanding_fen > 0:
        factors.append(Factor(_m("离职未清款"), _m("离职办理中，仍欠 %(outstanding)s",
                                                  outstanding=from_fen(history.offboarding_outstanding_fen)), 40))
    total = clamp(sum(f.points for f in factors))
    return Score(total, band(total, rules), tuple(factors))


def group_counts(rows: Iterable[tuple[int, int, int]]) -> dict[int, dict[int, int]]:
    """(position_id, employee_id, count) rows -> {position_id: {employee_id: count}}."""
    out: dict[int, dict[int, int]] = {}
    for position_id, employee_id, count in rows:
        out.setdefault(position_id, {})[employee_id] = int(count)
    return out


__all__: Sequence[str] = [
    "SCORECARD_VERSION", "Application", "EmployeeHistory", "Factor", "Finding", "OverdueLoan", "PositionStats",
    "RiskRules", "Score", "VoucherStats", "band", "frequent_borrowers", "large_loan_no_business", "missing_vouchers",
    "offboarding_outstanding", "overdue", "position_overdue_rate", "reminder_due", "scorecard",
]
