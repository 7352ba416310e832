"""Money: Decimal quantized to 0.01 in the code, integer fen in the database. Never a float."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from server.domain.errors import ValidationFailed
from server.domain.messages import _m

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_AMOUNT = Decimal("100000000.00")  # a hundred million yuan: far above any cash advance


def parse_money(value: object, field: str = "amount", *, allow_zero: bool = False) -> Decimal:
    """Parse user input into a two-place Decimal, refusing more than two decimals.

    Accepts str, int and Decimal. A float is accepted only through its shortest repr
    (a JSON number such as 2000.01 arrives as a float); it is never used for arithmetic.
    """
    if isinstance(value, bool):
        raise ValidationFailed(_m("%(field)s 须为金额", field=field), field=field)
    if isinstance(value, float):
        value = repr(value)
    if isinstance(value, str):
        text = value.strip().replace(",", "").replace("，", "")
    elif isinstance(value, int | Decimal):
        text = str(value)
    else:
        raise ValidationFailed(_m("%(field)s 须为金额", field=field), field=field)
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValidationFailed(_m("%(field)s：%(value)s 不是金额", field=field, value=repr(value)), field=field) from None
    if not amount.is_finite():
        raise ValidationFailed(_m("%(field)s：%(value)s 不是金额", field=field, value=repr(value)), field=field)
    if abs(amount) > MAX_AMOUNT:
        raise ValidationFailed(_m("%(field)s 过大", field=field), field=field)
    if amount != amount.quantize(CENT, rounding=ROUND_HALF_UP):
        raise ValidationFailed(_m("%(field)s 最多两位小数", field=field), field=field)
    amount = amount.quantize(CENT)
    if amount < 0 or (amount == 0 and not allow_zero):
        raise ValidationFailed(_m("%(field)s 须大于 0", field=field), field=field)
    return amount


def to_fen(amount: Decimal) -> int:
    quantized = amount.quantize(CENT)
    if quantized != amount:
        raise ValueError(f"{amount} has more than two decimal places")
    return int(quantized * 100)


def from_fen(fen: int | None) -> Decimal:
    return (Decimal(int(fen or 0)) / 100).quantize(CENT)


def fmt(amount: Decimal) -> str:
    """12000 -> '12,000.00' for people; the API uses str(amount)."""
    return f"{amount.quantize(CENT):,.2f}"
