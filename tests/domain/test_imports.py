"""Import rules without a database: header mapping, cells (dates, amounts, roles, statuses, purposes), rows."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from server.domain import imports
from server.domain.vocab import ImportKind

TODAY = date(2026, 12, 1)


def test_headers_in_chinese_or_english_any_order_unknown_and_missing_reported():
    header, errors = imports.map_headers(ImportKind.BUSINESS_RECORDS, ["\ufeff编号", "employeeNo", "金额", "签订日期",
                                                                        "类型", "备注", ""])
    assert header.fields == {0: "reference", 1: "employeeNo", 2: "amount", 3: "signedOn", 4: "kind"}
    assert header.header("reference") == "编号" and header.header("employeeNo") == "employeeNo"
    assert [(e.row, e.column) for e in errors] == [(1, "备注")]
    _, errors = imports.map_headers(ImportKind.BUSINESS_RECORDS, ["工号", "工号"])
    assert {e.column for e in errors} >= {"工号", "类型"}


@pytest.mark.parametrize("raw, expected", [
    ("2025-06-01", date(2025, 6, 1)), ("2025/6/1", date(2025, 6, 1)), ("2025.06.01", date(2025, 6, 1)),
    ("2025年6月1日", date(2025, 6, 1)), ("20250601", date(2025, 6, 1)), (datetime(2025, 6, 1, 0, 0), date(2025, 6, 1)),
    (date(2025, 6, 1), date(2025, 6, 1)),
])
def test_dates(raw, expected):
    assert imports.parse_date(raw, "signedOn") == expected


@pytest.mark.parametrize("raw", ["2025-02-30", "next week", "01/06/2025"])
def test_not_dates(raw):
    with pytest.raises(imports.CellError):
        imports.parse_date(raw, "signedOn")


@pytest.mark.parametrize("raw, expected", [("1200", "1200.00"), ("1,234.56", "1234.56"), ("¥99.9", "99.90"),
                                           (1234.5, "1234.50"), (80, "80.00")])
def test_amounts(raw, expected):
    assert imports.parse_amount(raw, "amount") == Decimal(expected)


@pytest.mark.parametrize("raw", ["12.345", "-5", "abc", "", "0"])
def test_bad_amounts(raw):
    with pytest.raises(Exception):  # noqa: B017 - CellError or ValidationFailed, both domain errors
        imports.parse_amount(raw, "amount")


def test_roles_statuses_purposes():
    assert imports.parse_roles("员工、直属上级") == ["EMPLOYEE", "SUPERVISOR"]
    assert imports.parse_roles("finance; HR") == ["FINANCE", "HR"]
    assert imports.parse_roles("") == ["EMPLOYEE"]
    assert imports.parse_status("离职中") == "OFFBOARDING" and imports.parse_status("") == "ACTIVE"
    assert imports.parse_purpose("市场推广") == imports.parse_purpose("市场活动") == "MARKETING"
    with pytest.raises(imports.CellError):
        imports.parse_roles("老板")


def test_a_loan_row_and_its_rules():
    row = {"number": "JK-2025-000001", "employeeNo": "S1", "amount": "100", "purpose": "差旅", "appliedOn": "2025-01-05",
           "disbursedOn": "2025-01-04", "expectedSettleDate": "2025-01-01", "settledAmount": "200"}
    parsed = imports.parse_loan(row, TODAY)
    fields = {f for f, _ in parsed.problems}
    assert fields == {"number", "disbursedOn", "expectedSettleDate", "settledAmount"}
    ok = imports.parse_loan({**row, "number": "OLD-1", "disbursedOn": "2025-01-05", "expectedSettleDate": "2025-02-01",
                             "settledAmount": ""}, TODAY)
    assert ok.ok and ok.values["settledAmount"] == Decimal("0.00")


def test_an_employee_leaving_needs_a_last_working_day_and_an_active_one_a_username():
    base = {"employeeNo": "E1", "name": "张", "departmentCode": "D", "regionCode": "R", "positionCode": "P",
            "monthlySalary": "1", "hireDate": "2024-01-01"}
    assert {f for f, _ in imports.parse_employee({**base, "status": "已离职"}, TODAY).problems} == {"lastWorkingDay"}
    assert {f for f, _ in imports.parse_employee(base, TODAY).problems} == {"username"}
    assert imports.parse_employee({**base, "status": "已离职", "lastWorkingDay": "2025-01-01"}, TODAY).ok


def test_supervisor_loops_within_a_file():
    assert imports.supervisor_cycles({"A": "B", "B": "C", "C": "A", "D": "A", "E": "F"}) == {"A", "B", "C"}
    assert imports.supervisor_cycles({"A": "A"}) == {"A"}
    assert imports.supervisor_cycles({"A": "B", "B": "M1"}) == set()
