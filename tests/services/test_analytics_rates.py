"""The 分析 page's further figures on the known data set (tests/services/analytics_data.py), exactly."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from server.models import LedgerEntry, Loan
from server.services import analytics, analytics_rates
from tests.services import analytics_data

D = Decimal
START, TODAY = analytics_data.START, analytics_data.TODAY


@pytest.fixture
async def data(db):
    return await analytics_data.build()


async def rates(viewer):
    scope = await analytics.scope_for(viewer)
    months = await analytics.breakdown_in(scope, analytics.Dimension.MONTH, START, TODAY, None, TODAY)
    return {m.month: m for m in await analytics_rates.monthly_rates(scope, START, TODAY, months)}


async def test_monthly_rates(data):
    got = await rates(data.finance)
    assert list(got) == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
    jan, feb, mar, apr, may, jun = got.values()
    assert (jan.disbursed, jan.recovered, jan.written_off, jan.recovery_rate) == (D("1500.00"), D("500.00"),
                                                                                 D("0.00"), 1 / 3)
    assert (jan.overdue_rate, jan.settled_loans, jan.average_days_to_settle) == (0.5, 1, D("12.0"))
    # A month without disbursements: no rate divides by zero.
    assert (feb.loans, feb.overdue_rate, feb.recovery_rate, feb.average_days_to_settle) == (0, None, None, None)
    assert (mar.recovered, mar.recovery_rate, mar.average_days_to_settle) == (D("800.00"), 800 / 2800, None)
    # A write-off is a loss, not a recovery.
    assert (apr.recovered, apr.written_off, apr.recovery_rate, apr.overdue_rate) == (D("0.00"), D("1200.00"), 0.0, 0.0)
    assert (jun.recovery_rate, jun.overdue_rate) == (0.0, 1.0)
    assert [m.outstanding for m in got.values()] == [D("1800.00"), D("1300.00"), D("3600.00"), D("4500.00"),
                                                      D("3300.00"), D("3400.00")]
    assert (may.offboardings, may.clearance_pass_rate, may.clearance_on_time_rate) == (2, 0.5, 0.5)
    assert (jan.offboardings, jan.clearance_pass_rate, jan.clearance_on_time_rate) == (0, None, None)


async def test_reversed_cash_return_is_not_a_recovery(data):
    cash = await LedgerEntry.get(loan_id=data.loans["L2"], kind="CASH_RETURN")
    await LedgerEntry.create(loan_id=cash.loan_id, kind="REVERSAL", delta_fen=50_000, reverses=cash,
                             recorded_at=analytics_data.at(date(2026, 3, 21)))
    mar = (await rates(data.finance))["2026-03"]
    assert (mar.recovered, mar.recovery_rate) == (D("300.00"), 300 / 2800)


async def test_supervisor_rates_cover_their_reports(data):
    got = await rates(data.supervisor)
    assert (got["2026-01"].disbursed, got["2026-01"].recovered) == (D("500.00"), D("500.00"))
    assert got["2026-05"].offboardings == 0  # R2 and E5 do not report to M1
    assert got["2026-06"].outstanding == D("900.00")  # L4 500 + L6 300 + L8 100


async def test_voucher_compliance_by_region_and_purpose(data):
    scope = await analytics.scope_for(data.finance)
    cells = await analytics_rates.voucher_compliance(scope, START, TODAY)
    assert [(c.region, c.purpose, c.lines, c.with_voucher, c.rate) for c in cells] == [
        ("XA", "CLIENT_VISIT", 2, 1, 0.5)]
    assert await analytics_rates.voucher_compliance(scope, date(2025, 1, 1), date(2025, 1, 31)) == []


async def test_offboardings_closed_by_write_off_or_late(data):
    scope = await analytics.scope_for(data.finance)
    leavers = await analytics_rates.offboarded(scope, START, TODAY)
    assert [(o.employee_no, o.month, o.written_off, o.salary_deducted, o.late) for o in leavers] == [
        ("E5", "2026-05", False, False, False), ("R2", "2026-05", True, False, True)]


async def test_abnormal_borrowers(data):
    scope = await analytics.scope_for(data.finance)
    assert await analytics_rates.abnormal_borrowers(scope, START, TODAY) == []
    for i in range(4):  # S2 now has 6 loans against an average of (2 + 1 + 6 + 1) / 4 = 2.5
        day = analytics_data.at(date(2026, 2, 1) + timedelta(days=i))
        await Loan.create(number=f"JK-X{i}", employee_id=data.s2, amount_fen=1_000, purpose="TRAVEL",
                          description="x", expected_settle_date=date(2026, 12, 1), status="DISBURSED",
                          applied_on=day.date(), created_at=day, disbursed_at=day)
    got = await analytics_rates.abnormal_borrowers(scope, START, TODAY)
    assert [(b.employee_no, b.name, b.position, b.loans, b.amount) for b in got] == [
        ("S2", "王五", "销售代表", 6, D("940.00"))]
