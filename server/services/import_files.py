"""Reading an import file as a stream of rows: CSV (UTF-8 with or without BOM, GBK/GB18030) or XLSX.

Nothing is held beyond a row at a time. XLSX is checked before it is opened: its ZIP directory's
uncompressed sizes and ratios (a zip bomb is refused without inflating anything), no macros or
external links followed; openpyxl reads it read-only with formulas as their cached values.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from server.domain.errors import ValidationFailed
from server.domain.messages import _m

ZIP_MAGIC = b"PK\x03\x04"
# An XLSX of 200,000 rows of a few columns is tens of MB uncompressed; past these limits it is a bomb.
XLSX_MAX_UNCOMPRESSED = 512 * 1024 * 1024
XLSX_MAX_RATIO = 200
XLSX_MAX_ENTRIES = 10_000
ENCODINGS = ("utf-8", "gb18030")
# csv's default field limit is 128 KB; a cell of ours is at most a few KB.
csv.field_size_limit(64 * 1024)


@dataclass(frozen=True)
class FileFormat:
    kind: str  # "csv" or "xlsx"
    encoding: str | None  # CSV only: "utf-8-sig", "utf-8" or "gb18030"


def detect(path: Path, encoding: str | None = None) -> FileFormat:
    """The file's format, and for CSV its encoding: the one chosen, else UTF-8 when the file decodes as
    UTF-8 (checked over the whole file, streaming), else GB18030 (Excel's "CSV" in China; GBK's superset)."""
    with path.open("rb") as handle:
        head = handle.read(4)
    if head == ZIP_MAGIC:
        check_xlsx(path)
        return FileFormat("xlsx", None)
    if encoding:
        name = codecs.lookup(encoding).name
        if name in ("gbk", "gb2312", "cp936"):
            name = "gb18030"
        if name not in ("utf-8", "utf-8-sig", "gb18030"):
            raise ValidationFailed(_m("不支持的编码 %(encoding)s", encoding=encoding), field="encoding")
        # utf-8-sig reads a file with or without its BOM alike.
        return FileFormat("csv", "gb18030" if name == "gb18030" else "utf-8-sig")
    if head.startswith(codecs.BOM_UTF8):
        return FileFormat("csv", "utf-8-sig")
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1024 * 1024):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        return FileFormat("csv", "utf-8")
    except UnicodeDecodeError:
        return FileFormat("csv", "gb18030")


def check_xlsx(path: Path) -> None:
    """Refuse a zip bomb from the ZIP directory alone, before anything is inflated."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except zipfile.BadZipFile:
        raise ValidationFailed(_m("文件不是有效的 XLSX"), field="file") from None
    if len(entries) > XLSX_MAX_ENTRIES:
        raise ValidationFailed(_m("XLSX 文件结构异常（条目过多）"), field="file")
    total = 0
    for entry in entries:
        total += entry.file_size
        if entry.file_size > XLSX_MAX_UNCOMPRESSED or total > XLSX_MAX_UNCOMPRESSED or (
                entry.file_size > 1024 * 1024 and entry.file_size > XLSX_MAX_RATIO * max(entry.compress_size, 1)):
            raise ValidationFailed(_m("XLSX 文件解压后过大，已拒绝（疑似压缩炸弹）"), field="file")
    names = {e.filename for e in entries}
    if "xl/workbook.xml" not in names:
        raise ValidationFailed(_m("文件不是有效的 XLSX"), field="file")


class RowsError(Exception):
    """The file could not be read on: (row number, message)."""

    def __init__(self, row: int, message: Any) -> None:
        super().__init__(str(message))
        self.row = row
        self.message = message


def rows(path: Path, fmt: FileFormat) -> Iterator[tuple[int, list[Any]]]:
    """(row number as the spreadsheet shows it, cells) for every row, the header first (row 1)."""
    if fmt.kind == "xlsx":
        yield from _xlsx_rows(path)
    else:
        yield from _csv_rows(path, fmt.encoding or "utf-8")


def _csv_rows(path: Path, encoding: str) -> Iterator[tuple[int, list[Any]]]:
    number = 0
    with path.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding=encoding, newline="")
        reader = csv.reader(text)
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError:
                raise RowsError(number + 1, _m("第 %(row)s 行不是有效的 %(encoding)s 文本", row=number + 1,
                                               encoding=encoding)) from None
            except csv.Error as exc:
                raise RowsError(number + 1, _m("CSV 格式错误：%(reason)s", reason=str(exc))) from None
            # A record spanning lines (a quoted line break) counts once, as the spreadsheet shows it.
            number += 1
            if number == 1 and cells:
                cells[0] = cells[0].lstrip("\ufeff")
            yield number, cells


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    import openpyxl

    handle = path.open("rb")  # a handle: openpyxl judges a path by its suffix, and ours have none
    try:
        workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True, keep_links=False,
                                          keep_vba=False)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds for a broken file
        handle.close()
        raise RowsError(1, _m("文件不是有效的 XLSX")) from None
    try:
        sheet = workbook.worksheets[0]
        expected = 1
        for cells in sheet.iter_rows(values_only=False):
            number = next((c.row for c in cells if getattr(c, "row", None)), expected)
            expected = number + 1
            yield number, [c.value for c in cells]
    finally:
        workbook.close()
        handle.close()


def count_rows(path: Path, fmt: FileFormat) -> int:
    """Data rows (the header not counted), streaming."""
    count = -1
    try:
        for _ in rows(path, fmt):
            count += 1
    except RowsError:
        pass
    return max(count, 0)
