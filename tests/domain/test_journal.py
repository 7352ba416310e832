"""Vouchers from the ledger: every voucher balances (over random histories), 1221 carries the ledger's
balance per employee, numbering restarts each period, and the two files parse back by their layouts."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from server.domain import journal
from server.domain.journal_layouts import KINGDEE_COLUMNS, U8_COLUMNS, kingdee_xlsx, totals, u8_text

ACCOUNTS = journal.Accounts()
START = date(2026, 1, 25)


def movement(kind: str, amount: str, ref: int, on: date = START, *, reverses: str | None = None,
             dept: str = "SALES", doc: str = "JK-2026-000001") -> journal.Movement:
    return journal.Movement(kind, on, Decimal(amount), doc, f"L{ref}", "S1", "张三", dept,
                            "销售部" if dept == "SALES" else "财务部", reverses)


def test_textbook_entries():
    lines = journal.lines_for(ACCOUNTS, movement("DISBURSEMENT", "1234.56", 1))
    assert [(x.account, x.debit, x.credit, x.aux_class, x.aux_code) for x in lines] == [
        ("1221", Decimal("1234.56"), Decimal("0.00"), "职员", "S1"), ("1002", Decimal("0.00"), Decimal("1234.56"), "", "")]
    offset = journal.lines_for(ACCOUNTS, movement("OFFSET", "100.00", 2, dept="FIN"))
    assert [(x.account, x.aux_class) for x in offset] == [("6602", "部门"), ("1221", "职员")]
    sales_pay = journal.lines_for(ACCOUNTS, movement("REIMBURSEMENT_PAYMENT", "50.00", 3))
    assert [x.account for x in sales_pay] == ["6601", "1002"]
    assert [x.account for x in journal.lines_for(ACCOUNTS, movement("CASH_RETURN", "1.00", 4))] == ["1001", "1221"]
    assert [x.account for x in journal.lines_for(ACCOUNTS, movement("SALARY_DEDUCTION", "1.00", 5))] == ["2211", "1221"]
    assert [x.account for x in journal.lines_for(ACCOUNTS, movement("WRITE_OFF", "1.00", 6))] == ["6602", "1221"]
    red = journal.lines_for(ACCOUNTS, movement("REVERSAL", "0.01", 7, reverses="CASH_RETURN"))
    assert [(x.account, x.debit, x.credit) for x in red] == [
        ("1001", Decimal("-0.01"), Decimal("0.00")), ("1221", Decimal("0.00"), Decimal("-0.01"))]


def test_summary_names_the_document_and_reference_and_fits_u8():
    text = journal.summary(movement("REVERSAL", "1.00", 42, reverses="SALARY_DEDUCTION"))
    assert text == "冲销工资扣回借款 JK-2026-000001/L42 张三"
    long = journal.Movement("OFFSET", START, Decimal("1"), "BX-2026-000001", "L1", "S1", "名" * 80, "SALES", "销售部")
    assert len(journal.summary(long)) == journal.SUMMARY_MAX


def test_vouchers_are_numbered_per_period():
    feb = START + timedelta(days=10)
    vouchers = journal.build_vouchers([movement("CASH_RETURN", "1.00", 3, feb), movement("DISBURSEMENT", "5.00", 1),
                                       movement("CASH_RETURN", "1.00", 2), movement("CASH_RETURN", "2.00", 4, feb)],
                                      ACCOUNTS)
    assert [(v.period, v.number, v.reference) for v in vouchers] == [
        ("2026-01", 1, "L1"), ("2026-01", 2, "L2"), ("2026-02", 1, "L3"), ("2026-02", 2, "L4")]


# ---------------------------------------------------------------- random histories


@st.composite
def histories(draw):
    """A loan's life as the ledger allows it: reductions never exceed the balance; reversals undo a settlement."""
    amount = draw(st.integers(1, 10_000_00))
    balance = amount
    ref = 1
    day = START
    out = [movement("DISBURSEMENT", str(Decimal(amount) / 100), ref, day)]
    settled: list[tuple[str, int]] = []
    for _ in range(draw(st.integers(0, 12))):
        ref += 1
        day += timedelta(days=draw(st.integers(0, 20)))
        choice = draw(st.sampled_from(["OFFSET", "CASH_RETURN", "SALARY_DEDUCTION", "WRITE_OFF", "REVERSAL", "PAY"]))
        if choice == "REVERSAL":
            if not settled:
                continue
            kind, fen = settled.pop(draw(st.integers(0, len(settled) - 1)))
            balance += fen
            out.append(movement("REVERSAL", str(Decimal(fen) / 100), ref, day, reverses=kind))
        elif choice == "PAY":
            fen = draw(st.integers(1, 5_000_00))
            out.append(movement("REIMBURSEMENT_PAYMENT", str(Decimal(fen) / 100), ref, day,
                                dept=draw(st.sampled_from(["SALES", "FIN"])), doc="BX-2026-000001"))
        elif balance > 0:
            fen = draw(st.integers(1, balance))
            balance -= fen
            out.append(movement(choice, str(Decimal(fen) / 100), ref, day, dept=draw(st.sampled_from(["SALES", "FIN"]))))
            if choice != "OFFSET":
                settled.append((choice, fen))
    return out, Decimal(balance) / 100


@settings(max_examples=200, deadline=None)
@given(histories())
def test_every_voucher_balances_and_1221_is_the_ledger_balance(history):
    movements, outstanding = history
    vouchers = journal.build_vouchers(movements, ACCOUNTS)
    assert all(v.balanced for v in vouchers)
    assert all(line.debit.as_tuple().exponent == -2 and line.credit.as_tuple().exponent == -2
               for v in vouchers for line in v.lines)
    advance = sum((line.debit - line.credit for v in vouchers for line in v.lines if line.account == "1221"),
                  Decimal("0.00"))
    assert advance == outstanding
    count, lines, debit, credit = totals(vouchers)
    assert (count, lines, debit) == (len(movements), 2 * len(movements), credit)


# ---------------------------------------------------------------- the files, parsed back by their layouts


def _sample():
    return journal.build_vouchers([
        movement("DISBURSEMENT", "1234.56", 1), movement("OFFSET", "200.00", 2),
        journal.Movement("REIMBURSEMENT_PAYMENT", START, Decimal("35.50"), "BX-2026-000007", "P7", "S1", "张三,李",
                         "SALES", "销售部"),
        movement("REVERSAL", "0.05", 3, reverses="CASH_RETURN"),
    ], ACCOUNTS)


def test_kingdee_xlsx_parses_back():
    data = kingdee_xlsx(_sample())
    assert data == kingdee_xlsx(_sample())  # reproducible bytes
    rows = list(load_workbook(io.BytesIO(data), read_only=True).active.iter_rows(values_only=True))
    assert tuple(rows[0]) == KINGDEE_COLUMNS
    records = [dict(zip(KINGDEE_COLUMNS, r, strict=True)) for r in rows[1:]]
    assert len(records) == 8
    # Ordered by (date, document, reference): the claim BX-… first, then the loan's movements.
    assert [r["FNUM"] for r in records] == [1, 1, 2, 2, 3, 3, 4, 4]
    first = next(r for r in records if "JK-2026-000001/L1 " in r["FEXP"] and r["FENTRYID"] == 0)
    assert (first["FDATE"], first["FPERIOD"], first["FGROUP"], first["FNUM"], first["FENTRYID"]) == (
        "2026-01-25", 1, "记", 2, 0)
    assert (first["FACCTID"], first["FCLSNAME1"], first["FOBJID1"], first["FOBJNAME1"]) == ("1221", "职员", "S1", "张三")
    assert (first["FDC"], first["FDEBIT"], first["FCREDIT"], first["FTRANSID"]) == (1, "1234.56", "0.00", "JK-2026-000001")
    by_voucher: dict[int, Decimal] = {}
    for r in records:
        by_voucher[r["FNUM"]] = by_voucher.get(r["FNUM"], Decimal(0)) + Decimal(r["FDEBIT"]) - Decimal(r["FCREDIT"])
        assert r["FFCYAMT"] == (r["FDEBIT"] if r["FDC"] == 1 else r["FCREDIT"])
    assert set(by_voucher.values()) == {Decimal("0.00")}
    assert [r["FENTRYID"] for r in records] == [0, 1] * 4


def test_u8_text_is_gbk_comma_separated_and_parses_back():
    data = u8_text(_sample())
    text = data.decode("gbk")
    assert text.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert all(len(r) == len(U8_COLUMNS) for r in rows) and len(rows) == 8
    records = [dict(zip(U8_COLUMNS, r, strict=True)) for r in rows]
    loan = [r for r in records if "/L1 " in r["摘要"]]
    assert loan[0]["制单日期"] == "2026-01-25" and loan[0]["凭证类别字"] == "记" and loan[0]["凭证号"] == "2"
    assert loan[0]["科目编码"] == "1221" and loan[0]["个人编码"] == "S1" and loan[0]["借方"] == "1234.56"
    assert loan[1]["科目编码"] == "1002" and loan[1]["贷方"] == "1234.56" and loan[1]["个人编码"] == ""
    offset = [r for r in records if "/L2 " in r["摘要"]]
    assert offset[0]["部门编码"] == "SALES" and offset[0]["科目编码"] == "6601"
    payment = [r for r in records if "BX-2026-000007" in r["摘要"]]
    assert payment and "张三，李" in payment[0]["摘要"]  # the comma in a name cannot split the line
    vouchers: dict[str, Decimal] = {}
    for r in records:
        key = r["制单日期"] + r["凭证类别字"] + r["凭证号"]
        vouchers[key] = vouchers.get(key, Decimal(0)) + Decimal(r["借方"]) - Decimal(r["贷方"])
    assert len(vouchers) == 4 and set(vouchers.values()) == {Decimal("0.00")}
    red = [r for r in records if r["摘要"].startswith("冲销")]
    assert [r["借方"] for r in red] == ["-0.05", "0.00"]
