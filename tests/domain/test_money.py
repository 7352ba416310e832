from decimal import Decimal

import pytest

from server.domain.errors import ValidationFailed
from server.domain.money import fmt, from_fen, parse_money, to_fen


@pytest.mark.parametrize("raw, expected", [
    ("2000", Decimal("2000.00")), ("2000.01", Decimal("2000.01")), ("0.01", Decimal("0.01")),
    (2000, Decimal("2000.00")), ("10,000.50", Decimal("10000.50")), (2000.01, Decimal("2000.01")),
    (Decimal("3.1"), Decimal("3.10")),
])
def test_parse_money_accepts(raw, expected):
    value = parse_money(raw)
    assert value == expected and value.as_tuple().exponent == -2


@pytest.mark.parametrize("raw", ["2000.001", "-1", "0", "abc", "NaN", "Infinity", True, None, "1e400"])
def test_parse_money_refuses(raw):
    with pytest.raises(ValidationFailed):
        parse_money(raw)


def test_zero_allowed_only_when_asked():
    assert parse_money("0", allow_zero=True) == Decimal("0.00")


def test_fen_round_trip_is_exact():
    for text in ["0.01", "0.10", "12000.00", "99999999.99"]:
        assert from_fen(to_fen(Decimal(text))) == Decimal(text)
    with pytest.raises(ValueError):
        to_fen(Decimal("0.001"))


def test_fmt_groups_thousands():
    assert fmt(Decimal("10000")) == "10,000.00"
