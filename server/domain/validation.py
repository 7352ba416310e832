"""Strict input: the one place that says how long a text may be, which dates are sane, what an amount looks like.

Pure rules (no ORM): the services call these where they turn input into data, so that GraphQL and the
pages get the same message, naming the field. Imported history (the demo and import loaders) does not
pass through here and is exempt from the date ranges.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from server.domain.errors import ValidationFailed
from server.domain.messages import Message, _m

# Maximum lengths, in characters.
NAME = 100  # people, departments, regions, positions
CODE = 32  # codes and employee numbers
USERNAME = 64
TEXT = 2000  # descriptions and comments
NOTE = 500  # notes on settlements (the receipt or payroll reference)
REASON = 1000  # offboarding reasons, alert resolutions
INVOICE_NO = 64
EMAIL = 200
PHONE = 40
REFERENCE = 100  # payroll or receipt references

# An amount on the wire: ASCII digits, at most two decimals, no sign, no exponent, at most 12 integer digits.
AMOUNT_TEXT = re.compile(r"[0-9]{1,12}(\.[0-9]{1,2})?")
_MANY_PLACES = re.compile(r"[0-9]{1,12}\.[0-9]{3,}")
EARLIEST_HIRE_DATE = date(1950, 1, 1)
MAX_SETTLE_DAYS = 365


def clean_text(value: object, field: str, max_len: int, *, required: bool = False) -> str | None:
    """Stripped text, or None when empty and not required. Refuses NUL bytes and over-long text."""
    if value is None:
        text = ""
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise ValidationFailed(_m("%(field)s 须为文本", field=field), field=field)
    if "\x00" in text:
        raise ValidationFailed(_m("%(field)s 含有非法字符", field=field), field=field)
    if not text:
        if required:
            raise ValidationFailed(_m("%(field)s 不能为空", field=field), field=field)
        return None
    if len(text) > max_len:
        raise ValidationFailed(
            _m("%(field)s 不能超过 %(max)s 个字符", field=field, max=max_len), field=field,
        )
    return text


def required_text(value: object, field: str, max_len: int) -> str:
    text = clean_text(value, field, max_len, required=True)
    assert text is not None
    return text


def amount_text_error(value: object) -> Message | None:
    """Why `value` is not an amount as the API accepts it (a JSON string such as "1200.00"), or None."""
    if not isinstance(value, str):
        return _m('金额须为字符串，例如 "1200.00"')
    if AMOUNT_TEXT.fullmatch(value):
        return None
    if _MANY_PLACES.fullmatch(value):
        return _m("金额最多两位小数")
    if value.startswith("-") and (AMOUNT_TEXT.fullmatch(value[1:]) or _MANY_PLACES.fullmatch(value[1:])):
        return _m("金额须大于 0")
    return _m("金额须为最多两位小数的数字，例如 1200.00")


def check_date_range(value: date, field: str, earliest: date | None, latest: date | None) -> date:
    if earliest is not None and value < earliest:
        raise ValidationFailed(_m("%(field)s 不能早于 %(date)s", field=field, date=earliest.isoformat()),
                               field=field)
    if latest is not None and value > latest:
        raise ValidationFailed(_m("%(field)s 不能晚于 %(date)s", field=field, date=latest.isoformat()),
                               field=field)
    return value


def check_hire_date(value: date, today: date) -> date:
    return check_date_range(value, "hireDate", EARLIEST_HIRE_DATE, today + timedelta(days=365))


def check_settle_days(value: int) -> int:
    if not 1 <= value <= MAX_SETTLE_DAYS:
        raise ValidationFailed(
            _m("settleDays 须在 1 到 %(max)s 之间", max=MAX_SETTLE_DAYS),
            field="settleDays",
        )
    return value
