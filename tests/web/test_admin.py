"""Organization pages: positions (loan policy, approval chain), departments, regions, employees."""

from __future__ import annotations

import html
import re

from server.models import AuditEntry, Department, Employee, Position
from server.services import sessions
from tests.factories import make_org
from tests.web.conftest import text_of

POSITION_FORM = {
    "code": "SALES", "name": "销售", "level": "3", "loanLimit": "10000.00", "monthlyLoanLimit": "",
    "settleDays": "15", "chain_1": "SUPERVISOR", "chain_2": "FINANCE", "existing": "1",
}


def field_error(page: str, name: str) -> str | None:
    found = re.search(rf'<small class="err" id="e-{name}">([^<]*)</small>', page)
    return html.unescape(found.group(1)) if found else None


async def test_positions_page_lists_policy_with_chart(browser, db):
    await make_org()
    await browser.login("admin")
    page = await browser.get("/admin/positions")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "借款额度对比" in text and "10,000.00" in text and "30,000.00" in text
    assert "直属上级 → 财务" in text
    assert page.text.count('<svg class="bar"') == 3  # one bar per position


async def test_position_edit_with_invalid_amount_shows_inline_error(browser, db):
    await make_org()
    await browser.login("admin")
    form = await browser.get("/admin/positions/SALES")
    assert 'value="10000.00"' in form.text
    response = await browser.post("/admin/positions", {**POSITION_FORM, "loanLimit": "10.001"})
    assert response.status_code == 422
    assert field_error(response.text, "loanLimit") == "金额最多两位小数"
    assert 'value="10.001"' in response.text  # what was typed is kept
    assert (await Position.get(code="SALES")).loan_limit_fen == 1_000_000
    assert await AuditEntry.filter(action="position.update").count() == 0


async def test_position_edit_with_non_number_names_the_field(browser, db):
    await make_org()
    await browser.login("admin")
    response = await browser.post("/admin/positions", {**POSITION_FORM, "settleDays": "abc"})
    assert response.status_code == 422
    assert field_error(response.text, "settleDays") == "请输入整数"
    response = await browser.post("/admin/positions", {**POSITION_FORM, "settleDays": "400"})
    assert field_error(response.text, "settleDays") == "settleDays 须在 1 到 365 之间"


async def test_position_edit_htmx_returns_the_form_block(browser, db):
    await make_org()
    await browser.login("admin")
    response = await browser.client.post("/admin/positions", data={**POSITION_FORM, "loanLimit": "-5"},
                                         headers={"HX-Request": "true", "X-CSRF-Token": browser.csrf})
    assert response.status_code == 200
    assert "<html" not in response.text and 'id="position-form"' in response.text
    assert field_error(response.text, "loanLimit") == "金额须大于 0"


async def test_position_edit_saves_limit_and_chain(browser, db):
    await make_org()
    await browser.login("admin")
    response = await browser.post("/admin/positions", {
        **POSITION_FORM, "loanLimit": "12000", "monthlyLoanLimit": "6000.00", "chain_1": "FINANCE", "chain_2": "",
        "chain_3": "ADMIN"})
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/positions?saved=SALES"
    position = await Position.get(code="SALES")
    assert (position.loan_limit_fen, position.monthly_limit_fen) == (1_200_000, 600_000)
    assert position.approval_chain == ["FINANCE", "ADMIN"]
    assert await AuditEntry.filter(action="position.update", actor="admin").count() == 1
    text = text_of((await browser.get("/admin/positions?saved=SALES")).text)
    assert "已保存：SALES" in text and "12,000.00" in text and "财务 → 管理员" in text


async def test_new_position_with_empty_chain_is_refused(browser, db):
    await make_org()
    await browser.login("admin")
    response = await browser.post("/admin/positions", {
        "code": "NEW", "name": "新岗位", "level": "2", "loanLimit": "1000", "settleDays": "10", "existing": "0"})
    assert response.status_code == 422
    assert "审批链至少需要一步" in text_of(response.text)
    assert not await Position.filter(code="NEW").exists()


async def test_departments_and_regions_through_the_form(browser, db):
    await make_org()
    await browser.login("hr")
    response = await browser.post("/admin/departments", {"code": "ENG", "name": "技术部"})
    assert response.status_code == 303
    assert (await Department.get(code="ENG")).name == "技术部"
    assert "技术部" in text_of((await browser.get("/admin/departments")).text)
    bad = await browser.post("/admin/regions", {"code": "a b", "name": "西北"})
    assert bad.status_code == 422
    assert field_error(bad.text, "code") == "code 须为 1–32 个字母、数字、'-'、'_' 或 '.'"


async def test_employee_cannot_change_org_data_through_the_pages(browser, db):
    await make_org()
    await browser.login("sales")
    page = await browser.get("/admin/departments")
    assert 'action="/admin/departments"' not in page.text  # no form for a non-editor
    response = await browser.post("/admin/departments", {"code": "X", "name": "X"})
    assert response.status_code == 403
    assert "需要以下角色之一" in text_of(response.text)
    assert not await Department.filter(code="X").exists()


async def test_employee_list_search_fragment(browser, db):
    await make_org()
    await browser.login("admin")
    page = await browser.get("/admin/employees")
    text = text_of(page.text)
    assert "张三" in text and "赵财务" in text and "共 4 人" in text
    fragment = await browser.client.get("/admin/employees?q=张", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and 'id="results"' in fragment.text
    assert "张三" in fragment.text and "赵财务" not in fragment.text
    assert "HX-Request" in fragment.headers["vary"]


async def test_create_employee_with_inline_errors_then_success(browser, db):
    await make_org()
    await browser.login("admin")
    form = {
        "employeeNo": "S2", "name": "王五", "departmentCode": "SALES", "regionCode": "XA", "positionCode": "SALES",
        "supervisorNo": "M1", "monthlySalary": "7000.00", "hireDate": "2025-03-01", "username": "sales",
        "password": "short", "roles": ["EMPLOYEE"],
    }
    response = await browser.post("/admin/employees", form)
    assert response.status_code == 422
    assert field_error(response.text, "password") == "密码至少 8 位"
    response = await browser.post("/admin/employees", {**form, "password": "long-enough-1"})
    assert response.status_code == 422
    assert field_error(response.text, "username") == "用户名 sales 已存在"
    assert 'value="王五"' in response.text
    response = await browser.post("/admin/employees", {**form, "password": "long-enough-1", "username": "wangwu",
                                                      "roles": ["EMPLOYEE", "SUPERVISOR"]})
    assert response.status_code == 303
    employee = await Employee.get(employee_no="S2").prefetch_related("user")
    assert employee.name == "王五"
    text = text_of((await browser.get(response.headers["location"])).text)
    assert "已创建员工：S2" in text and "王五" in text


async def test_create_employee_with_unknown_department_names_the_field(browser, db):
    await make_org()
    await browser.login("hr")
    response = await browser.post("/admin/employees", {
        "employeeNo": "S3", "name": "赵六", "departmentCode": "NOPE", "regionCode": "XA", "positionCode": "SALES",
        "monthlySalary": "7000.00", "hireDate": "2025-03-01", "username": "zhaoliu", "password": "long-enough-1"})
    assert response.status_code == 422
    assert field_error(response.text, "departmentCode") == "未知的部门 NOPE"
    assert not await Employee.filter(employee_no="S3").exists()


async def test_hr_granting_admin_sees_the_refusal_above_the_form(browser, db):
    await make_org()
    await browser.login("hr")
    response = await browser.post("/admin/employees", {
        "employeeNo": "S4", "name": "钱七", "departmentCode": "SALES", "regionCode": "XA", "positionCode": "SALES",
        "monthlySalary": "7000.00", "hireDate": "2025-03-01", "username": "qianqi", "password": "long-enough-1",
        "roles": ["EMPLOYEE", "ADMIN"]})
    assert response.status_code == 422
    text = text_of(response.text)
    assert "只有管理员可以授予或撤销 ADMIN" in text and 'value="钱七"' in response.text
    assert not await Employee.filter(employee_no="S4").exists()


async def test_an_input_the_api_refuses_is_shown_at_its_field(browser, db):
    """A value the GraphQL layer itself refuses (an unknown role) names the field through the error's path."""
    await make_org()
    await browser.login("admin")
    response = await browser.post("/admin/employees", {
        "employeeNo": "S5", "name": "孙八", "departmentCode": "SALES", "regionCode": "XA", "positionCode": "SALES",
        "monthlySalary": "7000.00", "hireDate": "2025-03-01", "username": "sunba", "password": "long-enough-1",
        "roles": ["EMPLOYEE", "BOGUS"]})
    assert response.status_code == 422
    assert "BOGUS" in (field_error(response.text, "roles") or "")
    assert not await Employee.filter(employee_no="S5").exists()


async def test_hr_gets_an_offboarding_link_for_each_active_employee(browser, db):
    from server.models import User
    from server.services import offboarding as offboarding_service
    from server.services.base import today

    people = await make_org()
    hr = sessions.viewer_for(await User.get(username="hr"))
    await offboarding_service.start_offboarding(hr, people.sales, today(), "合同到期")
    await browser.login("hr")
    page = await browser.get("/admin/employees")
    links = set(re.findall(r'href="/offboarding/new\?employee=(\d+)">办理离职<', page.text))
    assert links == {str(people.manager), str(people.finance)}  # not the leaver
    # HR's own row (viewerCan.startOffboarding: one may resign) leads to the resignation form.
    assert 'href="/offboarding/resign">办理离职<' in page.text
    # The link opens the start form with that employee chosen.
    start = await browser.get(f"/offboarding/new?employee={people.manager}")
    assert start.status_code == 200
    # The search fragment carries the links too.
    fragment = await browser.client.get("/admin/employees?q=李", headers={"HX-Request": "true"})
    assert f'href="/offboarding/new?employee={people.manager}"' in fragment.text


async def test_no_offboarding_link_for_those_who_may_not_start_one(browser, second_browser, db):
    await make_org()
    await browser.login("admin")  # ADMIN without HR: the service would refuse
    listing = await browser.get("/admin/employees")
    assert listing.status_code == 200 and "张三" in listing.text
    assert "/offboarding/new?employee=" not in listing.text
    await second_browser.login("finance")
    listing = await second_browser.get("/admin/employees")
    assert listing.status_code == 200 and "张三" in listing.text
    assert "/offboarding/new?employee=" not in listing.text
