"""riskBreakdown by every dimension on the known data set (tests/services/analytics_data.py), exactly."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from server.domain.errors import Forbidden, ValidationFailed
from server.models import Loan
from server.services import analytics
from tests.services import analytics_data

D = Decimal


def table(rows):
    return {r.key: (r.label, r.loans, r.amount, r.outstanding, r.overdue_loans, round(r.overdue_rate, 6)) for r in rows}


@pytest.fixture
async def data(db):
    return await analytics_data.build()


async def run(viewer, dimension, start=analytics_data.START, end=analytics_data.TODAY, **kw):
    return await analytics.breakdown(viewer, dimension, start, end, on=analytics_data.TODAY, **kw)


async def test_by_position_with_a_position_without_loans(data):
    rows = await run(data.finance, "POSITION")
    assert [r.key for r in rows] == ["IDLE", "REP", "RSM"]
    assert table(rows) == {
        "IDLE": ("行政", 0, D("0.00"), D("0.00"), 0, 0.0),
        "REP": ("销售代表", 3, D("1400.00"), D("600.00"), 2, round(2 / 3, 6)),
        "RSM": ("区域销售经理", 3, D("4200.00"), D("2500.00"), 1, round(1 / 3, 6)),
    }


async def test_by_region_department_and_purpose(data):
    assert table(await run(data.finance, "REGION")) == {
        "BJ": ("北京", 3, D("2100.00"), D("600.00"), 2, round(2 / 3, 6)),
        "SH": ("上海", 0, D("0.00"), D("0.00"), 0, 0.0),
        "XA": ("西安", 3, D("3500.00"), D("2500.00"), 1, round(1 / 3, 6)),
    }
    assert table(await run(data.finance, "DEPARTMENT")) == {
        "FIN": ("财务部", 0, D("0.00"), D("0.00"), 0, 0.0),
        "SALES": ("销售部", 6, D("5600.00"), D("3100.00"), 3, 0.5),
    }
    assert table(await run(data.finance, "PURPOSE")) == {
        "CLIENT_VISIT": ("客户拜访", 2, D("1500.00"), D("1000.00"), 1, 0.5),
        "MARKETING": ("市场活动", 2, D("2000.00"), D("500.00"), 1, 0.5),
        "TRAVEL": ("差旅", 2, D("2100.00"), D("1600.00"), 1, 0.5),
        "PROCUREMENT": ("采购", 0, D("0.00"), D("0.00"), 0, 0.0),
        "OTHER": ("其他", 0, D("0.00"), D("0.00"), 0, 0.0),
    }


async def test_by_month_in_company_time_with_empty_months(data):
    rows = await run(data.finance, "MONTH")
    assert [r.key for r in rows] == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
    assert table(rows) == {
        "2026-01": ("2026年01月", 2, D("1500.00"), D("1000.00"), 1, 0.5),
        "2026-02": ("2026年02月", 0, D("0.00"), D("0.00"), 0, 0.0),
        "2026-03": ("2026年03月", 2, D("2800.00"), D("2000.00"), 1, 0.5),
        "2026-04": ("2026年04月", 1, D("1200.00"), D("0.00"), 0, 0.0),  # 23:00 UTC on 31 March
        "2026-05": ("2026年05月", 0, D("0.00"), D("0.00"), 0, 0.0),
        "2026-06": ("2026年06月", 1, D("100.00"), D("100.00"), 1, 1.0),
    }


async def test_labels_in_english(data):
    english = type(data.finance)(**{**data.finance.__dict__, "locale": "en"})
    purposes = {r.key: r.label for r in await run(english, "PURPOSE")}
    assert purposes["CLIENT_VISIT"] != "客户拜访" and purposes["CLIENT_VISIT"].isascii()
    months = {r.key: r.label for r in await run(english, "MONTH")}
    assert months["2026-01"].isascii()


async def test_range_bounds_are_company_dates_both_included(data):
    one_day = await run(data.finance, "POSITION", date(2026, 6, 15), date(2026, 6, 15))
    assert table(one_day)["REP"][1:3] == (1, D("100.00"))
    december = await run(data.finance, "PURPOSE", date(2025, 12, 31), date(2025, 12, 31))
    assert table(december)["OTHER"][1:5] == (1, D("300.00"), D("300.00"), 1)


async def test_empty_range_is_all_zeros(data):
    rows = await run(data.finance, "POSITION", date(2025, 6, 1), date(2025, 6, 30))
    assert [(r.loans, r.amount, r.outstanding, r.overdue_loans, r.overdue_rate) for r in rows] == [
        (0, D("0.00"), D("0.00"), 0, 0.0)] * 3
    months = await run(data.finance, "MONTH", date(2025, 6, 1), date(2025, 6, 30))
    assert [(r.key, r.loans) for r in months] == [("2025-06", 0)]


async def test_empty_database(db):
    viewer = analytics_data.Data(0, 0, 0, 0, {}).finance
    assert await run(viewer, "POSITION") == []
    assert [r.loans for r in await run(viewer, "MONTH")] == [0] * 6


async def test_supervisor_sees_their_reports_only(data):
    rows = table(await run(data.supervisor, "POSITION"))
    assert rows["RSM"][1:] == (0, D("0.00"), D("0.00"), 0, 0.0)  # not their own loans
    assert rows["REP"][1:5] == (3, D("1400.00"), D("600.00"), 2)


async def test_employee_is_forbidden(data):
    with pytest.raises(Forbidden):
        await run(data.employee, "POSITION")


async def test_filters_by_department_and_region(data):
    rows = await run(data.finance, "REGION", region="BJ")
    assert table(rows) == {"BJ": ("北京", 3, D("2100.00"), D("600.00"), 2, round(2 / 3, 6))}
    rows = table(await run(data.finance, "POSITION", region="XA"))
    assert rows["RSM"][1:5] == (2, D("3000.00"), D("2500.00"), 1)
    assert rows["REP"][1:5] == (1, D("500.00"), D("0.00"), 0)
    with pytest.raises(ValidationFailed):
        await run(data.finance, "REGION", region="NOWHERE")


async def test_reversed_range_is_refused(data):
    with pytest.raises(ValidationFailed):
        await run(data.finance, "POSITION", date(2026, 6, 1), date(2026, 5, 1))


async def test_default_range_is_twelve_months(data):
    assert analytics.default_range(date(2026, 6, 15)) == (date(2025, 7, 1), date(2026, 6, 15))
    assert analytics.resolve_range(None, date(2026, 2, 10)) == (date(2025, 3, 1), date(2026, 2, 10))


async def test_constant_statements_whatever_the_number_of_loans(data):
    from tests.querycount import count_queries

    scope = await analytics.scope_for(data.finance)

    async def statements(dimension) -> int:
        _, n = await count_queries(analytics.breakdown_in(scope, dimension, analytics_data.START,
                                                          analytics_data.TODAY, None, analytics_data.TODAY))
        return n

    before = {d: await statements(d) for d in analytics.Dimension}
    for i in range(30):
        day = analytics_data.at(date(2026, 2, 1) + timedelta(days=i))
        await Loan.create(number=f"JK-Q{i}", employee_id=data.s1, amount_fen=100, purpose="OTHER", description="q",
                          expected_settle_date=date(2026, 3, 1), status="DISBURSED", applied_on=day.date(),
                          created_at=day, disbursed_at=day)
    after = {d: await statements(d) for d in analytics.Dimension}
    assert before == after
    assert after[analytics.Dimension.POSITION] == 3 and after[analytics.Dimension.MONTH] == 2
