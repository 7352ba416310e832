"""HR edits an employee (issue 12): name, department, region, position, salary, contact, and the supervisor
chosen from a search (HTMX, through the GraphQL employees search) instead of a typed number; every change
audited. The employees list pages by keyset instead of growing to 500 rows."""

from __future__ import annotations

import re

from server.models import AuditEntry, Employee, User
from server.services import org
from server.services.base import SYSTEM
from tests.factories import make_org
from tests.querycount import count_queries
from tests.services.test_reimbursements import colleague
from tests.web.conftest import text_of

HX = {"HX-Request": "true"}


async def test_the_picker_searches_and_the_choice_is_saved_and_audited(browser, db):
    people = await make_org()
    await colleague("S2", "sales2")
    sales = await Employee.get(id=people.sales)
    await browser.login("hr")
    form = await browser.get(f"/admin/employees/{sales.id}")
    assert form.status_code == 200
    assert 'list="supervisors"' not in form.text  # no typed number with every employee in a datalist
    assert re.search(r'name="supervisorNo" value="M1" checked', form.text)  # the current one, chosen
    assert f'hx-get="/admin/employees/{sales.id}/supervisors"' in form.text

    found = await browser.get(f"/admin/employees/{sales.id}/supervisors",
                              params={"supervisor_q": "财务", "supervisorNo": "M1"}, headers=HX)
    assert found.status_code == 200 and "<html" not in found.text
    assert 'value="M1" checked' in found.text  # the choice survives the search
    nobody = await browser.get(f"/admin/employees/{sales.id}/supervisors",
                               params={"supervisor_q": "赵", "supervisorNo": "M1"}, headers=HX)
    assert 'value="F1"' in nobody.text and "赵财务" in text_of(nobody.text)
    self_search = await browser.get(f"/admin/employees/{sales.id}/supervisors",
                                    params={"supervisor_q": "S1", "supervisorNo": "M1"}, headers=HX)
    assert 'value="S1"' not in self_search.text  # never themself

    saved = await browser.post(f"/admin/employees/{sales.id}", {
        "name": "张三丰", "departmentCode": "SALES", "regionCode": "XA", "positionCode": "SALES",
        "supervisorNo": "F1", "monthlySalary": "8500.00", "roles": "EMPLOYEE",
        "email": "zhang@example.com", "phone": "13800000000", "supervisor_q": "赵"})
    assert saved.status_code == 303, saved.text
    sales = await Employee.get(id=people.sales)
    assert (sales.name, sales.supervisor_id, sales.email, sales.phone) == (
        "张三丰", people.finance, "zhang@example.com", "13800000000")
    entry = await AuditEntry.filter(action="employee.update").order_by("-id").first()
    assert entry is not None and entry.actor == "hr"
    assert entry.before["name"] == "张三" and entry.after["name"] == "张三丰"
    assert entry.before["email"] is None and entry.after["email"] == "zhang@example.com"
    assert entry.after["supervisorId"] == people.finance and entry.after["monthlySalary"] == "8500.00"

    again = await browser.get(f"/admin/employees/{sales.id}")
    assert 'value="zhang@example.com"' in again.text and re.search(r'value="F1" checked', again.text)


async def test_no_supervisor_and_a_subordinate_as_supervisor(browser, db):
    people = await make_org()
    await browser.login("admin")
    manager = await Employee.get(id=people.manager)
    base = {"name": manager.name, "departmentCode": "SALES", "regionCode": "XA", "positionCode": "MGR",
            "monthlySalary": "20000.00", "roles": ["EMPLOYEE", "SUPERVISOR"], "email": "", "phone": ""}
    await browser.get(f"/admin/employees/{manager.id}")
    refused = await browser.post(f"/admin/employees/{manager.id}", {**base, "supervisorNo": "S1"})
    assert refused.status_code == 422 and "上级不能是本人或其下属" in text_of(refused.text)
    assert (await Employee.get(id=manager.id)).supervisor_id is None


async def test_hr_cannot_edit_themself_through_the_form(browser, db):
    people = await make_org()
    await browser.login("hr")
    before = await AuditEntry.filter(action="employee.update").count()
    response = await browser.post(f"/admin/employees/{people.hr}", {
        "name": "周人事", "departmentCode": "FIN", "regionCode": "XA", "positionCode": "STAFF",
        "supervisorNo": "", "monthlySalary": "99999.00", "roles": "EMPLOYEE", "email": "", "phone": ""})
    assert response.status_code in (403, 422)
    assert await AuditEntry.filter(action="employee.update").count() == before


async def test_the_employees_list_pages_by_keyset(browser, db, monkeypatch):
    from server.web import admin

    monkeypatch.setattr(admin, "EMPLOYEE_PAGE", 2)
    await make_org()
    for i in range(3):
        await colleague(f"S{i + 2}", f"sales{i + 2}")
    await browser.login("hr")
    first = await browser.get("/admin/employees")
    text = text_of(first.text)
    assert "共 7 人" in text  # the count covers every match, the page shows two
    rows = re.findall(r"<tr>\s*<td data-label=\"工号\"><code>([^<]+)</code>", first.text)
    assert rows == ["F1", "H1"]
    link = re.search(r'href="(/admin/employees\?after=[^"]+)" id="next-employees"', first.text)
    assert link
    second = await browser.get(link.group(1).replace("&amp;", "&"))
    assert re.findall(r"<tr>\s*<td data-label=\"工号\"><code>([^<]+)</code>", second.text) == ["M1", "S1"]
    searched = await browser.get("/admin/employees", params={"q": "sales"})
    assert "共" in text_of(searched.text)


async def test_contact_is_not_shown_to_the_supervisor(gql, db):
    people = await make_org()
    await org.update_employee(SYSTEM, people.sales, org.EmployeeChange(email="s@example.com", phone="139"))
    token = await gql.login("manager")  # the supervisor sees the report, not their private contact
    other = (await gql.ok("query($id: ID!) { employee(id: $id) { name email phone } }",
                          {"id": str(people.sales)}, token))
    assert other["employee"] == {"name": "张三", "email": None, "phone": None}
    own = await gql.ok("{ me { employee { email phone } } }", token=await gql.login("sales"))
    assert own["me"]["employee"] == {"email": "s@example.com", "phone": "139"}
    assert (await User.get(username="sales")).employee_id == people.sales


async def test_a_page_of_employees_costs_the_same_for_one_and_five_rows(gql, db):
    await make_org()
    for i in range(3):
        await colleague(f"S{i + 2}", f"sales{i + 2}")
    token = await gql.login("hr")
    query = """query($n: Int) { employeesPage(first: $n) { totalCount pageInfo { hasNextPage endCursor }
      edges { node { employeeNo name department { name } region { name } position { name }
                     supervisor { name } viewerCan { edit } } } } }"""
    one, few = [await count_queries(gql.ok(query, {"n": n}, token)) for n in (1, 5)]
    assert len(one[0]["employeesPage"]["edges"]) == 1 and len(few[0]["employeesPage"]["edges"]) == 5
    assert one[1] == few[1]
