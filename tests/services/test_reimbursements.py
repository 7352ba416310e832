"""Reimbursement services: concurrency on both databases, approval applying offsets, audit.

The helpers at the top (no `test_` prefix) are shared with the GraphQL tests.
"""

from __future__ import annotations

import asyncio
import struct
import zlib
from datetime import date, timedelta
from decimal import Decimal

import pytest

from server.domain.errors import DomainError, Forbidden, InvalidTransition, ValidationFailed
from server.models import (
    ApprovalStep,
    AuditEntry,
    Employee,
    ExpenseLine,
    LedgerEntry,
    Loan,
    Reimbursement,
    ReimbursementOffset,
    User,
)
from server.services import audit, loans, org, sessions
from server.services import reimbursements as svc
from server.services.base import SYSTEM, Viewer, today
from tests.factories import PASSWORD, make_org

D = Decimal


# ---------------------------------------------------------------- helpers (shared)


async def viewer_of(username: str) -> Viewer:
    return sessions.viewer_for(await User.get(username=username))


async def decider_for(step: ApprovalStep, applicant_id: int) -> Viewer:
    """Whoever may decide the step: the fixed supervisor, or a holder of the role other than the applicant."""
    if step.role == "SUPERVISOR":
        return sessions.viewer_for(await User.get(employee_id=step.approver_id))
    for user in await User.all().order_by("id"):
        if step.role in (user.roles or []) and user.employee_id != applicant_id:
            return sessions.viewer_for(user)
    raise AssertionError(f"nobody to decide a {step.role} step")


async def approve_loan_chain(loan_id: int) -> Loan:
    loan = await Loan.get(id=loan_id)
    while loan.status == "PENDING_APPROVAL":
        step = await ApprovalStep.get(loan_id=loan_id, is_current=True)
        loan = await loans.decide_loan(await decider_for(step, loan.employee_id), loan_id, "APPROVE")
    return loan


async def disbursed_loan(amount: str, username: str = "sales", disburser: str = "finance") -> Loan:
    """A loan of `amount` applied for by `username`, approved along its chain and paid out."""
    loan = await loans.apply_for_loan(
        await viewer_of(username), loans.LoanApplication(amount, "CLIENT_VISIT", "拜访客户")
    )
    assert loan.status == "PENDING_APPROVAL", loan.rejection_reason
    loan = await approve_loan_chain(loan.id)
    assert loan.status == "APPROVED"
    return await loans.disburse_loan(await viewer_of(disburser), loan.id)


async def approve_reimbursement_chain(reimbursement_id: int) -> Reimbursement:
    row = await Reimbursement.get(id=reimbursement_id)
    while row.status == "PENDING_APPROVAL":
        step = await ApprovalStep.get(reimbursement_id=reimbursement_id, is_current=True)
        row = await svc.decide_reimbursement(await decider_for(step, row.employee_id), reimbursement_id, "APPROVE")
    return row


def line(amount: str, invoice_no: str | None = None, days_ago: int = 1, vouchers: list | None = None,
         category: str = "CLIENT_VISIT") -> svc.ExpenseLineData:
    return svc.ExpenseLineData(category, amount, today() - timedelta(days=days_ago), invoice_no,
                               "客户拜访差旅", vouchers)


def data(*amounts: str, offsets: list[tuple[int, str]] | None = None) -> svc.ReimbursementData:
    return svc.ReimbursementData(
        lines=[line(a) for a in amounts],
        offsets=None if offsets is None else [svc.OffsetRequest(str(i), a) for i, a in offsets],
    )


def png_bytes(seed: int = 0) -> bytes:
    """A valid 1x1 PNG; `seed` changes the pixel so each seed is a different file."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    pixel = bytes([0, seed % 256, (seed // 256) % 256, 7])
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(pixel)) + chunk(b"IEND", b""))


def pdf_bytes(text: str = "invoice") -> bytes:
    """A small valid one-page PDF whose content stream carries `text` (so each text is a different file)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


async def colleague(no: str = "S2", username: str = "sales2") -> int:
    """Another salesperson under the same manager: sees neither S1's records nor S1 theirs."""
    e = await org.create_employee(SYSTEM, org.EmployeeData(
        employee_no=no, name="李四", department_code="SALES", region_code="XA", position_code="SALES",
        supervisor_no="M1", monthly_salary="8000.00", hire_date=date(2024, 1, 1), username=username,
        password=PASSWORD, roles=["EMPLOYEE"],
    ))
    return e.id


async def balance(loan_id: int) -> Decimal:
    return (await loans.outstanding_by_loan([loan_id]))[loan_id]


async def offsets_of(reimbursement_id: int) -> list[tuple[int, Decimal, str]]:
    rows = await ReimbursementOffset.filter(reimbursement_id=reimbursement_id).order_by("id")
    return [(r.loan_id, D(r.amount_fen) / 100, r.state) for r in rows]


async def counts() -> tuple[int, int, int, int, int]:
    return (await Reimbursement.all().count(), await ExpenseLine.all().count(),
            await ReimbursementOffset.all().count(), await LedgerEntry.all().count(), await AuditEntry.all().count())


# ---------------------------------------------------------------- tests


async def test_submit_reserves_and_approval_applies_offsets(db):
    await make_org()
    loan = await disbursed_loan("5000.00")
    sales = await viewer_of("sales")
    r = await svc.submit_reimbursement(sales, data("6000.00", "4000.00"))
    assert r.number == f"BX-{today().year}-000001"
    assert r.status == "PENDING_APPROVAL" and r.total_fen == 1_000_000
    assert await offsets_of(r.id) == [(loan.id, D("5000.00"), "RESERVED")]
    assert await balance(loan.id) == D("5000.00")  # nothing moves before approval

    r = await approve_reimbursement_chain(r.id)
    assert r.status == "APPROVED" and r.decided_at is not None
    assert await offsets_of(r.id) == [(loan.id, D("5000.00"), "APPLIED")]
    assert await balance(loan.id) == D("0.00")
    await loan.refresh_from_db()
    assert loan.status == "SETTLED" and loan.settled_at is not None
    entry = await LedgerEntry.get(loan_id=loan.id, kind="OFFSET")
    assert entry.delta_fen == -500_000 and entry.reimbursement_id == r.id

    r = await svc.pay_reimbursement(await viewer_of("finance"), r.id)
    assert r.status == "PAID" and r.paid_at is not None
    paid = await AuditEntry.filter(action="reimbursement.pay").first()
    assert paid is not None and paid.after == {"status": "PAID", "paid": "5000.00"}
    assert (await audit.verify_chain()).ok


async def test_refused_submission_changes_nothing(db):
    await make_org()
    loan = await disbursed_loan("5000.00")
    sales = await viewer_of("sales")
    before = await counts()
    with pytest.raises(ValidationFailed):
        await svc.submit_reimbursement(sales, data("6000.00", offsets=[(loan.id, "5000.01")]))
    with pytest.raises(ValidationFailed):
        await svc.submit_reimbursement(sales, data("6000.00", offsets=[]))  # owes 5000: must offset
    assert await counts() == before
    # The number sequence was not consumed by the refusals.
    r = await svc.submit_reimbursement(sales, data("100.00"))
    assert r.number.endswith("-000001")


@pytest.mark.parametrize("n", [2, 5])
async def test_concurrent_submissions_never_over_offset(db, n):
    await make_org()
    loan = await disbursed_loan("5000.00")
    sales = await viewer_of("sales")
    # Only PostgreSQL proves the lock (SQLite runs one transaction at a time: see
    # tests/services/test_loan_concurrency.py); here, that every committed submission took it.
    locks = (await Employee.get(id=sales.employee_id)).lock_version
    results = await asyncio.gather(
        *(svc.submit_reimbursement(sales, data("3000.00")) for _ in range(n)), return_exceptions=True
    )
    assert all(isinstance(r, Reimbursement) for r in results), results
    assert (await Employee.get(id=sales.employee_id)).lock_version == locks + n
    reserved = [sum(a for _, a, _ in await offsets_of(r.id)) for r in results]  # type: ignore[union-attr]
    # Whoever came first took 3000, the next the remaining 2000, the others nothing.
    assert sorted(reserved, reverse=True) == [D("3000.00"), D("2000.00")] + [D("0")] * (n - 2)
    for r in results:
        await approve_reimbursement_chain(r.id)  # type: ignore[union-attr]
    assert await balance(loan.id) == D("0.00")
    assert (await Loan.get(id=loan.id)).status == "SETTLED"


async def test_concurrent_explicit_offsets_one_wins(db):
    await make_org()
    loan = await disbursed_loan("5000.00")
    sales = await viewer_of("sales")
    # Only PostgreSQL proves the lock (SQLite runs one transaction at a time: see
    # tests/services/test_loan_concurrency.py); here, that every committed submission took it.
    locks = (await Employee.get(id=sales.employee_id)).lock_version
    results = await asyncio.gather(
        *(svc.submit_reimbursement(sales, data("4000.00", offsets=[(loan.id, "4000.00")])) for _ in range(3)),
        return_exceptions=True,
    )
    ok = [r for r in results if isinstance(r, Reimbursement)]
    refused = [r for r in results if isinstance(r, ValidationFailed)]
    assert len(ok) == 1 and len(refused) == 2, results
    assert (await Employee.get(id=sales.employee_id)).lock_version == locks + 1  # refusals roll their bump back
    assert "超过可冲抵余额" in refused[0].message
    assert await ReimbursementOffset.filter(state="RESERVED").count() == 1


async def test_concurrent_duplicate_invoice_across_employees(db):
    """Two people claiming one invoice at the same moment: exactly one succeeds."""
    await make_org()
    a, b = await viewer_of("sales"), await viewer_of("hr")
    claim = svc.ReimbursementData(lines=[line("200.00", invoice_no="FP-2026-7788")])
    results = await asyncio.gather(svc.submit_reimbursement(a, claim), svc.submit_reimbursement(b, claim),
                                   return_exceptions=True)
    ok = [r for r in results if isinstance(r, Reimbursement)]
    refused = [r for r in results if isinstance(r, ValidationFailed)]
    assert len(ok) == 1 and len(refused) == 1, results
    assert ok[0].number not in refused[0].message  # another person's document number stays hidden
    assert "FP-2026-7788" in refused[0].message
    assert await ExpenseLine.filter(invoice_no="FP-2026-7788").count() == 1


async def test_rejection_releases_reservation(db):
    await make_org()
    loan = await disbursed_loan("5000.00")
    sales, manager = await viewer_of("sales"), await viewer_of("manager")
    r = await svc.submit_reimbursement(sales, data("3000.00"))
    with pytest.raises(ValidationFailed):
        await svc.decide_reimbursement(manager, r.id, "REJECT", "  ")
    r = await svc.decide_reimbursement(manager, r.id, "REJECT", "发票不清晰")
    assert r.status == "REJECTED"
    assert await offsets_of(r.id) == [(loan.id, D("3000.00"), "RELEASED")]
    assert await ApprovalStep.filter(reimbursement_id=r.id, is_current=True).count() == 0
    with pytest.raises(InvalidTransition):
        await svc.decide_reimbursement(await viewer_of("finance"), r.id, "APPROVE")
    # The whole balance is offsettable again.
    r2 = await svc.submit_reimbursement(sales, data("5000.00"))
    assert await offsets_of(r2.id) == [(loan.id, D("5000.00"), "RESERVED")]
    assert await balance(loan.id) == D("5000.00")


async def test_approval_after_cash_return_takes_only_what_is_owed(db):
    """Finance records a cash return while an offset is reserved: approval never drives the balance negative."""
    await make_org()
    loan = await disbursed_loan("5000.00")
    r = await svc.submit_reimbursement(await viewer_of("sales"), data("3000.00"))
    await loans.settle_loan(await viewer_of("finance"), loan.id, "CASH_RETURN", "4000.00", "现金归还")
    r = await approve_reimbursement_chain(r.id)
    assert await offsets_of(r.id) == [(loan.id, D("1000.00"), "APPLIED")]
    assert await balance(loan.id) == D("0.00")
    assert (await Loan.get(id=loan.id)).status == "SETTLED"
    approve = await AuditEntry.filter(action="reimbursement.approve").first()
    assert approve is not None
    assert approve.after["offsets"] == [{"loan": loan.number, "reserved": "3000.00", "applied": "1000.00"}]


async def test_empty_chain_approves_at_once(db):
    """A position whose only step is SUPERVISOR, for someone without a supervisor: approved on submission."""
    await make_org()
    loan = await disbursed_loan("8000.00", "manager")  # MGR chain: FINANCE
    await org.upsert_position(SYSTEM, org.PositionData("MGR", "销售部经理", 6, "30000.00", None, 30, ["SUPERVISOR"]))
    r = await svc.submit_reimbursement(await viewer_of("manager"), data("2000.00"))
    assert r.status == "APPROVED"
    assert await offsets_of(r.id) == [(loan.id, D("2000.00"), "APPLIED")]
    assert await balance(loan.id) == D("6000.00")
    assert (await Loan.get(id=loan.id)).status == "PARTIALLY_SETTLED"


async def test_authorization_in_the_service(db):
    people = await make_org()
    await disbursed_loan("1000.00")
    await colleague()
    sales, other, finance = await viewer_of("sales"), await viewer_of("sales2"), await viewer_of("finance")
    r = await svc.submit_reimbursement(sales, data("500.00"))
    with pytest.raises(Forbidden):
        await svc.get_reimbursement(other, r.id)
    with pytest.raises(Forbidden):
        await svc.decide_reimbursement(sales, r.id, "APPROVE")  # nobody approves their own
    with pytest.raises(Forbidden):
        await svc.decide_reimbursement(finance, r.id, "APPROVE")  # the supervisor's step comes first
    with pytest.raises(Forbidden):
        await svc.pay_reimbursement(sales, r.id)
    with pytest.raises(InvalidTransition):
        await svc.pay_reimbursement(finance, r.id)
    assert [x.id for x in await svc.pending_reimbursement_approvals(await viewer_of("manager"))] == [r.id]
    assert await svc.pending_reimbursement_approvals(finance) == []
    await svc.decide_reimbursement(await viewer_of("manager"), r.id, "APPROVE")
    assert [x.id for x in await svc.pending_reimbursement_approvals(finance)] == [r.id]
    # The FINANCE step's decider sees the record although they are not the employee's supervisor.
    assert (await svc.get_reimbursement(finance, r.id)) is not None
    assert await (await svc.list_reimbursements(other)).count() == 0
    assert await (await svc.list_reimbursements(await viewer_of("hr"))).count() == 1  # HR sees all
    assert await (await svc.list_reimbursements(await viewer_of("manager"), employee_id=people.sales)).count() == 1


async def test_left_employee_cannot_submit(db):
    people = await make_org()
    await Employee.filter(id=people.sales).update(status="LEFT")
    with pytest.raises(Forbidden):
        await svc.submit_reimbursement(await viewer_of("sales"), data("100.00"))


async def test_offboarding_employee_may_still_submit(db):
    """Clearing a leaver's loans is exactly what a reimbursement is for."""
    people = await make_org()
    loan = await disbursed_loan("2000.00")
    await Employee.filter(id=people.sales).update(status="OFFBOARDING")
    r = await svc.submit_reimbursement(await viewer_of("sales"), data("2500.00"))
    await approve_reimbursement_chain(r.id)
    assert await balance(loan.id) == D("0.00")


async def test_line_validation(db):
    await make_org()
    sales = await viewer_of("sales")
    cases = [
        svc.ReimbursementData(lines=[]),
        svc.ReimbursementData(lines=[line("10.001")]),
        svc.ReimbursementData(lines=[line("0.00")]),
        svc.ReimbursementData(lines=[svc.ExpenseLineData("FOOD", "10.00", date.today())]),
        svc.ReimbursementData(lines=[line("10.00", days_ago=-3)]),
        svc.ReimbursementData(lines=[line("10.00", days_ago=400)]),
        svc.ReimbursementData(lines=[line("10.00", invoice_no="A1"), line("20.00", invoice_no="a 1")]),
        svc.ReimbursementData(lines=[line("10.00", invoice_no="X" * 65)]),
        svc.ReimbursementData(lines=[line("10.00")], offsets=[svc.OffsetRequest("abc", "1.00")]),
    ]
    for case in cases:
        with pytest.raises(DomainError) as info:
            await svc.submit_reimbursement(sales, case)
        assert info.value.code == "VALIDATION", case
    assert await Reimbursement.all().count() == 0


async def test_invoice_numbers_are_normalized(db):
    await make_org()
    r = await svc.submit_reimbursement(await viewer_of("sales"), svc.ReimbursementData(
        lines=[line("10.00", invoice_no=" fp 0012 ")]))
    assert (await ExpenseLine.get(reimbursement_id=r.id)).invoice_no == "FP0012"
    with pytest.raises(ValidationFailed) as info:
        await svc.submit_reimbursement(await viewer_of("hr"), svc.ReimbursementData(
            lines=[line("10.00", invoice_no="FP0012")]))
    assert "FP0012" in info.value.message and r.number not in info.value.message
    with pytest.raises(ValidationFailed) as info:  # the same person again: told which of their own claims
        await svc.submit_reimbursement(await viewer_of("sales"), svc.ReimbursementData(
            lines=[line("10.00", invoice_no="fp0012")]))
    assert r.number in info.value.message
