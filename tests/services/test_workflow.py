"""Workflow notifications through the services: each event reaches the right people only, links to its
object, and the settle reminder is written once per loan and date."""

from __future__ import annotations

from datetime import date, timedelta

from server.domain.messages import Message
from server.i18n import render
from server.models import Loan, Notification, SettleReminder, User
from server.services import company as settings_service
from server.services import loans, offboarding, org, reimbursements, sessions, workflow
from server.services.base import SYSTEM, today
from tests.factories import PASSWORD, make_org


async def viewer(username: str):
    return sessions.viewer_for(await User.get(username=username))


async def inbox() -> dict[str, list[tuple[str, str, str]]]:
    """Every notification so far, per username: (title, body, link) in zh-CN, oldest first."""
    out: dict[str, list[tuple[str, str, str]]] = {}
    for n in await Notification.all().order_by("id").prefetch_related("user"):
        out.setdefault(n.user.username, []).append((n.title, n.body, n.link))
    return out


async def drain() -> dict[str, list[tuple[str, str, str]]]:
    got = await inbox()
    await Notification.all().delete()
    return got


async def second_finance() -> None:
    await org.create_employee(SYSTEM, org.EmployeeData(
        employee_no="F2", name="钱会计", department_code="FIN", region_code="XA", position_code="STAFF",
        supervisor_no="M1", monthly_salary="8000.00", hire_date=date(2024, 1, 1), username="finance2",
        password=PASSWORD, roles=["EMPLOYEE", "FINANCE"],
    ))
    await drain()


async def company():
    """The test company, without the role-change notifications its setup wrote."""
    people = await make_org()
    await drain()
    return people


async def test_loan_from_application_to_settlement(db):
    await company()
    await second_finance()
    sales = await viewer("sales")
    loan = await loans.apply_for_loan(sales, loans.LoanApplication("1200.00", "CLIENT_VISIT", "拜访客户"))
    link = f"/loans/{loan.id}"
    got = await drain()
    # The first step is the supervisor's: only the manager is asked.
    assert list(got) == ["manager"]
    (title, body, where), = got["manager"]
    assert title == f"待您审批：借款 {loan.number}" and where == link
    assert "张三" in body and "1,200.00" in body and "直属上级" in body

    await loans.decide_loan(await viewer("manager"), loan.id, "APPROVE", "同意，尽快拜访")
    got = await drain()
    # The FINANCE step: every finance account (not the applicant, not the manager), with the comment.
    assert sorted(got) == ["finance", "finance2"]
    assert all("上一步审批意见：同意，尽快拜访" in body and where == link for _, body, where in got["finance"])

    await loans.decide_loan(await viewer("finance"), loan.id, "APPROVE")
    got = await drain()
    assert got["sales"] == [(f"借款 {loan.number} 已批准", "您的借款 1,200.00 元已批准，等待财务放款。", link)]
    # Waiting for disbursement: finance, except the one who just approved it.
    assert list(got) == ["sales", "finance2"]
    assert got["finance2"][0][0] == f"借款 {loan.number} 待放款"

    await loans.disburse_loan(await viewer("finance2"), loan.id)
    got = await drain()
    assert list(got) == ["sales"]
    assert got["sales"][0][0] == f"借款 {loan.number} 已放款"
    assert (await Loan.get(id=loan.id)).expected_settle_date.isoformat() in got["sales"][0][1]

    await loans.settle_loan(await viewer("finance"), loan.id, "CASH_RETURN", "200.00", "收据 001")
    got = await drain()
    assert got == {"sales": [(f"借款 {loan.number} 已登记还款 200.00 元", "已登记现金归还 200.00 元，尚欠 1,000.00 元。",
                              link)]}
    await loans.settle_loan(await viewer("finance"), loan.id, "CASH_RETURN", "1000.00", "收据 002")
    got = await drain()
    assert got == {"sales": [(f"借款 {loan.number} 已结清", "已登记现金归还 1,000.00 元，尚欠 0.00 元。", link)]}


async def test_rejection_tells_the_applicant_with_the_comment(db):
    await company()
    loan = await loans.apply_for_loan(await viewer("sales"), loans.LoanApplication("800.00", "TRAVEL", "出差"))
    await drain()
    await loans.decide_loan(await viewer("manager"), loan.id, "REJECT", "本月预算已用完")
    got = await inbox()
    assert got == {"sales": [(f"借款 {loan.number} 被驳回", "您的借款 800.00 元被驳回（直属上级）：本月预算已用完",
                              f"/loans/{loan.id}")]}
    # An English reader gets the stored ids in English.
    row = await Notification.get(user__username="sales")
    assert render(Message.from_json(row.title_data), "en") == f"Loan {loan.number} rejected"


async def test_auto_approved_loan_goes_straight_to_finance(db):
    await company()
    # The manager's chain is FINANCE only; a chain of only a missing supervisor is skipped entirely.
    await org.upsert_position(SYSTEM, org.PositionData("SOLO", "独立岗", 3, "5000.00", None, 15, ["SUPERVISOR"]))
    await org.create_employee(SYSTEM, org.EmployeeData(
        employee_no="X1", name="孤岗", department_code="SALES", region_code="XA", position_code="SOLO",
        supervisor_no=None, monthly_salary="8000.00", hire_date=date(2024, 1, 1), username="solo",
        password=PASSWORD, roles=["EMPLOYEE"],
    ))
    loan = await loans.apply_for_loan(await viewer("solo"), loans.LoanApplication("300.00", "TRAVEL", "出差"))
    assert loan.status == "APPROVED"
    got = await drain()
    assert list(got) == ["finance"] and got["finance"][0][0] == f"借款 {loan.number} 待放款"


async def test_a_finance_applicant_is_not_asked_to_approve_or_pay_their_own_loan(db):
    await company()
    await second_finance()
    loan = await loans.apply_for_loan(await viewer("finance"), loans.LoanApplication("500.00", "TRAVEL", "出差"))
    await drain()
    await loans.decide_loan(await viewer("manager"), loan.id, "APPROVE")  # STAFF chain: SUPERVISOR only
    got = await drain()
    assert list(got) == ["finance", "finance2"]
    assert got["finance"][0][0] == f"借款 {loan.number} 已批准"
    assert got["finance2"][0][0] == f"借款 {loan.number} 待放款"


async def _disbursed(amount: str) -> Loan:
    loan = await loans.apply_for_loan(await viewer("sales"), loans.LoanApplication(amount, "CLIENT_VISIT", "拜访"))
    await loans.decide_loan(await viewer("manager"), loan.id, "APPROVE")
    await loans.decide_loan(await viewer("finance"), loan.id, "APPROVE")
    return await loans.disburse_loan(await viewer("finance"), loan.id)


async def test_reimbursement_offset_approved_paid(db):
    await company()
    loan = await _disbursed("1000.00")
    await drain()
    claim = await reimbursements.submit_reimbursement(await viewer("sales"), reimbursements.ReimbursementData(
        lines=[reimbursements.ExpenseLineData("CLIENT_VISIT", "1500.00", today(), "INV-1", "客户餐费")]))
    link = f"/reimbursements/{claim.id}"
    got = await drain()
    assert list(got) == ["manager"]
    assert got["manager"] == [(f"待您审批：报销单 {claim.number}",
                               "张三 报销 1,500.00 元（冲抵借款 1,000.00 元），等待您审批（直属上级）。", link)]
    await reimbursements.decide_reimbursement(await viewer("manager"), claim.id, "APPROVE", "属实")
    got = await drain()
    assert list(got) == ["finance"] and "上一步审批意见：属实" in got["finance"][0][1]
    await reimbursements.decide_reimbursement(await viewer("finance"), claim.id, "APPROVE")
    got = await drain()
    assert list(got) == ["sales"]
    titles = [t for t, _, _ in got["sales"]]
    assert titles == [f"借款 {loan.number} 已结清", f"报销单 {claim.number} 已批准"]
    assert got["sales"][0][1] == f"报销单 {claim.number} 冲抵借款 1,000.00 元，尚欠 0.00 元。"
    assert got["sales"][0][2] == f"/loans/{loan.id}" and got["sales"][1][2] == link
    assert got["sales"][1][1] == "报销 1,500.00 元已批准，冲抵借款 1,000.00 元，应付 500.00 元，等待财务付款。"
    await reimbursements.pay_reimbursement(await viewer("finance"), claim.id)
    got = await drain()
    assert got == {"sales": [(f"报销单 {claim.number} 已付款", f"报销单 {claim.number} 已付款 500.00 元。", link)]}


async def test_reimbursement_rejected(db):
    await company()
    claim = await reimbursements.submit_reimbursement(await viewer("sales"), reimbursements.ReimbursementData(
        lines=[reimbursements.ExpenseLineData("CLIENT_VISIT", "50.00", today(), None, "午餐")]))
    await drain()
    await reimbursements.decide_reimbursement(await viewer("manager"), claim.id, "REJECT", "缺发票")
    got = await drain()
    assert got == {"sales": [(f"报销单 {claim.number} 被驳回", "您的报销 50.00 元被驳回（直属上级）：缺发票",
                              f"/reimbursements/{claim.id}")]}


async def test_offboarding_start_and_completion_tell_the_employee(db):
    people = await company()
    loan = await _disbursed("700.00")
    await drain()
    off = await offboarding.start_offboarding(await viewer("hr"), people.sales, today() + timedelta(days=10))
    mine = [n for n in await Notification.filter(user__username="sales", alert_id__isnull=True)]
    assert len(mine) == 1
    assert mine[0].title == "您的离职办理已开始" and mine[0].link == f"/offboarding/{off.id}"
    assert "700.00" in mine[0].body and loan.number in mine[0].body
    # The others hear of it through the clearance alert, not a workflow notification.
    assert await Notification.filter(alert_id__isnull=True).exclude(user__username="sales").count() == 0
    await drain()
    await loans.settle_loan(await viewer("finance"), loan.id, "CASH_RETURN", "700.00", "收据")
    await offboarding.confirm_clearance(await viewer("finance"), off.id)
    await drain()
    await offboarding.complete_offboarding(await viewer("hr"), off.id)
    got = await drain()
    assert got == {"sales": [("您的离职办理已完成", f"离职清款已完成，最后工作日 {off.last_working_day.isoformat()}。",
                              f"/offboarding/{off.id}")]}


async def test_resigning_yourself_is_not_notified_to_yourself(db):
    people = await company()
    await offboarding.start_offboarding(await viewer("sales"), people.sales, today() + timedelta(days=10))
    assert await Notification.filter(user__username="sales").count() == 0


async def test_settle_reminder_once_per_date_and_setting(db):
    await company()
    soon = await _disbursed("400.00")
    later = await _disbursed("300.00")
    await Loan.filter(id=soon.id).update(expected_settle_date=today() + timedelta(days=3))
    await Loan.filter(id=later.id).update(expected_settle_date=today() + timedelta(days=4))
    await drain()
    assert await workflow.send_settle_reminders() == 1
    assert await workflow.send_settle_reminders() == 0  # a re-run writes nothing
    got = await inbox()
    assert got == {"sales": [(f"借款 {soon.number} 将于 {(today() + timedelta(days=3)).isoformat()} 到期",
                              "尚欠 400.00 元，还有 3 天到期，请及时报销冲抵或归还，以免逾期。", f"/loans/{soon.id}")]}
    # Tomorrow the second loan is in the window; the first is not reminded again.
    assert await workflow.send_settle_reminders(today() + timedelta(days=1)) == 1
    # A moved date is a new reminder; a settled loan and an overdue one are not reminded.
    await Loan.filter(id=soon.id).update(expected_settle_date=today() + timedelta(days=2))
    assert await workflow.send_settle_reminders() == 1
    await loans.settle_loan(await viewer("finance"), soon.id, "CASH_RETURN", "400.00", "收据")
    await Loan.filter(id=soon.id).update(expected_settle_date=today() + timedelta(days=1))
    assert await workflow.send_settle_reminders() == 0
    await settings_service.set_setting(await viewer("admin"), settings_service.SETTLE_REMINDER_DAYS, 10)
    await Loan.filter(id=later.id).update(expected_settle_date=today() + timedelta(days=9))
    assert await workflow.send_settle_reminders() == 1
    await settings_service.set_setting(await viewer("admin"), settings_service.SETTLE_REMINDER_DAYS, 0)
    await Loan.filter(id=later.id).update(expected_settle_date=today() + timedelta(days=8))
    assert await workflow.send_settle_reminders() == 0
    assert await SettleReminder.filter(loan_id=soon.id).count() == 2
