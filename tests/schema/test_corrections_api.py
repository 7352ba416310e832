"""settleLoan's authorization, two-person write-offs and corrections by reversal, through GraphQL.

Every forbidden action is performed and must answer its code and change nothing: no ledger row, no
proposal, no audit entry, the loan's status and balance as they were.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from server.models import AuditEntry, Employee, LedgerEntry, Loan, Offboarding, User, WriteOffProposal
from server.services import loans, offboarding, org, sessions
from server.services import reimbursements as rsvc
from server.services.base import SYSTEM, today
from tests.factories import PASSWORD, make_org
from tests.schema.test_loans_api import Flow

LOAN_FIELDS = """
  id status outstanding settledAt
  settlements { id method amount viewerCanReverse reversedBy { id amount reason reverses { id } } }
  reversals { id amount reason reverses { id method amount } }
  ledger { id kind delta reversesId }
  pendingWriteOff { kind amount reason proposedBy viewerCanDecide reverses { id } }
  writeOffProposals { kind status comment decidedBy }
  viewerCanProposeWriteOff
"""
SETTLE = ("mutation($id: ID!, $m: SettlementMethod!, $a: Decimal!, $n: String) {"
          " settleLoan(loanId: $id, method: $m, amount: $a, note: $n) {" + LOAN_FIELDS + "} }")
PROPOSE = ("mutation($id: ID!, $a: Decimal!, $r: String!) {"
           " proposeWriteOff(loanId: $id, amount: $a, reason: $r) {" + LOAN_FIELDS + "} }")
APPROVE = "mutation($id: ID!, $c: String) { approveWriteOff(loanId: $id, comment: $c) {" + LOAN_FIELDS + "} }"
REJECT = "mutation($id: ID!, $c: String!) { rejectWriteOff(loanId: $id, comment: $c) {" + LOAN_FIELDS + "} }"
REVERSE = ("mutation($id: ID!, $r: String!) { reverseSettlement(settlementId: $id, reason: $r) {"
           + LOAN_FIELDS + "} }")
LOAN = "query($id: ID!) { loan(id: $id) {" + LOAN_FIELDS + "} }"
COMPLETE = "mutation($id: ID!) { completeOffboarding(offboardingId: $id) { id status } }"


class People(Flow):
    """test_loans_api's Flow (tokens per user), with one-field answers and refusals that change nothing."""

    async def ok(self, query: str, variables: dict, who: str) -> dict:
        data = await self.gql.ok(query, variables, await self.token(who))
        return next(iter(data.values()))

    async def refused(self, query: str, variables: dict, who: str, code: str) -> dict:
        """The action is refused with `code` and leaves everything as it was."""
        token = await self.token(who)  # logging in is audited: before the snapshot
        before = await snapshot()
        err = await self.gql.error(query, variables, token)
        assert err["extensions"]["code"] == code, err
        assert await snapshot() == before, f"{who} changed something with a refused {query[:40]}"
        return err


async def snapshot() -> dict:
    return {
        "ledger": await LedgerEntry.all().order_by("id").values_list("id", "kind", "delta_fen", "reverses_id"),
        "loans": await Loan.all().order_by("id").values_list("id", "status", "settled_at"),
        "proposals": await WriteOffProposal.all().order_by("id").values_list("id", "status", "decided_by_id"),
        "offboardings": await Offboarding.all().order_by("id").values_list("id", "status", "cleared_at"),
        "audit": await AuditEntry.all().count(),
        "employees": await Employee.all().order_by("id").values_list("id", "status"),
    }


async def person(no: str, name: str, username: str, roles: list[str]) -> int:
    employee = await org.create_employee(SYSTEM, org.EmployeeData(
        employee_no=no, name=name, department_code="FIN", region_code="XA", position_code="STAFF",
        supervisor_no="M1", monthly_salary="9000.00", hire_date=date(2024, 1, 1), username=username,
        password=PASSWORD, roles=roles,
    ))
    return employee.id


async def viewer(username: str):
    return sessions.viewer_for(await User.get(username=username))


async def disbursed(username: str, amount: str, disburser: str = "finance") -> Loan:
    loan = await loans.apply_for_loan(await viewer(username), loans.LoanApplication(amount, "TRAVEL", "出差"))
    while (loan := await Loan.get(id=loan.id)).status == "PENDING_APPROVAL":
        for approver in ("manager", "finance2", "finance"):
            try:
                await loans.decide_loan(await viewer(approver), loan.id, "APPROVE")
                break
            except Exception:  # not this approver's step
                continue
    return await loans.disburse_loan(await viewer(disburser), loan.id)


@pytest.fixture
async def people(gql, db) -> People:
    await make_org(limit="10000.00")
    await person("F2", "钱财务", "finance2", ["EMPLOYEE", "FINANCE"])
    await person("A1", "孙总", "boss", ["EMPLOYEE", "ADMIN"])
    await person("FA", "周兼管", "finadmin", ["EMPLOYEE", "FINANCE", "ADMIN"])
    return People(gql)


def cash(loan: Loan, amount: str, note: str | None = None) -> dict:
    return {"id": str(loan.id), "m": "CASH_RETURN", "a": amount, "n": note}


# ---------------------------------------------------------------- settling: FINANCE only, never one's own


async def test_cash_return_and_salary_deduction_are_finance_only(people):
    loan = await disbursed("sales", "3000.00")
    for who in ("admin", "boss", "sales", "manager", "hr"):
        for method in ("CASH_RETURN", "SALARY_DEDUCTION"):
            await people.refused(SETTLE, {"id": str(loan.id), "m": method, "a": "100.00", "n": "x"}, who, "FORBIDDEN")
    r = await people.ok(SETTLE, cash(loan, "100.00", "收据 SJ-1"), "finance")
    assert r["outstanding"] == "2900.00" and r["status"] == "PARTIALLY_SETTLED"


async def test_nobody_settles_or_writes_off_their_own_loan_nor_passes_their_own_clearance(people):
    own = await disbursed("finance", "2000.00", disburser="finance2")
    off = await offboarding.start_offboarding(await viewer("hr"), (await User.get(username="finance")).employee_id,
                                              today() + timedelta(days=5), "个人原因")
    await people.refused(SETTLE, cash(own, "2000.00", "收据"), "finance", "FORBIDDEN")
    await people.refused(SETTLE, {"id": str(own.id), "m": "SALARY_DEDUCTION", "a": "2000.00", "n": "工资单"},
                         "finance", "FORBIDDEN")
    await people.refused(SETTLE, {"id": str(own.id), "m": "WRITE_OFF", "a": "2000.00", "n": "无力偿还"},
                         "finance", "FORBIDDEN")
    await people.refused(PROPOSE, {"id": str(own.id), "a": "2000.00", "r": "无力偿还"}, "finance", "FORBIDDEN")
    assert not (await offboarding.clearance_for(own.employee_id)).clear
    view = await people.ok(LOAN, {"id": str(own.id)}, "finance")
    assert view["viewerCanProposeWriteOff"] is False
    # A colleague in finance may; the clearance then passes through them.
    await people.ok(SETTLE, cash(own, "2000.00", "收据 SJ-2"), "finance2")
    assert (await offboarding.clearance_for(own.employee_id)).clear
    assert (await Offboarding.get(id=off.id)).status == "CLEARANCE_PENDING"


# ---------------------------------------------------------------- two-person write-offs


async def test_finance_proposes_a_different_admin_approves(people):
    loan = await disbursed("sales", "1000.00")
    await people.ok(SETTLE, cash(loan, "400.00"), "finance")
    await people.refused(SETTLE, {"id": str(loan.id), "m": "WRITE_OFF", "a": "600.00"}, "finance", "VALIDATION")
    await people.refused(SETTLE, {"id": str(loan.id), "m": "WRITE_OFF", "a": "600.00", "n": "x"}, "admin", "CONFLICT")
    await people.refused(APPROVE, {"id": str(loan.id)}, "admin", "CONFLICT")  # nothing proposed
    await people.refused(SETTLE, {"id": str(loan.id), "m": "WRITE_OFF", "a": "600.00", "n": "x"}, "sales", "FORBIDDEN")
    await people.refused(PROPOSE, {"id": str(loan.id), "a": "600.00", "r": "x"}, "admin", "FORBIDDEN")
    await people.refused(PROPOSE, {"id": str(loan.id), "a": "600.01", "r": "x"}, "finance", "CONFLICT")

    audits, entries = await AuditEntry.all().count(), await LedgerEntry.all().count()
    r = await people.ok(SETTLE, {"id": str(loan.id), "m": "WRITE_OFF", "a": "600.00", "n": "员工失联"}, "finance")
    assert r["status"] == "PARTIALLY_SETTLED" and r["outstanding"] == "600.00"  # the loan is unchanged
    assert r["pendingWriteOff"] == {"kind": "WRITE_OFF", "amount": "600.00", "reason": "员工失联",
                                    "proposedBy": "赵财务", "viewerCanDecide": False, "reverses": None}
    assert r["viewerCanProposeWriteOff"] is False
    assert await LedgerEntry.all().count() == entries and await AuditEntry.all().count() == audits + 1

    # One pending proposal per loan; nobody in finance approves it.
    await people.refused(SETTLE, {"id": str(loan.id), "m": "WRITE_OFF", "a": "600.00", "n": "再提"}, "finance",
                         "CONFLICT")
    await people.refused(SETTLE, {"id": str(loan.id), "m": "WRITE_OFF", "a": "600.00", "n": "再提"}, "finance2",
                         "CONFLICT")
    await people.refused(APPROVE, {"id": str(loan.id)}, "finance2", "FORBIDDEN")
    # The ADMIN's call must name the proposed amount.
    await people.refused(SETTLE, {"id": str(loan.id), "m": "WRITE_OFF", "a": "500.00"}, "admin", "VALIDATION")
    assert (await people.ok(LOAN, {"id": str(loan.id)}, "admin"))["pendingWriteOff"]["viewerCanDecide"] is True

    r = await people.ok(SETTLE, {"id": str(loan.id), "m": "WRITE_OFF", "a": "600.00", "n": "同意"}, "admin")
    assert r["status"] == "WRITTEN_OFF" and r["outstanding"] == "0.00" and r["settledAt"]
    assert r["pendingWriteOff"] is None
    assert r["writeOffProposals"] == [{"kind": "WRITE_OFF", "status": "APPROVED", "comment": "同意", "decidedBy": "admin"}]
    assert [(s["method"], s["amount"]) for s in r["settlements"]] == [("CASH_RETURN", "400.00"), ("WRITE_OFF", "600.00")]
    assert await AuditEntry.filter(action="loan.write_off").count() == 1
    audit = await AuditEntry.get(action="loan.write_off")
    assert audit.after["proposedBy"] == (await User.get(username="finance")).id
    assert audit.after["approvedBy"] == (await User.get(username="admin")).id


async def test_the_proposer_never_approves_their_own_proposal_even_holding_admin(people):
    loan = await disbursed("sales", "800.00")
    await people.ok(PROPOSE, {"id": str(loan.id), "a": "800.00", "r": "无法追回"}, "finadmin")
    await people.refused(SETTLE, {"id": str(loan.id), "m": "WRITE_OFF", "a": "800.00"}, "finadmin", "FORBIDDEN")
    await people.refused(APPROVE, {"id": str(loan.id)}, "finadmin", "FORBIDDEN")
    await people.refused(REJECT, {"id": str(loan.id), "c": "撤回"}, "finadmin", "FORBIDDEN")
    assert (await people.ok(LOAN, {"id": str(loan.id)}, "finadmin"))["pendingWriteOff"]["viewerCanDecide"] is False
    r = await people.ok(APPROVE, {"id": str(loan.id), "c": "同意"}, "boss")
    assert r["status"] == "WRITTEN_OFF"


async def test_an_admin_never_approves_a_write_off_of_their_own_loan(people):
    own = await disbursed("boss", "900.00")
    await people.ok(SETTLE, {"id": str(own.id), "m": "WRITE_OFF", "a": "900.00", "n": "无力偿还"}, "finance")
    await people.refused(APPROVE, {"id": str(own.id)}, "boss", "FORBIDDEN")
    await people.refused(SETTLE, {"id": str(own.id), "m": "WRITE_OFF", "a": "900.00"}, "boss", "FORBIDDEN")
    await people.refused(REJECT, {"id": str(own.id), "c": "不同意"}, "boss", "FORBIDDEN")
    assert (await people.ok(APPROVE, {"id": str(own.id)}, "admin"))["status"] == "WRITTEN_OFF"


async def test_an_admin_rejects_with_a_comment_and_the_loan_stays_as_it_was(people):
    loan = await disbursed("sales", "700.00")
    await people.ok(SETTLE, {"id": str(loan.id), "m": "WRITE_OFF", "a": "700.00", "n": "员工失联"}, "finance")
    await people.refused(REJECT, {"id": str(loan.id), "c": " "}, "admin", "VALIDATION")
    await people.refused(REJECT, {"id": str(loan.id), "c": "不同意"}, "finance2", "FORBIDDEN")
    r = await people.ok(REJECT, {"id": str(loan.id), "c": "先催收"}, "admin")
    assert r["status"] == "DISBURSED" and r["outstanding"] == "700.00" and r["pendingWriteOff"] is None
    assert r["writeOffProposals"] == [{"kind": "WRITE_OFF", "status": "REJECTED", "comment": "先催收",
                                       "decidedBy": "admin"}]
    assert await LedgerEntry.filter(loan_id=loan.id).count() == 1
    await people.refused(APPROVE, {"id": str(loan.id)}, "admin", "CONFLICT")  # nothing pending any more
    # A new proposal may follow.
    r = await people.ok(PROPOSE, {"id": str(loan.id), "a": "700.00", "r": "催收无果"}, "finance")
    assert r["pendingWriteOff"]["reason"] == "催收无果"


async def test_an_approval_rechecks_the_amount_against_what_is_owed_now(people):
    loan = await disbursed("sales", "1000.00")
    await people.ok(PROPOSE, {"id": str(loan.id), "a": "1000.00", "r": "无法追回"}, "finance")
    await people.ok(SETTLE, cash(loan, "300.00", "员工又还了一部分"), "finance")
    await people.refused(APPROVE, {"id": str(loan.id)}, "admin", "CONFLICT")
    await people.refused(SETTLE, {"id": str(loan.id), "m": "WRITE_OFF", "a": "1000.00"}, "admin", "CONFLICT")
    r = await people.ok(REJECT, {"id": str(loan.id), "c": "金额已变"}, "admin")
    assert r["outstanding"] == "700.00"


# ---------------------------------------------------------------- corrections by reversal


async def test_finance_reverses_a_mistaken_cash_return(people):
    loan = await disbursed("sales", "3000.00")
    r = await people.ok(SETTLE, cash(loan, "3000.00", "收据 SJ-7"), "finance")
    assert r["status"] == "SETTLED" and r["settledAt"]
    settlement = r["settlements"][0]
    assert settlement["viewerCanReverse"] is True
    await people.refused(REVERSE, {"id": settlement["id"], "r": ""}, "finance", "VALIDATION")
    for who in ("admin", "boss", "sales", "hr"):
        await people.refused(REVERSE, {"id": settlement["id"], "r": "录错了"}, who, "FORBIDDEN")
    assert (await people.ok(LOAN, {"id": str(loan.id)}, "admin"))["settlements"][0]["viewerCanReverse"] is False

    await people.token("finance2")  # logging in is audited too
    audits = await AuditEntry.all().count()
    r = await people.ok(REVERSE, {"id": settlement["id"], "r": "收据号录错，款未收到"}, "finance2")
    assert r["status"] == "DISBURSED" and r["outstanding"] == "3000.00" and r["settledAt"] is None
    reversal = r["reversals"][0]
    assert reversal["amount"] == "3000.00" and reversal["reason"] == "收据号录错，款未收到"
    assert reversal["reverses"] == {"id": settlement["id"], "method": "CASH_RETURN", "amount": "3000.00"}
    assert r["settlements"][0]["reversedBy"]["id"] == reversal["id"]
    assert r["settlements"][0]["viewerCanReverse"] is False
    assert [(e["kind"], e["delta"], e["reversesId"]) for e in r["ledger"]] == [
        ("DISBURSEMENT", "3000.00", None), ("CASH_RETURN", "-3000.00", None),
        ("REVERSAL", "3000.00", settlement["id"])]
    assert await AuditEntry.all().count() == audits + 1
    audit = await AuditEntry.get(action="loan.reversal")
    assert audit.after["reversesEntryId"] == int(settlement["id"]) and audit.before["status"] == "SETTLED"
    # The original row is as it was: a correction is a new entry, never an edit.
    original = await LedgerEntry.get(id=int(settlement["id"]))
    assert (original.kind, original.delta_fen, original.note) == ("CASH_RETURN", -300_000, "收据 SJ-7")

    # Twice, or the reversal itself, or the disbursement: CONFLICT.
    await people.refused(REVERSE, {"id": settlement["id"], "r": "再来"}, "finance", "CONFLICT")
    await people.refused(REVERSE, {"id": reversal["id"], "r": "撤回冲销"}, "finance", "CONFLICT")
    await people.refused(REVERSE, {"id": r["ledger"][0]["id"], "r": "放款"}, "finance", "CONFLICT")
    await people.refused(REVERSE, {"id": "999999", "r": "x"}, "finance", "NOT_FOUND")
    # The balance is owed again and can be settled again.
    r = await people.ok(SETTLE, {"id": str(loan.id), "m": "SALARY_DEDUCTION", "a": "3000.00", "n": "工资单"}, "finance")
    assert r["status"] == "SETTLED"


async def test_nobody_reverses_a_settlement_on_their_own_loan(people):
    own = await disbursed("finance", "1500.00", disburser="finance2")
    r = await people.ok(SETTLE, {"id": str(own.id), "m": "SALARY_DEDUCTION", "a": "500.00", "n": "工资单"}, "finance2")
    await people.refused(REVERSE, {"id": r["settlements"][0]["id"], "r": "扣错了"}, "finance", "FORBIDDEN")
    assert (await people.ok(LOAN, {"id": str(own.id)}, "finance"))["settlements"][0]["viewerCanReverse"] is False


async def test_an_offset_is_corrected_through_its_reimbursement_not_reversed(people):
    loan = await disbursed("sales", "500.00")
    claim = await rsvc.submit_reimbursement(await viewer("sales"), rsvc.ReimbursementData(lines=[rsvc.ExpenseLineData(
        "CLIENT_VISIT", "800.00", today() - timedelta(days=1), None, "客户拜访差旅", None)]))
    while (claim := await claim.__class__.get(id=claim.id)).status == "PENDING_APPROVAL":
        for approver in ("manager", "finance", "finance2"):
            try:
                await rsvc.decide_reimbursement(await viewer(approver), claim.id, "APPROVE")
                break
            except Exception:  # not this approver's step
                continue
    offset = await LedgerEntry.get(loan_id=loan.id, kind="OFFSET")
    await people.refused(REVERSE, {"id": str(offset.id), "r": "冲抵错了"}, "finance", "CONFLICT")


async def test_a_write_off_reversal_takes_the_same_two_people(people):
    loan = await disbursed("sales", "1200.00")
    await people.ok(PROPOSE, {"id": str(loan.id), "a": "1200.00", "r": "员工失联"}, "finance")
    r = await people.ok(APPROVE, {"id": str(loan.id)}, "admin")
    write_off = r["settlements"][0]
    assert r["status"] == "WRITTEN_OFF" and write_off["viewerCanReverse"] is False  # admin is not finance

    await people.refused(REVERSE, {"id": write_off["id"], "r": "员工已联系上"}, "admin", "FORBIDDEN")
    r = await people.ok(REVERSE, {"id": write_off["id"], "r": "员工已联系上，愿意还款"}, "finadmin")
    assert r["status"] == "WRITTEN_OFF" and r["outstanding"] == "0.00"  # only proposed
    assert r["pendingWriteOff"]["kind"] == "REVERSAL" and r["pendingWriteOff"]["reverses"] == {"id": write_off["id"]}
    assert r["pendingWriteOff"]["amount"] == "1200.00"
    await people.refused(REVERSE, {"id": write_off["id"], "r": "再提"}, "finance", "CONFLICT")
    await people.refused(APPROVE, {"id": str(loan.id)}, "finadmin", "FORBIDDEN")  # one person, one step
    # settleLoan(WRITE_OFF) approves write-offs only, not this reversal.
    await people.refused(SETTLE, {"id": str(loan.id), "m": "WRITE_OFF", "a": "1200.00"}, "admin", "CONFLICT")
    r = await people.ok(APPROVE, {"id": str(loan.id), "c": "同意恢复"}, "admin")
    assert r["status"] == "DISBURSED" and r["outstanding"] == "1200.00" and r["settledAt"] is None
    assert r["settlements"][0]["reversedBy"]["reason"] == "员工已联系上，愿意还款"
    assert [p["status"] for p in r["writeOffProposals"]] == ["APPROVED", "APPROVED"]
    r = await people.ok(SETTLE, cash(loan, "1200.00", "收据"), "finance")
    assert r["status"] == "SETTLED"  # repaid in cash after all: settled, not written off


async def test_a_reversal_reopens_a_confirmed_clearance_and_blocks_the_exit(people):
    loan = await disbursed("sales", "2000.00")
    sales = (await User.get(username="sales")).employee_id
    off = await offboarding.start_offboarding(await viewer("hr"), sales, today() + timedelta(days=5), "个人原因")
    r = await people.ok(SETTLE, cash(loan, "2000.00", "收据 SJ-9"), "finance")
    await offboarding.confirm_clearance(await viewer("finance"), off.id)
    assert (await Offboarding.get(id=off.id)).status == "CLEARED"

    await people.ok(REVERSE, {"id": r["settlements"][0]["id"], "r": "收据作废，款未到账"}, "finance2")
    row = await Offboarding.get(id=off.id)
    assert row.status == "CLEARANCE_PENDING" and row.cleared_at is None
    assert await AuditEntry.filter(action="offboarding.reopen_clearance", object_id=str(off.id)).count() == 1
    await people.refused(COMPLETE, {"id": str(off.id)}, "hr", "CLEARANCE_BLOCKED")

    # Once the exit is completed, the certificate stands: no reversal afterwards.
    await people.ok(SETTLE, cash(loan, "2000.00", "收据 SJ-10"), "finance")
    await offboarding.confirm_clearance(await viewer("finance"), off.id)
    await offboarding.complete_offboarding(await viewer("hr"), off.id)
    view = await people.ok(LOAN, {"id": str(loan.id)}, "finance")
    last = view["settlements"][-1]
    assert last["reversedBy"] is None and last["viewerCanReverse"] is True
    await people.refused(REVERSE, {"id": last["id"], "r": "迟到的更正"}, "finance", "CONFLICT")


async def test_pending_write_offs_list_the_loans_waiting_for_an_admin(people):
    first = await disbursed("sales", "300.00")
    second = await disbursed("sales", "400.00")
    query = "{ pendingWriteOffs { id pendingWriteOff { kind amount viewerCanDecide } } }"
    assert (await people.ok(query, {}, "admin")) == []
    await people.ok(PROPOSE, {"id": str(second.id), "a": "400.00", "r": "无法追回"}, "finance")
    await people.ok(PROPOSE, {"id": str(first.id), "a": "100.00", "r": "部分核销"}, "finance")
    listed = await people.ok(query, {}, "admin")
    assert [(x["id"], x["pendingWriteOff"]["amount"]) for x in listed] == [(str(second.id), "400.00"),
                                                                          (str(first.id), "100.00")]
    assert all(x["pendingWriteOff"]["viewerCanDecide"] for x in listed)
    assert not any(x["pendingWriteOff"]["viewerCanDecide"] for x in await people.ok(query, {}, "finance"))
    for who in ("sales", "manager", "hr"):
        err = await people.gql.error(query, {}, await people.token(who))
        assert err["extensions"]["code"] == "FORBIDDEN"
    await people.ok(APPROVE, {"id": str(second.id)}, "admin")
    assert [x["id"] for x in await people.ok(query, {}, "admin")] == [str(first.id)]
