"""The contract's Decimal: money as a string with exactly two decimals. Never a float."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import strawberry

from server.domain.money import CENT


def _serialize(value: Decimal) -> str:
    return str(Decimal(value).quantize(CENT))


def _parse(value: object) -> Decimal:
    # Literals arrive as their source text; JSON numbers as int or float (parsed through repr,
    # never used as binary floats). Range and places are checked by the services.
    if isinstance(value, bool):
        raise ValueError("money must be a string such as \"12000.00\"")
    text = repr(value) if isinstance(value, float) else str(value).strip()
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not an amount of money") from None
    if not amount.is_finite():
        raise ValueError(f"{value!r} is not an amount of money")
    return amount


DecimalScalar = strawberry.scalar(
    name="Decimal",
    description="Money in CNY as a string with exactly two decimals (\"12000.00\").",
    serialize=_serialize,
    parse_value=_parse,
)
