from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domain import ledger
from server.domain.errors import InvalidTransition, ValidationFailed


def test_status_follows_balance():
    d = ledger.Entry(ledger.DISBURSEMENT, Decimal("5000"))
    assert ledger.status_from_ledger(Decimal("5000"), [d]) == "DISBURSED"
    assert ledger.status_from_ledger(Decimal("5000"), [d, ledger.Entry(ledger.OFFSET, Decimal("-3000"))]) == "PARTIALLY_SETTLED"
    assert ledger.status_from_ledger(Decimal("5000"), [d, ledger.Entry(ledger.CASH_RETURN, Decimal("-5000"))]) == "SETTLED"
    assert ledger.status_from_ledger(Decimal("5000"), [d, ledger.Entry(ledger.CASH_RETURN, Decimal("-1000")),
                                             ledger.Entry(ledger.WRITE_OFF, Decimal("-4000"))]) == "WRITTEN_OFF"


def test_reduction_edges():
    ledger.check_reduction(ledger.CASH_RETURN, Decimal("2000.00"), Decimal("2000.00"), "PARTIALLY_SETTLED")
    with pytest.raises(InvalidTransition):
        ledger.check_reduction(ledger.CASH_RETURN, Decimal("2000.01"), Decimal("2000.00"), "PARTIALLY_SETTLED")
    with pytest.raises(InvalidTransition):
        ledger.check_reduction(ledger.CASH_RETURN, Decimal("1"), Decimal("0"), "SETTLED")
    with pytest.raises(InvalidTransition):
        ledger.check_reduction(ledger.CASH_RETURN, Decimal("1"), Decimal("0"), "APPROVED")
    with pytest.raises(ValidationFailed):
        ledger.check_reduction("GIFT", Decimal("1"), Decimal("5"), "DISBURSED")


def test_days_overdue():
    assert ledger.days_overdue(date(2026, 10, 1), Decimal("1"), date(2026, 11, 1)) == 31
    assert ledger.days_overdue(date(2026, 10, 1), Decimal("0"), date(2026, 11, 1)) == 0
    assert ledger.days_overdue(date(2026, 12, 1), Decimal("1"), date(2026, 11, 1)) == 0


cents = st.integers(min_value=1, max_value=5_000_000).map(lambda c: Decimal(c) / 100)


@given(amount=cents, steps=st.lists(st.tuples(st.sampled_from(ledger.REDUCING_KINDS), cents), max_size=12))
def test_ledger_invariants_hold_for_any_sequence(amount, steps):
    """0 <= outstanding <= amount; status agrees with the balance; entries sum to amount - outstanding."""
    entries = [ledger.Entry(ledger.DISBURSEMENT, amount)]
    status = "DISBURSED"
    for kind, value in steps:
        outstanding = ledger.balance(entries)
        try:
            ledger.check_reduction(kind, value, outstanding, status)
        except (InvalidTransition, ValidationFailed):
            assert value > outstanding or status not in ledger.OPEN_STATUSES
            continue
        entries.append(ledger.Entry(kind, -value))
        status = ledger.status_from_ledger(amount, entries)
        outstanding = ledger.balance(entries)
        assert Decimal(0) <= outstanding <= amount
        assert (status in ("SETTLED", "WRITTEN_OFF")) == (outstanding == 0)
        assert -sum(e.amount for e in entries[1:]) == amount - outstanding


def test_a_reversal_undoes_its_entry_and_the_status_follows():
    d = ledger.Entry(ledger.DISBURSEMENT, Decimal("5000"), id=1)
    cash = ledger.Entry(ledger.CASH_RETURN, Decimal("-5000"), id=2)
    assert ledger.status_from_ledger(Decimal("5000"), [d, cash]) == "SETTLED"
    back = ledger.reversal_of(cash)
    assert back.kind == ledger.REVERSAL and back.amount == Decimal("5000") and back.reverses == 2
    assert ledger.status_from_ledger(Decimal("5000"), [d, cash, back]) == "DISBURSED"
    written = ledger.Entry(ledger.WRITE_OFF, Decimal("-4000"), id=3)
    part = ledger.Entry(ledger.CASH_RETURN, Decimal("-1000"), id=4)
    assert ledger.status_from_ledger(Decimal("5000"), [d, part, written]) == "WRITTEN_OFF"
    undone = ledger.Entry(ledger.REVERSAL, Decimal("4000"), id=5, reverses=3)
    assert ledger.status_from_ledger(Decimal("5000"), [d, part, written, undone]) == "PARTIALLY_SETTLED"
    # Written off, reversed, then repaid in cash: settled, not written off.
    assert ledger.status_from_ledger(Decimal("5000"), [d, part, written, undone, ledger.Entry(ledger.CASH_RETURN, Decimal("-4000"), id=6)]) \
        == "SETTLED"
    assert ledger.standing([d, part, written, undone]) == [d, part]


@pytest.mark.parametrize("kind", [ledger.REVERSAL, ledger.OFFSET, ledger.DISBURSEMENT])
def test_only_settlements_are_reversed_here(kind):
    entry = ledger.Entry(kind, Decimal("-10") if kind != ledger.DISBURSEMENT else Decimal("10"), id=9, reverses=1 if kind == ledger.REVERSAL
                    else None)
    with pytest.raises(InvalidTransition):
        ledger.check_reversal(entry, [entry])


def test_an_entry_is_reversed_once():
    cash = ledger.Entry(ledger.CASH_RETURN, Decimal("-10"), id=2)
    ledger.check_reversal(cash, [cash])
    with pytest.raises(InvalidTransition):
        ledger.check_reversal(cash, [cash, ledger.Entry(ledger.REVERSAL, Decimal("10"), id=3, reverses=2)])


@given(amount=cents, steps=st.lists(st.tuples(st.sampled_from([*ledger.REDUCING_KINDS, ledger.REVERSAL]), cents,
                                              st.integers(min_value=0, max_value=20)), max_size=14))
def test_invariants_hold_with_reversals(amount, steps):
    """With reversals mixed in: 0 <= outstanding <= amount, the status agrees with the balance, and the
    entries sum to amount - outstanding."""
    entries = [ledger.Entry(ledger.DISBURSEMENT, amount, id=1)]
    status = "DISBURSED"
    for n, (kind, value, pick) in enumerate(steps, start=2):
        if kind == ledger.REVERSAL:
            original = entries[pick % len(entries)]
            try:
                ledger.check_reversal(original, entries)
            except InvalidTransition:
                continue
            entries.append(ledger.Entry(ledger.REVERSAL, -original.amount, id=n, reverses=original.id))
        else:
            try:
                ledger.check_reduction(kind, value, ledger.balance(entries), status)
            except (InvalidTransition, ValidationFailed):
                continue
            entries.append(ledger.Entry(kind, -value, id=n))
        status = ledger.status_from_ledger(amount, entries)
        outstanding = ledger.balance(entries)
        assert Decimal(0) <= outstanding <= amount
        assert (status in ("SETTLED", "WRITTEN_OFF")) == (outstanding == 0)
        assert -sum(e.amount for e in entries[1:]) == amount - outstanding
        assert status != "WRITTEN_OFF" or any(e.kind == ledger.WRITE_OFF for e in ledger.standing(entries))
