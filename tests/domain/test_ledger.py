from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domain import ledger as L
from server.domain.errors import InvalidTransition, ValidationFailed


def test_status_follows_balance():
    d = L.Entry(L.DISBURSEMENT, D("5000"))
    assert L.status_from_ledger(D("5000"), [d]) == "DISBURSED"
    assert L.status_from_ledger(D("5000"), [d, L.Entry(L.OFFSET, D("-3000"))]) == "PARTIALLY_SETTLED"
    assert L.status_from_ledger(D("5000"), [d, L.Entry(L.CASH_RETURN, D("-5000"))]) == "SETTLED"
    assert L.status_from_ledger(D("5000"), [d, L.Entry(L.CASH_RETURN, D("-1000")),
                                             L.Entry(L.WRITE_OFF, D("-4000"))]) == "WRITTEN_OFF"


def test_reduction_edges():
    L.check_reduction(L.CASH_RETURN, D("2000.00"), D("2000.00"), "PARTIALLY_SETTLED")
    with pytest.raises(InvalidTransition):
        L.check_reduction(L.CASH_RETURN, D("2000.01"), D("2000.00"), "PARTIALLY_SETTLED")
    with pytest.raises(InvalidTransition):
        L.check_reduction(L.CASH_RETURN, D("1"), D("0"), "SETTLED")
    with pytest.raises(InvalidTransition):
        L.check_reduction(L.CASH_RETURN, D("1"), D("0"), "APPROVED")
    with pytest.raises(ValidationFailed):
        L.check_reduction("GIFT", D("1"), D("5"), "DISBURSED")


def test_days_overdue():
    assert L.days_overdue(date(2026, 10, 1), D("1"), date(2026, 11, 1)) == 31
    assert L.days_overdue(date(2026, 10, 1), D("0"), date(2026, 11, 1)) == 0
    assert L.days_overdue(date(2026, 12, 1), D("1"), date(2026, 11, 1)) == 0


cents = st.integers(min_value=1, max_value=5_000_000).map(lambda c: D(c) / 100)


@given(amount=cents, steps=st.lists(st.tuples(st.sampled_from(L.REDUCING_KINDS), cents), max_size=12))
def test_ledger_invariants_hold_for_any_sequence(amount, steps):
    """0 <= outstanding <= amount; status agrees with the balance; entries sum to amount - outstanding."""
    entries = [L.Entry(L.DISBURSEMENT, amount)]
    status = "DISBURSED"
    for kind, value in steps:
        outstanding = L.balance(entries)
        try:
            L.check_reduction(kind, value, outstanding, status)
        except (InvalidTransition, ValidationFailed):
            assert value > outstanding or status not in L.OPEN_STATUSES
            continue
        entries.append(L.Entry(kind, -value))
        status = L.status_from_ledger(amount, entries)
        outstanding = L.balance(entries)
        assert D(0) <= outstanding <= amount
        assert (status in ("SETTLED", "WRITTEN_OFF")) == (outstanding == 0)
        assert -sum(e.amount for e in entries[1:]) == amount - outstanding
