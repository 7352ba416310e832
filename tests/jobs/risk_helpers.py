"""Building risk data at chosen dates (rows written directly: the rules read history that the services
would only write as of today), and running `runRiskScan(asOf)` through GraphQL and a burst worker."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from server.domain.money import to_fen
from server.models import (
    Attachment,
    BusinessRecord,
    Employee,
    ExpenseLine,
    Job,
    LedgerEntry,
    Loan,
    Reimbursement,
)
from server.services import org
from server.services.base import SYSTEM
from server.settings import get_settings

AS_OF = date(2026, 11, 2)
_numbers = itertools.count(1)

SCAN = "mutation($asOf: Date) { runRiskScan(asOf: $asOf) { id state progress } }"
JOB = "query($id: ID!) { job(id: $id) { id state progress error result } }"


def at(day: date) -> datetime:
    return datetime.combine(day, time(10, 0), tzinfo=get_settings().tz)


async def loan(employee_id: int, amount: str = "1000.00", *, applied_on: date = AS_OF, status: str = "DISBURSED",
               settle_on: date | None = None, purpose: str = "CLIENT_VISIT") -> Loan:
    """A loan as of its dates; a disbursed one has its DISBURSEMENT ledger entry."""
    fen = to_fen(Decimal(amount))
    number = f"JK-T-{next(_numbers):06d}"
    row = await Loan.create(
        number=number, employee_id=employee_id, amount_fen=fen, purpose=purpose, description="测试",
        expected_settle_date=settle_on or applied_on + timedelta(days=15), status=status, applied_on=applied_on,
        created_at=at(applied_on), disbursed_at=at(applied_on) if status in ("DISBURSED", "PARTIALLY_SETTLED",
                                                                             "SETTLED", "WRITTEN_OFF") else None)
    if row.disbursed_at is not None:
        await LedgerEntry.create(loan=row, kind="DISBURSEMENT", delta_fen=fen, recorded_at=at(applied_on))
    return row


async def bulk_loans(employee_id: int, count: int, *, applied_on: date, status: str = "DISBURSED",
                     settle_on: date | None = None) -> list[int]:
    rows = [Loan(number=f"JK-B-{next(_numbers):06d}", employee_id=employee_id, amount_fen=10000, purpose="OTHER",
                 description="测试", expected_settle_date=settle_on or applied_on + timedelta(days=15), status=status,
                 applied_on=applied_on, created_at=at(applied_on),
                 disbursed_at=at(applied_on) if status != "REJECTED" else None) for _ in range(count)]
    await Loan.bulk_create(rows)
    numbers = [r.number for r in rows]
    ids = list(await Loan.filter(number__in=numbers).values_list("id", flat=True))
    if status != "REJECTED":
        await LedgerEntry.bulk_create([LedgerEntry(loan_id=i, kind="DISBURSEMENT", delta_fen=10000,
                                                   recorded_at=at(applied_on)) for i in ids])
    return ids


async def settle(row: Loan, kind: str = "CASH_RETURN") -> LedgerEntry:
    entry = await LedgerEntry.create(loan=row, kind=kind, delta_fen=-row.amount_fen, recorded_at=at(AS_OF))
    await Loan.filter(id=row.id).update(status="SETTLED" if kind != "WRITE_OFF" else "WRITTEN_OFF",
                                        settled_at=at(AS_OF))
    return entry


async def reverse(row: Loan, entry: LedgerEntry) -> None:
    await LedgerEntry.create(loan=row, kind="REVERSAL", delta_fen=-entry.delta_fen, reverses=entry,
                             recorded_at=at(AS_OF))
    await Loan.filter(id=row.id).update(status="DISBURSED", settled_at=None)


async def business(employee_id: int, signed_on: date, reference: str = "HT-1") -> None:
    await BusinessRecord.create(employee_id=employee_id, kind="销售合同", reference=reference, amount_fen=100000,
                                signed_on=signed_on)


async def lines(employee_id: int, total: int, with_vouchers: int, *, purpose: str = "MARKETING",
                incurred_on: date = AS_OF) -> None:
    reimbursement = await Reimbursement.create(number=f"BX-T-{next(_numbers):06d}", employee_id=employee_id,
                                               status="PAID", total_fen=total * 100, created_at=at(incurred_on))
    await ExpenseLine.bulk_create([ExpenseLine(reimbursement=reimbursement, order=i, category=purpose, amount_fen=100,
                                               incurred_on=incurred_on) for i in range(total)])
    ids = list(await ExpenseLine.filter(reimbursement=reimbursement).order_by("id").values_list("id", flat=True))
    await Attachment.bulk_create([Attachment(sha256="0" * 64, filename="f.pdf", content_type="application/pdf", size=1,
                                             expense_line_id=i) for i in ids[:with_vouchers]])


async def colleague(no: str, name: str, username: str, position: str = "SALES") -> int:
    """Another employee of a position (reporting to the manager M1 of tests.factories.make_org)."""
    e = await org.create_employee(SYSTEM, org.EmployeeData(
        employee_no=no, name=name, department_code="SALES", region_code="XA", position_code=position,
        supervisor_no="M1", monthly_salary="8000.00", hire_date=date(2024, 1, 1), username=username,
        password="pass-1234", roles=["EMPLOYEE"]))
    return e.id


async def run_scan(gql, run_burst, as_of: date, username: str = "finance") -> Job:
    token = await gql.login(username)
    job = (await gql.ok(SCAN, {"asOf": as_of.isoformat()}, token=token))["runRiskScan"]
    assert job["state"] == "QUEUED" and job["progress"] == 0.0
    await run_burst()
    polled = (await gql.ok(JOB, {"id": job["id"]}, token=token))["job"]
    assert polled["state"] == "DONE", polled
    assert polled["progress"] == 1.0
    return await Job.get(id=job["id"])


async def supervisor_of(employee_id: int) -> int:
    return (await Employee.get(id=employee_id)).supervisor_id  # type: ignore[attr-defined]
