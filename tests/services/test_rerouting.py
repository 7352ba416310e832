"""Re-routing waiting SUPERVISOR steps: a changed supervisor takes them over, a leaving one hands them up;
never to the applicant, audited once per moved object, the new approver told."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from server.domain import approvals as rules
from server.domain.errors import Forbidden
from server.models import ApprovalStep, AuditEntry, Employee, Notification, User
from server.services import loans, offboarding, org
from server.services import reimbursements as svc
from server.services.base import SYSTEM, today
from tests.factories import PASSWORD, make_org
from tests.services.test_reimbursements import line, viewer_of


async def person(no: str, username: str, sup: str | None, roles: list[str] | None = None,
                 position: str = "SALES") -> int:
    e = await org.create_employee(SYSTEM, org.EmployeeData(
        employee_no=no, name=f"员工{no}", department_code="SALES", region_code="XA", position_code=position,
        supervisor_no=sup, monthly_salary="9000.00", hire_date=date(2024, 1, 1), username=username,
        password=PASSWORD, roles=roles or ["EMPLOYEE"],
    ))
    return e.id


async def apply(username: str, amount: str = "500.00"):
    return await loans.apply_for_loan(await viewer_of(username), loans.LoanApplication(amount, "CLIENT_VISIT", "拜访"))


async def supervisor_step(loan_id: int) -> ApprovalStep:
    return await ApprovalStep.get(loan_id=loan_id, role="SUPERVISOR")


def test_pick_approver_skips_the_applicant_the_deciders_and_the_unusable():
    assert rules.pick_approver([5, 6, 7], {5, 6, 7}, applicant_employee_id=9) == 5
    assert rules.pick_approver([5, 6, 7], {5, 6, 7}, applicant_employee_id=5) == 6
    assert rules.pick_approver([5, 6, 7], {6, 7}, applicant_employee_id=9, excluded={6}) == 7
    assert rules.pick_approver([5], {5}, applicant_employee_id=5) is None
    assert rules.pick_approver([], set(), applicant_employee_id=1) is None


async def test_a_new_supervisor_takes_over_the_waiting_steps(db):
    people = await make_org()
    await person("M2", "manager2", None, ["EMPLOYEE", "SUPERVISOR"], position="MGR")
    loan = await apply("sales")
    claim = await svc.submit_reimbursement(await viewer_of("sales"), svc.ReimbursementData(lines=[line("80.00")]))
    hr = await viewer_of("hr")
    await org.update_employee(hr, people.sales, org.EmployeeChange(supervisor_no="M2"))
    m2 = await Employee.get(employee_no="M2")
    assert (await supervisor_step(loan.id)).approver_id == m2.id
    assert (await ApprovalStep.get(reimbursement_id=claim.id, role="SUPERVISOR")).approver_id == m2.id
    moved = await AuditEntry.filter(action__in=["loan.reroute", "reimbursement.reroute"]).order_by("id")
    assert [(e.action, e.before["approverId"], e.after["approverId"], e.after["reason"]) for e in moved] == [
        ("loan.reroute", people.manager, m2.id, "supervisor_changed"),
        ("reimbursement.reroute", people.manager, m2.id, "supervisor_changed")]
    # The new supervisor is told and decides; the old one no longer may.
    m2_user = await User.get(username="manager2")
    assert await Notification.filter(user_id=m2_user.id, link=f"/loans/{loan.id}").exists()
    with pytest.raises(Forbidden):
        await loans.decide_loan(await viewer_of("manager"), loan.id, "APPROVE")
    assert [r.id for r in await loans.pending_loan_approvals(await viewer_of("manager2"))] == [loan.id]
    decided = await loans.decide_loan(await viewer_of("manager2"), loan.id, "APPROVE")
    assert decided.status == "PENDING_APPROVAL"  # FINANCE next


async def test_a_decided_step_and_other_employees_steps_stay(db):
    people = await make_org()
    await person("M2", "manager2", None, ["EMPLOYEE", "SUPERVISOR"], position="MGR")
    await person("S2", "sales2", "M1")
    decided = await apply("sales")
    await loans.decide_loan(await viewer_of("manager"), decided.id, "APPROVE")
    other = await apply("sales2")
    await org.update_employee(await viewer_of("hr"), people.sales, org.EmployeeChange(supervisor_no="M2"))
    assert (await supervisor_step(decided.id)).approver_id == people.manager  # history is not rewritten
    assert (await supervisor_step(other.id)).approver_id == people.manager
    assert not await AuditEntry.filter(action="loan.reroute").exists()


async def test_cleared_supervisor_hands_the_step_to_the_one_above(db):
    people = await make_org()
    top = await person("T1", "boss", None, ["EMPLOYEE", "SUPERVISOR"], position="MGR")
    await org.update_employee(await viewer_of("hr"), people.manager, org.EmployeeChange(supervisor_no="T1"))
    loan = await apply("sales")
    await org.update_employee(await viewer_of("hr"), people.sales, org.EmployeeChange(clear_supervisor=True))
    assert (await supervisor_step(loan.id)).approver_id == top


async def test_a_leaving_supervisor_hands_the_steps_up_never_to_the_applicant(db):
    people = await make_org()
    # 张伟 (R1) reports to 李经理 and leads S9; S9's loan waits for 张伟.
    rsm = await person("R1", "zhangwei", "M1", ["EMPLOYEE", "SUPERVISOR"])
    await person("S9", "sales9", "R1")
    loan = await apply("sales9")
    assert (await supervisor_step(loan.id)).approver_id == rsm
    hr, fin = await viewer_of("hr"), await viewer_of("finance")
    off = await offboarding.start_offboarding(hr, rsm, today() + timedelta(days=5), "辞职")
    await offboarding.confirm_clearance(fin, off.id)
    await offboarding.complete_offboarding(hr, off.id)
    assert (await supervisor_step(loan.id)).approver_id == people.manager
    entry = await AuditEntry.get(action="loan.reroute")
    assert entry.before["approverId"] == rsm and entry.after == {"step": 1, "approverId": people.manager, "delegatedFrom": None,
                                                                   "reason": "approver_left"}
    assert [r.id for r in await loans.pending_loan_approvals(await viewer_of("manager"))] == [loan.id]


async def test_the_step_never_moves_to_the_applicant(db):
    """The one above a leaving approver is the applicant: skipped; with nobody above, the step stays where it
    is (blocked, its reason shown), never handed to the applicant."""
    await make_org()
    rsm = await person("R1", "zhangwei", "M1", ["EMPLOYEE", "SUPERVISOR"])
    loan = await apply("manager")  # MGR chain: FINANCE only; make it a SUPERVISOR step waiting for R1
    step = await ApprovalStep.get(loan_id=loan.id)
    step.role, step.approver_id = "SUPERVISOR", rsm
    await step.save()
    hr, fin = await viewer_of("hr"), await viewer_of("finance")
    off = await offboarding.start_offboarding(hr, rsm, today() + timedelta(days=5), "辞职")
    await offboarding.confirm_clearance(fin, off.id)
    await offboarding.complete_offboarding(hr, off.id)
    # Above R1 is M1, the applicant: skipped, nobody above him, so the step stays (blocked, not self-approved).
    assert (await ApprovalStep.get(id=step.id)).approver_id == rsm
    with pytest.raises(Forbidden):
        await loans.decide_loan(await viewer_of("manager"), loan.id, "APPROVE")


async def test_a_waiting_extension_follows_the_new_supervisor(db):
    from server.services import extensions
    from tests.services.test_reimbursements import disbursed_loan

    people = await make_org()
    m2 = await person("M2", "manager2", None, ["EMPLOYEE", "SUPERVISOR"], position="MGR")
    loan = await disbursed_loan("700.00")
    ext = await extensions.request_loan_extension(await viewer_of("sales"), loan.id, today() + timedelta(days=60), "项目延期")
    await org.update_employee(await viewer_of("hr"), people.sales, org.EmployeeChange(supervisor_no="M2"))
    assert (await ApprovalStep.get(extension_id=ext.id, role="SUPERVISOR")).approver_id == m2
    assert await AuditEntry.filter(action="loan_extension.reroute", object_id=str(ext.id)).exists()
    decided = await extensions.decide_loan_extension(await viewer_of("manager2"), ext.id, "APPROVE")
    assert decided.status == "PENDING_APPROVAL"  # FINANCE next
