"""会计凭证导出 from a real ledger (both databases): every movement kind, balanced vouchers, files parsed back,
account codes from the company settings, who may export, and the page's download."""

from __future__ import annotations

import base64
import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from server.domain.errors import Forbidden, ValidationFailed
from server.domain.journal_layouts import KINGDEE_COLUMNS, U8_COLUMNS
from server.models import AuditEntry, LedgerEntry, User
from server.services import company, corrections, journal, loans, sessions
from server.services import reimbursements as rsvc
from server.services.base import SYSTEM, today
from tests.factories import make_org


async def _viewer(username: str):
    return sessions.viewer_for(await User.get(username=username))


async def _history():
    """A loan disbursed, partly returned in cash, deducted from salary, one return reversed, offset by a
    reimbursement whose rest is paid out."""
    sales, manager, fin = await _viewer("sales"), await _viewer("manager"), await _viewer("finance")
    loan = await loans.apply_for_loan(sales, loans.LoanApplication("1000.00", "TRAVEL", "出差"))
    for who in (manager, fin):
        await loans.decide_loan(who, loan.id, "APPROVE")
    await loans.disburse_loan(fin, loan.id)
    await loans.settle_loan(fin, loan.id, "CASH_RETURN", "100.00", "收据 1")
    await loans.settle_loan(fin, loan.id, "SALARY_DEDUCTION", "50.00", "工资单")
    cash = await LedgerEntry.get(loan_id=loan.id, kind="CASH_RETURN")
    await corrections.reverse_settlement(fin, cash.id, "收据作废")
    claim = await rsvc.submit_reimbursement(sales, rsvc.ReimbursementData(lines=[
        rsvc.ExpenseLineData("TRAVEL", "1200.00", today() - timedelta(days=1), None, "差旅", None)]))
    for who in (manager, fin):
        await rsvc.decide_reimbursement(who, claim.id, "APPROVE")
    await rsvc.pay_reimbursement(fin, claim.id)
    return loan, claim


async def test_kingdee_and_u8_files_of_a_real_history(db):
    await make_org()
    loan, claim = await _history()
    fin = await _viewer("finance")
    export = await journal.export_journal(fin, today(), today(), "KINGDEE")
    # disbursement, cash return, salary deduction, reversal, offset (950.00), payment (1200 - 950 = 250.00)
    assert export.voucher_count == 6 and export.line_count == 12
    assert export.debit_total == export.credit_total
    rows = list(load_workbook(io.BytesIO(await journal.journal_file(fin, export)), read_only=True)
                .active.iter_rows(values_only=True))
    assert tuple(rows[0]) == KINGDEE_COLUMNS
    records = [dict(zip(KINGDEE_COLUMNS, r, strict=True)) for r in rows[1:]]
    advance = sum(Decimal(r["FDEBIT"]) - Decimal(r["FCREDIT"]) for r in records if r["FACCTID"] == "1221")
    assert advance == await loans.loan_outstanding(loan) == Decimal("0.00")
    assert {r["FOBJID1"] for r in records if r["FACCTID"] == "1221"} == {"S1"}
    payment = [r for r in records if r["FTRANSID"] == claim.number]
    assert [(r["FACCTID"], r["FDEBIT"], r["FCREDIT"]) for r in payment] == [
        ("6601", "250.00", "0.00"), ("1002", "0.00", "250.00")]
    assert sorted({r["FNUM"] for r in records}) == [1, 2, 3, 4, 5, 6]

    u8 = await journal.export_journal(fin, today(), today(), "U8")
    lines = list(csv.reader(io.StringIO((await journal.journal_file(fin, u8)).decode("gbk"), newline="")))
    assert len(lines) == 12 and all(len(r) == len(U8_COLUMNS) for r in lines)
    red = [dict(zip(U8_COLUMNS, r, strict=True)) for r in lines if r[4].startswith("冲销现金还款")]
    assert [(r["科目编码"], r["借方"], r["贷方"]) for r in red] == [("1001", "-100.00", "0.00"), ("1221", "0.00", "-100.00")]
    assert await AuditEntry.filter(action="journal.export").count() == 2


async def test_account_codes_come_from_the_company_settings(db):
    await make_org()
    await _history()
    await company.set_setting(SYSTEM, company.JOURNAL_ACCOUNT_ADVANCE, "1221.01")
    await company.set_setting(SYSTEM, company.JOURNAL_SALES_DEPARTMENTS, "FIN")
    export = await journal.export_journal(await _viewer("finance"), today(), today(), "KINGDEE")
    accounts = {line.account for v in export.vouchers for line in v.lines}
    assert "1221.01" in accounts and "1221" not in accounts
    assert "6602" in accounts and "6601" not in accounts  # SALES is no longer a sales department


async def test_who_may_export_and_the_range_rules(db):
    await make_org()
    for who in ("sales", "manager", "hr"):
        with pytest.raises(Forbidden):
            await journal.export_journal(await _viewer(who), today(), today(), "U8")
    fin = await _viewer("finance")
    with pytest.raises(ValidationFailed):
        await journal.export_journal(fin, today(), today() - timedelta(days=1), "U8")
    with pytest.raises(ValidationFailed):
        await journal.export_journal(fin, today() - timedelta(days=366), today(), "U8")
    with pytest.raises(ValidationFailed):
        await journal.export_journal(fin, today(), today(), "SAP")
    empty = await journal.export_journal(fin, today() - timedelta(days=365), today(), "U8")
    assert (empty.voucher_count, await journal.journal_file(fin, empty)) == (0, b"")


async def test_the_api_and_the_page_download(db, gql, client):
    await make_org()
    await _history()
    token = await gql.login("finance")
    day = today().isoformat()
    data = await gql.ok("query($f:Date!,$t:Date!){ journalExport(from:$f,to:$t,layout:U8){ voucherCount debitTotal "
                        "creditTotal filename contentType contentBase64 } }", {"f": day, "t": day}, token)
    export = data["journalExport"]
    assert export["voucherCount"] == 6 and export["debitTotal"] == export["creditTotal"]
    assert export["filename"].endswith(".txt") and base64.b64decode(export["contentBase64"]).decode("gbk")
    denied = await gql.error("query($f:Date!,$t:Date!){ journalExport(from:$f,to:$t,layout:U8){ voucherCount } }",
                             {"f": day, "t": day}, await gql.login("sales"))
    assert denied["extensions"]["code"] == "FORBIDDEN"


async def test_the_documented_sample_reads_as_written(db):
    """docs/api.md "An accountant's reading of a sample export" describes exactly these vouchers."""
    await make_org()
    await _history()
    export = await journal.export_journal(await _viewer("finance"), today(), today(), "U8")
    read = [(v.number, [(x.account, str(x.debit), str(x.credit)) for x in v.lines]) for v in export.vouchers]
    assert read == [
        (1, [("6601", "250.00", "0.00"), ("1002", "0.00", "250.00")]),
        (2, [("1221", "1000.00", "0.00"), ("1002", "0.00", "1000.00")]),
        (3, [("1001", "100.00", "0.00"), ("1221", "0.00", "100.00")]),
        (4, [("2211", "50.00", "0.00"), ("1221", "0.00", "50.00")]),
        (5, [("1001", "-100.00", "0.00"), ("1221", "0.00", "-100.00")]),
        (6, [("6601", "950.00", "0.00"), ("1221", "0.00", "950.00")]),
    ]


async def test_rows_just_after_the_company_midnight_are_in_that_day(db):
    """00:01 in Shanghai is 16:01 UTC of the day before: the day's bounds are compared in UTC, so on SQLite
    (which compares datetimes as text) such rows are not lost from the day, nor counted in the one before."""
    from server.models import Reimbursement
    from server.services.base import day_start

    await make_org()
    await _history()
    just_after = day_start(today()) + timedelta(minutes=1)
    await LedgerEntry.all().update(recorded_at=just_after)
    await Reimbursement.filter(paid_at__isnull=False).update(paid_at=just_after)
    fin = await _viewer("finance")
    assert (await journal.export_journal(fin, today(), today(), "KINGDEE")).voucher_count == 6
    yesterday = today() - timedelta(days=1)
    assert (await journal.export_journal(fin, yesterday, yesterday, "KINGDEE")).voucher_count == 0
