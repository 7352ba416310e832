"""A known data set for the analytics tests: every figure they check is worked out by hand below.

Today is 2026-06-15 (company time, Asia/Shanghai); the range is 2026-01-01 … 2026-06-15.

    loan  who (position, region)   amount   purpose       disbursed (local)   due         ledger after payout      outstanding  overdue
    L1    M1 (RSM, XA)             1000.00  CLIENT_VISIT  2026-01-10 10:00    2026-02-10  —                         1000.00      yes
    L2    M1 (RSM, XA)             2000.00  TRAVEL        2026-03-05 10:00    2026-07-01  cash -500 (03-20)         1500.00      no
    L3    S1 (REP, XA)              500.00  CLIENT_VISIT  2026-01-20 10:00    2026-02-20  offset -500 (02-01)          0.00      no (settled, 12 days)
    L4    S2 (REP, BJ)              800.00  MARKETING     2026-03-10 10:00    2026-04-10  salary -300 (04-15)        500.00      yes
    L5    R2 (RSM, BJ)             1200.00  MARKETING     2026-04-01 07:00    2026-05-01  write-off -1200 (05-20)      0.00      no (written off)
    L6    S1 (REP, XA)              300.00  OTHER         2025-12-31 23:59    2026-01-15  —                          300.00      before the range
    L7    S1 (REP, XA)              400.00  TRAVEL        not disbursed       2026-07-01                                —
    L8    S2 (REP, BJ)              100.00  TRAVEL        2026-06-15 10:00    2026-06-10  —                          100.00      yes

L5 at 07:00 on 1 April is 23:00 UTC on 31 March: it counts in April (company time). L6 at 23:59 on
31 December is before the range. Region SH, department FIN and position IDLE have no loans.
February and May have no disbursements. Voucher compliance: L3's reimbursement has two lines, one
with a voucher. Offboardings completed in May: R2 (write-off, cleared after the last working day) and
E5 (nothing owed, on time).
Supervisor M1's reports are S1 and S2 (not M1 themself).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from server.domain import roles
from server.models import (
    Attachment,
    Department,
    Employee,
    ExpenseLine,
    LedgerEntry,
    Loan,
    Offboarding,
    Position,
    Region,
    Reimbursement,
    ReimbursementOffset,
)
from server.services.base import Viewer

TZ = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 6, 15)
START = date(2026, 1, 1)


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TZ)


@dataclass
class Data:
    m1: int
    s1: int
    s2: int
    r2: int
    loans: dict[str, int]

    @property
    def finance(self) -> Viewer:
        return Viewer(user_id=9001, username="finance", roles=frozenset({roles.FINANCE, roles.EMPLOYEE}))

    @property
    def supervisor(self) -> Viewer:
        return Viewer(user_id=9002, username="m1", roles=frozenset({roles.SUPERVISOR, roles.EMPLOYEE}),
                      employee_id=self.m1)

    @property
    def employee(self) -> Viewer:
        return Viewer(user_id=9003, username="s1", roles=frozenset({roles.EMPLOYEE}), employee_id=self.s1)


async def build() -> Data:
    sales = await Department.create(code="SALES", name="销售部")
    await Department.create(code="FIN", name="财务部")
    xa = await Region.create(code="XA", name="西安")
    bj = await Region.create(code="BJ", name="北京")
    await Region.create(code="SH", name="上海")
    rsm = await Position.create(code="RSM", name="区域销售经理", level=6, loan_limit_fen=3_000_000)
    rep = await Position.create(code="REP", name="销售代表", level=3, loan_limit_fen=1_000_000)
    await Position.create(code="IDLE", name="行政", level=2, loan_limit_fen=100_000)

    async def person(no: str, name: str, position: Position, region: Region, supervisor: Employee | None) -> Employee:
        return await Employee.create(employee_no=no, name=name, department=sales, region=region, position=position,
                                     supervisor=supervisor, monthly_salary_fen=800_000, hire_date=date(2024, 1, 1))

    m1 = await person("M1", "李经理", rsm, xa, None)
    s1 = await person("S1", "张三", rep, xa, m1)
    s2 = await person("S2", "王五", rep, bj, m1)
    r2 = await person("R2", "赵经理", rsm, bj, None)

    loans: dict[str, int] = {}

    async def loan(name: str, who: Employee, amount: int, purpose: str, disbursed: datetime | None, due: date,
                   status: str, reductions: tuple[tuple[str, int, date], ...] = (),
                   settled: date | None = None) -> None:
        row = await Loan.create(
            number=f"JK-{name}", employee=who, amount_fen=amount, purpose=purpose, description=name,
            expected_settle_date=due, status=status, applied_on=(disbursed or at(date(2026, 6, 1))).date(),
            created_at=disbursed or at(date(2026, 6, 1)), disbursed_at=disbursed,
            settled_at=at(settled) if settled else None,
        )
        loans[name] = row.id
        if disbursed is None:
            return
        await LedgerEntry.create(loan=row, kind="DISBURSEMENT", delta_fen=amount, recorded_at=disbursed)
        for kind, fen, day in reductions:
            await LedgerEntry.create(loan=row, kind=kind, delta_fen=-fen, recorded_at=at(day))

    await loan("L1", m1, 100_000, "CLIENT_VISIT", at(date(2026, 1, 10)), date(2026, 2, 10), "DISBURSED")
    await loan("L2", m1, 200_000, "TRAVEL", at(date(2026, 3, 5)), date(2026, 7, 1), "PARTIALLY_SETTLED",
               (("CASH_RETURN", 50_000, date(2026, 3, 20)),))
    await loan("L3", s1, 50_000, "CLIENT_VISIT", at(date(2026, 1, 20)), date(2026, 2, 20), "SETTLED",
               (("OFFSET", 50_000, date(2026, 2, 1)),), settled=date(2026, 2, 1))
    await loan("L4", s2, 80_000, "MARKETING", at(date(2026, 3, 10)), date(2026, 4, 10), "PARTIALLY_SETTLED",
               (("SALARY_DEDUCTION", 30_000, date(2026, 4, 15)),))
    await loan("L5", r2, 120_000, "MARKETING", at(date(2026, 4, 1), 7, 0), date(2026, 5, 1), "WRITTEN_OFF",
               (("WRITE_OFF", 120_000, date(2026, 5, 20)),))
    await loan("L6", s1, 30_000, "OTHER", at(date(2025, 12, 31), 23, 59), date(2026, 1, 15), "DISBURSED")
    await loan("L7", s1, 40_000, "TRAVEL", None, date(2026, 7, 1), "PENDING_APPROVAL")
    await loan("L8", s2, 10_000, "TRAVEL", at(date(2026, 6, 15)), date(2026, 6, 10), "DISBURSED")

    # L3 was settled by a reimbursement of two lines, one with a voucher file: XA × CLIENT_VISIT 1 of 2.
    claim = await Reimbursement.create(number="BX-1", employee=s1, status="PAID", total_fen=50_000,
                                       created_at=at(date(2026, 1, 30)))
    with_file = await ExpenseLine.create(reimbursement=claim, order=1, category="CLIENT_VISIT", amount_fen=30_000,
                                         incurred_on=date(2026, 1, 25))
    await ExpenseLine.create(reimbursement=claim, order=2, category="CLIENT_VISIT", amount_fen=20_000,
                             incurred_on=date(2026, 1, 26))
    await Attachment.create(sha256="0" * 64, filename="fapiao.pdf", content_type="application/pdf", size=10,
                            expense_line=with_file)
    await ReimbursementOffset.create(reimbursement=claim, loan_id=loans["L3"], amount_fen=50_000, state="APPLIED")

    # May: R2 left late with a write-off; E5 (no loans) left on time with nothing to settle.
    e5 = await person("E5", "孙七", rep, xa, None)
    await Offboarding.create(employee=r2, status="COMPLETED", last_working_day=date(2026, 5, 22),
                             created_at=at(date(2026, 5, 1)), cleared_at=at(date(2026, 5, 25)),
                             completed_at=at(date(2026, 5, 25), 15))
    await Offboarding.create(employee=e5, status="COMPLETED", last_working_day=date(2026, 5, 15),
                             created_at=at(date(2026, 5, 1)), cleared_at=at(date(2026, 5, 10)),
                             completed_at=at(date(2026, 5, 10), 15))
    return Data(m1=m1.id, s1=s1.id, s2=s2.id, r2=r2.id, loans=loans)
