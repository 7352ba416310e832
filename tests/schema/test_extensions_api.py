"""Settle-date extensions (延期申请): asked by the borrower on a disbursed loan, decided by the loan's approval
chain; approved, the loan's date moves and the overdue clock and reminders follow it; all on the loan's trail."""

from __future__ import annotations

from datetime import timedelta

from server.models import AuditEntry, Loan, LoanExtension, Notification, SettleReminder, User
from server.services import workflow
from server.services.base import today
from tests.factories import make_org
from tests.schema.test_reimbursements_api import token
from tests.services.test_reimbursements import disbursed_loan
from tests.services.test_rerouting import apply

REQUEST = """mutation($id: ID!, $d: Date!, $r: String!) {
  requestLoanExtension(loanId: $id, newDate: $d, reason: $r) {
    id status previousDate requestedDate reason approvals { role decision isCurrent approver { name } } } }"""
DECIDE = """mutation($id: ID!, $d: Decision!, $c: String) {
  decideLoanExtension(extensionId: $id, decision: $d, comment: $c) { id status loan { expectedSettleDate daysOverdue } } }"""
LOAN = """query($id: ID!) { loan(id: $id) { expectedSettleDate daysOverdue viewerCan { requestExtension }
  extensions { id status requestedDate viewerCan { decide } } } }"""
PENDING = "{ pendingLoanExtensionApprovals { id loan { number } requestedDate } }"


def day(n: int) -> str:
    return (today() + timedelta(days=n)).isoformat()


async def test_extension_through_the_chain_moves_the_date_and_the_overdue_clock(gql, db):
    await make_org()
    loan = await disbursed_loan("1000.00")
    await Loan.filter(id=loan.id).update(expected_settle_date=today() - timedelta(days=3))  # overdue: asked after
    sales, mgr, fin = await token("sales"), await token("manager"), await token("finance")
    before = (await gql.ok(LOAN, {"id": str(loan.id)}, sales))["loan"]
    assert before["daysOverdue"] == 3 and before["viewerCan"]["requestExtension"] is True

    ext = (await gql.ok(REQUEST, {"id": str(loan.id), "d": day(20), "r": "客户回款延迟"}, sales))["requestLoanExtension"]
    assert ext["status"] == "PENDING_APPROVAL" and ext["previousDate"] == day(-3)
    assert [(s["role"], s["isCurrent"]) for s in ext["approvals"]] == [("SUPERVISOR", True), ("FINANCE", False)]
    assert (await gql.ok(LOAN, {"id": str(loan.id)}, sales))["loan"]["viewerCan"]["requestExtension"] is False
    manager = await User.get(username="manager")
    assert await Notification.filter(user_id=manager.id, title__contains="延期").exists()
    assert [e["id"] for e in (await gql.ok(PENDING, token=mgr))["pendingLoanExtensionApprovals"]] == [ext["id"]]
    # The borrower decides nothing of their own; finance waits for the supervisor.
    own = await gql.error(DECIDE, {"id": ext["id"], "d": "APPROVE"}, sales)
    assert own["extensions"]["code"] == "FORBIDDEN"
    early = await gql.error(DECIDE, {"id": ext["id"], "d": "APPROVE"}, fin)
    assert early["extensions"]["code"] == "FORBIDDEN"

    step = (await gql.ok(DECIDE, {"id": ext["id"], "d": "APPROVE"}, mgr))["decideLoanExtension"]
    assert step["status"] == "PENDING_APPROVAL" and step["loan"]["expectedSettleDate"] == day(-3)
    done = (await gql.ok(DECIDE, {"id": ext["id"], "d": "APPROVE", "c": "同意"}, fin))["decideLoanExtension"]
    assert done["status"] == "APPROVED"
    assert done["loan"] == {"expectedSettleDate": day(20), "daysOverdue": 0}
    actions = await AuditEntry.filter(object_type="loan", object_id=str(loan.id),
                                      action__startswith="loan.ext").order_by("id").values_list("action", flat=True)
    assert actions == ["loan.extension_request", "loan.extension_approve_step", "loan.extend"]
    # Reminders follow the new date: due within the reminder window of the new date, reminded once for it.
    assert await workflow.send_settle_reminders(on=today() + timedelta(days=18)) == 1
    assert await SettleReminder.filter(loan_id=loan.id, due_on=today() + timedelta(days=20)).exists()


async def test_extension_rules(gql, db):
    await make_org()
    loan = await disbursed_loan("1000.00")
    sales, mgr = await token("sales"), await token("manager")
    current = (await Loan.get(id=loan.id)).expected_settle_date
    same = await gql.error(REQUEST, {"id": str(loan.id), "d": current.isoformat(), "r": "x"}, sales)
    assert same["extensions"]["field"] == "newDate"
    too_far = await gql.error(REQUEST, {"id": str(loan.id), "d": day(400), "r": "x"}, sales)
    assert too_far["extensions"]["field"] == "newDate"
    no_reason = await gql.error(REQUEST, {"id": str(loan.id), "d": day(30), "r": "  "}, sales)
    assert no_reason["extensions"]["field"] == "reason"
    # Someone else's loan, even the supervisor's report's, is not theirs to extend.
    other = await gql.error(REQUEST, {"id": str(loan.id), "d": day(30), "r": "代申请"}, mgr)
    assert other["extensions"]["code"] == "FORBIDDEN"
    # Not yet disbursed: refused.
    pending = await apply("sales", "100.00")
    refused = await gql.error(REQUEST, {"id": str(pending.id), "d": day(30), "r": "x"}, sales)
    assert refused["extensions"]["code"] == "CONFLICT"
    # One at a time; a rejection (with its comment) leaves the date as it was.
    ext = (await gql.ok(REQUEST, {"id": str(loan.id), "d": day(30), "r": "项目延期"}, sales))["requestLoanExtension"]
    twice = await gql.error(REQUEST, {"id": str(loan.id), "d": day(31), "r": "再次"}, sales)
    assert twice["extensions"]["code"] == "CONFLICT"
    no_comment = await gql.error(DECIDE, {"id": ext["id"], "d": "REJECT"}, mgr)
    assert no_comment["extensions"]["field"] == "comment"
    rejected = (await gql.ok(DECIDE, {"id": ext["id"], "d": "REJECT", "c": "理由不足"}, mgr))["decideLoanExtension"]
    assert rejected["status"] == "REJECTED" and rejected["loan"]["expectedSettleDate"] == current.isoformat()
    assert (await LoanExtension.get(id=int(ext["id"]))).decided_at is not None
    again = await gql.error(DECIDE, {"id": ext["id"], "d": "APPROVE"}, mgr)
    assert again["extensions"]["code"] == "CONFLICT"
