"""List totals are the sum over every row the list describes, however the list is filtered: on its own table
(summed directly), across a join (summed by id through a subquery), or not at all (the whole ledger)."""

from __future__ import annotations

from decimal import Decimal

from server.models import LedgerEntry, Loan
from server.services import loans, sums
from tests.factories import make_org
from tests.services.test_reimbursements import colleague, disbursed_loan

D = Decimal


async def test_shape_tells_plain_filtered_and_joined_lists_apart(db):
    assert sums.query_shape(Loan.all()) == (False, False)
    assert sums.query_shape(Loan.filter(status="DISBURSED")) == (False, True)
    assert sums.query_shape(Loan.filter(employee__department_id=1)) == (True, True)


async def test_totals_match_the_rows_for_every_shape_of_list(db):
    await make_org()
    await colleague()
    a = await disbursed_loan("1200.00", "sales")
    await disbursed_loan("800.50", "sales2")
    await loans.settle_loan(await _finance(), a.id, "CASH_RETURN", "200.00")
    await disbursed_loan("300.25", "sales")

    every = Loan.all()
    assert await loans.sum_amount(every) == D("2300.75")
    assert await loans.sum_outstanding(every) == D("2100.75")
    assert await loans.sum_outstanding(every) == sum(
        (D(e.delta_fen) / 100 for e in await LedgerEntry.all()), D("0"))

    one = Loan.filter(id=a.id)
    assert (await loans.sum_amount(one), await loans.sum_outstanding(one)) == (D("1200.00"), D("1000.00"))

    # Across a join: the loans of S1 by employee number (one row each, not one per joined row).
    theirs = Loan.filter(employee__employee_no="S1")
    assert await loans.sum_amount(theirs) == D("1500.25")
    assert await loans.sum_outstanding(theirs) == D("1300.25")
    assert await loans.sum_amount(Loan.filter(employee__employee_no="S2")) == D("800.50")
    assert await loans.sum_outstanding(Loan.filter(employee__employee_no="S2")) == D("800.50")

    nothing = Loan.filter(status="CANCELLED")
    assert (await loans.sum_amount(nothing), await loans.sum_outstanding(nothing)) == (D("0.00"), D("0.00"))


async def _finance():
    from server.models import User
    from server.services import sessions

    return sessions.viewer_for(await User.get(username="finance"))
