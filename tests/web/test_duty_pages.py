"""Separation of duties through the pages: a forbidden form post shows the refusal and changes nothing."""

from __future__ import annotations

from datetime import date

from server.models import ApprovalStep, AuditEntry, CompanySetting, LedgerEntry, Loan, Notification, Position, User
from server.services import company, org, sessions
from server.services import loans as loan_service
from server.services.base import SYSTEM
from tests.factories import make_org
from tests.web.conftest import text_of
from tests.web.test_admin import POSITION_FORM


async def viewer(username: str):
    return sessions.viewer_for(await User.get(username=username))


async def snapshot() -> tuple:
    return (
        await AuditEntry.all().count(), await LedgerEntry.all().count(),
        sorted(await Loan.all().values_list("id", "status")),
        sorted(await Position.all().values_list("id", "loan_limit_fen", "approval_chain")),
        sorted((u, sorted(r)) for u, r in await User.all().values_list("id", "roles")),
        await CompanySetting.all().count(), await Notification.all().count(),
        await ApprovalStep.filter(decision__not_isnull=True).count(),
    )


async def approved_loan() -> Loan:
    loan = await loan_service.apply_for_loan(await viewer("sales"), loan_service.LoanApplication(
        amount="1000.00", purpose="CLIENT_VISIT", description="拜访客户"))
    await loan_service.decide_loan(await viewer("manager"), loan.id, "APPROVE", "同意")
    await loan_service.decide_loan(await viewer("finance"), loan.id, "APPROVE", None)
    return loan


async def test_hr_posting_a_position_is_refused_and_nothing_changes(browser, db):
    await make_org()
    await browser.login("hr")
    await browser.get("/admin/positions/SALES")
    before = await snapshot()
    response = await browser.post("/admin/positions", {**POSITION_FORM, "loanLimit": "5000000.00", "chain_1": "HR",
                                                       "chain_2": ""})
    assert response.status_code == 422
    assert "需要以下角色之一：ADMIN" in text_of(response.text)
    assert await snapshot() == before
    # HR reads the policy and its history but is not offered the edit link.
    listing = await browser.get("/admin/positions")
    assert 'href="/admin/positions/new"' not in listing.text
    assert "变更记录" in text_of(listing.text)


async def test_position_page_shows_who_changed_what_when(browser, db):
    await make_org()
    await org.upsert_position(SYSTEM, org.PositionData("RSM", "区域销售经理", 6, "20000.00", None, 30,
                                                       ["SUPERVISOR", "FINANCE"]))
    await browser.login("admin")
    await browser.get("/admin/positions/RSM")
    response = await browser.post("/admin/positions", {
        **POSITION_FORM, "code": "RSM", "name": "区域销售经理", "level": "6", "loanLimit": "15000.00",
        "settleDays": "30"})
    assert response.status_code == 303
    page = await browser.get("/admin/positions/RSM")
    text = text_of(page.text)
    assert 'id="position-history"' in page.text
    assert "借款额度：20,000.00 → 15,000.00" in text and "admin" in text
    assert "创建岗位" in text


async def test_admin_without_finance_cannot_disburse_from_the_page(browser, db):
    await make_org()
    loan = await approved_loan()
    await browser.login("admin")
    await browser.get("/")
    before = await snapshot()
    response = await browser.post(f"/finance/{loan.id}/disburse")
    assert response.status_code == 422  # shown beside the loan on the finance page
    assert "需要以下角色之一：FINANCE" in text_of(response.text)
    assert await snapshot() == before


async def test_hr_granting_finance_on_the_edit_page_is_refused(browser, db):
    await make_org()
    sales = await User.get(username="sales")
    await browser.login("hr")
    form = await browser.get(f"/admin/employees/{sales.employee_id}")
    assert form.status_code == 200 and 'value="8000.00"' in form.text
    before = await snapshot()
    response = await browser.post(f"/admin/employees/{sales.employee_id}", {
        "name": "张三", "departmentCode": "SALES", "regionCode": "XA", "positionCode": "SALES",
        "supervisorNo": "M1", "monthlySalary": "8000.00", "roles": ["EMPLOYEE", "FINANCE"]})
    assert response.status_code == 422
    assert "只有管理员可以授予或撤销 FINANCE" in text_of(response.text)
    assert await snapshot() == before


async def test_admin_grants_a_role_on_the_edit_page_and_auditors_are_told(browser, db):
    await make_org()
    await org.create_employee(SYSTEM, org.EmployeeData(
        employee_no="A1", name="钱审计", department_code="FIN", region_code="XA", position_code="STAFF",
        supervisor_no="M1", monthly_salary="9000.00", hire_date=date(2024, 1, 1), username="auditor",
        password="long-enough-1", roles=["EMPLOYEE", "AUDITOR"]))
    sales = await User.get(username="sales")
    await browser.login("admin")
    await browser.get(f"/admin/employees/{sales.employee_id}")
    response = await browser.post(f"/admin/employees/{sales.employee_id}", {
        "name": "张三", "departmentCode": "SALES", "regionCode": "XA", "positionCode": "SALES",
        "supervisorNo": "M1", "monthlySalary": "8000.00", "roles": ["EMPLOYEE", "SUPERVISOR"]})
    assert response.status_code == 303
    assert sorted((await User.get(username="sales")).roles) == ["EMPLOYEE", "SUPERVISOR"]
    assert await Notification.filter(user__username="auditor").count() == 0  # SUPERVISOR: not a privileged grant
    response = await browser.post(f"/admin/employees/{sales.employee_id}", {
        "name": "张三", "departmentCode": "SALES", "regionCode": "XA", "positionCode": "SALES",
        "supervisorNo": "M1", "monthlySalary": "8000.00", "roles": ["EMPLOYEE", "FINANCE"]})
    assert response.status_code == 303
    assert await Notification.filter(user__username="auditor").count() == 1


async def test_four_eyes_setting_on_the_settings_page(browser, second_browser, db):
    await make_org()
    await browser.login("hr")
    page = await browser.get("/admin/settings")
    assert "FOUR_EYES_PAYOUT" in page.text and "关闭" in text_of(page.text)
    before = await snapshot()
    response = await browser.post("/admin/settings", {"key": "FOUR_EYES_PAYOUT", "value": "1"})
    assert response.status_code == 403
    assert await snapshot() == before

    admin = second_browser
    await admin.login("admin")
    await admin.get("/admin/settings")
    response = await admin.post("/admin/settings", {"key": "FOUR_EYES_PAYOUT", "value": "1"})
    assert response.status_code == 303
    assert (await CompanySetting.get(key="FOUR_EYES_PAYOUT")).value is True
    assert await AuditEntry.filter(action="setting.update", actor="admin").count() == 1
    assert "开启" in text_of((await admin.get("/admin/settings")).text)


async def test_four_eyes_refusal_on_the_finance_page(browser, db):
    await make_org()
    await company.set_setting(SYSTEM, company.FOUR_EYES_PAYOUT, True)
    # The finance clerk who approved the loan may not disburse it now.
    loan = await approved_loan()
    await browser.login("finance")
    await browser.get("/finance")
    before = await snapshot()
    response = await browser.post(f"/finance/{loan.id}/disburse")
    assert response.status_code == 422
    assert "四眼原则" in text_of(response.text)
    assert await snapshot() == before


async def test_the_applicant_sees_why_their_loan_is_blocked(browser, second_browser, db):
    await make_org()
    # Remove FINANCE from its only holder: the finance step can be decided by nobody.
    finance = await User.get(username="finance")
    await org.update_employee(SYSTEM, finance.employee_id, org.EmployeeChange(roles=["EMPLOYEE"]))
    loan = await loan_service.apply_for_loan(await viewer("sales"), loan_service.LoanApplication(
        amount="1000.00", purpose="CLIENT_VISIT", description="拜访客户"))
    await loan_service.decide_loan(await viewer("manager"), loan.id, "APPROVE", "同意")
    await browser.login("sales")
    page = await browser.get(f"/loans/{loan.id}")
    assert 'id="blocked-reason"' in page.text
    assert "没有其他 FINANCE 角色的人员可以审批此步骤" in text_of(page.text)
    # And on the position page, for the admin.
    await second_browser.login("admin")
    page = await second_browser.get("/admin/positions/SALES")
    assert 'id="blocked-loans"' in page.text and loan.number in page.text



async def test_finance_cannot_disburse_their_own_loan_from_the_page(browser, db):
    people = await make_org()
    # The finance clerk's own loan (STAFF: the supervisor's approval alone makes it APPROVED).
    own = await loan_service.apply_for_loan(await viewer("finance"), loan_service.LoanApplication(
        amount="800.00", purpose="TRAVEL", description="出差"))
    await loan_service.decide_loan(await viewer("manager"), own.id, "APPROVE", "同意")
    assert (await Loan.get(id=own.id)).status == "APPROVED"
    await browser.login("finance")
    await browser.get("/finance")
    before = await snapshot()
    response = await browser.post(f"/finance/{own.id}/disburse")
    assert response.status_code == 422
    assert await snapshot() == before
    assert await LedgerEntry.filter(loan_id=own.id).count() == 0
    # Another FINANCE holder may.
    await org.update_employee(SYSTEM, people.hr, org.EmployeeChange(roles=["EMPLOYEE", "HR", "FINANCE"]))
    await loan_service.disburse_loan(await viewer("hr"), own.id)
    assert (await Loan.get(id=own.id)).status == "DISBURSED"
    assert await LedgerEntry.filter(loan_id=own.id, kind="DISBURSEMENT").count() == 1
