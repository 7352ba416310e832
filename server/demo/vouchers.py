"""Real-looking vouchers for the demo company: a till receipt photo (PNG) and an invoice (PDF).

Generated, deterministic (the same line gives the same bytes, so storage's content addressing and the
duplicate checks behave as with real uploads), and readable: a person opening a demo voucher sees a
receipt with the shop, the date, the items and the amount, not a blank pixel.
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont, ImageOps

from server.domain.money import CENT

SELLER = "西安高新区锦程商务服务有限公司"
PAPER = (250, 248, 240)
INK = (40, 40, 40)


@lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    from server.pdf import _CANDIDATES

    for path in _CANDIDATES:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


def receipt_png(invoice: str, amount: Decimal, description: str, on: date) -> bytes:
    """A till receipt, photographed slightly askew on a desk: about 510 px wide and 650 px high."""
    amount = amount.quantize(CENT)
    width, height = 420, 560
    paper = Image.new("RGB", (width, height), PAPER)
    draw = ImageDraw.Draw(paper)
    big, mid, small = _font(26), _font(18), _font(15)
    y = 24

    def centre(text: str, font, dy: int) -> None:
        nonlocal y
        w = draw.textlength(text, font=font)
        draw.text(((width - w) / 2, y), text, fill=INK, font=font)
        y += dy

    def row(left: str, right: str, font=small, dy: int = 26) -> None:
        nonlocal y
        draw.text((28, y), left, fill=INK, font=font)
        w = draw.textlength(right, font=font)
        draw.text((width - 28 - w, y), right, fill=INK, font=font)
        y += dy

    def rule() -> None:
        nonlocal y
        for x in range(24, width - 24, 10):
            draw.line((x, y + 6, x + 5, y + 6), fill=INK, width=1)
        y += 18

    centre("锦程商务", big, 38)
    centre("销 售 小 票", mid, 34)
    rule()
    row("单号", f"No.{invoice}")
    row("日期", on.isoformat())
    row("收银员", "007")
    rule()
    row("项目", "金额", mid, 30)
    text = description if len(description) <= 16 else description[:15] + "…"
    row(text, f"{amount:,.2f}")
    row("数量 1", "")
    rule()
    row("合计 (人民币)", f"¥ {amount:,.2f}", mid, 34)
    row("支付方式", "企业微信支付")
    rule()
    centre(SELLER, small, 24)
    centre("统一社会信用代码 91610131MA6TXXXX8K", small, 24)
    centre("谢谢惠顾 · 请妥善保管本小票", small, 30)
    # A barcode-like strip, derived from the number, so that each receipt looks different.
    x = 60
    for i, ch in enumerate(f"{invoice}{amount}".encode()):
        bar = 1 + (ch + i) % 4
        draw.rectangle((x, y, x + bar, y + 46), fill=INK)
        x += bar + 2 + (ch % 3)
        if x > width - 60:
            break

    photo = ImageOps.expand(paper, border=30, fill=(196, 186, 170))  # the desk around the paper
    photo = photo.rotate(-2.5, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(196, 186, 170))
    out = io.BytesIO()
    photo.save(out, format="PNG", optimize=True)
    return out.getvalue()


def invoice_pdf(invoice: str, amount: Decimal, description: str, on: date) -> bytes:
    """A one-page invoice (增值税电子普通发票 layout, marked as a demo) with the seller, the item and the total."""
    from reportlab.lib.pagesizes import A5, landscape
    from reportlab.pdfgen import canvas

    from server.domain.capitals import capitals
    from server.pdf import cjk_font

    amount = amount.quantize(CENT)
    font = cjk_font()
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=landscape(A5), invariant=1)
    pdf.setTitle(f"发票 {invoice}")
    w, h = landscape(A5)
    brown = (0.55, 0.25, 0.1)
    pdf.setStrokeColorRGB(*brown)
    pdf.setFillColorRGB(*brown)
    pdf.setFont(font, 17)
    pdf.drawCentredString(w / 2 - 50, h - 48, "增值税电子普通发票（演示）")
    pdf.setFont(font, 9)
    pdf.drawString(w - 190, h - 40, f"发票号码：{invoice}")
    pdf.drawString(w - 190, h - 54, f"开票日期：{on.year}年{on.month:02d}月{on.day:02d}日")
    left, right, top = 36, w - 36, h - 76
    pdf.rect(left, top - 250, right - left, 250)
    for y in (top - 56, top - 180, top - 212):
        pdf.line(left, y, right, y)
    pdf.setFont(font, 9)
    pdf.drawString(left + 8, top - 18, "购买方名称：西安清源能源科技有限公司")
    pdf.drawString(left + 8, top - 36, "纳税人识别号：91610100MA6U0DEMO1")
    pdf.drawString(left + 8, top - 74, "项目名称")
    pdf.drawString(left + 250, top - 74, "数量")
    pdf.drawRightString(right - 8, top - 74, "金额")
    pdf.setFillColorRGB(0.1, 0.1, 0.1)
    pdf.drawString(left + 8, top - 94, f"*服务*{description}")
    pdf.drawString(left + 250, top - 94, "1")
    pdf.drawRightString(right - 8, top - 94, f"{amount:,.2f}")
    pdf.setFillColorRGB(*brown)
    pdf.drawString(left + 8, top - 200, "价税合计（大写）")
    pdf.setFillColorRGB(0.1, 0.1, 0.1)
    pdf.drawString(left + 100, top - 200, capitals(amount))
    pdf.drawRightString(right - 8, top - 200, f"（小写）¥{amount:,.2f}")
    pdf.setFillColorRGB(*brown)
    pdf.drawString(left + 8, top - 232, f"销售方名称：{SELLER}")
    pdf.setFont(font, 8)
    pdf.drawString(left, top - 268, "演示数据：此发票由清款演示公司生成，不具有法律效力。")
    pdf.showPage()
    pdf.save()
    return out.getvalue()
