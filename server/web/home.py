"""The dashboard: the viewer's quota, open loans, and how many decisions wait for them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.responses import Response

from server.domain.pages import PageKey
from server.domain.vocab import COMMITTING_STATUSES, LoanStatus
from server.services.base import today
from server.web.core import Page, check_read

OPEN = [s.value for s in LoanStatus if s in COMMITTING_STATUSES]

HOME = """
query Home($open: [LoanStatus!]) {
  me {
    username roles canApply applyBlockedReason offboarding { id status lastWorkingDay outstanding }
    employee {
      id name employeeNo status
      department { name }
      position { name loanLimit monthlyLoanLimit settleDays }
      quota { limit committed available monthlyLimit monthlyUsed }
      loans(status: $open) { id number amount purpose status outstanding daysOverdue expectedSettleDate createdAt }
    }
  }
  pendingLoanApprovals { id }
  pendingReimbursementApprovals { id }
}
"""


async def home(page: Page) -> Response:
    data = check_read(await page.gql(HOME, {"open": OPEN}))
    return await page.render("home.html", {
        "employee": data["me"]["employee"], "standing": data["me"], "pending_loans": len(data["pendingLoanApprovals"]),
        "pending_reimbursements": len(data["pendingReimbursementApprovals"]),
        "risk": await risk_dashboard(page) if page.sees(PageKey.RISK_DASHBOARD) else None,
    })


# Finance's and the admin's risk block (issue 13): figures now, this month's trend, the riskiest positions.
DASHBOARD = """
query($from: Date) {
  openLoansByOverdue(first: 0) { totalCount totalOutstanding overdueCount overdueOutstanding }
  positions: riskBreakdown(dimension: POSITION) { key label loans overdueLoans overdueRate }
  months: riskBreakdown(dimension: MONTH, from: $from) { key label loans amount overdueRate }
}
"""


async def risk_dashboard(page: Page) -> dict[str, Any]:
    this_month = today().replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    data = check_read(await page.gql(DASHBOARD, {"from": last_month.isoformat()}))
    ranked = sorted((p for p in data["positions"] if p["overdueLoans"]),
                    key=lambda p: (-p["overdueRate"], -p["overdueLoans"], p["key"]))
    months = data["months"]
    return {"open": data["openLoansByOverdue"], "top": ranked[:3], "this": months[-1],
            "last": months[0] if len(months) > 1 else None}
