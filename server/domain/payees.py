"""Payee bank details and the bank batch-payment file (网银批量付款), as pure rules.

The batch file's columns: 收款人户名, 收款账号, 开户银行, 开户支行, 金额, 用途, 清款单号 — what corporate
online banking's batch templates ask for (each bank's own template may order them differently: the
columns are named so that a person can map them).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from server.domain.errors import ValidationFailed
from server.domain.messages import _m
from server.domain.money import CENT

ACCOUNT_DIGITS = re.compile(r"^\d{8,32}$")
BATCH_COLUMNS = ("收款人户名", "收款账号", "开户银行", "开户支行", "金额", "用途", "清款单号")


def clean_account_no(value: object) -> str:
    """Digits only (spaces and dashes people type are dropped), 8 to 32 of them."""
    text = re.sub(r"[\s-]", "", str(value or ""))
    if not ACCOUNT_DIGITS.match(text):
        raise ValidationFailed(_m("银行账号须为 8 到 32 位数字"), field="accountNo")
    return text


def clean_name(value: object, field: str, required: bool = True, max_len: int = 100) -> str:
    text = " ".join(str(value or "").split())
    if required and not text:
        raise ValidationFailed(_m("%(field)s 不能为空", field=field), field=field)
    if len(text) > max_len:
        raise ValidationFailed(_m("%(field)s 最多 %(max)s 个字", field=field, max=max_len), field=field)
    return text


def mask_account(account_no: str) -> str:
    """What pages and the API show: the last four digits only."""
    return "**** " + account_no[-4:] if len(account_no) > 4 else "****"


@dataclass(frozen=True)
class Payment:
    account_name: str
    account_no: str
    bank: str
    branch: str
    amount: Decimal
    purpose: str
    document: str


def batch_rows(payments: Iterable[Payment]) -> list[list[str]]:
    return [[p.account_name, p.account_no, p.bank, p.branch, f"{p.amount.quantize(CENT):.2f}", p.purpose, p.document]
            for p in payments]


def batch_csv(payments: Iterable[Payment]) -> bytes:
    """UTF-8 with a BOM (Excel in China opens it correctly only so), CRLF lines."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(BATCH_COLUMNS)
    writer.writerows(batch_rows(payments))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def batch_xlsx(payments: Iterable[Payment]) -> bytes:
    from openpyxl import Workbook

    from server.domain.journal_layouts import _reproducible_zip

    book = Workbook(write_only=True)
    sheet = book.create_sheet("批量付款")
    sheet.append(list(BATCH_COLUMNS))
    for row in batch_rows(payments):
        sheet.append(row)  # the account number stays text: Excel would round a long number
    out = io.BytesIO()
    book.save(out)
    return _reproducible_zip(out.getvalue())
