"""Loans in every state for the demo company, some overdue — the seed's story in numbers."""

from __future__ import annotations

from server.demo import history
from server.models import Employee, User
from server.services import corrections, loans, sessions
from server.services.base import SYSTEM, Viewer


async def _viewer(employee_no: str) -> Viewer:
    user = await User.get(employee__employee_no=employee_no)
    return sessions.viewer_for(user)


async def _apply(no: str, amount: str, purpose: str, description: str):
    return await loans.apply_for_loan(await _viewer(no), loans.LoanApplication(amount, purpose, description))


async def _approve_all(loan) -> None:
    """Walk the chain: the applicant's supervisor, then finance (赵敏, or 孙丽 for 赵敏's own reports)."""
    employee = await Employee.get(id=loan.employee_id)
    supervisor = await Employee.get(id=employee.supervisor_id)
    await loans.decide_loan(await _viewer(supervisor.employee_no), loan.id, "APPROVE", "同意")
    await loans.decide_loan(await _viewer("E017" if employee.employee_no == "E016" else "E016"), loan.id,
                            "APPROVE", "额度内，同意")


async def _disbursed(no: str, amount: str, purpose: str, description: str, days_ago: int = 0):
    loan = await _apply(no, amount, purpose, description)
    await _approve_all(loan)
    await loans.disburse_loan(await _viewer("E017"), loan.id)
    if days_ago:
        await history.backdate_loan(SYSTEM, loan.id, days_ago)
    return loan


async def seed() -> None:
    finance = await _viewer("E017")
    # The seed's case: a salesperson with a 10,000 limit owes 8,000, now overdue.
    await _disbursed("E006", "8000.00", "CLIENT_VISIT", "榆林客户拜访及样品费用", days_ago=50)
    # Regional sales managers with large open loans (one of them is the offboarding case).
    await _disbursed("E004", "18000.00", "MARKETING", "华北区光伏项目推介会场地及物料", days_ago=75)
    await _disbursed("E005", "6000.00", "TRAVEL", "成都、重庆客户巡访差旅", days_ago=10)
    await _disbursed("E003", "9000.00", "CLIENT_VISIT", "延安储能项目客户招待", days_ago=20)
    await _disbursed("E002", "10000.00", "MARKETING", "西北能源展会展位费", days_ago=25)
    await _disbursed("E014", "6000.00", "PROCUREMENT", "渠道样机采购", days_ago=70)
    partly = await _disbursed("E012", "4000.00", "TRAVEL", "贵阳客户拜访差旅")
    await loans.settle_loan(finance, partly.id, "CASH_RETURN", "1000.00", "现金退回 收据 SJ-001")
    settled = await _disbursed("E013", "3000.00", "CLIENT_VISIT", "昆明客户拜访")
    await loans.settle_loan(finance, settled.id, "CASH_RETURN", "3000.00", "现金退回 收据 SJ-002")
    written = await _disbursed("E015", "1000.00", "OTHER", "展会临时用工", days_ago=200)
    # Two people: finance (赵敏) proposes, the system administrator approves.
    await loans.settle_loan(await _viewer("E016"), written.id, "WRITE_OFF", "1000.00",
                            "金额较小，追讨成本过高，经总经理批准核销")
    await corrections.approve_write_off(SYSTEM, written.id, "同意核销")
    await _disbursed("E021", "3000.00", "TRAVEL", "西宁变电站现场调试差旅", days_ago=5)
    # Waiting at each stage.
    await _apply("E007", "3000.00", "CLIENT_VISIT", "宝鸡客户拜访")  # at the supervisor (张伟)
    approved = await _apply("E008", "5000.00", "MARKETING", "咸阳社区推广活动")
    await _approve_all(approved)  # approved, waiting for disbursement
    halfway = await _apply("E011", "2000.00", "TRAVEL", "天津客户拜访")
    await loans.decide_loan(await _viewer("E004"), halfway.id, "APPROVE", "同意")  # now at finance
    rejected = await _apply("E009", "2000.00", "OTHER", "团建")
    await loans.decide_loan(await _viewer("E004"), rejected.id, "REJECT", "非业务用途，请走团建预算")
    await _apply("E010", "12000.00", "MARKETING", "石家庄推广活动")  # over the 10,000 limit: auto-rejected
    cancelled = await _apply("E022", "1500.00", "PROCUREMENT", "测试仪器配件")
    await loans.cancel_loan(await _viewer("E022"), cancelled.id)
