"""The risk pages through the real app: 风险预警 filters, the employee's score with its factors ("why this
score"), alert history and business records (recording one, never for oneself), and the risk settings."""

from __future__ import annotations

from datetime import timedelta

from server import queue
from server.models import Alert, AuditEntry, BusinessRecord, CompanySetting, Department
from server.services import risk as risk_service
from server.services.base import today
from tests.factories import make_org
from tests.jobs.conftest import job_settings, run_burst  # noqa: F401 (fixtures)
from tests.jobs.risk_helpers import loan
from tests.web.conftest import text_of


async def overdue_alert(people, days: int = 40) -> Alert:
    await loan(people.sales, "4000.00", applied_on=today() - timedelta(days=days + 15),
               settle_on=today() - timedelta(days=days))
    await risk_service.scan(today())
    return await Alert.get(kind="OVERDUE")


async def test_alerts_page_filters_by_severity_department_position_and_state(browser, db):
    people = await make_org()
    alert = await overdue_alert(people)
    await browser.login("finance")
    page = await browser.get("/alerts?severity=CRITICAL")
    assert page.status_code == 200 and f'id="a-{alert.id}"' in page.text
    assert "风险预警" in page.text and 'name="pauseUntil"' in page.text
    assert f'id="a-{alert.id}"' not in (await browser.get("/alerts?severity=WARNING")).text
    sales_dept = (await Department.get(code="SALES")).id
    fin_dept = (await Department.get(code="FIN")).id
    assert f'<option value="{sales_dept}">销售部</option>' in page.text
    assert f'id="a-{alert.id}"' in (await browser.get(f"/alerts?department={sales_dept}")).text
    assert f'id="a-{alert.id}"' not in (await browser.get(f"/alerts?department={fin_dept}")).text
    assert f'id="a-{alert.id}"' not in (await browser.get("/alerts?show=resolved")).text
    assert (await browser.get("/alerts?severity=NOPE")).status_code == 400
    assert (await browser.get("/alerts?position=x1")).status_code == 400


async def test_employee_sees_own_score_and_why(browser, db):
    people = await make_org()
    await overdue_alert(people)
    await browser.login("sales")
    page = await browser.get(f"/employees/{people.sales}/risk")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "为什么是这个分数" in text and "当前逾期" in text and "逾期 40 天的借款 1 笔，未还 4,000.00" in text
    assert "+40" in text and "不会自动驳回" in text
    assert "登记业务记录" not in text  # an employee records nothing
    # Another employee's panel is not theirs to see.
    assert (await browser.get(f"/employees/{people.finance}/risk")).status_code == 403


async def test_clean_history_scores_zero(browser, db):
    people = await make_org()
    await browser.login("manager")
    text = text_of((await browser.get(f"/employees/{people.sales}/risk")).text)
    assert "0 / 100" in text and "记录良好，没有扣分因素。" in text


async def test_finance_records_business_but_not_for_themself(browser, db):
    people = await make_org()
    await browser.login("finance")
    page = await browser.get(f"/employees/{people.sales}/risk")
    assert "登记业务记录" in page.text
    response = await browser.client.post(f"/employees/{people.sales}/business", data={
        "csrf_token": browser.csrf, "employeeNo": "S1", "kind": "销售合同", "reference": "HT-2026-001",
        "amount": "120000.00", "signedOn": today().isoformat()})
    assert response.status_code == 303
    record = await BusinessRecord.get(reference="HT-2026-001")
    assert (record.employee_id, record.amount_fen, record.created_by_id is not None) == (people.sales, 12_000_000, True)
    assert await AuditEntry.filter(action="business_record.create").count() == 1
    listed = text_of((await browser.get(f"/employees/{people.sales}/risk")).text)
    assert "HT-2026-001" in listed and "120,000.00" in listed
    again = await browser.client.post(f"/employees/{people.sales}/business", data={
        "csrf_token": browser.csrf, "employeeNo": "S1", "kind": "销售合同", "reference": "HT-2026-001",
        "amount": "1.00", "signedOn": today().isoformat()})
    assert again.status_code == 422 and "同类型、同编号" in again.text
    own = await browser.get(f"/employees/{people.finance}/risk")
    assert "登记业务记录" not in own.text
    mine = await browser.client.post(f"/employees/{people.finance}/business", data={
        "csrf_token": browser.csrf, "employeeNo": "F1", "kind": "订单", "reference": "DD-1", "amount": "10.00",
        "signedOn": today().isoformat()})
    assert mine.status_code == 403
    assert not await BusinessRecord.filter(employee_id=people.finance).exists()


async def test_admin_changes_a_risk_rule_on_the_settings_page(browser, db):
    await make_org()
    await browser.login("admin")
    page = await browser.get("/admin/settings")
    assert 'id="risk"' in page.text and "REMINDER_INTERVAL_DAYS" in page.text and "风险规则" in page.text
    response = await browser.client.post("/admin/settings/risk", data={
        "csrf_token": browser.csrf, "key": "REMINDER_INTERVAL_DAYS", "value": "3"})
    assert response.status_code == 303
    assert (await CompanySetting.get(key="REMINDER_INTERVAL_DAYS")).value == 3
    entry = await AuditEntry.get(action="setting.update")
    assert entry.before == {"key": "REMINDER_INTERVAL_DAYS", "value": 7}
    bad = await browser.client.post("/admin/settings/risk", data={
        "csrf_token": browser.csrf, "key": "REMINDER_INTERVAL_DAYS", "value": "-1"})
    assert bad.status_code == 422


async def test_loan_page_shows_its_alert(browser, db):
    people = await make_org()
    alert = await overdue_alert(people)
    await browser.login("finance")
    page = await browser.get(f"/loans/{alert.loan_id}")
    assert page.status_code == 200 and 'id="loan-alerts"' in page.text and "借款逾期" in text_of(page.text)


async def test_finance_starts_a_scan_from_the_alerts_page(browser, db, job_settings, run_burst):  # noqa: F811
    # An earlier page test may have opened the queue's pool on the session's queue: reopen it on this test's.
    await queue.close_pool()
    people = await make_org()
    await loan(people.sales, "1000.00", applied_on=today() - timedelta(days=30), settle_on=today() - timedelta(days=3))
    await browser.login("finance")
    page = await browser.get("/alerts")
    assert 'action="/alerts/scan"' in page.text
    response = await browser.client.post("/alerts/scan", data={"csrf_token": browser.csrf})
    assert response.status_code == 303
    target = response.headers["location"]
    assert "scan=" in target
    queued = text_of((await browser.get(target)).text)
    assert "风险扫描进行中" in queued
    await run_burst()
    done = text_of((await browser.get(target)).text)
    assert "风险扫描完成：新增预警 1 条，发送提醒 1 条。" in done
    browser.client.cookies.clear()
    await browser.login("sales")
    assert 'action="/alerts/scan"' not in (await browser.get("/alerts")).text
    assert (await browser.client.post("/alerts/scan", data={"csrf_token": browser.csrf})).status_code == 403
