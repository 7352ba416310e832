"""Settle-date extensions (延期申请) on the loan page, a fragment loaded into it: the borrower's request form,
each extension's chain as a timeline, and the approver's decision form; and the inbox's list of extensions."""

from __future__ import annotations

from starlette.responses import Response

from server.domain.vocab import Decision
from server.web import forms
from server.web.core import Page, PageError, check_read, refuse_if_forbidden
from server.web.loans import loan_page

LIST = """
query($id: ID!) {
  loan(id: $id) {
    id number status expectedSettleDate viewerCan { requestExtension }
    extensions { id status previousDate requestedDate reason createdAt decidedAt viewerCan { decide }
      approvals { order role approver { name } onBehalfOf decision comment decidedAt skipped isCurrent } }
  }
}
"""
REQUEST = """mutation($id: ID!, $d: Date!, $r: String!) {
  requestLoanExtension(loanId: $id, newDate: $d, reason: $r) { id status } }"""
DECIDE = """mutation($id: ID!, $d: Decision!, $c: String) {
  decideLoanExtension(extensionId: $id, decision: $d, comment: $c) { id status } }"""
PENDING = """{ pendingLoanExtensionApprovals { id requestedDate previousDate reason
  loan { id number amount employee { name } } } }"""
FIELDS = {"newDate", "reason", "comment", "decision"}


def _back_to_loan(page: Page, loan_id: str) -> Response:
    """To the loan page, reloaded (its dates changed): a redirect to the same path and a new anchor alone
    would only scroll, so HTMX is asked to refresh too."""
    url = f"/loans/{loan_id}#loan-extensions"
    if page.htmx:
        return Response(status_code=200, headers={"HX-Redirect": url, "HX-Refresh": "true"})
    return page.redirect(url)


async def _fragment(page: Page, loan_id: str, errors: dict[str, str] | None = None,
                    values: dict[str, str] | None = None, status: int = 200) -> Response:
    loan = check_read(await page.gql(LIST, {"id": loan_id}))["loan"]
    if loan is None:
        raise PageError(404)
    return await page.render("loans/_extensions.html", {
        "loan": loan, "errors": errors or {}, "values": values or {},
    }, status=status)


async def extensions_fragment(page: Page, loan_id: str) -> Response:
    return await _fragment(page, loan_id)


async def _refused(page: Page, loan_id: str, result, key: str, values: dict[str, str]) -> Response:  # noqa: ANN001
    refuse_if_forbidden(result)
    errors = {f"{key}.{k}": v for k, v in result.field_errors(FIELDS).items()}
    general = result.general_errors(FIELDS)
    if general:
        errors[f"{key}.general"] = general[0]
    if page.htmx:  # HTMX swaps only 2xx answers: the refusal comes back in the section itself
        return await _fragment(page, loan_id, errors, {f"{key}.{k}": v for k, v in values.items()})
    return await loan_page(page, loan_id, error=next(iter(errors.values()), None), status=422)


async def request_extension(page: Page, loan_id: str) -> Response:
    values = {"newDate": page.value("newDate"), "reason": page.value("reason")}
    errors: dict[str, str] = {}
    new_date = forms.date(page, values["newDate"], "newDate", errors)
    if errors:
        if page.htmx:
            return await _fragment(page, loan_id, {f"request.{k}": v for k, v in errors.items()},
                                   {f"request.{k}": v for k, v in values.items()})
        return await loan_page(page, loan_id, error=next(iter(errors.values())), status=422)
    result = await page.gql(REQUEST, {"id": loan_id, "d": new_date, "r": values["reason"]})
    if result.ok:
        return _back_to_loan(page, loan_id)
    return await _refused(page, loan_id, result, "request", values)


async def decide_extension(page: Page, loan_id: str, extension_id: str) -> Response:
    decision, comment = page.value("decision"), page.value("comment")
    if decision not in tuple(Decision):
        raise PageError(400)
    result = await page.gql(DECIDE, {"id": extension_id, "d": decision, "c": comment or None})
    if result.ok:
        return _back_to_loan(page, loan_id)
    return await _refused(page, loan_id, result, extension_id, {"comment": comment})


async def inbox_fragment(page: Page) -> Response:
    """The approval inbox's section: extensions waiting for the viewer, each linking to its loan."""
    data = check_read(await page.gql(PENDING))
    return await page.render("approvals/_extensions.html", {"extensions": data["pendingLoanExtensionApprovals"]})
