"""The 20% rule for salary deductions, at its edges."""

from decimal import Decimal

import pytest

from server.domain.deductions import monthly_cap, over_share, share_warning

D = Decimal


@pytest.mark.parametrize(("already", "amount", "salary", "over"), [
    ("0.00", "1600.00", "8000.00", False),  # exactly 20%
    ("0.00", "1600.01", "8000.00", True),  # one fen over
    ("1000.00", "600.00", "8000.00", False),  # the month's total is what counts
    ("1000.00", "600.01", "8000.00", True),
    ("0.00", "0.01", "0.00", True),  # no salary recorded: every deduction is over
    ("0.00", "0.01", "0.05", False),  # 20% of 0.05 is 0.01
    ("0.00", "0.02", "0.05", True),
])
def test_over_share(already, amount, salary, over):
    assert over_share(D(already), D(amount), D(salary)) is over


def test_cap_and_message():
    assert monthly_cap(D("12345.67")) == D("2469.13")
    assert share_warning(D("0"), D("100.00"), D("8000.00")) is None
    message = share_warning(D("1000.00"), D("700.00"), D("8000.00"))
    assert message is not None and "1,700.00" in str(message) and "1,600.00" in str(message)
