"""Allocating a reimbursement over open loans: table-driven cases and properties (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domain import offsets as offset_rules
from server.domain.errors import ValidationFailed

D = Decimal
T0 = datetime(2026, 1, 1, tzinfo=UTC)
ME, OTHER = 1, 2


def loan(loan_id: int, offsettable: str, day: int = 0, employee_id: int = ME, status: str = "DISBURSED") -> offset_rules.OpenLoan:
    return offset_rules.OpenLoan(loan_id, f"JK-2026-{loan_id:06d}", employee_id, status, D(offsettable),
                      (T0 + timedelta(days=day), loan_id))


def by_id(*loans: offset_rules.OpenLoan) -> dict[int, offset_rules.OpenLoan]:
    return {x.loan_id: x for x in loans}


def alloc(*pairs: tuple[int, str]) -> list[offset_rules.Allocation]:
    return [offset_rules.Allocation(i, D(a)) for i, a in pairs]


# ---------------------------------------------------------------- oldest first


@pytest.mark.parametrize(("total", "loans", "expected"), [
    # The seed's examples: 10,000 against 5,000 offsets 5,000; 3,000 against 5,000 offsets 3,000.
    ("10000.00", [loan(1, "5000.00")], [(1, "5000.00")]),
    ("3000.00", [loan(1, "5000.00")], [(1, "3000.00")]),
    # Oldest first, whatever order the loans arrive in.
    ("5000.00", [loan(2, "4000.00", day=5), loan(1, "3000.00", day=1)], [(1, "3000.00"), (2, "2000.00")]),
    ("7000.00", [loan(2, "4000.00", day=5), loan(1, "3000.00", day=1)], [(1, "3000.00"), (2, "4000.00")]),
    ("2999.99", [loan(2, "4000.00", day=5), loan(1, "3000.00", day=1)], [(1, "2999.99")]),
    # Same day: the lower id (applied earlier) first.
    ("100.00", [loan(9, "50.00"), loan(3, "50.00")], [(3, "50.00"), (9, "50.00")]),
    # Nothing to offset: fully reserved, settled, not yet disbursed.
    ("100.00", [loan(1, "0.00"), loan(2, "80.00", day=1)], [(2, "80.00")]),
    ("100.00", [loan(1, "500.00", status="SETTLED")], []),
    ("100.00", [loan(1, "500.00", status="APPROVED")], []),
    ("100.00", [], []),
    ("0.01", [loan(1, "0.01"), loan(2, "9.00", day=1)], [(1, "0.01")]),
])
def test_allocate_oldest_first(total, loans, expected):
    assert offset_rules.allocate_oldest_first(D(total), loans) == alloc(*expected)


def test_plan_without_explicit_offsets_ignores_other_peoples_loans():
    loans = by_id(loan(1, "300.00", employee_id=OTHER), loan(2, "200.00", day=3))
    assert offset_rules.plan(D("1000.00"), None, loans, ME) == alloc((2, "200.00"))


def test_payable_is_total_less_offsets():
    assert offset_rules.payable(D("10000.00"), alloc((1, "5000.00"))) == D("5000.00")
    assert offset_rules.payable(D("3000.00"), alloc((1, "3000.00"))) == D("0.00")
    assert offset_rules.payable(D("80.00"), []) == D("80.00")


@pytest.mark.parametrize(("balance", "reserved", "expected"), [
    ("5000.00", "0.00", "5000.00"), ("5000.00", "3000.00", "2000.00"), ("5000.00", "5000.00", "0.00"),
    # A settlement after a reservation can leave less than is reserved: never negative.
    ("1000.00", "3000.00", "0.00"),
])
def test_offsettable(balance, reserved, expected):
    assert offset_rules.offsettable(D(balance), D(reserved)) == D(expected)


@pytest.mark.parametrize(("reserved", "balance", "expected"), [
    ("3000.00", "5000.00", "3000.00"), ("3000.00", "1000.00", "1000.00"), ("3000.00", "0.00", "0.00"),
])
def test_applicable_at_approval(reserved, balance, expected):
    assert offset_rules.applicable(D(reserved), D(balance)) == D(expected)


# ---------------------------------------------------------------- explicit offsets

LOANS = by_id(loan(1, "3000.00", day=1), loan(2, "4000.00", day=5), loan(7, "900.00", employee_id=OTHER),
              loan(8, "1000.00", status="APPROVED"), loan(9, "0.00", status="SETTLED"))


@pytest.mark.parametrize(("total", "requested", "expected"), [
    # The employee may choose the newer loan, and split as they like, as long as they offset in full.
    ("2000.00", [(2, "2000.00")], [(2, "2000.00")]),
    ("2000.00", [(1, "500.00"), (2, "1500.00")], [(1, "500.00"), (2, "1500.00")]),
    ("8000.00", [(2, "4000.00"), (1, "3000.00")], [(2, "4000.00"), (1, "3000.00")]),
    # The same loan twice is merged.
    ("2000.00", [(2, "1000.00"), (2, "1000.00")], [(2, "2000.00")]),
])
def test_explicit_accepted(total, requested, expected):
    assert offset_rules.check_explicit(D(total), alloc(*requested), LOANS, ME) == alloc(*expected)


@pytest.mark.parametrize(("total", "requested", "message"), [
    ("9000.00", [(1, "3000.01"), (2, "4000.00")], "超过可冲抵余额"),  # over the loan's balance
    ("9000.00", [(1, "2000.00"), (1, "1000.01"), (2, "4000.00")], "超过可冲抵余额"),  # merged over it
    ("9000.00", [(7, "100.00")], "不是本人的借款"),  # someone else's loan
    ("9000.00", [(8, "100.00")], "未放款或已结清"),  # approved, not disbursed
    ("9000.00", [(9, "1.00")], "未放款或已结清"),  # settled
    ("9000.00", [(404, "1.00")], "不存在"),
    ("1000.00", [(1, "1000.00"), (2, "500.00")], "超过报销总额"),  # offsets over the total
    ("2000.00", [(2, "1500.00")], "必须冲抵"),  # owes 7000: a 2000 claim must offset 2000
    ("9000.00", [(1, "3000.00"), (2, "3999.99")], "必须冲抵"),  # owes 7000: must offset all of it
    ("2000.00", [], "必须冲抵"),
    ("2000.00", [(2, "0.00")], "大于 0"),
])
def test_explicit_refused(total, requested, message):
    with pytest.raises(ValidationFailed) as info:
        offset_rules.check_explicit(D(total), alloc(*requested), LOANS, ME)
    assert message in info.value.message
    assert info.value.field == "offsets"


def test_someone_elses_loan_is_not_described():
    with pytest.raises(ValidationFailed) as info:
        offset_rules.check_explicit(D("100.00"), alloc((7, "100.00")), LOANS, ME)
    assert "JK-2026-000007" not in info.value.message and "900" not in info.value.message


def test_explicit_empty_is_fine_when_nothing_is_owed():
    assert offset_rules.check_explicit(D("100.00"), [], by_id(loan(9, "0.00", status="SETTLED")), ME) == []


# ---------------------------------------------------------------- properties

amounts = st.integers(min_value=0, max_value=2_000_000).map(lambda fen: D(fen) / 100)
open_loans = st.lists(
    st.tuples(amounts, st.integers(0, 30), st.sampled_from(["DISBURSED", "PARTIALLY_SETTLED", "SETTLED"])),
    max_size=6,
).map(lambda rows: [offset_rules.OpenLoan(i + 1, f"JK-{i + 1}", ME, s if a > 0 else "SETTLED", a,
                               (T0 + timedelta(days=d), i + 1)) for i, (a, d, s) in enumerate(rows)])
totals = st.integers(min_value=1, max_value=5_000_000).map(lambda fen: D(fen) / 100)


@given(totals, open_loans)
def test_oldest_first_offsets_as_much_as_possible(total, loans):
    allocations = offset_rules.allocate_oldest_first(total, loans)
    loans_by_id = by_id(*loans)
    owed = offset_rules.owed(loans, ME)
    assert offset_rules.offset_total(allocations) == min(total, owed)
    assert offset_rules.payable(total, allocations) == total - min(total, owed) >= 0
    for a in allocations:
        assert 0 < a.amount <= loans_by_id[a.loan_id].offsettable
        assert loans_by_id[a.loan_id].status in ("DISBURSED", "PARTIALLY_SETTLED")
    # Every loan before the last one touched is taken in full (oldest first).
    touched = [loans_by_id[a.loan_id] for a in allocations]
    assert [x.disbursed_order for x in touched] == sorted(x.disbursed_order for x in touched)
    for a in allocations[:-1]:
        assert a.amount == loans_by_id[a.loan_id].offsettable
    # And the oldest-first result passes the explicit check.
    assert offset_rules.check_explicit(total, allocations, loans_by_id, ME) == allocations


@given(totals, open_loans, st.lists(st.tuples(st.integers(1, 7), st.integers(1, 2_000_000)), max_size=5))
def test_accepted_explicit_offsets_respect_every_bound(total, loans, requested):
    loans_by_id = by_id(*loans)
    wanted = [offset_rules.Allocation(i, D(fen) / 100) for i, fen in requested]
    try:
        allocations = offset_rules.check_explicit(total, wanted, loans_by_id, ME)
    except ValidationFailed:
        return
    assert offset_rules.offset_total(allocations) == min(total, offset_rules.owed(loans, ME))
    for a in allocations:
        assert 0 < a.amount <= loans_by_id[a.loan_id].offsettable
