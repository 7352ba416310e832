"""Offboarding clearance through the services: start, the gate, settlement, completion, cancellation."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from decimal import Decimal

import pytest

from server.domain.errors import (
    ClearanceBlocked,
    Conflict,
    DomainError,
    Forbidden,
    InvalidTransition,
    NotFound,
    ValidationFailed,
)
from server.models import (
    Alert,
    AlertRecipient,
    ApiToken,
    AuditEntry,
    Employee,
    LedgerEntry,
    Loan,
    Notification,
    Offboarding,
    Reimbursement,
    ReimbursementOffset,
    Session,
    User,
)
from server.services import loans, offboarding, org, sessions
from server.services.base import SYSTEM, atomic, today, utcnow
from tests.factories import PASSWORD, make_org


async def viewer(username: str):
    return sessions.viewer_for(await User.get(username=username))


async def disbursed(username: str, amount: str, description: str = "客户拜访") -> Loan:
    applicant = await viewer(username)
    loan = await loans.apply_for_loan(applicant, loans.LoanApplication(amount, "CLIENT_VISIT", description))
    assert loan.status == "PENDING_APPROVAL", loan.rejection_reason
    for step in await loan.approvals.all().order_by("order"):
        decider = "manager" if step.role == "SUPERVISOR" else "finance"
        await loans.decide_loan(await viewer(decider), loan.id, "APPROVE")
    return await loans.disburse_loan(await viewer("finance"), loan.id)


async def make_rsm_with_debt():
    """The seed's case: a regional sales manager (reporting to 李经理) who owes 30,000.00 on two loans."""
    people = await make_org()
    await org.upsert_position(SYSTEM, org.PositionData("RSM", "区域销售经理", 6, "30000.00", None, 30,
                                                       ["SUPERVISOR", "FINANCE"]))
    rsm = await org.create_employee(SYSTEM, org.EmployeeData(
        employee_no="R1", name="张伟", department_code="SALES", region_code="XA", position_code="RSM",
        supervisor_no="M1", monthly_salary="16000.00", hire_date=date(2024, 3, 1), username="zhangwei",
        password=PASSWORD, roles=["EMPLOYEE", "SUPERVISOR"],
    ))
    first = await disbursed("zhangwei", "18000.00", "延安储能项目客户招待")
    second = await disbursed("zhangwei", "12000.00", "榆林光伏推介会")
    return people, rsm.id, first, second


async def state(offboarding_id: int | None, employee_id: int) -> dict:
    """Everything a blocked action must leave untouched."""
    off = await Offboarding.filter(id=offboarding_id).values() if offboarding_id else []
    return {
        "offboarding": off,
        "employee": await Employee.filter(id=employee_id).values("status", "lock_version"),
        "user": await User.filter(employee_id=employee_id).values("is_active"),
        "loans": await Loan.filter(employee_id=employee_id).order_by("id").values("id", "status", "settled_at"),
        "ledger": await LedgerEntry.all().count(),
        "alerts": await Alert.all().values("id", "resolved_at"),
        "notifications": await Notification.all().count(),
        "audit": await AuditEntry.all().count(),
        "last_hash": (await AuditEntry.all().order_by("-id").first()).hash,
        "tokens": await ApiToken.filter(revoked_at__isnull=True).count(),
    }


async def test_start_raises_one_critical_alert_to_finance_hr_and_supervisor(db):
    people, rsm, first, second = await make_rsm_with_debt()
    last_day = today() + timedelta(days=14)
    off = await offboarding.start_offboarding(await viewer("hr"), rsm, last_day, "个人原因辞职")
    assert off.status == "CLEARANCE_PENDING" and off.reason == "个人原因辞职"
    assert (await Employee.get(id=rsm)).status == "OFFBOARDING"

    alert = await Alert.get(dedupe_key=offboarding.alert_key(off.id))
    assert (alert.kind, alert.severity, alert.employee_id) == ("OFFBOARDING_OUTSTANDING", "CRITICAL", rsm)
    assert "30,000.00" in alert.message and last_day.isoformat() in alert.message
    assert first.number in alert.message and "18,000.00" in alert.message and "12,000.00" in alert.message
    recipients = set(await AlertRecipient.filter(alert_id=alert.id).values_list("employee_id", flat=True))
    assert recipients == {people.finance, people.hr, people.manager}
    notified = await Notification.filter(alert_id=alert.id).values_list("user__username", flat=True)
    assert sorted(notified) == ["finance", "hr", "manager"]  # the admin without employee record holds no such role

    c = await offboarding.clearance_for(rsm)
    assert c.outstanding == Decimal("30000.00")
    assert [(x.loan.number, x.outstanding) for x in c.loans] == [(first.number, Decimal("18000.00")),
                                                                  (second.number, Decimal("12000.00"))]
    entry = await AuditEntry.get(action="offboarding.start")
    assert entry.after["outstanding"] == "30000.00" and entry.after["employeeStatus"]["after"] == "OFFBOARDING"


async def test_nothing_owed_means_no_alert(db):
    people = await make_org()
    off = await offboarding.start_offboarding(await viewer("hr"), people.sales, today())
    assert off.status == "CLEARANCE_PENDING"
    assert await Alert.all().count() == 0
    cleared = await offboarding.confirm_clearance(await viewer("finance"), off.id)
    assert cleared.status == "CLEARED" and cleared.cleared_by_id == people.finance


async def test_employee_starts_own_resignation_and_can_no_longer_borrow(db):
    people = await make_org()
    sales = await viewer("sales")
    pending = await loans.apply_for_loan(sales, loans.LoanApplication("500.00", "TRAVEL", "出差"))
    approved = await loans.apply_for_loan(sales, loans.LoanApplication("600.00", "TRAVEL", "出差"))
    await loans.decide_loan(await viewer("manager"), approved.id, "APPROVE")
    await loans.decide_loan(await viewer("finance"), approved.id, "APPROVE")
    assert (await Loan.get(id=approved.id)).status == "APPROVED"

    off = await offboarding.start_offboarding(sales, people.sales, today() + timedelta(days=30), "回老家发展")
    assert off.started_by_id == sales.user_id
    # Loans not yet paid out are cancelled: nothing new is paid to someone leaving.
    assert await Loan.filter(id__in=[pending.id, approved.id]).values_list("status", flat=True) == [
        "CANCELLED", "CANCELLED"]
    assert await AuditEntry.filter(action="loan.cancel_on_offboarding").count() == 2
    with pytest.raises(Conflict):
        await loans.apply_for_loan(sales, loans.LoanApplication("100.00", "TRAVEL", "出差"))
    assert await Loan.filter(employee_id=people.sales).count() == 2


async def test_who_may_start(db):
    people = await make_org()
    before = await state(None, people.sales)
    for username in ("manager", "finance", "admin"):  # a supervisor, finance and admin are not HR
        with pytest.raises(Forbidden):
            await offboarding.start_offboarding(await viewer(username), people.sales, today())
    # The employee may not backdate their own resignation; a year ahead is too far for anyone.
    with pytest.raises(ValidationFailed):
        await offboarding.start_offboarding(await viewer("sales"), people.sales, today() - timedelta(days=1))
    with pytest.raises(ValidationFailed):
        await offboarding.start_offboarding(await viewer("hr"), people.sales, today() + timedelta(days=400))
    with pytest.raises(ValidationFailed):  # before the hire date
        await offboarding.start_offboarding(await viewer("hr"), people.sales, date(2023, 12, 31))
    with pytest.raises(NotFound):
        await offboarding.start_offboarding(await viewer("hr"), 999999, today())
    assert await state(None, people.sales) == before
    # HR may record a departure after the fact.
    off = await offboarding.start_offboarding(await viewer("hr"), people.sales, today() - timedelta(days=3))
    assert off.last_working_day == today() - timedelta(days=3)


async def test_an_open_offboarding_cannot_be_started_twice(db):
    people = await make_org()
    off = await offboarding.start_offboarding(await viewer("hr"), people.sales, today())
    before = await state(off.id, people.sales)
    with pytest.raises(Conflict):
        await offboarding.start_offboarding(await viewer("hr"), people.sales, today())
    assert await state(off.id, people.sales) == before


async def test_concurrent_starts_create_one_offboarding_and_one_alert(db):
    people, rsm, *_ = await make_rsm_with_debt()
    hr = await viewer("hr")

    async def start():
        try:
            await offboarding.start_offboarding(hr, rsm, today() + timedelta(days=7))
            return "ok"
        except DomainError as exc:
            return exc.code

    # Only PostgreSQL proves the lock (SQLite runs one transaction at a time: see
    # tests/services/test_loan_concurrency.py); here, that the committed start took it.
    locks = (await Employee.get(id=rsm)).lock_version
    outcomes = await asyncio.gather(*(start() for _ in range(4)))
    assert sorted(outcomes) == ["CONFLICT", "CONFLICT", "CONFLICT", "ok"]
    assert (await Employee.get(id=rsm)).lock_version == locks + 1
    assert await Offboarding.filter(employee_id=rsm).count() == 1
    assert await Alert.all().count() == 1
    assert await Notification.filter(alert_id__not_isnull=True).count() == 3
    assert await Notification.filter(title="您的离职办理已开始").count() == 1  # the leaver's, once
    # One start recorded, by HR.
    assert await AuditEntry.filter(action="offboarding.start", actor="hr").count() == 1


async def test_gate_blocks_until_settled_then_completes_and_locks_the_account(db):
    people, rsm, first, second = await make_rsm_with_debt()
    hr, fin = await viewer("hr"), await viewer("finance")
    session_key, _ = await sessions.create_session(await User.get(username="zhangwei"), 1)
    token = await sessions.issue_token(await User.get(username="zhangwei"))
    off = await offboarding.start_offboarding(hr, rsm, today() + timedelta(days=10), "辞职")

    before = await state(off.id, rsm)
    with pytest.raises(ClearanceBlocked) as blocked:
        await offboarding.confirm_clearance(fin, off.id)
    assert "30,000.00" in blocked.value.message
    assert f"{first.number} 未结清 18,000.00" in blocked.value.message
    assert f"{second.number} 未结清 12,000.00" in blocked.value.message
    with pytest.raises(ClearanceBlocked):
        await offboarding.complete_offboarding(hr, off.id)
    assert await state(off.id, rsm) == before  # nothing changed, not even the lock counter or the audit chain

    # Cash return of part, a final-pay deduction, an admin's write-off of the rest.
    await loans.settle_loan(fin, first.id, "CASH_RETURN", "10000.00", "现金退回 收据 SJ-101")
    assert (await offboarding.clearance_for(rsm)).outstanding == Decimal("20000.00")
    await loans.settle_loan(fin, first.id, "SALARY_DEDUCTION", "8000.00", "最后一个月工资扣款 工资单 PR-2026-11-R1")
    c = await offboarding.clearance_for(rsm)
    assert c.outstanding == Decimal("12000.00") and [x.loan.id for x in c.loans] == [second.id]
    with pytest.raises(ClearanceBlocked) as blocked:
        await offboarding.confirm_clearance(fin, off.id)
    assert first.number not in blocked.value.message and second.number in blocked.value.message
    admin = sessions.viewer_for(await User.get(username="admin"))
    await loans.settle_loan(fin, second.id, "WRITE_OFF", "12000.00", "经总经理批准核销")  # proposed
    assert not (await offboarding.clearance_for(rsm)).clear
    await loans.settle_loan(admin, second.id, "WRITE_OFF", "12000.00")  # approved by a second person
    assert (await offboarding.clearance_for(rsm)).clear

    with pytest.raises(ClearanceBlocked):  # HR still waits for finance
        await offboarding.complete_offboarding(hr, off.id)
    cleared = await offboarding.confirm_clearance(fin, off.id)
    assert cleared.status == "CLEARED" and cleared.cleared_at is not None
    assert (cleared.cleared_by_id, cleared.cleared_by_user_id) == (people.finance, fin.user_id)
    alert = await Alert.get(dedupe_key=offboarding.alert_key(off.id))
    assert alert.resolved_at is not None and "确认" in alert.resolution_note
    with pytest.raises(InvalidTransition):
        await offboarding.confirm_clearance(fin, off.id)

    done = await offboarding.complete_offboarding(hr, off.id)
    assert done.status == "COMPLETED" and done.completed_at is not None
    assert (await Employee.get(id=rsm)).status == "LEFT"
    user = await User.get(username="zhangwei")
    assert not user.is_active
    assert await sessions.token_for(token) is None
    assert await sessions.session_for_key(session_key) is None
    assert await ApiToken.filter(user_id=user.id, revoked_at__isnull=True).count() == 0
    assert await Session.filter(user_id=user.id, revoked_at__isnull=True).count() == 0
    with pytest.raises(DomainError) as exc:
        await org.authenticate("zhangwei", PASSWORD)
    assert exc.value.code == "ACCOUNT_CLOSED"  # the right password: told the account is closed (issue 12)
    assert await AuditEntry.filter(action="user.deactivate", object_id=str(user.id)).count() == 1
    for action in ("offboarding.start", "offboarding.confirm_clearance", "offboarding.complete"):
        assert await AuditEntry.filter(action=action, object_id=str(off.id)).count() == 1
    with pytest.raises(InvalidTransition):
        await offboarding.complete_offboarding(hr, off.id)
    with pytest.raises(InvalidTransition):
        await offboarding.cancel_offboarding(hr, off.id)


async def test_pending_reimbursement_offset_blocks_until_decided(db):
    people, rsm, first, second = await make_rsm_with_debt()
    fin = await viewer("finance")
    off = await offboarding.start_offboarding(await viewer("hr"), rsm, today() + timedelta(days=10))
    await loans.settle_loan(fin, second.id, "CASH_RETURN", "12000.00")
    # A reimbursement pending approval reserves 3,000.00 against the first loan (built directly: the
    # reimbursement service is another area; the gate only reads these rows).
    reimbursement = await Reimbursement.create(number="BX-2026-000001", employee_id=rsm, status="PENDING_APPROVAL",
                                               total_fen=300_000, created_at=utcnow())
    reserved = await ReimbursementOffset.create(reimbursement=reimbursement, loan_id=first.id, amount_fen=300_000)
    await loans.settle_loan(fin, first.id, "CASH_RETURN", "15000.00")
    c = await offboarding.clearance_for(rsm)
    assert c.outstanding == Decimal("3000.00")
    assert c.pending_reimbursement_ids == [reimbursement.id]
    with pytest.raises(ClearanceBlocked) as blocked:
        await offboarding.confirm_clearance(fin, off.id)
    assert "报销单 BX-2026-000001 待审批，拟冲抵 3,000.00" in blocked.value.message
    assert f"{first.number} 未结清 3,000.00" in blocked.value.message

    # Approved: the offset becomes a ledger entry and the reservation is applied.
    async with atomic():
        loan = await Loan.get(id=first.id)
        await loans.append_reduction(fin, loan, "OFFSET", Decimal("3000.00"), reimbursement_id=reimbursement.id)
        reserved.state = "APPLIED"
        await reserved.save()
        reimbursement.status = "APPROVED"
        await reimbursement.save()
    assert (await offboarding.clearance_for(rsm)).clear
    assert (await offboarding.confirm_clearance(fin, off.id)).status == "CLEARED"


async def test_a_rejected_reimbursement_no_longer_blocks(db):
    people = await make_org()
    off = await offboarding.start_offboarding(await viewer("hr"), people.sales, today())
    reimbursement = await Reimbursement.create(number="BX-2026-000009", employee_id=people.sales,
                                               status="REJECTED", total_fen=100, created_at=utcnow())
    await ReimbursementOffset.create(reimbursement=reimbursement, loan_id=(await disbursed_for_manager()).id,
                                     amount_fen=100, state="RELEASED")
    assert (await offboarding.clearance_for(people.sales)).clear
    assert (await offboarding.confirm_clearance(await viewer("finance"), off.id)).status == "CLEARED"


async def disbursed_for_manager() -> Loan:
    """Any real loan row to hang an offset on (the manager's own: chain FINANCE only)."""
    manager = await viewer("manager")
    loan = await loans.apply_for_loan(manager, loans.LoanApplication("100.00", "OTHER", "x"))
    await loans.decide_loan(await viewer("finance"), loan.id, "APPROVE")
    return await loans.disburse_loan(await viewer("finance"), loan.id)


async def test_roles_of_the_gate(db):
    people, rsm, *_ = await make_rsm_with_debt()
    off = await offboarding.start_offboarding(await viewer("hr"), rsm, today())
    before = await state(off.id, rsm)
    for username, action in [("hr", offboarding.confirm_clearance), ("manager", offboarding.confirm_clearance),
                             ("finance", offboarding.complete_offboarding), ("zhangwei", offboarding.cancel_offboarding),
                             ("finance", offboarding.cancel_offboarding), ("sales", offboarding.complete_offboarding)]:
        with pytest.raises(Forbidden):
            await action(await viewer(username), off.id)
    with pytest.raises(NotFound):
        await offboarding.confirm_clearance(await viewer("finance"), 999999)
    assert await state(off.id, rsm) == before


async def test_nobody_clears_or_completes_their_own_exit(db):
    people = await make_org()
    fin_off = await offboarding.start_offboarding(await viewer("hr"), people.finance, today())
    with pytest.raises(Forbidden):
        await offboarding.confirm_clearance(await viewer("finance"), fin_off.id)
    hr_off = await offboarding.start_offboarding(await viewer("hr"), people.hr, today())
    await offboarding.confirm_clearance(await viewer("finance"), hr_off.id)
    with pytest.raises(Forbidden):
        await offboarding.complete_offboarding(await viewer("hr"), hr_off.id)
    assert (await Offboarding.get(id=hr_off.id)).status == "CLEARED"


async def test_cancel_returns_the_employee_to_active_and_closes_the_alert(db):
    people, rsm, first, _ = await make_rsm_with_debt()
    hr = await viewer("hr")
    off = await offboarding.start_offboarding(hr, rsm, today() + timedelta(days=20))
    cancelled = await offboarding.cancel_offboarding(hr, off.id)
    assert cancelled.status == "CANCELLED" and cancelled.cancelled_at is not None
    assert (await Employee.get(id=rsm)).status == "ACTIVE"
    alert = await Alert.get(dedupe_key=offboarding.alert_key(off.id))
    assert alert.resolved_at is not None and "撤销" in alert.resolution_note
    assert (await User.get(username="zhangwei")).is_active
    # The employee stays and may borrow again (within the limit); a new offboarding is a new case.
    again = await offboarding.start_offboarding(hr, rsm, today() + timedelta(days=30))
    assert again.id != off.id
    assert await Alert.filter(kind="OFFBOARDING_OUTSTANDING").count() == 2
    with pytest.raises(InvalidTransition):
        await offboarding.cancel_offboarding(hr, off.id)
    assert first.id


async def test_a_leaver_in_finance_or_hr_is_not_alerted_about_themself(db):
    people = await make_org()
    hr = await viewer("hr")
    loan = await loans.apply_for_loan(hr, loans.LoanApplication("800.00", "TRAVEL", "招聘会差旅"))
    await loans.decide_loan(await viewer("manager"), loan.id, "APPROVE")  # STAFF: chain SUPERVISOR only
    await loans.disburse_loan(await viewer("finance"), loan.id)
    # The HR clerk resigns; another HR account starts it.
    await org.create_employee(SYSTEM, org.EmployeeData(
        employee_no="H2", name="孙人事", department_code="FIN", region_code="XA", position_code="STAFF",
        supervisor_no="M1", monthly_salary="6000.00", hire_date=date(2024, 1, 1), username="hr2",
        password=PASSWORD, roles=["EMPLOYEE", "HR"]))
    off = await offboarding.start_offboarding(await viewer("hr2"), people.hr, today() + timedelta(days=5))
    alert = await Alert.get(dedupe_key=offboarding.alert_key(off.id))
    recipients = await AlertRecipient.filter(alert_id=alert.id).values_list("employee__employee_no", flat=True)
    assert sorted(recipients) == ["F1", "H2", "M1"]
    assert "hr" not in await Notification.filter(alert_id=alert.id).values_list("user__username", flat=True)


async def test_visibility_and_listing(db):
    people, rsm, *_ = await make_rsm_with_debt()
    off = await offboarding.start_offboarding(await viewer("hr"), rsm, today())
    other = await offboarding.start_offboarding(await viewer("hr"), people.sales, today())
    for username in ("finance", "hr", "admin", "zhangwei", "manager"):  # roles, the employee, the supervisor
        assert (await offboarding.get_offboarding(await viewer(username), off.id)).id == off.id
    with pytest.raises(Forbidden):
        await offboarding.get_offboarding(await viewer("sales"), off.id)
    assert await offboarding.get_offboarding(await viewer("hr"), 999999) is None
    page = await offboarding.list_offboardings(await viewer("hr"))
    assert await page.count() == 2 and {o.id for o in page.rows} == {off.id, other.id}
    assert [o.id for o in (await offboarding.list_offboardings(await viewer("sales"))).rows] == [other.id]
    assert await (await offboarding.list_offboardings(await viewer("hr"), ["COMPLETED"])).count() == 0
    with pytest.raises(ValidationFailed):
        await offboarding.list_offboardings(await viewer("hr"), ["NOPE"])


async def test_certificate_states_nothing_owed_and_who_confirmed(db):
    people, rsm, first, second = await make_rsm_with_debt()
    hr, fin = await viewer("hr"), await viewer("finance")
    off = await offboarding.start_offboarding(hr, rsm, today() + timedelta(days=3), "个人原因")
    with pytest.raises(Conflict):
        await offboarding.clearance_certificate(hr, off.id)
    await loans.settle_loan(fin, first.id, "CASH_RETURN", "10000.00", "收据 SJ-101")
    await loans.settle_loan(fin, first.id, "SALARY_DEDUCTION", "8000.00", "工资单 PR-2026-11-R1")
    await loans.settle_loan(fin, second.id, "WRITE_OFF", "12000.00", "经总经理批准核销")
    await loans.settle_loan(sessions.viewer_for(await User.get(username="admin")), second.id, "WRITE_OFF", "12000.00")
    await offboarding.confirm_clearance(fin, off.id)
    await offboarding.complete_offboarding(hr, off.id)
    cert = await offboarding.clearance_certificate(hr, off.id)
    assert cert.employee_name == "张伟" and cert.position == "区域销售经理" and cert.department == "销售部"
    assert cert.outstanding == Decimal("0.00")
    assert cert.total_borrowed == Decimal("30000.00")
    assert (cert.total_cash_return, cert.total_salary_deduction, cert.total_write_off) == (
        Decimal("10000.00"), Decimal("8000.00"), Decimal("12000.00"))
    assert [r.status for r in cert.loans] == ["已结清", "已核销"]
    assert "工资单 PR-2026-11-R1" in cert.loans[0].notes
    assert cert.cleared_by_name == "赵财务" and cert.cleared_by_no == "F1"
    assert cert.number == f"LZQK-{cert.cleared_on.year}-{off.id:06d}"
    assert cert.cleared_at.utcoffset().total_seconds() == 8 * 3600  # shown in the company's time zone
    # The leaver (whose account is now closed) is not a viewer any more; their supervisor still sees it.
    assert (await offboarding.clearance_certificate(await viewer("manager"), off.id)).number == cert.number
    with pytest.raises(Forbidden):
        await offboarding.clearance_certificate(await viewer("sales"), off.id)
