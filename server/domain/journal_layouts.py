"""The two voucher-import layouts, written from built vouchers (server/domain/journal.py).

Kingdee KIS/K3 凭证引入 (XLSX, one sheet, header row of field names then one row per entry), fields as the
Kingdee interface spec lists them (wave2-facts §2.1): FDATE, FTRANSDATE, FPERIOD, FGROUP, FNUM, FENTRYID
(0-based within the voucher), FEXP (摘要), FACCTID, FCLSNAME1/FOBJID1/FOBJNAME1 (核算项目: 职员 on 1221 with
the employee's number and name, 部门 on expense lines), FTRANSID (the Qingkuan document), FCYID RMB, FEXCHRATE
1, FDC (1 debit, 0 credit), FFCYAMT, FDEBIT, FCREDIT, FPREPARE, FATTCHMENT. Amounts are text "0.00".

Yonyou U8 总账 凭证引入 (text, comma-separated, GBK, CRLF, no header; wave2-facts §2.2): 制单日期
(YYYY-MM-DD), 凭证类别字, 凭证号, 附单据数, 摘要, 科目编码, 借方, 贷方, 数量, 外币, 汇率, 制单人, 结算方式,
票号, 发生日期, 部门编码, 个人编码. A voucher is identified by 制单日期 + 凭证类别字 + 凭证号 and its lines are
contiguous. Commas inside text become "，" (U8's reader does not understand quotes); a character outside GBK
becomes "?".
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from decimal import Decimal

from server.domain.journal import DEPARTMENT_CLASS, EMPLOYEE_CLASS, VOUCHER_GROUP, Voucher, amount_text

KINGDEE_COLUMNS = (
    "FDATE", "FTRANSDATE", "FPERIOD", "FGROUP", "FNUM", "FENTRYID", "FEXP", "FACCTID", "FCLSNAME1", "FOBJID1",
    "FOBJNAME1", "FTRANSID", "FCYID", "FEXCHRATE", "FDC", "FFCYAMT", "FDEBIT", "FCREDIT", "FPREPARE", "FATTCHMENT",
)
U8_COLUMNS = (
    "制单日期", "凭证类别字", "凭证号", "附单据数", "摘要", "科目编码", "借方", "贷方", "数量", "外币", "汇率",
    "制单人", "结算方式", "票号", "发生日期", "部门编码", "个人编码",
)
U8_ENCODING = "gbk"
PREPARER = "清款"


def kingdee_rows(vouchers: Iterable[Voucher], preparer: str = PREPARER) -> list[list[str | int]]:
    rows: list[list[str | int]] = []
    for v in vouchers:
        for entry_id, line in enumerate(v.lines):
            debit = line.debit != 0
            amount = line.debit if debit else line.credit
            rows.append([
                v.on.isoformat(), v.on.isoformat(), v.on.month, VOUCHER_GROUP, v.number, entry_id, v.summary,
                line.account, line.aux_class, line.aux_code, line.aux_name, v.document, "RMB", "1",
                1 if debit else 0, amount_text(amount), amount_text(line.debit), amount_text(line.credit), preparer, 0,
            ])
    return rows


def kingdee_xlsx(vouchers: Iterable[Voucher], preparer: str = PREPARER) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("凭证")
    sheet.append(list(KINGDEE_COLUMNS))
    for row in kingdee_rows(vouchers, preparer):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return _reproducible_zip(out.getvalue())


def _reproducible_zip(data: bytes) -> bytes:
    """The same vouchers give the same bytes: fixed entry times (openpyxl stamps the current time)."""
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _strip_times(content)
            fixed = zipfile.ZipInfo(info.filename, date_time=(2000, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, content)
    return out.getvalue()


def _strip_times(core: bytes) -> bytes:
    import re

    return re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)", rb"\g<1>2000-01-01T00:00:00Z\g<3>",
                  core)


def _u8_text(value: str) -> str:
    return value.replace(",", "，").replace("\r", " ").replace("\n", " ")


def u8_rows(vouchers: Iterable[Voucher], preparer: str = PREPARER) -> list[list[str]]:
    rows: list[list[str]] = []
    for v in vouchers:
        for line in v.lines:
            department = line.aux_code if line.aux_class == DEPARTMENT_CLASS else ""
            person = line.aux_code if line.aux_class == EMPLOYEE_CLASS else ""
            rows.append([
                v.on.isoformat(), VOUCHER_GROUP, str(v.number), "0", _u8_text(v.summary), line.account,
                amount_text(line.debit), amount_text(line.credit), "", "", "", preparer, "", _u8_text(v.document),
                v.on.isoformat(), _u8_text(department), _u8_text(person),
            ])
    return rows


def u8_text(vouchers: Iterable[Voucher], preparer: str = PREPARER) -> bytes:
    lines = [",".join(row) for row in u8_rows(vouchers, preparer)]
    return ("\r\n".join(lines) + ("\r\n" if lines else "")).encode(U8_ENCODING, errors="replace")


def totals(vouchers: Iterable[Voucher]) -> tuple[int, int, Decimal, Decimal]:
    """(vouchers, lines, debit total, credit total)."""
    count = lines = 0
    debit = credit = Decimal("0.00")
    for v in vouchers:
        count += 1
        lines += len(v.lines)
        debit += v.debit
        credit += v.credit
    return count, lines, debit, credit
