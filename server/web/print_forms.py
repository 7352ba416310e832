"""Printable 借款单 and 报销单: one A4/A5 page per loan or claim, printed to paper or PDF from the browser.

Whoever may see the loan or claim may print it (the GraphQL read decides). Amounts as ¥1,234.56 and in
人民币大写 (server/domain/capitals.py), the applicant, purpose, approvers with their times and signature places.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from starlette.responses import Response

from server.domain.capitals import capitals, figure
from server.web.core import Page, PageError, check_read

STEPS = "approvals { order role decision comment decidedAt skipped approver { name employeeNo } }"
EMPLOYEE = "employee { employeeNo name department { code name } position { name } }"
LOAN = f"""
query($id: ID!) {{
  loan(id: $id) {{ id number amount purpose description expectedSettleDate status createdAt disbursedAt
                  {EMPLOYEE} {STEPS} }}
}}
"""
REIMBURSEMENT = f"""
query($id: ID!) {{
  reimbursement(id: $id) {{ id number status total offsetTotal payable createdAt decidedAt paidAt
    lines {{ category amount incurredOn invoiceNo description vouchers {{ id }} }}
    offsets {{ amount state loan {{ number }} }}
    {EMPLOYEE} {STEPS} }}
}}
"""


def _amounts(value: Any) -> dict[str, str]:
    amount = Decimal(str(value))
    return {"figure": figure(amount), "capitals": capitals(amount)}


async def loan_form(page: Page, loan_id: str) -> Response:
    loan = check_read(await page.gql(LOAN, {"id": loan_id})).get("loan")
    if loan is None:
        raise PageError(404)
    return await page.render("print/loan.html", {"loan": loan, "amount": _amounts(loan["amount"])})


async def reimbursement_form(page: Page, reimbursement_id: str) -> Response:
    claim = check_read(await page.gql(REIMBURSEMENT, {"id": reimbursement_id})).get("reimbursement")
    if claim is None:
        raise PageError(404)
    return await page.render("print/reimbursement.html", {
        "claim": claim, "total": _amounts(claim["total"]), "offset": _amounts(claim["offsetTotal"]),
        "payable": _amounts(claim["payable"]),
        "line_figures": [figure(Decimal(str(line["amount"]))) for line in claim["lines"]],
        "voucher_count": sum(len(line["vouchers"]) for line in claim["lines"]),
    })
