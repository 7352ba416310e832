"""riskBreakdown and the analytics overview over HTTP: the contract's shape, permissions, numbers."""

from __future__ import annotations

from datetime import timedelta

from server.models import LedgerEntry, Loan
from server.services.base import today, utcnow
from tests.factories import make_org

BREAKDOWN = """query($d: Dimension!, $f: Date, $t: Date) {
  riskBreakdown(dimension: $d, from: $f, to: $t) { key label loans amount outstanding overdueLoans overdueRate } }"""


async def _loan(employee_id: int, fen: int, overdue: bool) -> None:
    now = utcnow()
    due = today() - timedelta(days=3) if overdue else today() + timedelta(days=10)
    loan = await Loan.create(number=f"JK-{fen}", employee_id=employee_id, amount_fen=fen, purpose="TRAVEL",
                             description="x", expected_settle_date=due, status="DISBURSED", applied_on=today(),
                             created_at=now, disbursed_at=now)
    await LedgerEntry.create(loan=loan, kind="DISBURSEMENT", delta_fen=fen, recorded_at=now)


async def test_breakdown_by_position_over_http(gql):
    people = await make_org()
    await _loan(people.sales, 120_000, overdue=True)
    await _loan(people.sales, 30_000, overdue=False)
    finance = await gql.login("finance")
    rows = (await gql.ok(BREAKDOWN, {"d": "POSITION"}, finance))["riskBreakdown"]
    assert rows == [
        {"key": "MGR", "label": "销售部经理", "loans": 0, "amount": "0.00", "outstanding": "0.00", "overdueLoans": 0,
         "overdueRate": 0.0},
        {"key": "SALES", "label": "销售", "loans": 2, "amount": "1500.00", "outstanding": "1500.00",
         "overdueLoans": 1, "overdueRate": 0.5},
        {"key": "STAFF", "label": "职员", "loans": 0, "amount": "0.00", "outstanding": "0.00", "overdueLoans": 0,
         "overdueRate": 0.0},
    ]
    month = today().strftime("%Y-%m")
    months = (await gql.ok(BREAKDOWN, {"d": "MONTH"}, finance))["riskBreakdown"]
    assert len(months) == 12 and months[-1]["key"] == month and months[-1]["loans"] == 2
    # The manager supervises the salesperson: same figures for them.
    manager = await gql.login("manager")
    assert (await gql.ok(BREAKDOWN, {"d": "POSITION"}, manager))["riskBreakdown"][1]["loans"] == 2


async def test_employee_is_forbidden_and_range_checked(gql):
    await make_org()
    sales = await gql.login("sales")
    error = await gql.error(BREAKDOWN, {"d": "REGION"}, sales)
    assert error["extensions"]["code"] == "FORBIDDEN"
    finance = await gql.login("finance")
    error = await gql.error(BREAKDOWN, {"d": "REGION", "f": "2026-05-01", "t": "2026-04-01"}, finance)
    assert error["extensions"]["code"] == "VALIDATION"
    assert (await gql.error(BREAKDOWN, {"d": "REGION"}))["extensions"]["code"] == "UNAUTHENTICATED"


async def test_overview_and_report_request(gql):
    await make_org()
    finance = await gql.login("finance")
    data = await gql.ok("""{ analytics { from to total { loans } monthlyRates { month overdueRate recoveryRate }
        voucherCompliance { region } abnormalBorrowers { name } offboardings { name } } }""", None, finance)
    assert data["analytics"]["total"]["loans"] == 0
    assert all(m["overdueRate"] is None and m["recoveryRate"] is None for m in data["analytics"]["monthlyRates"])
    hr = await gql.login("hr")
    error = await gql.error('mutation { generateRiskReport(month: "2026-05") { id state } }', None, hr)
    assert error["extensions"]["code"] == "FORBIDDEN"
    error = await gql.error('mutation { generateRiskReport(month: "2026-5") { id state } }', None, finance)
    assert error["extensions"]["code"] == "VALIDATION"
