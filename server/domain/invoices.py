"""Chinese VAT invoice QR codes (发票二维码), as pure rules.

The code's text is comma-separated: version (01), invoice type (e.g. 01 专票, 04 普票, 10 电子普票, 31/32 数电票),
发票代码 (empty on 数电票), 发票号码, amount before tax, 开票日期 YYYYMMDD, 校验码 (may be empty), then a
check field. A line's invoice number is `发票代码-发票号码`, or the 发票号码 alone when there is no code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from server.domain.money import CENT


@dataclass(frozen=True)
class InvoiceQr:
    version: str
    kind: str
    code: str
    number: str
    amount: Decimal
    issued_on: date
    check_code: str

    @property
    def invoice_no(self) -> str:
        return f"{self.code}-{self.number}" if self.code else self.number


def parse(text: str | None) -> InvoiceQr | None:
    """The invoice a QR text describes, or None when it is not an invoice's code."""
    if not text:
        return None
    parts = [p.strip() for p in text.strip().split(",")]
    if len(parts) < 6:
        return None
    version, kind, code, number, amount_text, day = parts[:6]
    if not re.fullmatch(r"\d{2}", version) or not re.fullmatch(r"\d{2}", kind):
        return None
    if code and not re.fullmatch(r"\d{10,12}", code):
        return None
    if not re.fullmatch(r"\d{8}|\d{20}", number):
        return None
    try:
        amount = Decimal(amount_text).quantize(CENT)
        issued = date(int(day[:4]), int(day[4:6]), int(day[6:8])) if re.fullmatch(r"\d{8}", day) else None
    except (InvalidOperation, ValueError):
        return None
    if issued is None or amount < 0:
        return None
    return InvoiceQr(version, kind, code, number, amount, issued, parts[6] if len(parts) > 6 else "")


def disagreements(invoice: InvoiceQr, amount: Decimal, incurred_on: date) -> list[str]:
    """Which of the line's fields differ from the invoice: "amount", "date" (a warning, never a refusal).

    The QR amount is before tax, so a line may claim more (tax included) but not less than it."""
    out = []
    if amount < invoice.amount:
        out.append("amount")
    if incurred_on != invoice.issued_on:
        out.append("date")
    return out
