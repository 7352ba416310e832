"""The dashboard: the viewer's quota, open loans, and how many decisions wait for them."""

from __future__ import annotations

from starlette.responses import Response

from server.domain.vocab import COMMITTING_STATUSES, LoanStatus
from server.web.core import Page, check_read

OPEN = [s.value for s in LoanStatus if s in COMMITTING_STATUSES]

HOME = """
query Home($open: [LoanStatus!]) {
  me {
    username roles
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
        "employee": data["me"]["employee"], "pending_loans": len(data["pendingLoanApprovals"]),
        "pending_reimbursements": len(data["pendingReimbursementApprovals"]),
    })
