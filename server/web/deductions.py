"""The salary deductions of a loan with their consent, a fragment loaded into the loan's page; the employee's
confirmation and FINANCE/HR's note are posted here."""

from __future__ import annotations

from starlette.responses import Response

from server.domain import vocab
from server.services import deductions as deduction_service
from server.web.core import Page, check_read, refuse_if_forbidden

LIST = """
query($id: ID!) {
  loan(id: $id) { id employee { id } }
  loanSalaryDeductions(loanId: $id) { ledgerEntryId amount recordedAt withoutConsent consentKind consentNote
                                      consentRecordedAt }
}
"""
CONFIRM = "mutation($id: ID!) { confirmSalaryDeduction(ledgerEntryId: $id) { ledgerEntryId } }"
NOTE = "mutation($id: ID!, $note: String!) { recordDeductionConsent(ledgerEntryId: $id, note: $note) { ledgerEntryId } }"


async def _fragment(page: Page, loan_id: str, errors: list[str] | None = None, status: int = 200) -> Response:
    data = check_read(await page.gql(LIST, {"id": loan_id}))
    loan = data["loan"]
    own = loan is not None and page.viewer.employee_id is not None and str(page.viewer.employee_id) == loan["employee"]["id"]
    return await page.render("loans/_deductions.html", {
        "loan_id": loan_id, "deductions": data["loanSalaryDeductions"], "errors": errors or [],
        # who may act is decided by the mutations; these only choose which form to offer
        "may_confirm": own, "may_note": not own and deduction_service.may_record_consent(page.viewer),
    }, status=status)


async def deductions_fragment(page: Page, loan_id: str) -> Response:
    return await _fragment(page, loan_id)


async def deduction_consent(page: Page, loan_id: str, entry_id: str) -> Response:
    note = page.value("note")
    result = await page.gql(NOTE, {"id": entry_id, "note": note}) if note else await page.gql(CONFIRM, {"id": entry_id})
    refuse_if_forbidden(result)
    if not result.ok:
        return await _fragment(page, loan_id, [e.message for e in result.errors], status=422)
    return page.redirect(f"/loans/{loan_id}")


CHECK = """
query($id: ID!, $amount: Decimal!) { salaryDeductionCheck(loanId: $id, amount: $amount) { warning cap } }
"""


async def deduction_check(page: Page, loan_id: str) -> Response:
    """The settle form's warning line: empty unless a salary deduction would pass 20% of the month's salary."""
    params = page.request.query_params
    warning = ""
    if params.get("method") == vocab.SettlementMethod.SALARY_DEDUCTION and params.get("amount"):
        result = await page.gql(CHECK, {"id": loan_id, "amount": params["amount"]})
        if result.ok:
            warning = result.data["salaryDeductionCheck"]["warning"] or ""
    return await page.render("loans/_deduction_warning.html", {"warning": warning})
