"""Property test on the real database: whatever settlements are attempted, the ledger invariants hold."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tortoise.contrib.test import truncate_all_models

from server.domain.errors import DomainError
from server.domain.money import from_fen
from server.models import LedgerEntry, Loan, User
from server.services import corrections, loans, sessions
from tests.factories import make_org


@pytest.fixture(scope="session")
async def loop(database):
    return asyncio.get_running_loop()


cents = st.integers(min_value=1, max_value=600_000)
steps = st.lists(st.tuples(st.sampled_from(["CASH_RETURN", "SALARY_DEDUCTION", "WRITE_OFF", "REVERSAL"]), cents),
                 max_size=7)


async def _run(amount_fen: int, plan: list[tuple[str, int]]) -> None:
    await truncate_all_models()
    await make_org(limit="10000.00")
    viewers = {u.username: sessions.viewer_for(u) for u in await User.all()}
    loan = await loans.apply_for_loan(viewers["sales"], loans.LoanApplication(from_fen(amount_fen), "TRAVEL", "出差"))
    await loans.decide_loan(viewers["manager"], loan.id, "APPROVE")
    await loans.decide_loan(viewers["finance"], loan.id, "APPROVE")
    await loans.disburse_loan(viewers["finance"], loan.id)
    amount = from_fen(amount_fen)
    for method, value in plan:
        try:
            if method == "REVERSAL":  # the value picks which entry to reverse (any kind: some are refused)
                ids = await LedgerEntry.filter(loan_id=loan.id).order_by("id").values_list("id", flat=True)
                await corrections.reverse_settlement(viewers["finance"], ids[value % len(ids)], "更正")
                if await corrections.pending_proposal(loan.id) is not None:  # a write-off's: a second person
                    await corrections.approve_write_off(viewers["admin"], loan.id)
            elif method == "WRITE_OFF":  # two people: finance proposes, the admin approves
                await loans.settle_loan(viewers["finance"], loan.id, method, from_fen(value), "测试")
                await loans.settle_loan(viewers["admin"], loan.id, method, from_fen(value))
            else:
                await loans.settle_loan(viewers["finance"], loan.id, method, from_fen(value), "测试")
        except DomainError as exc:
            assert exc.code == "CONFLICT"
            assert await corrections.pending_proposal(loan.id) is None
        row = await Loan.get(id=loan.id)
        deltas = await LedgerEntry.filter(loan_id=loan.id).values_list("delta_fen", flat=True)
        outstanding = from_fen(sum(deltas))
        assert Decimal(0) <= outstanding <= amount
        assert outstanding == await loans.loan_outstanding(row)
        expected = "DISBURSED" if outstanding == amount else "PARTIALLY_SETTLED" if outstanding > 0 else None
        if expected:
            assert row.status == expected
        else:
            assert row.status in ("SETTLED", "WRITTEN_OFF") and row.settled_at is not None
        assert -sum(deltas[1:]) == amount_fen - int(outstanding * 100)
        # A reversal points at an entry of the same loan, carries its negation, and at most one per entry.
        reversals = await LedgerEntry.filter(loan_id=loan.id, kind="REVERSAL").values("reverses_id", "delta_fen")
        assert len({r["reverses_id"] for r in reversals}) == len(reversals)
        for r in reversals:
            original = await LedgerEntry.get(id=r["reverses_id"], loan_id=loan.id)
            assert original.kind in ("CASH_RETURN", "SALARY_DEDUCTION", "WRITE_OFF")
            assert r["delta_fen"] == -original.delta_fen


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(amount_fen=st.integers(min_value=1, max_value=1_000_000), plan=steps)
def test_ledger_invariants_on_the_database(loop, amount_fen, plan):
    loop.run_until_complete(_run(amount_fen, plan))
