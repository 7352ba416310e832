"""The risk rules and the scorecard at every edge of issue 11's "Done when" (pure, no database)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from server.domain import risk
from server.i18n import render

RULES = risk.RiskRules()
AS_OF = date(2026, 12, 1)


def application(amount_fen: int, last_signed_on: date | None = None, status: str = "PENDING_APPROVAL",
                applied_on: date = AS_OF) -> risk.Application:
    return risk.Application(loan_id=7, number="JK-7", employee_id=3, amount_fen=amount_fen, salary_fen=1_000_000,
                            applied_on=applied_on, status=status, last_signed_on=last_signed_on)


@pytest.mark.parametrize(("amount_fen", "signed_days_before", "status", "alert"), [
    (500_000, None, "PENDING_APPROVAL", False),  # exactly 50.00% of 10,000.00: not more
    (500_100, None, "PENDING_APPROVAL", True),  # 50.01%
    (500_001, None, "PENDING_APPROVAL", True),  # one fen more
    (500_100, 30, "PENDING_APPROVAL", False),  # a record 30 days before counts
    (500_100, 31, "PENDING_APPROVAL", True),  # 31 days before does not
    (500_100, 0, "PENDING_APPROVAL", False),  # the application day itself counts
    (500_100, -1, "PENDING_APPROVAL", True),  # a future signedOn does not count
    (500_100, None, "REJECTED", False),
    (500_100, None, "CANCELLED", False),
    (500_100, None, "DISBURSED", True),
])
def test_large_loan_no_business(amount_fen, signed_days_before, status, alert):
    signed = None if signed_days_before is None else AS_OF - timedelta(days=signed_days_before)
    finding = risk.large_loan_no_business(application(amount_fen, signed, status), RULES)
    assert (finding is not None) is alert
    if finding:
        assert finding.kind == "LARGE_LOAN_NO_BUSINESS" and finding.severity == "WARNING"
        assert finding.dedupe_key == "LARGE_LOAN_NO_BUSINESS:loan:7"
        assert finding.recipients == ("SUPERVISOR", "FINANCE")
        assert render(finding.message).startswith("该员工借款金额异常，请核查用途")


@pytest.mark.parametrize(("days_before", "inside"), [(0, True), (7, True), (8, False), (-1, False)])
def test_catchup_window(days_before, inside):
    assert risk.in_catchup_window(AS_OF - timedelta(days=days_before), AS_OF, RULES) is inside


def overdue_loan(days: int, outstanding_fen: int = 400_000) -> risk.OverdueLoan:
    return risk.OverdueLoan(1, "JK-1", 3, "张三", AS_OF - timedelta(days=days), outstanding_fen)


@pytest.mark.parametrize(("days", "severity", "reminded"), [
    (0, None, ()),
    (1, "WARNING", ("EMPLOYEE",)),
    (30, "WARNING", ("EMPLOYEE",)),
    (31, "CRITICAL", ("EMPLOYEE", "SUPERVISOR")),
])
def test_overdue_escalation(days, severity, reminded):
    finding = risk.overdue(overdue_loan(days), AS_OF, RULES)
    assert (finding.severity if finding else None) == severity
    assert risk.reminded(days, RULES) == reminded
    if finding:
        assert finding.recipients == reminded
        assert finding.data == {"daysOverdue": days}


def test_settled_loan_is_not_overdue():
    assert risk.overdue(overdue_loan(90, outstanding_fen=0), AS_OF, RULES) is None


@pytest.mark.parametrize(("last_days_ago", "paused_days_ahead", "due"), [
    (None, None, True),  # the first scan that finds it
    (7, None, True),
    (6, None, False),
    (0, None, False),  # twice on one day: no
    (None, 1, False),  # paused by a hand resolution
    (None, 0, True),  # the pause ends on its day
    (30, -3, True),
])
def test_reminder_schedule(last_days_ago, paused_days_ahead, due):
    last = None if last_days_ago is None else AS_OF - timedelta(days=last_days_ago)
    paused = None if paused_days_ahead is None else AS_OF + timedelta(days=paused_days_ahead)
    assert risk.reminder_due(last, AS_OF, RULES, paused) is due


def test_reminder_texts():
    assert render(risk.employee_reminder()) == "您有一笔借款已逾期，请尽快报销"
    assert render(risk.supervisor_reminder("张三")) == "您部门员工张三借款逾期，请督促其报销"
    assert render(risk.employee_reminder(), "en") != "您有一笔借款已逾期，请尽快报销"


@pytest.mark.parametrize(("loans", "overdue", "alert"), [
    (10, 1, False),  # 10%: not above
    (1000, 101, True),  # 10.1%
    (4, 4, False),  # 4 loans: too few, whatever the rate
    (5, 1, True),  # 20% of 5
    (0, 0, False),
])
def test_position_overdue_rate(loans, overdue, alert):
    stats = risk.PositionStats(2, "销售代表", loans, overdue, 2_000_000)
    finding = risk.position_overdue_rate(stats, 2000, 100, AS_OF, RULES)
    assert (finding is not None) is alert
    if finding:
        assert finding.dedupe_key == "POSITION_OVERDUE_RATE:position:2:2026-12"
        assert finding.recipients == ("FINANCE", "ADMIN")
        text = render(finding.message)
        assert "公司整体 5.0%" in text and "增加一级审批" in text and "下调至" in text


def test_suggested_limit():
    # Position 20%, company 5%: a quarter of 20,000.00.
    assert risk.suggested_limit_fen(2_000_000, 1, 5, 1, 20) == 500_000
    assert risk.suggested_limit_fen(2_000_000, 1, 5, 0, 20) == 1_000_000
    assert risk.suggested_limit_fen(123_456, 1, 5, 0, 0) == 60_000
    # The position is the whole company (same rate): still a cut, by its overdue share (20%).
    assert risk.suggested_limit_fen(1_000_000, 1, 5, 1, 5) == 800_000


@pytest.mark.parametrize(("counts", "flagged"), [
    ({1: 2}, []),  # 2 applications, alone: not enough
    ({1: 3}, [1]),  # 3, alone in the position: enough
    ({1: 3, 2: 1}, [1]),  # 3× the other's 1
    ({1: 29, 2: 10}, []),  # 2.9×
    ({1: 30, 2: 10}, [1]),  # 3×
    ({1: 3, 2: 1, 3: 2}, []),  # 3 vs average 1.5: 2×
    ({1: 6, 2: 1, 3: 3}, [1]),  # 6 vs average 2: 3×
    ({1: 3, 2: 3}, []),
])
def test_frequent_borrowing(counts, flagged):
    findings = risk.frequent_borrowers(counts, AS_OF, RULES)
    assert [f.employee_id for f in findings] == flagged
    for finding in findings:
        assert finding.dedupe_key == f"FREQUENT_BORROWING:employee:{finding.employee_id}:2026-12"
        assert finding.recipients == ("SUPERVISOR", "FINANCE")


@pytest.mark.parametrize(("lines", "vouchered", "alert"), [
    (100, 79, True),
    (100, 80, False),
    (5, 3, True),  # 60% of 5 lines
    (4, 0, False),  # too few lines
    (5, 4, False),  # 80%
])
def test_missing_vouchers(lines, vouchered, alert):
    stats = risk.VoucherStats(4, "华东", "MARKETING", "市场活动", lines, vouchered)
    finding = risk.missing_vouchers(stats, AS_OF, RULES)
    assert (finding is not None) is alert
    if finding:
        assert (finding.region_id, finding.purpose) == (4, "MARKETING")
        assert finding.dedupe_key == "MISSING_VOUCHERS:region:4:MARKETING:2026-12"
        assert "华东 的 市场活动" in render(finding.message)


def test_offboarding_outstanding():
    assert risk.offboarding_outstanding(5, 3, 0, risk.employee_reminder()) is None
    finding = risk.offboarding_outstanding(5, 3, 100, risk.employee_reminder())
    assert finding.severity == "CRITICAL" and finding.dedupe_key == "OFFBOARDING_OUTSTANDING:offboarding:5"
    assert finding.recipients == ("FINANCE", "HR", "SUPERVISOR")


def test_clean_history_scores_zero():
    score = risk.scorecard(risk.EmployeeHistory(), RULES)
    assert (score.score, score.severity, score.factors, score.version) == (0, "INFO", (), risk.SCORECARD_VERSION)


def test_score_explains_itself():
    history = risk.EmployeeHistory(overdue_loans=1, max_days_overdue=75, overdue_outstanding_fen=400_000)
    score = risk.scorecard(history, RULES)
    assert score.score == 40 and score.severity == "WARNING"
    (factor,) = score.factors
    assert render(factor.detail) == "逾期 75 天的借款 1 笔，未还 4,000.00"
    assert factor.points == 40


@pytest.mark.parametrize(("history", "score", "severity"), [
    (risk.EmployeeHistory(settled_late=3), 30, "INFO"),
    (risk.EmployeeHistory(settled_late=9), 30, "INFO"),  # capped
    (risk.EmployeeHistory(overdue_loans=1, max_days_overdue=5, settled_late=1, recent_applications=3), 45, "WARNING"),
    (risk.EmployeeHistory(offboarding_outstanding_fen=1, large_without_business=2), 70, "CRITICAL"),
    (risk.EmployeeHistory(overdue_loans=4, max_days_overdue=90, offboarding_outstanding_fen=1), 100, "CRITICAL"),
    (risk.EmployeeHistory(lines=5, lines_without_vouchers=2), 10, "INFO"),
    (risk.EmployeeHistory(lines=5, lines_without_vouchers=1), 0, "INFO"),
    (risk.EmployeeHistory(recent_applications=2), 0, "INFO"),
])
def test_scorecard_points_and_bands(history, score, severity):
    result = risk.scorecard(history, RULES)
    assert (result.score, result.severity) == (score, severity)
    assert 0 <= result.score <= 100


def test_bands_from_settings():
    rules = risk.RiskRules.from_settings({"RISK_BAND_WARNING": 10, "RISK_BAND_CRITICAL": 20, "REMINDER_INTERVAL_DAYS": 3})
    assert rules.reminder_interval_days == 3
    assert risk.band(9, rules) == "INFO" and risk.band(10, rules) == "WARNING" and risk.band(20, rules) == "CRITICAL"
    assert risk.band(39, RULES) == "INFO" and risk.band(40, RULES) == "WARNING" and risk.band(70, RULES) == "CRITICAL"


def test_windows():
    assert risk.window_start(AS_OF, 30) == date(2026, 11, 2)
    assert risk.month_key(date(2026, 1, 31)) == "2026-01"
