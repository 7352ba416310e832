"""Property test on a real database: random loans, reimbursements (oldest first or explicit offsets),
approvals, rejections and cash returns in random order. After every step no balance is negative,
every loan's ledger agrees with its offsets and settlements, and its status follows from its ledger."""

from __future__ import annotations

import itertools
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.domain import ledger as ledger_rules
from server.domain.errors import ValidationFailed
from server.domain.money import ZERO, from_fen
from server.models import Employee, LedgerEntry, Loan, Reimbursement, ReimbursementOffset
from server.services import audit, loans, org
from server.services import reimbursements as svc
from server.services.base import SYSTEM, today
from tests.factories import PASSWORD, make_org
from tests.services.test_reimbursements import approve_reimbursement_chain, disbursed_loan, line, viewer_of

_people = itertools.count(1)

fen = st.integers(min_value=1, max_value=600_000)
submit = st.tuples(
    st.just("submit"), fen,
    st.none() | st.lists(st.tuples(st.integers(0, 3), st.integers(1, 600_000)), max_size=3),
)
decide = st.tuples(st.sampled_from(["approve", "reject"]), st.integers(0, 20))
settle = st.tuples(st.just("settle"), st.integers(0, 3), st.integers(1, 100))
operations = st.lists(st.one_of(submit, submit, decide, decide, settle), min_size=1, max_size=10)


async def _new_employee() -> tuple[int, str]:
    n = next(_people)
    username = f"p{n}"
    e = await org.create_employee(SYSTEM, org.EmployeeData(
        employee_no=f"P{n}", name=f"员工{n}", department_code="SALES", region_code="XA", position_code="SALES",
        supervisor_no="M1", monthly_salary="8000.00", hire_date=today(), username=username, password=PASSWORD,
        roles=["EMPLOYEE"],
    ))
    return e.id, username


async def _owed_now(loan_ids: list[int]) -> Decimal:
    balances = await loans.outstanding_by_loan(loan_ids)
    reserved = await svc.reserved_by_loan(loan_ids)
    return sum((max(ZERO, balances[i] - reserved[i]) for i in loan_ids), ZERO)


async def _check_invariants(employee_id: int, loan_ids: list[int]) -> None:
    balances = await loans.outstanding_by_loan(loan_ids)
    for loan in await Loan.filter(id__in=loan_ids):
        entries = await LedgerEntry.filter(loan_id=loan.id)
        amount = from_fen(loan.amount_fen)
        assert ZERO <= balances[loan.id] <= amount, (loan.number, balances[loan.id])
        applied = await ReimbursementOffset.filter(loan_id=loan.id, state="APPLIED")
        settled = sum((-from_fen(e.delta_fen) for e in entries if e.kind in ledger_rules.SETTLEMENT_KINDS), ZERO)
        assert balances[loan.id] == amount - sum((from_fen(o.amount_fen) for o in applied), ZERO) - settled
        # Each applied offset is exactly one OFFSET entry of its reimbursement, and nothing else is.
        offset_entries = sorted((e.reimbursement_id, -e.delta_fen) for e in entries if e.kind == ledger_rules.OFFSET)
        assert offset_entries == sorted((o.reimbursement_id, o.amount_fen) for o in applied)
        assert loan.status == ledger_rules.status_from_ledger(amount, [ledger_rules.Entry(e.kind, from_fen(e.delta_fen)) for e in entries])
    for r in await Reimbursement.filter(employee_id=employee_id):
        offsets = await ReimbursementOffset.filter(reimbursement_id=r.id)
        taken = sum((o.amount_fen for o in offsets if o.state != "RELEASED"), 0)
        assert 0 <= taken <= r.total_fen  # payable = total - offsets is never negative
        states = {o.state for o in offsets}
        allowed = {"PENDING_APPROVAL": {"RESERVED"}, "APPROVED": {"APPLIED", "RELEASED"},
                   "PAID": {"APPLIED", "RELEASED"}, "REJECTED": {"RELEASED"}}[r.status]
        assert states <= allowed, (r.status, states)
    owed = (await loans.employee_outstanding([employee_id]))[employee_id]
    assert owed == sum(balances.values(), ZERO)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(loan_amounts=st.lists(st.integers(min_value=1, max_value=500_000), min_size=1, max_size=4), ops=operations)
async def test_random_reimbursements_keep_the_ledger_consistent(db, loan_amounts, ops):
    if not await Employee.filter(employee_no="M1").exists():
        await make_org(limit="100000.00")
    employee_id, username = await _new_employee()
    viewer, manager, finance = await viewer_of(username), await viewer_of("manager"), await viewer_of("finance")
    loan_ids = [(await disbursed_loan(str(from_fen(a)), username)).id for a in loan_amounts]
    await _check_invariants(employee_id, loan_ids)

    for op in ops:
        pending = await Reimbursement.filter(employee_id=employee_id, status="PENDING_APPROVAL").order_by("id")
        if op[0] == "submit":
            _, total_fen, explicit = op
            total = from_fen(total_fen)
            owed_before = await _owed_now(loan_ids)
            count_before = await Reimbursement.filter(employee_id=employee_id).count()
            requested = None if explicit is None else [
                svc.OffsetRequest(loan_ids[i % len(loan_ids)], from_fen(a)) for i, a in explicit
            ]
            try:
                r = await svc.submit_reimbursement(viewer, svc.ReimbursementData([line(str(total))], requested))
            except ValidationFailed:
                assert explicit is not None  # oldest first is never refused
                assert await Reimbursement.filter(employee_id=employee_id).count() == count_before
            else:
                reserved = sum((o.amount_fen for o in await ReimbursementOffset.filter(reimbursement_id=r.id)), 0)
                # Mandatory offsetting: as much as the employee owes, up to the total.
                assert from_fen(reserved) == min(total, owed_before)
        elif op[0] in ("approve", "reject") and pending:
            target = pending[op[1] % len(pending)]
            if op[0] == "approve":
                decided = await approve_reimbursement_chain(target.id)
                # The offsets are applied at the final approval (what the loans still owe then); nothing left to
                # pay out makes it PAID there and then, with no payer; anything left waits for a payment.
                applied = await ReimbursementOffset.filter(reimbursement_id=target.id, state="APPLIED")
                payable = decided.total_fen - sum(o.amount_fen for o in applied)
                assert decided.status == ("PAID" if payable == 0 else "APPROVED"), (decided.status, payable)
                assert (decided.paid_at is not None) == (decided.status == "PAID")
            else:
                r = await svc.decide_reimbursement(manager, target.id, "REJECT", "票据不全")
                assert r.status == "REJECTED"
        elif op[0] == "settle":
            _, index, percent = op
            loan = await Loan.get(id=loan_ids[index % len(loan_ids)])
            outstanding = (await loans.outstanding_by_loan([loan.id]))[loan.id]
            if loan.status in ledger_rules.OPEN_STATUSES:
                amount = max(Decimal("0.01"), (outstanding * percent / 100).quantize(Decimal("0.01")))
                await loans.settle_loan(finance, loan.id, "CASH_RETURN", str(min(amount, outstanding)))
        await _check_invariants(employee_id, loan_ids)

    # Approve whatever is left: still consistent, and the audit chain is intact.
    for r in await Reimbursement.filter(employee_id=employee_id, status="PENDING_APPROVAL"):
        await approve_reimbursement_chain(r.id)
    await _check_invariants(employee_id, loan_ids)
    assert await ReimbursementOffset.filter(reimbursement__employee_id=employee_id, state="RESERVED").count() == 0
    assert (await audit.verify_chain()).ok
