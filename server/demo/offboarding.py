"""Two offboardings for the demo company, made through the services after the demo loans.

- 刘洋 (E004, 区域销售经理, 华北区) resigns with an open loan: the clearance is blocked and the
  OFFBOARDING_OUTSTANDING alert waits in finance's, HR's and his supervisor's notifications.
- 胡斌 (E014, 销售, 西南区) left: his loan was settled inside the clearance (part returned in
  cash, the rest deducted from his final pay), finance confirmed, HR completed the exit, and his
  account is closed. His 离职清款证明 can be printed.
Neither is one of the login accounts listed on the demo's login page.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

from server.domain.money import CENT
from server.models import Employee, Loan, User
from server.services import loans, offboarding, sessions
from server.services.base import Viewer, today

BLOCKED = "E004"
COMPLETED = "E014"
HR = "E018"  # 周婷, 人事经理
FINANCE = "E016"  # 赵敏, 财务经理
DISBURSER = "E017"  # 孙丽, 财务专员


async def _viewer(employee_no: str) -> Viewer:
    return sessions.viewer_for(await User.get(employee__employee_no=employee_no))


async def _open_loans(employee: Employee) -> list[Loan]:
    return await Loan.filter(employee_id=employee.id, status__in=["DISBURSED", "PARTIALLY_SETTLED"]).order_by("id")


async def _ensure_open_loan(employee: Employee, amount: str, description: str) -> None:
    """The demo loans normally provide one; make it here (through the chain) when they do not."""
    if await _open_loans(employee):
        return
    loan = await loans.apply_for_loan(await _viewer(employee.employee_no),
                                      loans.LoanApplication(amount, "MARKETING", description))
    supervisor = await Employee.get(id=employee.supervisor_id)  # type: ignore[attr-defined]
    for step in await loan.approvals.all().order_by("order"):
        if step.skipped:
            continue
        decider = supervisor.employee_no if step.role == "SUPERVISOR" else FINANCE
        await loans.decide_loan(await _viewer(decider), loan.id, "APPROVE", "同意")
    await loans.disburse_loan(await _viewer(DISBURSER), loan.id)


async def seed() -> None:
    hr, finance = await _viewer(HR), await _viewer(FINANCE)
    on = today()

    blocked = await Employee.get(employee_no=BLOCKED)
    await _ensure_open_loan(blocked, "18000.00", "华北区光伏项目推介会场地及物料")
    await offboarding.start_offboarding(hr, blocked.id, on + timedelta(days=14),
                                        "个人原因辞职，拟回原籍发展（人事已面谈）")

    leaver = await Employee.get(employee_no=COMPLETED)
    await _ensure_open_loan(leaver, "6000.00", "渠道样机采购")
    case = await offboarding.start_offboarding(hr, leaver.id, on - timedelta(days=3), "合同到期不再续签")
    balances = await loans.outstanding_by_loan([loan.id for loan in await _open_loans(leaver)])
    for number, (loan_id, owed) in enumerate(sorted(balances.items()), start=1):
        # About a third back in cash (in hundreds), the rest from the final pay.
        cash = ((owed / 300).quantize(Decimal(1), rounding=ROUND_DOWN) * 100).quantize(CENT)
        if cash > 0:
            await loans.settle_loan(finance, loan_id, "CASH_RETURN", cash, f"现金退回 收据 SJ-LZ-{number:03d}")
        rest = (owed - cash).quantize(CENT)
        if rest > 0:
            await loans.settle_loan(finance, loan_id, "SALARY_DEDUCTION", rest,
                                    f"离职当月工资扣款 工资单 PR-{on:%Y-%m}-{COMPLETED}")
    await offboarding.confirm_clearance(finance, case.id)
    await offboarding.complete_offboarding(hr, case.id)
