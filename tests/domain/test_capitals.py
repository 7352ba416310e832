"""人民币大写, table-driven (《会计基础工作规范》第52条)."""

from decimal import Decimal

import pytest

from server.domain.capitals import capitals, figure

CASES = [
    ("1234.56", "壹仟贰佰叁拾肆元伍角陆分"),
    ("0.05", "伍分"),
    ("0.50", "伍角整"),
    ("0.56", "伍角陆分"),
    ("0.00", "零元整"),
    ("10.00", "壹拾元整"),
    ("1.00", "壹元整"),
    ("1.05", "壹元零伍分"),
    ("10.50", "壹拾元零伍角整"),
    ("1000000.10", "壹佰万元零壹角整"),
    ("100010.00", "壹拾万零壹拾元整"),
    ("1001.00", "壹仟零壹元整"),
    ("1010.10", "壹仟零壹拾元零壹角整"),
    ("10000.00", "壹万元整"),
    ("100000000.00", "壹亿元整"),
    ("100002000.01", "壹亿零贰仟元零壹分"),
    ("20500300.00", "贰仟零伍拾万零叁佰元整"),
    ("6007.89", "陆仟零柒元捌角玖分"),
]


@pytest.mark.parametrize(("amount", "words"), CASES)
def test_capitals(amount, words):
    assert capitals(Decimal(amount)) == words


def test_figure():
    assert figure(Decimal("1234.56")) == "¥1,234.56"
    assert figure(Decimal("0.5")) == "¥0.50"
    assert figure(Decimal("1000000.10")) == "¥1,000,000.10"
