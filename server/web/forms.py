"""Turning form text into GraphQL variables.

Only the syntax is checked here (is it a whole number, an amount, a date?), so that the operation can
run at all; ranges, places and every rule are the services' and come back as the API's messages.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from server import i18n
from server.domain.validation import amount_text_error
from server.web.core import Page


def whole_number(page: Page, text: str, name: str, errors: dict[str, str]) -> Any:
    stripped = text.strip()
    if stripped.lstrip("-").isdigit():
        return int(stripped)
    errors[name] = page._("请输入整数")
    return None


def amount(page: Page, text: str, name: str, errors: dict[str, str], *, required: bool = True) -> str | None:
    stripped = text.strip().replace(",", "").replace("，", "")
    if not stripped:
        if required:
            errors[name] = page._("请输入金额")
        return None
    try:
        value = Decimal(stripped)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        errors[name] = page._("请输入金额，例如 1200.00")
        return None
    error = amount_text_error(stripped)  # the API's own syntax and message (server/domain/validation.py)
    if error is not None:
        errors[name] = i18n.render(error, page.locale)
        return None
    return stripped


def date(page: Page, text: str, name: str, errors: dict[str, str], *, required: bool = True) -> str | None:
    stripped = text.strip()
    if not stripped:
        if required:
            errors[name] = page._("请选择日期")
        return None
    try:
        datetime.date.fromisoformat(stripped)
    except ValueError:
        errors[name] = page._("请输入日期，例如 2026-01-31")
        return None
    return stripped
