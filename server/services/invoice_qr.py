"""Reading a voucher's invoice QR code: zxing-cpp on the image, pypdfium2 to render a PDF's first page.

Called by the reimbursement submission before its duplicate checks (server/services/reimbursements.py): a line
without an invoice number gets the one its voucher's code carries, so the same invoice photographed or scanned
again is caught by the existing duplicate-invoice detection. Nothing fails when there is no code.
"""

from __future__ import annotations

import asyncio
import io
import logging
from typing import Any

from server.domain import invoices as rules
from server.storage import path_for

log = logging.getLogger("qingkuan.invoice_qr")

MAX_PIXELS = 40_000_000  # a decompression bomb is not decoded
PDF_SCALE = 2.0  # 144 dpi: enough for the 2 cm code on an invoice


def _image_from(data: bytes, content_type: str) -> Any:
    from PIL import Image

    if content_type == "application/pdf":
        import pypdfium2

        document = pypdfium2.PdfDocument(data)
        try:
            if len(document) == 0:
                return None
            return document[0].render(scale=PDF_SCALE).to_pil()
        finally:
            document.close()
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def read_text(data: bytes, content_type: str) -> str | None:
    """The first QR code's text in the image or PDF, or None (no code, unreadable, not an image)."""
    try:
        import zxingcpp

        image = _image_from(data, content_type)
        if image is None:
            return None
        for found in zxingcpp.read_barcodes(image.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode,
                                            try_rotate=True):
            if found.valid and found.text:
                return str(found.text)
    except Exception:  # noqa: BLE001 - a voucher that cannot be read is accepted as typed
        log.info("voucher QR code not readable", exc_info=True)
    return None


def read_invoice(data: bytes, content_type: str) -> rules.InvoiceQr | None:
    return rules.parse(read_text(data, content_type))


async def invoice_of(files: list[Any]) -> rules.InvoiceQr | None:
    """The invoice the first readable voucher of a line carries (files are storage.StoredFile)."""
    for stored in files:
        data = await asyncio.to_thread(path_for(stored.sha256).read_bytes)
        found = await asyncio.to_thread(read_invoice, data, stored.content_type)
        if found is not None:
            return found
    return None


async def fill_lines(lines: list[Any]) -> None:
    """Give each parsed line without an invoice number the one its voucher's QR code carries, and keep what
    the invoice says beside it (`line.invoice_qr`) for the warnings."""
    for line in lines:
        if getattr(line, "invoice_no", None) or not getattr(line, "files", None):
            continue
        found = await invoice_of(line.files)
        if found is None:
            continue
        line.invoice_no = found.invoice_no
        differs = rules.disagreements(found, line.amount, line.incurred_on)
        if differs:
            log.info("line %s disagrees with its invoice %s on %s", line.order, found.invoice_no, ", ".join(differs))
