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


def test_a_reversal_undoes_its_entry_and_the_status_follows():
    d = L.Entry(L.DISBURSEMENT, D("5000"), id=1)
    cash = L.Entry(L.CASH_RETURN, D("-5000"), id=2)
    assert L.status_from_ledger(D("5000"), [d, cash]) == "SETTLED"
    back = L.reversal_of(cash)
    assert back.kind == L.REVERSAL and back.amount == D("5000") and back.reverses == 2
    assert L.status_from_ledger(D("5000"), [d, cash, back]) == "DISBURSED"
    written = L.Entry(L.WRITE_OFF, D("-4000"), id=3)
    part = L.Entry(L.CASH_RETURN, D("-1000"), id=4)
    assert L.status_from_ledger(D("5000"), [d, part, written]) == "WRITTEN_OFF"
    undone = L.Entry(L.REVERSAL, D("4000"), id=5, reverses=3)
    assert L.status_from_ledger(D("5000"), [d, part, written, undone]) == "PARTIALLY_SETTLED"
    # Written off, reversed, then repaid in cash: settled, not written off.
    assert L.status_from_ledger(D("5000"), [d, part, written, undone, L.Entry(L.CASH_RETURN, D("-4000"), id=6)]) \
        == "SETTLED"
    assert L.standing([d, part, written, undone]) == [d, part]


@pytest.mark.parametrize("kind", [L.REVERSAL, L.OFFSET, L.DISBURSEMENT])
def test_only_settlements_are_reversed_here(kind):
    entry = L.Entry(kind, D("-10") if kind != L.DISBURSEMENT else D("10"), id=9, reverses=1 if kind == L.REVERSAL
                    else None)
    with pytest.raises(InvalidTransition):
        L.check_reversal(entry, [entry])


def test_an_entry_is_reversed_once():
    cash = L.Entry(L.CASH_RETURN, D("-10"), id=2)
    L.check_reversal(cash, [cash])
    with pytest.raises(InvalidTransition):
        L.check_reversal(cash, [cash, L.Entry(L.REVERSAL, D("10"), id=3, reverses=2)])


@given(amount=cents, steps=st.lists(st.tuples(st.sampled_from([*L.REDUCING_KINDS, L.REVERSAL]), cents,
                                              st.integers(min_value=0, max_value=20)), max_size=14))
def test_invariants_hold_with_reversals(amount, steps):
    """With reversals mixed in: 0 <= outstanding <= amount, the status agrees with the balance, and the
    entries sum to amount - outstanding."""
    entries = [L.Entry(L.DISBURSEMENT, amount, id=1)]
    status = "DISBURSED"
    for n, (kind, value, pick) in enumerate(steps, start=2):
        if kind == L.REVERSAL:
            original = entries[pick % len(entries)]
            try:
                L.check_reversal(original, entries)
            except InvalidTransition:
                continue
            entries.append(L.Entry(L.REVERSAL, -original.amount, id=n, reverses=original.id))
        else:
            try:
                L.check_reduction(kind, value, L.balance(entries), status)
            except (InvalidTransition, ValidationFailed):
                continue
            entries.append(L.Entry(kind, -value, id=n))
        status = L.status_from_ledger(amount, entries)
        outstanding = L.balance(entries)
        assert D(0) <= outstanding <= amount
        assert (status in ("SETTLED", "WRITTEN_OFF")) == (outstanding == 0)
        assert -sum(e.amount for e in entries[1:]) == amount - outstanding
        assert status != "WRITTEN_OFF" or any(e.kind == L.WRITE_OFF for e in L.standing(entries))
