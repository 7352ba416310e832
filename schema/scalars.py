"""The contract's Decimal: money as a string with exactly two decimals. Never a float."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from server.domain.errors import ValidationFailed
from server.domain.money import CENT
from server.domain.validation import amount_text_error


def _serialize(value: Decimal) -> str:
    return str(Decimal(value).quantize(CENT))


def _parse(value: object) -> Decimal:
    # Only a JSON string of ASCII digits with at most two decimals: a JSON number (a float to every
    # JSON parser), an exponent, a sign, full-width digits, NaN or Infinity never reach the arithmetic.
    # Whether zero is allowed is the services' rule.
    error = amount_text_error(value)
    if error is not None:
        # A domain error, not a ValueError: schema/errors.py then answers VALIDATION with the catalog
        # message in the viewer's language instead of graphql-core's English "got invalid value" wrapper.
        raise ValidationFailed(error)
    return Decimal(str(value))


DecimalScalar = strawberry.scalar(
    name="Decimal",
    description="Money in CNY as a string with exactly two decimals (\"12000.00\").",
    serialize=_serialize,
    parse_value=_parse,
)
