"""Deputies: an approver names a deputy for a period; new and waiting SUPERVISOR steps go to the deputy, never
the deputy's own application; cleared or run out, they come back. Insiders trying to approve their own loan fail."""

from __future__ import annotations

from datetime import timedelta

from server.models import ApprovalStep, AuditEntry, Employee, Notification, User
from server.services import loans, rerouting
from server.services.base import today
from tests.factories import make_org
from tests.schema.test_reimbursements_api import token
from tests.services.test_reimbursements import colleague, viewer_of
from tests.services.test_rerouting import apply, person

SET = """mutation($id: ID, $no: String, $s: Date!, $e: Date!) {
  setDeputy(deputyId: $id, deputyNo: $no, startsOn: $s, endsOn: $e) { id deputyName deputyEmployeeNo startsOn endsOn active } }"""
CLEAR = "mutation { clearDeputy { id active } }"
SETTINGS = """{ deputySettings { current { deputyName active } actingFor { approverName } viewerCan { set clear } maxDays } }"""
DECIDE = "mutation($id: ID!) { decideLoan(loanId: $id, decision: APPROVE) { status approvals { role onBehalfOf approver { name } decision } } }"


def day(n: int = 0) -> str:
    return (today() + timedelta(days=n)).isoformat()


async def step_of(loan_id: int) -> ApprovalStep:
    return await ApprovalStep.get(loan_id=loan_id, role="SUPERVISOR")


async def test_a_deputy_takes_waiting_and_new_steps_and_hands_them_back(gql, db):
    people = await make_org()
    deputy = await person("M2", "manager2", None, ["EMPLOYEE", "SUPERVISOR"], position="MGR")
    waiting = await apply("sales")
    mgr = await token("manager")
    settings = (await gql.ok(SETTINGS, token=mgr))["deputySettings"]
    assert settings["viewerCan"] == {"set": True, "clear": False} and settings["current"] is None

    named = (await gql.ok(SET, {"no": "M2", "s": day(), "e": day(7)}, mgr))["setDeputy"]
    assert named["deputyName"] == "员工M2" and named["active"] is True
    assert await AuditEntry.filter(action="deputy.set").count() == 1
    step = await step_of(waiting.id)
    assert (step.approver_id, step.delegated_from_id) == (deputy, people.manager)
    assert (await AuditEntry.get(action="loan.reroute")).after["reason"] == "deputy"
    m2 = await User.get(username="manager2")
    assert await Notification.filter(user_id=m2.id, link=f"/loans/{waiting.id}").exists()
    # A new application goes straight to the deputy.
    await colleague()
    new = await apply("sales2")
    assert (await step_of(new.id)).approver_id == deputy
    routed = await AuditEntry.get(action="loan.reroute", object_id=str(new.id))
    assert routed.after == {"step": 1, "approverId": deputy, "delegatedFrom": people.manager, "reason": "deputy"}
    # The deputy decides on the approver's behalf; the timeline says so.
    decided = (await gql.ok(DECIDE, {"id": str(waiting.id)}, await token("manager2")))["decideLoan"]
    assert decided["approvals"][0] == {"role": "SUPERVISOR", "onBehalfOf": "李经理", "approver": {"name": "员工M2"},
                                       "decision": "APPROVE"}
    acting = (await gql.ok(SETTINGS, token=await token("manager2")))["deputySettings"]["actingFor"]
    assert acting == [{"approverName": "李经理"}]

    # Cleared: the step still waiting comes back to the approver.
    cleared = (await gql.ok(CLEAR, token=mgr))["clearDeputy"]
    assert cleared["active"] is False
    step = await step_of(new.id)
    assert (step.approver_id, step.delegated_from_id) == (people.manager, None)
    assert (await step_of(waiting.id)).approver_id == deputy  # decided: history stays


async def test_a_deputy_period_starts_and_ends_with_the_daily_sync(gql, db):
    people = await make_org()
    deputy = await person("M2", "manager2", None, ["EMPLOYEE", "SUPERVISOR"], position="MGR")
    loan = await apply("sales")
    await gql.ok(SET, {"no": "M2", "s": day(1), "e": day(2)}, await token("manager"))
    assert (await step_of(loan.id)).approver_id == people.manager  # not yet
    assert await rerouting.sync_all_deputies(today() + timedelta(days=1)) == 1
    assert (await step_of(loan.id)).approver_id == deputy
    assert await rerouting.sync_all_deputies(today() + timedelta(days=1)) == 0  # idempotent
    assert await rerouting.sync_all_deputies(today() + timedelta(days=3)) == 1  # ran out: back
    assert (await step_of(loan.id)).approver_id == people.manager


async def test_insiders_cannot_approve_their_own_loan_through_a_deputy(gql, db):
    people = await make_org()
    mgr, sales = await token("manager"), await token("sales")
    # Naming oneself is refused.
    own = await gql.error(SET, {"id": str(people.manager), "s": day(), "e": day(3)}, mgr)
    assert own["extensions"]["code"] == "VALIDATION" and own["extensions"]["field"] == "deputyId"
    # An employee who approves nothing cannot name a deputy (nor make themself one).
    refused = await gql.error(SET, {"id": str(people.sales), "s": day(), "e": day(3)}, sales)
    assert refused["extensions"]["code"] == "FORBIDDEN"
    # The supervisor names their report as deputy: the report's own loan stays with the supervisor,
    # waiting or new, and the report cannot decide it.
    waiting = await apply("sales")
    await gql.ok(SET, {"id": str(people.sales), "s": day(), "e": day(3)}, mgr)
    assert (await step_of(waiting.id)).approver_id == people.manager
    new = await apply("sales", "300.00")
    assert (await step_of(new.id)).approver_id == people.manager
    for loan in (waiting, new):
        error = await gql.error(DECIDE, {"id": str(loan.id)}, sales)
        assert error["extensions"]["code"] == "FORBIDDEN"
    assert await loans.pending_loan_approvals(await viewer_of("sales")) == []
    # Backdated or too long periods are refused.
    assert (await gql.error(SET, {"no": "F1", "s": day(-1), "e": day(3)}, mgr))["extensions"]["field"] == "startsOn"
    assert (await gql.error(SET, {"no": "F1", "s": day(), "e": day(200)}, mgr))["extensions"]["field"] == "endsOn"


async def test_a_deputy_who_decided_another_step_does_not_get_the_supervisor_step(gql, db):
    """One person, one step: FINANCE decided first (a chain FINANCE then SUPERVISOR); the finance clerk named
    as deputy does not take the SUPERVISOR step of that chain."""
    people = await make_org(chain=["FINANCE", "SUPERVISOR"])
    fin_employee = await Employee.get(id=people.finance)
    loan = await apply("sales")
    await loans.decide_loan(await viewer_of("finance"), loan.id, "APPROVE")
    await gql.ok(SET, {"no": fin_employee.employee_no, "s": day(), "e": day(3)}, await token("manager"))
    assert (await step_of(loan.id)).approver_id == people.manager
