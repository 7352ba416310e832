"""Separation of duties through GraphQL: every forbidden action is FORBIDDEN and changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.models import (
    Alert,
    ApprovalStep,
    AuditEntry,
    CompanySetting,
    Employee,
    LedgerEntry,
    Loan,
    Notification,
    Offboarding,
    Position,
    Reimbursement,
    User,
)
from server.services import alerts, sessions
from server.services.base import SYSTEM, today
from tests.factories import make_org

APPLY = """mutation($a: Decimal!) { applyForLoan(input:{amount:$a, purpose:CLIENT_VISIT, description:"拜访客户"}) {
  id status blockedReason } }"""
DECIDE = """mutation($id: ID!, $d: Decision!) { decideLoan(loanId:$id, decision:$d, comment:"ok") {
  status approvals { role decision } } }"""
DISBURSE = "mutation($id: ID!) { disburseLoan(loanId:$id) { status } }"
POSITION = """mutation($code: String!, $limit: Decimal!, $chain: [Role!]!) {
  upsertPosition(input:{code:$code, name:"区域销售经理", level:6, loanLimit:$limit, approvalChain:$chain}) {
    id loanLimit approvalChain } }"""
UPDATE = """mutation($id: ID!, $input: EmployeeUpdateInput!) { updateEmployee(id:$id, input:$input) {
  id monthlySalary position { code } supervisor { employeeNo } } }"""
CREATE = """mutation($input: EmployeeInput!) { createEmployee(input:$input) { id employeeNo } }"""
SETTING = """mutation($v: JSON!) { setCompanySetting(key:"FOUR_EYES_PAYOUT", value:$v) { key value } }"""
LOAN = "query($id: ID!) { loan(id:$id) { id status blockedReason employee { employeeNo } } }"


async def token(username: str) -> str:
    return await sessions.issue_token(await User.get(username=username))


async def state() -> dict:
    """What a forbidden action must leave exactly as it was."""
    return {
        "audit": await AuditEntry.all().count(),
        "ledger": await LedgerEntry.all().count(),
        "loans": sorted(await Loan.all().values_list("id", "status")),
        "decisions": sorted(await ApprovalStep.filter(decision__not_isnull=True).values_list("id", "decision")),
        "reimbursements": sorted(await Reimbursement.all().values_list("id", "status")),
        "employees": sorted(await Employee.all().values_list(
            "id", "position_id", "monthly_salary_fen", "supervisor_id", "status")),
        "users": sorted((u, sorted(r)) for u, r in await User.all().values_list("id", "roles")),
        "positions": sorted(await Position.all().values_list("id", "loan_limit_fen", "approval_chain")),
        "settings": await CompanySetting.all().count(),
        "notifications": await Notification.all().count(),
        "alerts": sorted(await Alert.all().values_list("id", "resolved_at")),
        "offboardings": sorted(await Offboarding.all().values_list("id", "status")),
    }


async def forbidden(gql, query: str, variables: dict, who: str) -> dict:
    before = await state()
    err = await gql.error(query, variables, token=await token(who))
    assert err["extensions"]["code"] == "FORBIDDEN", err
    assert await state() == before
    return err


def person(no: str, username: str, roles: list[str], position: str = "SALES", sup: str | None = "M1") -> dict:
    return {"input": {
        "employeeNo": no, "name": f"员工{no}", "departmentCode": "SALES", "regionCode": "XA", "positionCode": position,
        "supervisorNo": sup, "monthlySalary": "6000.00", "hireDate": "2025-01-01", "username": username,
        "password": "long-enough-1", "roles": roles,
    }}


async def emp(no: str) -> Employee:
    return await Employee.get(employee_no=no)


async def approved_loan(gql, amount: str = "1000.00") -> str:
    loan = (await gql.ok(APPLY, {"a": amount}, token=await token("sales")))["applyForLoan"]
    await gql.ok(DECIDE, {"id": loan["id"], "d": "APPROVE"}, token=await token("manager"))
    await gql.ok(DECIDE, {"id": loan["id"], "d": "APPROVE"}, token=await token("finance"))
    return loan["id"]


@pytest.fixture
async def org(gql, db):
    people = await make_org()
    # A second finance clerk and an auditor, created by an ADMIN.
    admin = await token("admin")
    await gql.ok(CREATE, person("F2", "finance2", ["EMPLOYEE", "FINANCE"], "STAFF"), token=admin)
    await gql.ok(CREATE, person("A1", "auditor", ["EMPLOYEE", "AUDITOR"], "STAFF"), token=admin)
    return people


# ---------------------------------------------------------------- who sets the rules


async def test_rules_are_changed_by_admin_only_and_leave_a_history(gql, org):
    await gql.ok(POSITION, {"code": "RSM", "limit": "20000.00", "chain": ["SUPERVISOR", "FINANCE"]},
                 token=await token("admin"))
    for who in ("hr", "finance", "manager", "sales", "auditor"):
        await forbidden(gql, POSITION, {"code": "RSM", "limit": "5000000.00", "chain": ["HR"]}, who)
    # The seed's change: lower the regional manager's limit from 20,000 to 15,000.
    await gql.ok(POSITION, {"code": "RSM", "limit": "15000.00", "chain": ["SUPERVISOR", "FINANCE"]},
                 token=await token("admin"))
    query = "{ positions { code history { at actor action before after } } }"
    for who in ("admin", "hr", "finance", "auditor"):
        positions = (await gql.ok(query, token=await token(who)))["positions"]
        history = next(p["history"] for p in positions if p["code"] == "RSM")
        assert [h["action"] for h in history] == ["position.create", "position.update"]
        change = history[1]
        assert change["actor"] == "admin" and change["at"]
        assert change["before"]["loanLimit"] == "20000.00" and change["after"]["loanLimit"] == "15000.00"
    err = await gql.error(query, token=await token("sales"))
    assert err["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize("chain", [[], ["EMPLOYEE"], ["SUPERVISOR", "AUDITOR"], ["FINANCE", "FINANCE"]])
async def test_approval_chains_are_valid(gql, org, chain):
    before = await state()
    err = await gql.error(POSITION, {"code": "SALES", "limit": "10000.00", "chain": chain},
                          token=await token("admin"))
    assert {k: err["extensions"].get(k) for k in ("code", "field")} == {"code": "VALIDATION", "field": "approvalChain"}
    assert await state() == before


async def test_company_setting_admin_only_audited_off_by_default(gql, org):
    read = "{ companySettings { key value description } }"
    settings = (await gql.ok(read, token=await token("sales")))["companySettings"]
    values = {s["key"]: s["value"] for s in settings}
    assert values["FOUR_EYES_PAYOUT"] is False  # (the risk rules of issue 11 are settings too)
    for who in ("hr", "finance", "auditor", "manager"):
        await forbidden(gql, SETTING, {"v": True}, who)
    before = await AuditEntry.filter(action="setting.update").count()
    assert (await gql.ok(SETTING, {"v": True}, token=await token("admin")))["setCompanySetting"]["value"] is True
    entry = await AuditEntry.filter(action="setting.update").order_by("-id").first()
    assert await AuditEntry.filter(action="setting.update").count() == before + 1
    assert entry.before == {"key": "FOUR_EYES_PAYOUT", "value": False} and entry.after["value"] is True
    err = await gql.error(SETTING, {"v": "yes"}, token=await token("admin"))
    assert err["extensions"]["code"] == "VALIDATION"


# ---------------------------------------------------------------- who moves the money


async def test_admin_without_finance_moves_no_money(gql, org):
    loan_id = await approved_loan(gql)
    await forbidden(gql, DISBURSE, {"id": loan_id}, "admin")
    await forbidden(gql, DISBURSE, {"id": loan_id}, "hr")
    assert (await gql.ok(DISBURSE, {"id": loan_id}, token=await token("finance")))["disburseLoan"]["status"] == \
        "DISBURSED"


async def test_the_insiders_attempt_fails_at_every_step(gql, org):
    """HR creates a FINANCE account, a position approved by HR only, a made-up employee …"""
    await forbidden(gql, CREATE, person("X1", "fakefin", ["EMPLOYEE", "FINANCE"]), "hr")
    await forbidden(gql, CREATE, person("X2", "fakeadmin", ["EMPLOYEE", "ADMIN"]), "hr")
    await forbidden(gql, POSITION, {"code": "FAKE", "limit": "5000000.00", "chain": ["HR"]}, "hr")
    # HR may create ordinary staff and supervisors.
    await gql.ok(CREATE, person("X3", "ordinary", ["EMPLOYEE", "SUPERVISOR"]), token=await token("hr"))
    # … and may not hand out FINANCE afterwards either.
    x3 = await emp("X3")
    await forbidden(gql, UPDATE, {"id": str(x3.id), "input": {"roles": ["EMPLOYEE", "FINANCE"]}}, "hr")


# ---------------------------------------------------------------- roles


async def test_admin_grants_are_notified_to_other_admins_and_auditors_and_audited(gql, org):
    # A second ADMIN with an employee record, so that "every other ADMIN" is somebody.
    await gql.ok(CREATE, person("AD2", "admin2", ["EMPLOYEE", "ADMIN"], "STAFF"), token=await token("admin"))
    sales = await emp("S1")
    admin = await User.get(username="admin")
    before = {u: await Notification.filter(user__username=u).count() for u in ("admin", "admin2", "auditor", "hr")}
    data = await gql.ok(UPDATE, {"id": str(sales.id), "input": {"roles": ["EMPLOYEE", "FINANCE"]}},
                        token=await token("admin"))
    assert data["updateEmployee"]["id"] == str(sales.id)
    assert sorted((await User.get(username="sales")).roles) == ["EMPLOYEE", "FINANCE"]
    after = {u: await Notification.filter(user__username=u).count() for u in before}
    assert after == {"admin": before["admin"], "admin2": before["admin2"] + 1,
                     "auditor": before["auditor"] + 1, "hr": before["hr"]}
    note = await Notification.filter(user__username="auditor").order_by("-id").first()
    assert "sales" in note.body and "FINANCE" in note.body
    entry = await AuditEntry.filter(action="user.roles_change").order_by("-id").first()
    assert entry.actor_user_id == admin.id
    assert entry.before == {"roles": ["EMPLOYEE"]} and entry.after["roles"] == ["EMPLOYEE", "FINANCE"]
    # Removal is notified as well.
    await gql.ok(UPDATE, {"id": str(sales.id), "input": {"roles": ["EMPLOYEE"]}}, token=await token("admin"))
    assert await Notification.filter(user__username="auditor").count() == before["auditor"] + 2


async def test_nobody_grants_to_themself(gql, org):
    await gql.ok(CREATE, person("AD2", "admin2", ["EMPLOYEE", "ADMIN"], "STAFF"), token=await token("admin"))
    own = await emp("AD2")
    await forbidden(gql, UPDATE, {"id": str(own.id), "input": {"roles": ["EMPLOYEE", "ADMIN", "FINANCE"]}}, "admin2")
    hr = await emp("H1")  # nor their own salary or position (own money)
    await forbidden(gql, UPDATE, {"id": str(hr.id), "input": {"monthlySalary": "90000.00"}}, "hr")


async def test_hr_edits_ordinary_staff_only(gql, org):
    finance = await emp("F1")
    await forbidden(gql, UPDATE, {"id": str(finance.id), "input": {"monthlySalary": "1.00"}}, "hr")
    await forbidden(gql, UPDATE, {"id": str(finance.id), "input": {"roles": ["EMPLOYEE"]}}, "hr")
    await forbidden(gql, UPDATE, {"id": str((await emp("S1")).id), "input": {"name": "x"}}, "finance")


async def test_hr_salary_and_position_changes_are_audited_and_told_to_finance(gql, org):
    sales = await emp("S1")
    before = {u: await Notification.filter(user__username=u).count() for u in ("finance", "finance2", "hr", "admin")}
    data = await gql.ok(UPDATE, {"id": str(sales.id), "input": {"monthlySalary": "9000.00", "positionCode": "MGR"}},
                        token=await token("hr"))
    assert data["updateEmployee"]["monthlySalary"] == "9000.00"
    assert data["updateEmployee"]["position"]["code"] == "MGR"
    entry = await AuditEntry.filter(action="employee.update").order_by("-id").first()
    assert entry.actor == "hr"
    assert entry.before["monthlySalary"] == "8000.00" and entry.after["monthlySalary"] == "9000.00"
    assert entry.before["positionId"] != entry.after["positionId"]
    after = {u: await Notification.filter(user__username=u).count() for u in before}
    assert after == {"finance": before["finance"] + 1, "finance2": before["finance2"] + 1,
                     "hr": before["hr"], "admin": before["admin"]}
    note = await Notification.filter(user__username="finance").order_by("-id").first()
    assert "张三" in note.title and "9000.00" in note.body


async def test_a_supervisor_cannot_be_placed_under_their_own_report(gql, org):
    manager = await emp("M1")
    before = await state()
    err = await gql.error(UPDATE, {"id": str(manager.id), "input": {"supervisorNo": "S1"}}, token=await token("admin"))
    assert {k: err["extensions"].get(k) for k in ("code", "field")} == {"code": "VALIDATION", "field": "supervisorNo"}
    assert await state() == before


# ---------------------------------------------------------------- who sees what


async def test_a_director_sees_the_whole_subtree_but_approves_only_direct_reports(gql, org):
    await gql.ok(CREATE, person("D1", "director", ["EMPLOYEE", "SUPERVISOR"], "MGR", sup=None),
                 token=await token("admin"))
    manager = await emp("M1")
    await gql.ok(UPDATE, {"id": str(manager.id), "input": {"supervisorNo": "D1"}}, token=await token("hr"))
    loan = (await gql.ok(APPLY, {"a": "1000.00"}, token=await token("sales")))["applyForLoan"]
    director = await token("director")
    seen = (await gql.ok(LOAN, {"id": loan["id"]}, token=director))["loan"]
    assert seen["employee"]["employeeNo"] == "S1"
    listed = (await gql.ok("{ loans { edges { node { id } } } }", token=director))["loans"]["edges"]
    assert [e["node"]["id"] for e in listed] == [loan["id"]]
    salaries = (await gql.ok("{ employees { employeeNo monthlySalary } }", token=director))["employees"]
    assert {e["employeeNo"] for e in salaries} >= {"D1", "M1", "S1", "F1"}
    # The SUPERVISOR step is the direct supervisor's only.
    await forbidden(gql, DECIDE, {"id": loan["id"], "d": "APPROVE"}, "director")
    assert (await gql.ok("{ pendingLoanApprovals { id } }", token=director))["pendingLoanApprovals"] == []
    # A supervisor outside the subtree sees nothing.
    await gql.ok(CREATE, person("O1", "outsider", ["EMPLOYEE", "SUPERVISOR"], "MGR", sup=None),
                 token=await token("admin"))
    err = await gql.error(LOAN, {"id": loan["id"]}, token=await token("outsider"))
    assert err["extensions"]["code"] == "FORBIDDEN"


# ---------------------------------------------------------------- no one acts on their own money


async def test_nobody_acts_on_their_own_money(gql, org):
    # FINANCE's own loan (STAFF: approved by the supervisor alone), then disbursed by themself.
    own = (await gql.ok(APPLY, {"a": "500.00"}, token=await token("finance")))["applyForLoan"]
    await forbidden(gql, DECIDE, {"id": own["id"], "d": "APPROVE"}, "finance")
    await gql.ok(DECIDE, {"id": own["id"], "d": "APPROVE"}, token=await token("manager"))
    await forbidden(gql, DISBURSE, {"id": own["id"]}, "finance")
    await gql.ok(DISBURSE, {"id": own["id"]}, token=await token("finance2"))
    # An alert about oneself is not one's to resolve.
    finance = await emp("F1")
    raised = await alerts.raise_alert(SYSTEM, kind="OVERDUE", severity="WARNING", message="逾期", dedupe_key="own-1",
                                      employee_id=finance.id)
    resolve = "mutation($id: ID!) { resolveAlert(alertId:$id, note:\"done\") { id } }"
    await forbidden(gql, resolve, {"id": str(raised.alert.id)}, "finance")
    await gql.ok(resolve, {"id": str(raised.alert.id)}, token=await token("finance2"))
    # Nor one's own offboarding clearance.
    start = """mutation($e: ID!, $d: Date!) { startOffboarding(employeeId:$e, lastWorkingDay:$d) { id } }"""
    off = (await gql.ok(start, {"e": str(finance.id), "d": (today() + timedelta(days=10)).isoformat()},
                        token=await token("hr")))["startOffboarding"]
    confirm = "mutation($id: ID!) { confirmClearance(offboardingId:$id) { status } }"
    before = await state()
    err = await gql.error(confirm, {"id": off["id"]}, token=await token("finance"))
    assert err["extensions"]["code"] == "FORBIDDEN"
    assert await state() == before


# ---------------------------------------------------------------- one person, one step


async def test_one_person_one_step_and_blocked_reason(gql, org):
    # The manager also holds FINANCE: supervisor step and finance step must be two people.
    manager = await emp("M1")
    await gql.ok(UPDATE, {"id": str(manager.id), "input": {"roles": ["EMPLOYEE", "SUPERVISOR", "FINANCE"]}},
                 token=await token("admin"))
    loan = (await gql.ok(APPLY, {"a": "1000.00"}, token=await token("sales")))["applyForLoan"]
    assert loan["blockedReason"] is None
    await gql.ok(DECIDE, {"id": loan["id"], "d": "APPROVE"}, token=await token("manager"))
    await forbidden(gql, DECIDE, {"id": loan["id"], "d": "APPROVE"}, "manager")
    inbox = (await gql.ok("{ pendingLoanApprovals { id } }", token=await token("manager")))["pendingLoanApprovals"]
    assert inbox == []
    assert (await gql.ok(LOAN, {"id": loan["id"]}, token=await token("sales")))["loan"]["blockedReason"] is None
    # Remove every other FINANCE holder: nobody can complete the chain, and the loan says so.
    admin = await token("admin")
    for no in ("F1", "F2"):
        await gql.ok(UPDATE, {"id": str((await emp(no)).id), "input": {"roles": ["EMPLOYEE"]}}, token=admin)
    view = (await gql.ok(LOAN, {"id": loan["id"]}, token=await token("sales")))["loan"]
    assert view["status"] == "PENDING_APPROVAL"
    assert "FINANCE" in view["blockedReason"]
    blocked = "{ positions { code blockedLoans { id blockedReason } } }"
    positions = (await gql.ok(blocked, token=admin))["positions"]
    assert next(p for p in positions if p["code"] == "SALES")["blockedLoans"] == [
        {"id": loan["id"], "blockedReason": view["blockedReason"]}]
    assert next(p for p in positions if p["code"] == "MGR")["blockedLoans"] == []
    # A new FINANCE holder unblocks it.
    await gql.ok(UPDATE, {"id": str((await emp("F2")).id), "input": {"roles": ["EMPLOYEE", "FINANCE"]}}, token=admin)
    assert (await gql.ok(LOAN, {"id": loan["id"]}, token=await token("sales")))["loan"]["blockedReason"] is None
    decided = (await gql.ok(DECIDE, {"id": loan["id"], "d": "APPROVE"}, token=await token("finance2")))["decideLoan"]
    assert decided["status"] == "APPROVED"


# ---------------------------------------------------------------- four eyes


async def test_four_eyes_on_payouts(gql, org):
    # Off by default: the finance clerk who approved may disburse (a company with one accountant).
    first = await approved_loan(gql, "100.00")
    assert (await gql.ok(DISBURSE, {"id": first}, token=await token("finance")))["disburseLoan"]["status"] == \
        "DISBURSED"
    await gql.ok(SETTING, {"v": True}, token=await token("admin"))
    second = await approved_loan(gql, "200.00")
    await forbidden(gql, DISBURSE, {"id": second}, "finance")
    assert (await gql.ok(DISBURSE, {"id": second}, token=await token("finance2")))["disburseLoan"]["status"] == \
        "DISBURSED"


async def test_reimbursement_payout_by_finance_only_and_four_eyes(gql, org):
    from tests.schema.test_reimbursements_api import DECIDE as RDECIDE
    from tests.schema.test_reimbursements_api import PAY, SUBMIT, claim

    await gql.ok(SETTING, {"v": True}, token=await token("admin"))
    submitted = (await gql.ok(SUBMIT, claim("120.00"), token=await token("sales")))["submitReimbursement"]
    rid = submitted["id"]
    await gql.ok(RDECIDE, {"id": rid, "d": "APPROVE"}, token=await token("manager"))
    await gql.ok(RDECIDE, {"id": rid, "d": "APPROVE"}, token=await token("finance"))
    await forbidden(gql, PAY, {"id": rid}, "admin")
    await forbidden(gql, PAY, {"id": rid}, "finance")  # approved it: four eyes
    assert (await gql.ok(PAY, {"id": rid}, token=await token("finance2")))["payReimbursement"]["status"] == "PAID"
    # A FINANCE holder's own claim is never theirs to pay.
    own = (await gql.ok(SUBMIT, claim("80.00"), token=await token("finance2")))["submitReimbursement"]
    await gql.ok(RDECIDE, {"id": own["id"], "d": "APPROVE"}, token=await token("manager"))
    await forbidden(gql, PAY, {"id": own["id"]}, "finance2")


async def test_reimbursement_blocked_reason(gql, org):
    from tests.schema.test_reimbursements_api import SUBMIT, claim

    admin = await token("admin")
    for no in ("F1", "F2"):
        await gql.ok(UPDATE, {"id": str((await emp(no)).id), "input": {"roles": ["EMPLOYEE"]}}, token=admin)
    rid = (await gql.ok(SUBMIT, claim("50.00"), token=await token("sales")))["submitReimbursement"]["id"]
    query = "query($id: ID!) { reimbursement(id:$id) { status blockedReason } }"
    view = (await gql.ok(query, {"id": rid}, token=await token("sales")))["reimbursement"]
    assert view["status"] == "PENDING_APPROVAL" and view["blockedReason"] is None  # the supervisor step is open
    await gql.ok("""mutation($id: ID!) { decideReimbursement(reimbursementId:$id, decision:APPROVE) { status } }""",
                 {"id": rid}, token=await token("manager"))
    view = (await gql.ok(query, {"id": rid}, token=await token("sales")))["reimbursement"]
    assert "FINANCE" in view["blockedReason"]


async def test_hr_cannot_cancel_their_own_offboarding(gql, org):
    await gql.ok(CREATE, person("H2", "hr2", ["EMPLOYEE", "SUPERVISOR"], "STAFF"), token=await token("admin"))
    await gql.ok(UPDATE, {"id": str((await emp("H2")).id), "input": {"roles": ["EMPLOYEE", "HR"]}},
                 token=await token("admin"))
    hr = await emp("H1")
    start = """mutation($e: ID!, $d: Date!) { startOffboarding(employeeId:$e, lastWorkingDay:$d) { id } }"""
    off = (await gql.ok(start, {"e": str(hr.id), "d": (today() + timedelta(days=10)).isoformat()},
                        token=await token("hr")))["startOffboarding"]
    cancel = "mutation($id: ID!) { cancelOffboarding(offboardingId:$id) { status } }"
    await forbidden(gql, cancel, {"id": off["id"]}, "hr")
    assert (await gql.ok(cancel, {"id": off["id"]}, token=await token("hr2")))["cancelOffboarding"]["status"] == \
        "CANCELLED"
