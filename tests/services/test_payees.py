"""Payee bank details (the employee or HR, audited, masked) and the bank batch-payment file (both databases)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from server.domain import payees as rules
from server.domain.errors import Forbidden, ValidationFailed
from server.models import AuditEntry, Employee, Notification, User
from server.services import loans, payees, sessions
from server.services import reimbursements as rsvc
from server.services.base import today
from tests.factories import make_org


async def _viewer(username: str):
    return sessions.viewer_for(await User.get(username=username))


def test_account_rules():
    assert rules.clean_account_no("6222 0210-0101 2345 678") == "6222021001012345678"
    for bad in ("1234567", "6222x0210", "", "1" * 33):
        with pytest.raises(ValidationFailed):
            rules.clean_account_no(bad)
    assert rules.mask_account("622202100101235678") == "**** 5678"


async def test_employee_or_hr_change_it_audited_and_masked(db):
    people = await make_org()
    sales, hr, fin = await _viewer("sales"), await _viewer("hr"), await _viewer("finance")
    row = await payees.set_payee(sales, people.sales, account_name="张三", account_no="6222 0210 0101 2345 678",
                                 bank="工商银行", branch="西安高新支行")
    assert row.account_no == "6222021001012345678"
    await payees.set_payee(hr, people.sales, account_name="张三", account_no="6217000010001234", bank="建设银行")
    with pytest.raises(Forbidden):
        await payees.set_payee(fin, people.sales, account_name="x", account_no="62170000100012", bank="x")
    with pytest.raises(Forbidden):
        await payees.set_payee(await _viewer("manager"), people.sales, account_name="x", account_no="62170000100012",
                               bank="x")
    entries = await AuditEntry.filter(action="payee.update").order_by("id")
    assert [e.after["accountNo"] for e in entries] == ["**** 5678", "**** 1234"]
    assert entries[1].before["bank"] == "工商银行"
    assert all("622202100101" not in str(e.after) + str(e.before) for e in entries)
    assert (await payees.get_payee(fin, people.sales)).bank == "建设银行"
    # HR's change (not the employee's own) is told to the employee, with the new account masked.
    told = await Notification.filter(title_data__isnull=False, link="/account/payee").values_list("user__employee_id", "body")
    assert [(e, "**** 1234" in body) for e, body in told] == [(people.sales, True)]


async def test_bank_batch_lists_what_waits_with_payees(db):
    people = await make_org()
    sales, manager, fin = await _viewer("sales"), await _viewer("manager"), await _viewer("finance")
    await payees.set_payee(sales, people.sales, account_name="张三", account_no="6222021001012345678", bank="工商银行",
                           branch="西安高新支行")
    loan = await loans.apply_for_loan(sales, loans.LoanApplication("800.00", "TRAVEL", "出差"))
    for who in (manager, fin):
        await loans.decide_loan(who, loan.id, "APPROVE")
    # The manager has no payee account: their approved loan is named as missing.
    mgr_loan = await loans.apply_for_loan(manager, loans.LoanApplication("300.00", "CLIENT_VISIT", "拜访"))
    await loans.decide_loan(fin, mgr_loan.id, "APPROVE")
    claim = await rsvc.submit_reimbursement(sales, rsvc.ReimbursementData(lines=[
        rsvc.ExpenseLineData("TRAVEL", "120.50", today() - timedelta(days=1), None, "车费", None)]))
    for who in (manager, fin):
        await rsvc.decide_reimbursement(who, claim.id, "APPROVE")

    batch = await payees.bank_batch(fin, "CSV")
    rows = list(csv.reader(io.StringIO(batch.content.decode("utf-8-sig"))))
    assert tuple(rows[0]) == rules.BATCH_COLUMNS
    assert rows[1] == ["张三", "6222021001012345678", "工商银行", "西安高新支行", "800.00", f"差旅借款 {loan.number}",
                       loan.number]
    assert rows[2][4:] == ["120.50", f"费用报销 {claim.number}", claim.number]
    assert (batch.row_count, batch.total, batch.missing_payees) == (2, Decimal("920.50"), [mgr_loan.number])
    assert batch.content.startswith("\ufeff".encode())

    xlsx = await payees.bank_batch(fin, "XLSX")
    sheet = list(load_workbook(io.BytesIO(xlsx.content), read_only=True).active.iter_rows(values_only=True))
    assert sheet[1][1] == "6222021001012345678" and isinstance(sheet[1][1], str)  # not rounded by Excel
    with pytest.raises(Forbidden):
        await payees.bank_batch(await _viewer("hr"), "CSV")
    assert await AuditEntry.filter(action="bank_batch.export").count() == 2
    assert await Employee.filter(id=people.manager).exists()
