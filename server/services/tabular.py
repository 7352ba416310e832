"""Tables as data, and their CSV (UTF-8 with BOM, which Excel in China opens correctly) and XLSX forms.

A cell is a str, an int, a Decimal (money), a `Rate` (a fraction shown as a percentage; None when
there was nothing to divide by, shown "—") or None. The page, the exports and the report's workbook
are built from the same `Table`s, so their numbers agree.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

BOM = "\ufeff"
DASH = "—"


@dataclass(frozen=True)
class Rate:
    value: float | None

    def __str__(self) -> str:
        return DASH if self.value is None else f"{self.value * 100:.1f}%"


@dataclass(frozen=True)
class Table:
    name: str  # the file or sheet name (ASCII)
    title: str  # in the reader's language
    header: Sequence[str]
    rows: Sequence[Sequence[Any]] = field(default_factory=list)
    total: Sequence[Any] | None = None  # a last row of totals, from the server's aggregates


def text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, Decimal):
        return f"{cell:.2f}"
    return str(cell)


def csv_bytes(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.header)
    for row in [*table.rows, *([table.total] if table.total else [])]:
        writer.writerow([_safe(text(c)) for c in row])
    return (BOM + out.getvalue()).encode("utf-8")


def _safe(value: str) -> str:
    # A cell that starts like a formula is data, not a formula, when a spreadsheet opens the CSV.
    return "'" + value if value[:1] in ("=", "+", "@") or (value[:1] == "-" and not _NUMBER.match(value)) else value


_NUMBER = re.compile(r"^-?\d+(\.\d+)?%?$")
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def xlsx_bytes(tables: Sequence[Table]) -> bytes:
    """One sheet per table; money and counts as numbers, rates as numbers formatted as percentages."""
    book = Workbook()
    book.remove(book.active)
    for table in tables:
        sheet = book.create_sheet(_SHEET_BAD.sub("_", table.name)[:31] or "Sheet")
        sheet.append(list(table.header))
        for row in [*table.rows, *([table.total] if table.total else [])]:
            sheet.append([_cell(c) for c in row])
            for column, cell in enumerate(row, start=1):
                target = sheet.cell(row=sheet.max_row, column=column)
                if isinstance(cell, Rate):
                    target.number_format = "0.0%"
                elif isinstance(cell, Decimal):
                    target.number_format = "#,##0.00"
        for column, heading in enumerate(table.header, start=1):
            sheet.column_dimensions[get_column_letter(column)].width = max(10, min(40, len(str(heading)) * 2 + 4))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(cell: Any) -> Any:
    if isinstance(cell, Rate):
        return cell.value
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@"):
        return "'" + cell  # text, never a formula
    return cell


def display(cell: Any) -> str:
    """A cell as a page shows it: money with separators, rates as percentages, "—" for nothing."""
    from server.domain.money import fmt

    if cell is None:
        return DASH
    if isinstance(cell, Decimal):
        return fmt(cell)
    return str(cell)


def numeric(cell: Any) -> bool:
    return isinstance(cell, (int, Decimal, Rate)) and not isinstance(cell, bool)
