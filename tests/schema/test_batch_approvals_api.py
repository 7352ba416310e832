"""Batch decisions (decideLoans, decideReimbursements): each item through the single-decision service, own
transaction and audit entry; separation of duties per item; warned items refused; a capped batch size."""

from __future__ import annotations

from server.models import AuditEntry, Loan, Reimbursement
from server.services import alerts, loans, org
from server.services.base import SYSTEM
from tests.factories import make_org
from tests.querycount import count_queries
from tests.schema.test_reimbursement_warnings_api import _Upload, submit
from tests.schema.test_reimbursements_api import token
from tests.services.test_reimbursements import colleague, line, pdf_bytes, viewer_of

DECIDE_LOANS = """mutation($ids: [ID!]!, $d: Decision!, $c: String) {
  decideLoans(loanIds: $ids, decision: $d, comment: $c) {
    loanId ok error { code message } loan { id status approvals { role decision } } } }"""
DECIDE_REIMBURSEMENTS = """mutation($ids: [ID!]!, $d: Decision!, $c: String) {
  decideReimbursements(reimbursementIds: $ids, decision: $d, comment: $c) {
    reimbursementId ok error { code message } reimbursement { id status } } }"""
INBOX = """{ loanApprovalInbox(first: 50) { edges { node { id number batchWarning viewerCan { decide batchApprove }
  employee { name } } } } }"""
R_INBOX = """{ reimbursementApprovalInbox(first: 50) { edges { node { id batchWarning
  viewerCan { decide batchApprove } } } } }"""


async def apply(username: str, amount: str = "1000.00") -> Loan:
    loan = await loans.apply_for_loan(await viewer_of(username), loans.LoanApplication(amount, "CLIENT_VISIT", "拜访客户"))
    assert loan.status == "PENDING_APPROVAL", loan.rejection_reason
    return loan


async def finance_step_org() -> None:
    """make_org, with the STAFF position (finance's own) approved by FINANCE alone: finance's own loan then
    waits at a FINANCE step, the insider's chance to slip it into a batch of colleagues' loans."""
    await make_org(chain=["FINANCE"])
    await org.upsert_position(SYSTEM, org.PositionData("STAFF", "职员", 3, "5000.00", None, 15, ["FINANCE"]))


async def test_batch_approves_each_own_transaction_and_refuses_the_approvers_own_loan(gql, db):
    await finance_step_org()
    await colleague()
    mine = await apply("finance")
    others = [await apply("sales"), await apply("sales2"), await apply("manager")]
    ids = [str(others[0].id), str(mine.id), str(others[1].id), str(others[2].id)]
    before = await AuditEntry.filter(action="loan.approve").count()

    data = await gql.ok(DECIDE_LOANS, {"ids": ids, "d": "APPROVE", "c": "批量同意"}, await token("finance"))
    results = data["decideLoans"]
    assert [r["loanId"] for r in results] == ids  # in the order asked
    by_id = {r["loanId"]: r for r in results}
    refused = by_id[str(mine.id)]
    assert refused["ok"] is False and refused["loan"] is None
    assert refused["error"]["code"] == "FORBIDDEN" and "自己" in refused["error"]["message"]
    for loan in others:
        r = by_id[str(loan.id)]
        assert r["ok"] is True and r["error"] is None and r["loan"]["status"] == "APPROVED"
    # Each approved item wrote its own audit entry; the refused one wrote nothing and stays pending.
    assert await AuditEntry.filter(action="loan.approve").count() == before + 3
    assert (await Loan.get(id=mine.id)).status == "PENDING_APPROVAL"
    # The same refusal as the single mutation.
    single = await gql.error("mutation($id: ID!) { decideLoan(loanId: $id, decision: APPROVE) { id } }",
                             {"id": str(mine.id)}, await token("finance"))
    assert single["extensions"]["code"] == "FORBIDDEN"


async def test_one_person_one_step_holds_in_a_batch(gql, db):
    """A SUPERVISOR who also holds FINANCE approves the first step in a batch, then may not batch the second."""
    await make_org()
    manager = await org.get_user(await viewer_of("manager"))
    manager.roles = [*manager.roles, "FINANCE"]
    await manager.save()
    loan = await apply("sales")
    first = await gql.ok(DECIDE_LOANS, {"ids": [str(loan.id)], "d": "APPROVE"}, await token("manager"))
    assert first["decideLoans"][0]["ok"] is True
    assert first["decideLoans"][0]["loan"]["approvals"] == [
        {"role": "SUPERVISOR", "decision": "APPROVE"}, {"role": "FINANCE", "decision": None}]
    second = (await gql.ok(DECIDE_LOANS, {"ids": [str(loan.id)], "d": "APPROVE"}, await token("manager")))
    assert second["decideLoans"][0]["ok"] is False
    assert second["decideLoans"][0]["error"]["code"] == "FORBIDDEN"


async def test_a_loan_with_a_warning_is_refused_in_a_batch_and_flagged_in_the_inbox(gql, db):
    people = await make_org(chain=["FINANCE"])
    await colleague()
    flagged, clean = await apply("sales"), await apply("sales2")
    await alerts.raise_alert(SYSTEM, kind="LARGE_LOAN_NO_BUSINESS", severity="WARNING", message="大额借款",
                             dedupe_key=f"test-{flagged.id}", recipients=[people.finance], employee_id=people.sales,
                             loan_id=flagged.id)
    fin = await token("finance")
    inbox = {e["node"]["id"]: e["node"] for e in (await gql.ok(INBOX, token=fin))["loanApprovalInbox"]["edges"]}
    assert inbox[str(flagged.id)]["viewerCan"] == {"decide": True, "batchApprove": False}
    assert "1 条未处理的预警" in inbox[str(flagged.id)]["batchWarning"]
    assert inbox[str(clean.id)]["viewerCan"] == {"decide": True, "batchApprove": True}
    assert inbox[str(clean.id)]["batchWarning"] is None

    results = (await gql.ok(DECIDE_LOANS, {"ids": [str(flagged.id), str(clean.id)], "d": "APPROVE"}, fin))["decideLoans"]
    assert results[0]["ok"] is False and results[0]["error"]["code"] == "CONFLICT"
    assert "逐笔审批" in results[0]["error"]["message"]
    assert results[1]["ok"] is True
    assert (await Loan.get(id=flagged.id)).status == "PENDING_APPROVAL"
    # Alone, it may still be approved; and a batch rejection (with its comment) is not stopped by a warning.
    rejected = (await gql.ok(DECIDE_LOANS, {"ids": [str(flagged.id)], "d": "REJECT", "c": "重复借款"}, fin))
    assert rejected["decideLoans"][0]["ok"] is True and rejected["decideLoans"][0]["loan"]["status"] == "REJECTED"


async def test_batch_size_is_capped_and_an_empty_batch_refused(gql, db):
    await make_org()
    fin = await token("finance")
    too_many = await gql.error(DECIDE_LOANS, {"ids": [str(i) for i in range(1, 102)], "d": "APPROVE"}, fin)
    assert too_many["extensions"]["code"] == "VALIDATION" and "100" in too_many["message"]
    empty = await gql.error(DECIDE_LOANS, {"ids": [], "d": "APPROVE"}, fin)
    assert empty["extensions"]["code"] == "VALIDATION"
    # Unknown ids are refused one by one, like the single mutation; a repeated id is decided once.
    data = await gql.ok(DECIDE_LOANS, {"ids": ["999999", "999999", "abc"], "d": "APPROVE"}, fin)
    assert [(r["loanId"], r["ok"], r["error"]["code"]) for r in data["decideLoans"]] == [
        ("999999", False, "NOT_FOUND"), ("abc", False, "NOT_FOUND")]


async def test_a_reject_batch_without_a_comment_is_refused_per_item(gql, db):
    await make_org()
    loan = await apply("sales")
    data = await gql.ok(DECIDE_LOANS, {"ids": [str(loan.id)], "d": "REJECT"}, await token("manager"))
    assert data["decideLoans"][0]["error"]["code"] == "VALIDATION"
    assert (await Loan.get(id=loan.id)).status == "PENDING_APPROVAL"


async def test_reimbursements_batch_refuses_warned_claims_and_the_viewers_own(gql, db):
    await make_org()
    clean = await submit("sales", line("120.00", "INV-9", vouchers=[_Upload("发票.pdf", pdf_bytes("INV-9"))]))
    no_voucher = await submit("sales", line("80.00"))
    manager_own = await submit("manager", line("50.00", "INV-M", vouchers=[_Upload("m.pdf", pdf_bytes("INV-M"))]))
    mgr = await token("manager")
    inbox = {e["node"]["id"]: e["node"] for e in
             (await gql.ok(R_INBOX, token=mgr))["reimbursementApprovalInbox"]["edges"]}
    assert inbox[str(clean.id)]["viewerCan"]["batchApprove"] is True
    assert inbox[str(no_voucher.id)]["viewerCan"] == {"decide": True, "batchApprove": False}
    assert "没有凭证" in inbox[str(no_voucher.id)]["batchWarning"]
    assert str(manager_own.id) not in inbox

    ids = [str(clean.id), str(no_voucher.id), str(manager_own.id)]
    results = (await gql.ok(DECIDE_REIMBURSEMENTS, {"ids": ids, "d": "APPROVE"}, mgr))["decideReimbursements"]
    assert results[0]["ok"] is True and results[0]["reimbursement"]["status"] == "PENDING_APPROVAL"  # FINANCE next
    assert results[1]["ok"] is False and results[1]["error"]["code"] == "CONFLICT"
    assert results[2]["ok"] is False and results[2]["error"]["code"] == "FORBIDDEN"
    assert await AuditEntry.filter(action="reimbursement.approve_step").count() == 1
    assert (await Reimbursement.get(id=no_voucher.id)).status == "PENDING_APPROVAL"


async def test_inbox_flags_cost_the_same_for_one_and_many_loans(gql, db):
    people = await make_org(chain=["FINANCE"])
    await apply("sales", "100.00")
    fin = await token("finance")
    _, one = await count_queries(gql.ok(INBOX, token=fin))
    await colleague()
    for n in range(4):
        loan = await apply("sales2" if n % 2 else "sales", "100.00")
        await alerts.raise_alert(SYSTEM, kind="LARGE_LOAN_NO_BUSINESS", severity="WARNING", message="m",
                                 dedupe_key=f"k{n}", recipients=[people.finance], employee_id=loan.employee_id,
                                 loan_id=loan.id)
    _, many = await count_queries(gql.ok(INBOX, token=fin))
    assert many == one


async def test_reimbursement_inbox_flags_cost_the_same_for_one_and_many(gql, db):
    await make_org()
    # duplicates_by_line asks about invoice numbers and voucher files only when some line has one: the first
    # claim has both, so the count compared is that of the page size alone.
    await submit("sales", line("10.00", "INV-A", vouchers=[_Upload("a.pdf", pdf_bytes("INV-A"))]))
    mgr = await token("manager")
    _, one = await count_queries(gql.ok(R_INBOX, token=mgr))
    await submit("sales", line("11.00"), line("12.00"))
    await submit("sales", line("13.00", "INV-X", vouchers=[_Upload("x.pdf", pdf_bytes("INV-X"))]))
    _, many = await count_queries(gql.ok(R_INBOX, token=mgr))
    assert many == one
