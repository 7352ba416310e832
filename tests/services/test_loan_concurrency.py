"""Limits are race-free: concurrent applications never together exceed the limit (SQLite and PostgreSQL).

Only PostgreSQL proves the lock. On SQLite, Tortoise runs every transaction on one connection, one at a
time, so these races cannot interleave there and the outcomes would hold even without the lock (checked:
with `lock_employee` made a no-op they all pass on SQLite and all fail on PostgreSQL). What SQLite does
check is that what commits took the employee lock: `lock_version` (bumped by
`server.services.base.lock_employee`) rises once per committed attempt (a refused attempt rolls its bump
back with the rest of its transaction; a rejected application is recorded, so all eight commit).
"""

from __future__ import annotations

import asyncio
from decimal import Decimal

from server.domain.errors import DomainError
from server.models import ApprovalStep, AuditEntry, Employee, LedgerEntry, Loan, User
from server.services import loans, sessions
from tests.factories import make_org


async def _viewer(username: str):
    return sessions.viewer_for(await User.get(username=username))


async def _locks(employee_id: int) -> int:
    """How often the employee's row lock was taken (lock_employee bumps lock_version)."""
    return (await Employee.get(id=employee_id)).lock_version


async def _disbursed(amount: str) -> Loan:
    sales, manager, finance = await _viewer("sales"), await _viewer("manager"), await _viewer("finance")
    loan = await loans.apply_for_loan(sales, loans.LoanApplication(amount, "TRAVEL", "出差"))
    await loans.decide_loan(manager, loan.id, "APPROVE")
    await loans.decide_loan(finance, loan.id, "APPROVE")
    return await loans.disburse_loan(finance, loan.id)


async def test_concurrent_applications_never_exceed_the_limit(db):
    await make_org(limit="10000.00")
    sales = await _viewer("sales")
    application = loans.LoanApplication("3000.00", "CLIENT_VISIT", "拜访客户")
    locks = await _locks(sales.employee_id)
    results = await asyncio.gather(*(loans.apply_for_loan(sales, application) for _ in range(8)))
    assert await _locks(sales.employee_id) == locks + 8  # each application checked the limit under the lock
    accepted = [r for r in results if r.status == "PENDING_APPROVAL"]
    assert len(accepted) == 3
    assert sum(r.amount_fen for r in accepted) == 900_000
    assert all("可借 1,000.00" in r.rejection_reason for r in results if r.status == "REJECTED")
    quota = await loans.quota_for(await sales_employee())
    assert quota.committed == Decimal("9000.00")
    numbers = [r.number for r in results]
    assert len(set(numbers)) == len(numbers)


async def sales_employee():
    return (await User.get(username="sales").prefetch_related("employee")).employee


async def test_concurrent_settlements_never_exceed_the_balance(db):
    await make_org(limit="10000.00")
    loan = await _disbursed("5000.00")
    finance = await _viewer("finance")

    async def settle():
        try:
            await loans.settle_loan(finance, loan.id, "CASH_RETURN", "3000.00")
            return "ok"
        except DomainError as exc:
            return exc.code

    locks = await _locks(loan.employee_id)
    outcomes = await asyncio.gather(*(settle() for _ in range(4)))
    assert await _locks(loan.employee_id) == locks + outcomes.count("ok")  # the committed one took the lock
    assert sorted(outcomes) == ["CONFLICT", "CONFLICT", "CONFLICT", "ok"]
    total = sum(await LedgerEntry.filter(loan_id=loan.id).values_list("delta_fen", flat=True))
    assert total == 200_000
    assert (await Loan.get(id=loan.id)).status == "PARTIALLY_SETTLED"


async def test_concurrent_double_approval_records_one_decision(db):
    await make_org(limit="10000.00")
    sales, manager = await _viewer("sales"), await _viewer("manager")
    loan = await loans.apply_for_loan(sales, loans.LoanApplication("100.00", "OTHER", "办公用品"))

    async def approve():
        try:
            await loans.decide_loan(manager, loan.id, "APPROVE")
            return "ok"
        except DomainError as exc:
            return exc.code

    locks = await _locks(loan.employee_id)
    outcomes = await asyncio.gather(approve(), approve(), approve())
    assert await _locks(loan.employee_id) == locks + outcomes.count("ok")  # the committed one took the lock
    assert outcomes.count("ok") == 1
    assert set(outcomes) - {"ok"} <= {"FORBIDDEN", "CONFLICT"}
    # One decision recorded, by the manager, and the loan moved on exactly one step.
    decided = await ApprovalStep.filter(loan_id=loan.id, decision__not_isnull=True).values_list("decision", flat=True)
    assert decided == ["APPROVE"]
    assert await AuditEntry.filter(action="loan.approve", object_id=str(loan.id), actor="manager").count() == 1


async def _outcome(work) -> str:
    try:
        await work
        return "ok"
    except DomainError as exc:
        return exc.code


async def test_concurrent_reversals_write_one_reversal(db):
    from server.services import corrections

    await make_org(limit="10000.00")
    loan = await _disbursed("2000.00")
    finance = await _viewer("finance")
    await loans.settle_loan(finance, loan.id, "CASH_RETURN", "2000.00", "收据")
    entry = await LedgerEntry.get(loan_id=loan.id, kind="CASH_RETURN")
    locks = await _locks(loan.employee_id)
    outcomes = await asyncio.gather(*(_outcome(corrections.reverse_settlement(finance, entry.id, "更正"))
                                      for _ in range(4)))
    assert await _locks(loan.employee_id) == locks + outcomes.count("ok")  # the committed one took the lock
    assert sorted(outcomes) == ["CONFLICT", "CONFLICT", "CONFLICT", "ok"]
    assert await LedgerEntry.filter(loan_id=loan.id, kind="REVERSAL").count() == 1
    assert (await Loan.get(id=loan.id)).status == "DISBURSED"


async def test_concurrent_proposals_and_approvals_write_off_once(db):
    from server.models import WriteOffProposal
    from server.services import corrections

    await make_org(limit="10000.00")
    loan = await _disbursed("1000.00")
    finance, admin = await _viewer("finance"), await _viewer("admin")
    locks = await _locks(loan.employee_id)
    outcomes = await asyncio.gather(*(_outcome(loans.settle_loan(finance, loan.id, "WRITE_OFF", "1000.00", "核销"))
                                      for _ in range(4)))
    assert await _locks(loan.employee_id) == locks + outcomes.count("ok")  # the committed one took the lock
    assert sorted(outcomes) == ["CONFLICT", "CONFLICT", "CONFLICT", "ok"]
    assert await WriteOffProposal.filter(loan_id=loan.id).count() == 1  # one pending proposal per loan
    locks = await _locks(loan.employee_id)
    outcomes = await asyncio.gather(*(_outcome(corrections.approve_write_off(admin, loan.id)) for _ in range(4)))
    assert await _locks(loan.employee_id) == locks + outcomes.count("ok")  # the committed one took the lock
    assert sorted(outcomes) == ["CONFLICT", "CONFLICT", "CONFLICT", "ok"]
    assert await LedgerEntry.filter(loan_id=loan.id, kind="WRITE_OFF").count() == 1
    assert (await Loan.get(id=loan.id)).status == "WRITTEN_OFF"
