"""The dashboard: the viewer's quota, open loans, and how many decisions wait for them."""

from __future__ import annotations

from starlette.responses import Response

from server.web.core import Page, check_read

OPEN = ["PENDING_APPROVAL", "APPROVED", "DISBURSED", "PARTIALLY_SETTLED"]

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
