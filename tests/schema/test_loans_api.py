"""Loans through the GraphQL contract: the seed's limit rule, the approval chain, disbursement and the ledger."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from server.models import ApprovalStep, AuditEntry, LedgerEntry, Loan
from server.services.base import today
from tests.factories import PASSWORD, make_org
from tests.querycount import count_queries

APPLY = """mutation($amount: Decimal!, $date: Date) {
  applyForLoan(input:{amount:$amount, purpose:CLIENT_VISIT, description:"拜访客户", expectedSettleDate:$date}) {
    id number status rejectionReason amount outstanding expectedSettleDate
    approvals { order role decision approver { employeeNo } }
  } }"""
DECIDE = """mutation($id: ID!, $d: Decision!, $c: String) {
  decideLoan(loanId:$id, decision:$d, comment:$c) { status rejectionReason approvals { role decision comment } } }"""
DISBURSE = "mutation($id: ID!) { disburseLoan(loanId:$id) { status outstanding disbursedAt } }"
SETTLE = """mutation($id: ID!, $m: SettlementMethod!, $a: Decimal!, $n: String) {
  settleLoan(loanId:$id, method:$m, amount:$a, note:$n) {
    status outstanding settledAt settlements { method amount note } } }"""
QUOTA = "{ me { employee { outstanding quota { limit committed available monthlyLimit monthlyUsed } } } }"


class Flow:
    def __init__(self, gql):
        self.gql = gql
        self.tokens: dict[str, str] = {}

    async def token(self, who: str) -> str:
        if who not in self.tokens:
            self.tokens[who] = await self.gql.login(who, PASSWORD)
        return self.tokens[who]

    async def apply(self, amount: str, who: str = "sales", **kw) -> dict:
        return (await self.gql.ok(APPLY, {"amount": amount, **kw}, await self.token(who)))["applyForLoan"]

    async def disbursed(self, amount: str) -> dict:
        loan = await self.apply(amount)
        assert loan["status"] == "PENDING_APPROVAL", loan
        await self.gql.ok(DECIDE, {"id": loan["id"], "d": "APPROVE"}, await self.token("manager"))
        await self.gql.ok(DECIDE, {"id": loan["id"], "d": "APPROVE"}, await self.token("finance"))
        await self.gql.ok(DISBURSE, {"id": loan["id"]}, await self.token("finance"))
        return loan


@pytest.fixture
async def flow(gql, db):
    await make_org(limit="10000.00")
    return Flow(gql)


async def test_seed_rule_limit_10000_with_8000_owed(flow):
    await flow.disbursed("8000.00")
    quota = (await flow.gql.ok(QUOTA, token=await flow.token("sales")))["me"]["employee"]
    assert quota["outstanding"] == "8000.00"
    assert quota["quota"]["committed"] == "8000.00" and quota["quota"]["available"] == "2000.00"

    over = await flow.apply("2000.01")
    assert over["status"] == "REJECTED"
    assert "额度 10,000.00" in over["rejectionReason"] and "已占用 8,000.00" in over["rejectionReason"]
    assert "可借 2,000.00" in over["rejectionReason"]
    assert over["approvals"] == []

    ok = await flow.apply("2000.00")
    assert ok["status"] == "PENDING_APPROVAL" and ok["rejectionReason"] is None
    quota = (await flow.gql.ok(QUOTA, token=await flow.token("sales")))["me"]["employee"]["quota"]
    assert quota["committed"] == "10000.00" and quota["available"] == "0.00"
    # The rejected application leaves an audit entry that names the decision.
    assert await AuditEntry.filter(action="loan.auto_reject").count() == 1


async def test_monthly_limit(gql, db):
    await make_org(limit="10000.00", monthly="3000.00")
    flow = Flow(gql)
    assert (await flow.apply("2500.00"))["status"] == "PENDING_APPROVAL"
    over = await flow.apply("500.01")
    assert over["status"] == "REJECTED" and "月度限额 3,000.00" in over["rejectionReason"]
    assert (await flow.apply("500.00"))["status"] == "PENDING_APPROVAL"
    quota = (await gql.ok(QUOTA, token=await flow.token("sales")))["me"]["employee"]["quota"]
    assert quota["monthlyLimit"] == "3000.00" and quota["monthlyUsed"] == "3000.00"


async def test_full_lifecycle_on_one_ledger(flow):
    loan = await flow.apply("5000.00")
    assert [s["role"] for s in loan["approvals"]] == ["SUPERVISOR", "FINANCE"]
    assert loan["approvals"][0]["approver"] == {"employeeNo": "M1"}
    assert loan["number"].startswith(f"JK-{today().year}-")
    # The company's date (Asia/Shanghai), not the server's UTC date.
    assert loan["expectedSettleDate"] == str(today() + timedelta(days=15))

    pending = (await flow.gql.ok("{ pendingLoanApprovals { id } }", token=await flow.token("manager")))
    assert pending["pendingLoanApprovals"] == [{"id": loan["id"]}]
    # Finance waits until the supervisor has decided.
    assert (await flow.gql.ok("{ pendingLoanApprovals { id } }", token=await flow.token("finance"))) == {
        "pendingLoanApprovals": []}
    step = (await flow.gql.ok(DECIDE, {"id": loan["id"], "d": "APPROVE", "c": "同意"}, await flow.token("manager")))
    assert step["decideLoan"]["status"] == "PENDING_APPROVAL"
    done = await flow.gql.ok(DECIDE, {"id": loan["id"], "d": "APPROVE"}, await flow.token("finance"))
    assert done["decideLoan"]["status"] == "APPROVED"
    paid = (await flow.gql.ok(DISBURSE, {"id": loan["id"]}, await flow.token("finance")))["disburseLoan"]
    assert paid["status"] == "DISBURSED" and paid["outstanding"] == "5000.00" and paid["disbursedAt"]

    fin = await flow.token("finance")
    r = (await flow.gql.ok(SETTLE, {"id": loan["id"], "m": "CASH_RETURN", "a": "1000.00"}, fin))["settleLoan"]
    assert r["status"] == "PARTIALLY_SETTLED" and r["outstanding"] == "4000.00"
    r = (await flow.gql.ok(SETTLE, {"id": loan["id"], "m": "SALARY_DEDUCTION", "a": "2999.99", "n": "PAY-2026-11"},
                           fin))["settleLoan"]
    assert r["outstanding"] == "1000.01"
    err = await flow.gql.error(SETTLE, {"id": loan["id"], "m": "WRITE_OFF", "a": "1000.01"}, fin)
    assert err["extensions"]["code"] == "VALIDATION"  # a write-off proposal needs its reason
    admin = await flow.token("admin")
    err = await flow.gql.error(SETTLE, {"id": loan["id"], "m": "WRITE_OFF", "a": "1000.01", "n": "无法追回"}, admin)
    assert err["extensions"]["code"] == "CONFLICT"  # nothing proposed yet: an admin alone writes nothing off
    r = (await flow.gql.ok(SETTLE, {"id": loan["id"], "m": "WRITE_OFF", "a": "1000.01", "n": "无法追回"},
                           fin))["settleLoan"]
    assert r["status"] == "PARTIALLY_SETTLED" and r["outstanding"] == "1000.01"  # a proposal only
    r = (await flow.gql.ok(SETTLE, {"id": loan["id"], "m": "WRITE_OFF", "a": "1000.01"}, admin))["settleLoan"]
    assert r["status"] == "WRITTEN_OFF" and r["outstanding"] == "0.00" and r["settledAt"]
    assert [(s["method"], s["amount"]) for s in r["settlements"]] == [
        ("CASH_RETURN", "1000.00"), ("SALARY_DEDUCTION", "2999.99"), ("WRITE_OFF", "1000.01")]
    entries = await LedgerEntry.filter(loan_id=int(loan["id"])).values_list("delta_fen", flat=True)
    assert sum(entries) == 0 and len(entries) == 4


async def test_full_settlement_by_cash_marks_settled(flow):
    loan = await flow.disbursed("3000.00")
    r = (await flow.gql.ok(SETTLE, {"id": loan["id"], "m": "CASH_RETURN", "a": "3000.00"},
                           await flow.token("finance")))["settleLoan"]
    assert r["status"] == "SETTLED" and r["outstanding"] == "0.00"


async def _snapshot(loan_id: str):
    loan = await Loan.get(id=int(loan_id))
    return (loan.status, await LedgerEntry.filter(loan_id=loan.id).count(), await AuditEntry.all().count())


async def test_illegal_transitions_change_nothing(flow):
    loan = await flow.disbursed("5000.00")
    fin, mgr = await flow.token("finance"), await flow.token("manager")
    before = await _snapshot(loan["id"])
    cases = [
        (DECIDE, {"id": loan["id"], "d": "APPROVE"}, mgr, "CONFLICT"),  # approving twice
        (DISBURSE, {"id": loan["id"]}, fin, "CONFLICT"),  # disbursing twice
        (SETTLE, {"id": loan["id"], "m": "CASH_RETURN", "a": "5000.01"}, fin, "CONFLICT"),  # more than owed
        (SETTLE, {"id": loan["id"], "m": "CASH_RETURN", "a": "0"}, fin, "VALIDATION"),
        (SETTLE, {"id": loan["id"], "m": "CASH_RETURN", "a": "1"}, await flow.token("sales"), "FORBIDDEN"),
        ("mutation($id: ID!) { cancelLoan(loanId:$id) { status } }", {"id": loan["id"]}, await flow.token("sales"),
         "CONFLICT"),
    ]
    for query, variables, token, code in cases:
        err = await flow.gql.error(query, variables, token)
        assert err["extensions"]["code"] == code, (variables, err)
    assert await _snapshot(loan["id"]) == before

    rejected = await flow.apply("9999.00")  # over the remaining 5,000
    assert rejected["status"] == "REJECTED"
    before = await _snapshot(rejected["id"])
    err = await flow.gql.error(DISBURSE, {"id": rejected["id"]}, fin)
    assert err["extensions"]["code"] == "CONFLICT"
    assert await _snapshot(rejected["id"]) == before


async def test_finance_cannot_approve_own_loan_even_with_the_role(gql, db):
    people = await make_org()
    from server.services import org
    from server.services.base import SYSTEM

    await org.upsert_position(SYSTEM, org.PositionData("STAFF", "职员", 3, "5000.00", None, 15, ["FINANCE"]))
    flow = Flow(gql)
    loan = (await gql.ok(APPLY, {"amount": "100.00"}, await flow.token("finance")))["applyForLoan"]
    err = await gql.error(DECIDE, {"id": loan["id"], "d": "APPROVE"}, await flow.token("finance"))
    assert err["extensions"]["code"] == "FORBIDDEN"
    stored = await Loan.get(id=int(loan["id"]))
    assert stored.status == "PENDING_APPROVAL" and stored.employee_id == people.finance  # type: ignore[attr-defined]
    assert await ApprovalStep.filter(loan_id=stored.id, decision__not_isnull=True).count() == 0


async def test_rejection_needs_comment_and_ends_chain(flow):
    loan = await flow.apply("1000.00")
    mgr = await flow.token("manager")
    err = await flow.gql.error(DECIDE, {"id": loan["id"], "d": "REJECT"}, mgr)
    assert err["extensions"]["code"] == "VALIDATION"
    r = (await flow.gql.ok(DECIDE, {"id": loan["id"], "d": "REJECT", "c": "用途不明"}, mgr))["decideLoan"]
    assert r["status"] == "REJECTED" and "用途不明" in r["rejectionReason"]
    quota = (await flow.gql.ok(QUOTA, token=await flow.token("sales")))["me"]["employee"]["quota"]
    assert quota["committed"] == "0.00"


async def test_applicant_cancels_until_disbursement(flow):
    loan = await flow.apply("1000.00")
    cancel = "mutation($id: ID!) { cancelLoan(loanId:$id) { status } }"
    err = await flow.gql.error(cancel, {"id": loan["id"]}, await flow.token("manager"))
    assert err["extensions"]["code"] == "FORBIDDEN"
    assert (await flow.gql.ok(cancel, {"id": loan["id"]}, await flow.token("sales")))["cancelLoan"]["status"] == "CANCELLED"
    assert (await flow.gql.ok("{ pendingLoanApprovals { id } }", token=await flow.token("manager"))) == {
        "pendingLoanApprovals": []}


async def test_validation_of_applications(flow):
    cases = [("0", None), ("-5", None), ("1.001", None), ("100", str(today() - timedelta(days=1)))]
    for amount, settle in cases:
        err = await flow.gql.error(APPLY, {"amount": amount, "date": settle}, await flow.token("sales"))
        assert err["extensions"]["code"] == "VALIDATION", (amount, err)
    assert await Loan.all().count() == 0
    admin = await flow.token("admin")  # the bootstrap admin has no employee record
    err = await flow.gql.error(APPLY, {"amount": "10"}, admin)
    assert err["extensions"]["code"] == "FORBIDDEN"


async def test_visibility_of_loans(flow):
    loan = await flow.apply("1000.00")
    hr_token = await flow.token("hr")  # HR sees all
    assert (await flow.gql.ok("query($id:ID!){ loan(id:$id) { number } }", {"id": loan["id"]}, hr_token))["loan"]
    # Another employee (finance clerk) sees it only through the role; an unrelated employee does not.
    from server.services import org
    from server.services.base import SYSTEM

    await org.create_employee(SYSTEM, org.EmployeeData(
        employee_no="S2", name="李四", department_code="SALES", region_code="XA", position_code="SALES",
        supervisor_no=None, monthly_salary="5000", hire_date=date(2024, 1, 1), username="other",
        password=PASSWORD, roles=["EMPLOYEE"]))
    other = await flow.token("other")
    err = await flow.gql.error("query($id:ID!){ loan(id:$id) { number } }", {"id": loan["id"]}, other)
    assert err["extensions"]["code"] == "FORBIDDEN"
    page = (await flow.gql.ok("{ loans { totalCount edges { node { id } } } }", token=other))["loans"]
    assert page["totalCount"] == 0
    mgr_page = (await flow.gql.ok("{ loans { totalCount } }", token=await flow.token("manager")))["loans"]
    assert mgr_page["totalCount"] == 1
    assert (await flow.gql.ok('{ loan(id:"999999") { id } }', token=hr_token))["loan"] is None


async def test_loans_pagination(flow):
    for amount in ("100.00", "200.00", "300.00"):
        await flow.apply(amount)
    token = await flow.token("sales")
    first = (await flow.gql.ok("{ loans(first:2) { totalCount pageInfo { hasNextPage endCursor } edges { node { amount } } } }",
                               token=token))["loans"]
    assert first["totalCount"] == 3 and first["pageInfo"]["hasNextPage"]
    assert [e["node"]["amount"] for e in first["edges"]] == ["300.00", "200.00"]
    rest = (await flow.gql.ok("query($a:String){ loans(first:2, after:$a) { pageInfo { hasNextPage } edges { node { amount } } } }",
                              {"a": first["pageInfo"]["endCursor"]}, token))["loans"]
    assert [e["node"]["amount"] for e in rest["edges"]] == ["100.00"] and not rest["pageInfo"]["hasNextPage"]
    filtered = (await flow.gql.ok("{ loans(status:[REJECTED]) { totalCount } }", token=token))["loans"]
    assert filtered["totalCount"] == 0




PAGE = """{ loans(first: 50) { totalCount edges { node { number amount outstanding daysOverdue status
  employee { name position { name loanLimit } department { name } supervisor { name } }
  approvals { role decision approver { name } } settlements { amount } attachments { filename } } } } }"""


async def test_a_page_of_loans_costs_a_constant_number_of_queries(flow):
    token = await flow.token("hr")
    await flow.disbursed("100.00")
    _, small = await count_queries(flow.gql.ok(PAGE, token=token))
    for _ in range(11):
        await flow.disbursed("100.00")
    for _ in range(10):
        await flow.apply("10.00")
    result, large = await count_queries(flow.gql.ok(PAGE, token=token))
    assert result["loans"]["totalCount"] == 22
    # DataLoaders batch per event-loop tick; on PostgreSQL the employee loads (applicant, supervisor,
    # approver) may land in one batch or two depending on when rows arrive, so allow that slack.
    # Without batching, 22 loans would cost well over 22 statements more than one loan does.
    assert large <= small + 2, f"{small} queries for 1 loan, {large} for 22"
    assert large <= 14
