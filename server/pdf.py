"""PDF documents in Chinese, byte-for-byte reproducible (reportlab).

Shared by the monthly report (analytics) and the evidence package. Why reportlab rather than
WeasyPrint: it needs no system libraries beyond a CJK font, embeds a subset of that font so the
text stays extractable, and its `invariant` mode pins the creation date and document id, so the
same data gives the same bytes (the evidence package's determinism rule).

The font is WenQuanYi Micro Hei (Debian's fonts-wqy-microhei, installed by .ci/run); set
`QINGKUAN_CJK_FONT` to another TTF/TTC path on machines that keep it elsewhere.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from xml.sax.saxutils import escape

FONT_NAME = "QingkuanCJK"
_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)


class FontMissing(RuntimeError):
    pass


@lru_cache(maxsize=1)
def cjk_font() -> str:
    """Register the CJK font once and return its reportlab name."""
    paths = [os.environ.get("QINGKUAN_CJK_FONT", "")] + list(_CANDIDATES)
    for path in paths:
        if path and os.path.exists(path):
            font = TTFont(FONT_NAME, path, subfontIndex=0) if path.endswith(".ttc") else TTFont(FONT_NAME, path)
            pdfmetrics.registerFont(font)
            return FONT_NAME
    raise FontMissing("no CJK font found: install fonts-wqy-microhei or set QINGKUAN_CJK_FONT")


@lru_cache(maxsize=1)
def styles() -> dict[str, ParagraphStyle]:
    font = cjk_font()
    # wordWrap="CJK" breaks lines between Chinese characters, which have no spaces.
    body = ParagraphStyle("body", fontName=font, fontSize=9.5, leading=14, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", parent=body, fontSize=16, leading=22, alignment=TA_CENTER, spaceAfter=6),
        "h1": ParagraphStyle("h1", parent=body, fontSize=13, leading=18, spaceBefore=8, spaceAfter=4),
        "h2": ParagraphStyle("h2", parent=body, fontSize=11, leading=16, spaceBefore=6, spaceAfter=2),
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=8, leading=11, textColor=colors.HexColor("#555555")),
        "cell": ParagraphStyle("cell", parent=body, fontSize=8.5, leading=11),
    }


def para(text: Any, style: str = "body") -> Paragraph:
    """A paragraph of plain text (escaped: data never becomes markup)."""
    return Paragraph(escape("" if text is None else str(text)).replace("\n", "<br/>"), styles()[style])


def table(header: Sequence[Any], rows: Iterable[Sequence[Any]], widths: Sequence[float] | None = None) -> Table:
    """A bordered table; every cell wraps (long names, numbers, hashes)."""
    data = [[para(h, "cell") for h in header]] + [[para(c, "cell") for c in row] for row in rows]
    t = Table(data, colWidths=list(widths) if widths else None, repeatRows=1, hAlign="LEFT")
    t.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f7")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]))
    return t


def spacer(height_mm: float = 3) -> Spacer:
    return Spacer(1, height_mm * mm)


def build(story: list[Flowable], *, title: str, author: str = "清款 Qingkuan", footer: str | None = None) -> bytes:
    """Render flowables to PDF bytes. `invariant=1` pins the creation date and document id:
    the same story gives the same bytes."""
    cjk_font()
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, title=title, author=author, creator="Qingkuan", producer="Qingkuan",
                            subject=title, invariant=1,
                            leftMargin=16 * mm, rightMargin=16 * mm, topMargin=16 * mm, bottomMargin=16 * mm)

    def decorate(canvas: Any, document: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT_NAME, 7.5)
        label = f"{footer}  ·  " if footer else ""
        canvas.drawRightString(A4[0] - 16 * mm, 9 * mm, f"{label}第 {document.page} 页")
        canvas.restoreState()

    doc.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return out.getvalue()
