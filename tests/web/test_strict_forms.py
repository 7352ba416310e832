"""The pages show the API's strict-input messages beside their fields (issue 8), and store nothing."""

from __future__ import annotations

from datetime import timedelta

from server.models import Department, Employee, Loan
from server.services.base import today
from tests.factories import make_org
from tests.web.conftest import text_of
from tests.web.test_admin import field_error

EMPLOYEE_FORM = {
    "employeeNo": "S9", "name": "赵九", "departmentCode": "SALES", "regionCode": "XA", "positionCode": "SALES",
    "monthlySalary": "7000.00", "hireDate": "2025-03-01", "username": "zhaojiu", "password": "long-enough-1",
}


async def test_loan_form_shows_amount_description_and_date_limits(browser, db):
    await make_org()
    await browser.login("sales")
    await browser.get("/loans/new")
    cases = [
        ({"amount": "１２００"}, "amount", "金额须为最多两位小数的数字"),
        ({"amount": "-5"}, "amount", "金额须大于 0"),
        ({"amount": "1e3"}, "amount", "金额须为最多两位小数的数字"),
        ({"description": "长" * 2001}, "description", "description 不能超过 2000 个字符"),
        ({"expectedSettleDate": (today() + timedelta(days=366)).isoformat()}, "expectedSettleDate",
         "预计报销日期不能晚于一年之后"),
    ]
    for change, field, message in cases:
        form = {"amount": "100.00", "purpose": "TRAVEL", "description": "拜访客户", **change}
        response = await browser.post("/loans/new", form)
        assert response.status_code == 422, (change, response.status_code)
        assert message in (field_error(response.text, field) or ""), (change, text_of(response.text)[:400])
    assert await Loan.all().count() == 0


async def test_employee_form_shows_hire_date_and_name_limits(browser, db):
    await make_org()
    await browser.login("hr")
    before = await Employee.all().count()
    response = await browser.post("/admin/employees", {**EMPLOYEE_FORM, "hireDate": "1949-12-31"})
    assert response.status_code == 422
    assert field_error(response.text, "hireDate") == "hireDate 不能早于 1950-01-01"
    response = await browser.post("/admin/employees", {**EMPLOYEE_FORM, "name": "名" * 101})
    assert field_error(response.text, "name") == "name 不能超过 100 个字符"
    assert await Employee.all().count() == before


async def test_department_form_refuses_a_nul_byte_beside_the_name(browser, db):
    await make_org()
    await browser.login("hr")
    before = await Department.all().count()
    response = await browser.post("/admin/departments", {"code": "NULL", "name": "财\x00务"})
    assert response.status_code == 422
    assert field_error(response.text, "name") == "name 含有非法字符"
    assert await Department.all().count() == before
