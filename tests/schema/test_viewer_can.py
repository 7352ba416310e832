"""`viewerCan` flags against their mutations, table-driven over the roles and the states an object passes:
a true flag means the mutation succeeds, a false flag means it is refused and nothing changes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.models import Employee
from server.services import alerts
from server.services.base import SYSTEM, today
from tests.factories import make_org
from tests.schema.test_duties_api import state, token
from tests.schema.test_reimbursements_api import claim

USERS = ("sales", "manager", "finance", "hr", "admin")
REFUSED = {"FORBIDDEN", "INVALID_TRANSITION", "CONFLICT", "CLEARANCE_BLOCKED"}

LOAN_CAN = """query($id: ID!) { loan(id:$id) { status viewerCan {
  decide cancel disburse settle proposeWriteOff approveWriteOff writeOff } viewerCanProposeWriteOff } }"""
APPLY = """mutation($a: Decimal!) { applyForLoan(input:{amount:$a, purpose:CLIENT_VISIT, description:"拜访客户"}) {
  id status } }"""
DECIDE = "mutation($id: ID!) { decideLoan(loanId:$id, decision:APPROVE, comment:\"ok\") { status } }"
CANCEL = "mutation($id: ID!) { cancelLoan(loanId:$id) { status } }"
DISBURSE = "mutation($id: ID!) { disburseLoan(loanId:$id) { status } }"
SETTLE = "mutation($id: ID!) { settleLoan(loanId:$id, method:CASH_RETURN, amount:\"100.00\", note:\"收据 1\") { status } }"
PROPOSE = "mutation($id: ID!) { proposeWriteOff(loanId:$id, amount:\"50.00\", reason:\"无法收回\") { status } }"
APPROVE_WO = "mutation($id: ID!) { approveWriteOff(loanId:$id, comment:\"同意\") { status } }"

R_CAN = "query($id: ID!) { reimbursement(id:$id) { status viewerCan { decide pay } } }"
SUBMIT = "mutation($input: ReimbursementInput!) { submitReimbursement(input:$input) { id } }"
R_DECIDE = "mutation($id: ID!) { decideReimbursement(reimbursementId:$id, decision:APPROVE) { status } }"
PAY = "mutation($id: ID!) { payReimbursement(reimbursementId:$id) { status } }"

O_CAN = """query($id: ID!) { offboarding(id:$id) { status viewerCan {
  confirm complete cancel settle confirmRefusedBecause completeRefusedBecause } } }"""
START = "mutation($e: ID!, $d: Date!) { startOffboarding(employeeId:$e, lastWorkingDay:$d) { id } }"
CONFIRM = "mutation($id: ID!) { confirmClearance(offboardingId:$id) { status } }"
COMPLETE = "mutation($id: ID!) { completeOffboarding(offboardingId:$id) { status } }"
O_CANCEL = "mutation($id: ID!) { cancelOffboarding(offboardingId:$id) { status } }"

A_CAN = "{ alerts(unresolvedOnly:false) { edges { node { id viewerCan { resolve } } } } }"
RESOLVE = "mutation($id: ID!) { resolveAlert(alertId:$id, note:\"done\") { id } }"

E_CAN = "query($id: ID!) { employee(id:$id) { viewerCan { edit startOffboarding } } }"
UPDATE = "mutation($id: ID!) { updateEmployee(id:$id, input:{monthlySalary:\"9000.00\"}) { id } }"


@pytest.fixture
async def org(db):
    return await make_org()


async def flags(gql, query: str, variables: dict, path: str, flag: str, users: tuple = USERS) -> dict[str, bool]:
    """Each user's flag; a user who may not see the object has none (False)."""
    out = {}
    for user in users:
        body = await gql(query, variables, token=await token(user))
        node = (body.get("data") or {}).get(path)
        if path == "alerts":  # no alert(id) query: find it in the viewer's list
            node = next((e["node"] for e in (node or {"edges": []})["edges"] if e["node"]["id"] == variables["id"]),
                        None)
        out[user] = bool(node and node["viewerCan"][flag])
    return out


async def exercise(gql, can: tuple[str, str, str], flag: str, mutation: str, variables: dict,
                   allowed: set[str], run: bool = True, users: tuple = USERS) -> str | None:
    """The flag is true for exactly `allowed`; everyone else is refused with nothing changed; then the
    first allowed user (in USERS order) succeeds when `run`. Returns who acted."""
    query, path, var = can
    got = await flags(gql, query, {"id": variables[var]}, path, flag, users)
    assert {u for u, f in got.items() if f} == allowed, (flag, got)
    for user in users:
        if user in allowed:
            continue
        before = await state()
        err = await gql.error(mutation, variables, token=await token(user))
        assert err["extensions"]["code"] in REFUSED, (flag, user, err)
        assert await state() == before, (flag, user)
    if run and allowed:
        actor = next(u for u in USERS if u in allowed)
        await gql.ok(mutation, variables, token=await token(actor))
        return actor
    return None


def loan(loan_id: str) -> tuple[str, str, str]:
    return (LOAN_CAN, "loan", "id")


async def test_loan_flags_follow_the_loan_through_its_life(gql, org):
    lid = (await gql.ok(APPLY, {"a": "1000.00"}, token=await token("sales")))["applyForLoan"]["id"]
    v, can = {"id": lid}, loan(lid)
    # PENDING_APPROVAL, supervisor step: only the manager decides; nobody disburses or settles.
    for flag, mutation in (("disburse", DISBURSE), ("settle", SETTLE), ("proposeWriteOff", PROPOSE),
                           ("approveWriteOff", APPROVE_WO)):
        await exercise(gql, can, flag, mutation, v, set())
    await exercise(gql, can, "cancel", CANCEL, v, {"sales"}, run=False)
    assert await exercise(gql, can, "decide", DECIDE, v, {"manager"}) == "manager"
    # Finance step: the manager decided a step already (one person, one step), the applicant never.
    assert await exercise(gql, can, "decide", DECIDE, v, {"finance"}) == "finance"
    # APPROVED: finance disburses (four eyes is off by default), nobody decides any more.
    await exercise(gql, can, "decide", DECIDE, v, set())
    await exercise(gql, can, "cancel", CANCEL, v, {"sales"}, run=False)
    assert await exercise(gql, can, "disburse", DISBURSE, v, {"finance"}) == "finance"
    # DISBURSED: no cancel, no second disbursement; finance settles and proposes a write-off.
    await exercise(gql, can, "cancel", CANCEL, v, set())
    await exercise(gql, can, "disburse", DISBURSE, v, set())
    assert await exercise(gql, can, "settle", SETTLE, v, {"finance"}) == "finance"
    await exercise(gql, can, "approveWriteOff", APPROVE_WO, v, set())
    assert await exercise(gql, can, "proposeWriteOff", PROPOSE, v, {"finance"}) == "finance"
    # A proposal is pending: no second one; the ADMIN (not the proposer) approves it.
    await exercise(gql, can, "proposeWriteOff", PROPOSE, v, set())
    got = await flags(gql, LOAN_CAN, v, "loan", "writeOff")
    assert {u for u, f in got.items() if f} == {"admin"}
    assert await exercise(gql, can, "approveWriteOff", APPROVE_WO, v, {"admin"}) == "admin"
    data = (await gql.ok(LOAN_CAN, v, token=await token("finance")))["loan"]
    assert data["status"] == "PARTIALLY_SETTLED" and data["viewerCanProposeWriteOff"] is True


async def test_cancel_flag_means_the_applicant_cancels(gql, org):
    lid = (await gql.ok(APPLY, {"a": "300.00"}, token=await token("sales")))["applyForLoan"]["id"]
    assert await exercise(gql, loan(lid), "cancel", CANCEL, {"id": lid}, {"sales"}) == "sales"
    await exercise(gql, loan(lid), "cancel", CANCEL, {"id": lid}, set())
    await exercise(gql, loan(lid), "decide", DECIDE, {"id": lid}, set())


async def test_disburse_flag_refuses_own_loan_and_four_eyes(gql, org):
    # FINANCE's own loan (STAFF: the supervisor alone approves): finance may not disburse it.
    own = (await gql.ok(APPLY, {"a": "200.00"}, token=await token("finance")))["applyForLoan"]["id"]
    await gql.ok(DECIDE, {"id": own}, token=await token("manager"))
    await exercise(gql, loan(own), "disburse", DISBURSE, {"id": own}, set())
    # Four eyes on: the finance clerk who approved the sales loan may not pay it out either.
    await gql.ok("mutation { setCompanySetting(key:\"FOUR_EYES_PAYOUT\", value:true) { key } }",
                 token=await token("admin"))
    lid = (await gql.ok(APPLY, {"a": "400.00"}, token=await token("sales")))["applyForLoan"]["id"]
    await gql.ok(DECIDE, {"id": lid}, token=await token("manager"))
    await gql.ok(DECIDE, {"id": lid}, token=await token("finance"))
    await exercise(gql, loan(lid), "disburse", DISBURSE, {"id": lid}, set())


async def test_reimbursement_flags(gql, org):
    rid = (await gql.ok(SUBMIT, claim("120.00"), token=await token("sales")))["submitReimbursement"]["id"]
    can, v = (R_CAN, "reimbursement", "id"), {"id": rid}
    await exercise(gql, can, "pay", PAY, v, set())
    assert await exercise(gql, can, "decide", R_DECIDE, v, {"manager"}) == "manager"
    assert await exercise(gql, can, "decide", R_DECIDE, v, {"finance"}) == "finance"
    await exercise(gql, can, "decide", R_DECIDE, v, set())
    assert await exercise(gql, can, "pay", PAY, v, {"finance"}) == "finance"
    await exercise(gql, can, "pay", PAY, v, set())


async def test_offboarding_flags(gql, org):
    sales = await Employee.get(employee_no="S1")
    lid = (await gql.ok(APPLY, {"a": "500.00"}, token=await token("sales")))["applyForLoan"]["id"]
    for who in ("manager", "finance"):
        await gql.ok(DECIDE, {"id": lid}, token=await token(who))
    await gql.ok(DISBURSE, {"id": lid}, token=await token("finance"))
    ecan = (E_CAN, "employee", "id")
    await exercise(gql, ecan, "startOffboarding", START,
                   {"id": str(sales.id), "e": str(sales.id), "d": (today() + timedelta(days=5)).isoformat()},
                   {"sales", "hr"}, run=False)
    off = (await gql.ok(START, {"e": str(sales.id), "d": (today() + timedelta(days=5)).isoformat()},
                        token=await token("hr")))["startOffboarding"]["id"]
    can, v = (O_CAN, "offboarding", "id"), {"id": off}
    # Owed 500: nobody confirms; finance is told why, others are not; finance may settle.
    await exercise(gql, can, "confirm", CONFIRM, v, set())
    await exercise(gql, can, "complete", COMPLETE, v, set())
    got = await flags(gql, O_CAN, v, "offboarding", "settle")
    assert {u for u, f in got.items() if f} == {"finance"}
    reasons = {u: (await gql.ok(O_CAN, v, token=await token(u)))["offboarding"]["viewerCan"]
               for u in ("finance", "hr")}
    assert "500.00" in reasons["finance"]["confirmRefusedBecause"] and reasons["hr"]["confirmRefusedBecause"] is None
    assert reasons["hr"]["completeRefusedBecause"] and reasons["finance"]["completeRefusedBecause"] is None
    await exercise(gql, can, "cancel", O_CANCEL, v, {"hr"}, run=False)
    await gql.ok("mutation($id: ID!) { settleLoan(loanId:$id, method:CASH_RETURN, amount:\"500.00\", note:\"r\") "
                 "{ status } }", {"id": lid}, token=await token("finance"))
    assert await exercise(gql, can, "confirm", CONFIRM, v, {"finance"}) == "finance"
    await exercise(gql, can, "settle", SETTLE, {"id": lid}, set())
    assert await exercise(gql, can, "complete", COMPLETE, v, {"hr"}) == "hr"
    # COMPLETED (the leaver's account is closed): nothing more for anyone.
    for flag, mutation in (("cancel", O_CANCEL), ("complete", COMPLETE), ("confirm", CONFIRM)):
        await exercise(gql, can, flag, mutation, v, set(), users=USERS[1:])


async def test_cancel_offboarding_flag_means_hr_cancels(gql, org):
    sales = await Employee.get(employee_no="S1")
    off = (await gql.ok(START, {"e": str(sales.id), "d": (today() + timedelta(days=5)).isoformat()},
                        token=await token("sales")))["startOffboarding"]["id"]
    can, v = (O_CAN, "offboarding", "id"), {"id": off}
    assert await exercise(gql, can, "cancel", O_CANCEL, v, {"hr"}) == "hr"
    await exercise(gql, can, "confirm", CONFIRM, v, set())


async def test_alert_resolve_flag(gql, org):
    finance = await Employee.get(employee_no="F1")
    raised = await alerts.raise_alert(SYSTEM, kind="OVERDUE", severity="WARNING", message="逾期", dedupe_key="vc-1",
                                      employee_id=finance.id,
                                      recipients=await alerts.role_recipients("FINANCE", "HR", "ADMIN"))
    v = {"id": str(raised.alert.id)}
    # About finance: not finance's to resolve; HR and the ADMIN may.
    assert await exercise(gql, (A_CAN, "alerts", "id"), "resolve", RESOLVE, v, {"hr", "admin"}) == "hr"
    await exercise(gql, (A_CAN, "alerts", "id"), "resolve", RESOLVE, v, set())


async def test_employee_edit_flag(gql, org):
    sales = await Employee.get(employee_no="S1")
    finance = await Employee.get(employee_no="F1")
    v = {"id": str(sales.id)}
    assert await exercise(gql, (E_CAN, "employee", "id"), "edit", UPDATE, v, {"hr", "admin"}) == "hr"
    # HR edits EMPLOYEE/SUPERVISOR holders only: the finance clerk is the ADMIN's.
    assert await exercise(gql, (E_CAN, "employee", "id"), "edit", UPDATE, {"id": str(finance.id)}, {"admin"}) == "admin"
