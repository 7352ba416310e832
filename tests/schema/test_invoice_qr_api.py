"""Vouchers that read themselves: QR codes generated with segno (PNG, a rotated photo-like JPEG, a PDF drawn with
reportlab) fill an empty invoiceNo, the same invoice again is a duplicate, and a voucher without a code changes
nothing."""

from __future__ import annotations

import io
from datetime import timedelta

import segno
from PIL import Image
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from server.services.base import today
from tests.factories import make_org
from tests.schema.test_reimbursements_api import SUBMIT, upload
from tests.services.test_reimbursements import png_bytes

PAPER = "01,04,044001900111,12345678,1200.00,{day},12345678901234567890,ABCD,"
DIGITAL = "01,32,,24312000000012345678,88.00,{day},,"


def _qr_png(text: str) -> bytes:
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="png", scale=8, border=4)
    return out.getvalue()


def _photo(text: str) -> bytes:
    """A phone photo of a receipt: the code small on a grey page, turned 90°, saved as JPEG."""
    code = Image.open(io.BytesIO(_qr_png(text))).convert("RGB")
    page = Image.new("RGB", (1200, 900), (225, 225, 220))
    page.paste(code, (700, 120))
    out = io.BytesIO()
    page.rotate(90, expand=True).save(out, format="JPEG", quality=90)
    return out.getvalue()


def _pdf(text: str) -> bytes:
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=(595, 842))
    pdf.drawImage(ImageReader(io.BytesIO(_qr_png(text))), 40, 680, width=120, height=120)
    pdf.drawString(200, 760, "VAT invoice")
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def _claim(amount: str, invoice_no: str | None = None) -> dict:
    day = (today() - timedelta(days=1)).isoformat()
    return {"input": {"lines": [{"category": "TRAVEL", "amount": amount, "incurredOn": day, "invoiceNo": invoice_no,
                                 "description": "差旅", "vouchers": [None]}]}}


async def _submit(client, token: str, amount: str, name: str, data: bytes, kind: str, invoice_no: str | None = None):
    return await upload(client, SUBMIT, _claim(amount, invoice_no),
                        {"variables.input.lines.0.vouchers.0": (name, data, kind)}, token)


async def test_qr_fills_the_invoice_number_and_catches_the_same_invoice_again(gql, client, db):
    await make_org()
    sales, manager = await gql.login("sales"), await gql.login("manager")
    day = (today() - timedelta(days=1)).strftime("%Y%m%d")
    first = await _submit(client, sales, "1200.00", "invoice.png", _qr_png(PAPER.format(day=day)), "image/png")
    assert not first.get("errors"), first
    assert first["data"]["submitReimbursement"]["lines"][0]["invoiceNo"] == "044001900111-12345678"
    # The same invoice, photographed and turned, by someone else: a duplicate.
    again = await _submit(client, manager, "1200.00", "photo.jpg", _photo(PAPER.format(day=day)), "image/jpeg")
    assert again["errors"][0]["extensions"]["code"] == "VALIDATION"
    assert "044001900111-12345678" in again["errors"][0]["message"]
    # As a PDF: the same.
    pdf = await _submit(client, manager, "1200.00", "invoice.pdf", _pdf(PAPER.format(day=day)), "application/pdf")
    assert pdf["errors"][0]["extensions"]["code"] == "VALIDATION"


async def test_digital_invoice_pdf_and_no_code(gql, client, db):
    await make_org()
    sales = await gql.login("sales")
    day = (today() - timedelta(days=1)).strftime("%Y%m%d")
    digital = await _submit(client, sales, "88.00", "e.pdf", _pdf(DIGITAL.format(day=day)), "application/pdf")
    assert digital["data"]["submitReimbursement"]["lines"][0]["invoiceNo"] == "24312000000012345678"
    plain = await _submit(client, sales, "10.00", "receipt.png", png_bytes(), "image/png")
    assert not plain.get("errors") and plain["data"]["submitReimbursement"]["lines"][0]["invoiceNo"] is None
    typed = await _submit(client, sales, "20.00", "invoice.png", _qr_png(PAPER.format(day=day)), "image/png",
                          invoice_no="MY-OWN-1")
    assert typed["data"]["submitReimbursement"]["lines"][0]["invoiceNo"] == "MY-OWN-1"  # a typed number is kept
