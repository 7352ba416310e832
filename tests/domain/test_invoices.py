"""Invoice QR texts: paper/electronic invoices with a 发票代码, 数电票 without one, and texts that are not invoices."""

from datetime import date
from decimal import Decimal

import pytest

from server.domain.invoices import disagreements, parse


def test_a_vat_invoice_and_a_digital_one():
    paper = parse("01,04,044001900111,12345678,1234.50,20261130,12345678901234567890,ABCD,")
    assert paper is not None and paper.invoice_no == "044001900111-12345678"
    assert (paper.amount, paper.issued_on, paper.kind) == (Decimal("1234.50"), date(2026, 11, 30), "04")
    digital = parse("01,32,,24312000000012345678,88.00,20261201,,")
    assert digital is not None and digital.invoice_no == "24312000000012345678" and digital.code == ""


@pytest.mark.parametrize("text", [None, "", "https://example.com/x", "01,04,0440,12345678,1.00,20261130",
                                  "01,04,044001900111,12345678,abc,20261130", "01,04,044001900111,12345678,1.00,20261341",
                                  "1,04,044001900111,12345678,1.00,20261130", "01,04,044001900111,123,1.00,20261130"])
def test_not_invoices(text):
    assert parse(text) is None


def test_disagreements():
    qr = parse("01,10,044001900111,12345678,100.00,20261130,1234,")
    assert qr is not None
    assert disagreements(qr, Decimal("113.00"), date(2026, 11, 30)) == []  # tax included is more, not less
    assert disagreements(qr, Decimal("99.99"), date(2026, 11, 29)) == ["amount", "date"]
