"""Loan pages: apply (with the live quota preview), my loans, one loan's timeline, the approval inbox,
finance (disburse, settle, write off), and file downloads."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.responses import FileResponse, Response

from schema.context import bearer_token, bearer_viewer
from server import i18n
from server.domain.errors import DomainError
from server.domain.messages import _m
from server.domain.pages import PageKey
from server.domain.vocab import (
    COMMITTING_STATUSES,
    OPEN_STATUSES,
    Decision,
    DisbursementMethod,
    LoanPurpose,
    LoanStatus,
    SettlementMethod,
)
from server.services import files as file_service
from server.services.base import today
from server.storage import path_for
from server.web import forms
from server.web.core import (
    LoginRequired,
    Page,
    PageError,
    check_read,
    error_page,
    refuse_if_forbidden,
)

OPEN = [s.value for s in LoanStatus if s in OPEN_STATUSES]
UNSETTLED = [s.value for s in LoanStatus if s in COMMITTING_STATUSES]
PURPOSES = [p.value for p in LoanPurpose]
QUOTA = "quota { limit committed available monthlyLimit monthlyUsed }"

# ---------------------------------------------------------------- applying

PREVIEW_FIELDS = "loanPreview(amount: $amount) { " + QUOTA + " after rejectionReason }"
# canApply / applyBlockedReason: applyForLoan's own check of the viewer's standing (being offboarded).
STANDING = "canApply applyBlockedReason offboarding { id status lastWorkingDay outstanding }"
APPLY_PAGE = ("query($amount: String) { " + PREVIEW_FIELDS + " me { " + STANDING
              + " employee { name position { name settleDays } } } }")
PREVIEW = "query($amount: String) { " + PREVIEW_FIELDS + " }"
APPLY = """
mutation($input: LoanApplicationInput!) { applyForLoan(input: $input) { id number status rejectionReason } }
"""
APPLY_FIELDS = {"amount", "purpose", "description", "expectedSettleDate", "attachments"}


async def _preview(page: Page, amount: str) -> tuple[dict[str, Any] | None, str | None]:
    """loanPreview for what is typed: (preview, error message for the amount field)."""
    result = await page.gql(PREVIEW, {"amount": amount or None})
    if result.ok:
        return result.data["loanPreview"], None
    if result.field_errors().get("amount"):
        base = check_read(await page.gql(PREVIEW, {"amount": None}))
        return base["loanPreview"], result.field_errors()["amount"]
    check_read(result)
    return None, None


async def apply_page(page: Page) -> Response:
    amount = page.request.query_params.get("amount", "").strip()
    if page.htmx:
        # The amount field asks as it is typed: only the preview block comes back.
        preview, amount_error = await _preview(page, amount)
        return await page.render("loans/apply.html", {
            "preview": preview, "amount": amount, "amount_error": amount_error,
        }, block="preview")
    data = check_read(await page.gql(APPLY_PAGE, {"amount": None}))
    preview, amount_error = (await _preview(page, amount)) if amount else (data["loanPreview"], None)
    return await _apply_form(page, data, preview, {"amount": amount, "purpose": LoanPurpose.CLIENT_VISIT.value}, {}, [],
                             amount_error=amount_error)


async def _apply_form(page: Page, data: dict[str, Any], preview: dict[str, Any] | None, values: dict[str, str],
                      errors: dict[str, str], general: list[str], status: int = 200,
                      amount_error: str | None = None) -> Response:
    return await page.render("loans/apply.html", {
        "employee": data["me"]["employee"], "preview": preview, "amount": values.get("amount", ""),
        "amount_error": amount_error or errors.get("amount"), "values": values, "errors": errors,
        "general": general, "purposes": PURPOSES, "standing": data["me"],
    }, status=status)


def _uploads(page: Page, name: str) -> list[UploadFile]:
    if page.form is None:
        return []
    # A form with no file chosen still sends one empty part without a filename.
    return [f for f in page.form.getlist(name) if isinstance(f, UploadFile) and f.filename]


async def apply_submit(page: Page) -> Response:
    values = {name: page.value(name) for name in ("amount", "purpose", "description", "expectedSettleDate")}
    errors: dict[str, str] = {}
    uploads = _uploads(page, "attachments")
    variables = {"input": {
        "amount": forms.amount(page, values["amount"], "amount", errors),
        "purpose": values["purpose"] or None,
        "description": values["description"],
        "expectedSettleDate": forms.date(page, values["expectedSettleDate"], "expectedSettleDate", errors,
                                         required=False),
        "attachments": uploads or None,
    }}
    if not values["purpose"]:
        errors["purpose"] = page._("请选择用途")
    if not errors:
        result = await page.gql(APPLY, variables)
        if result.ok:
            loan = result.data["applyForLoan"]
            return page.redirect(f"/loans/{loan['id']}?applied=1")
        refuse_if_forbidden(result)
        errors = result.field_errors()
        if "file" in errors:  # the storage names the upload "file"
            errors["attachments"] = errors.pop("file")
        general = result.general_errors(APPLY_FIELDS | {"file"})
    else:
        general = []
    data = check_read(await page.gql(APPLY_PAGE, {"amount": None}))
    preview, amount_error = await _preview(page, values["amount"]) if "amount" not in errors else (
        data["loanPreview"], None)
    return await _apply_form(page, data, preview, values, errors, general, status=422, amount_error=amount_error)


# ---------------------------------------------------------------- my loans and one loan

MY_LOANS = """
query {
  me { employee { name QUOTA outstanding openLoanCount overdueLoanCount
    loans { id number amount purpose status outstanding daysOverdue expectedSettleDate createdAt rejectionReason }
  } }
}
""".replace("QUOTA", QUOTA)

LOAN = """
query($id: ID!) {
  loan(id: $id) {
    id number amount purpose description expectedSettleDate status rejectionReason blockedReason outstanding
    daysOverdue createdAt disbursedAt settledAt
    employee { id name employeeNo position { name } department { name } viewerCan { requestEvidence } }
    approvals { order role approver { name } decision comment decidedAt skipped isCurrent }
    ledger { id kind delta note recordedAt reversesId recordedBy }
    disbursement { method reference paidOn }
    viewerCan { cancel }
    alerts { id kind severity message createdAt resolvedAt }
    settlements { id method amount viewerCanReverse reversedBy { id } attachments { id filename url } }
    pendingWriteOff { id kind amount reason proposedBy proposedAt viewerCanDecide reverses { id method amount } }
    writeOffProposals { id kind status amount reason proposedBy proposedAt decidedBy decidedAt comment }
    offsets { amount state reimbursement { id number } }
    attachments { id filename contentType size url }
  }
}
"""
CANCEL = "mutation($id: ID!) { cancelLoan(loanId: $id) { id status } }"
REVERSE = """
mutation($id: ID!, $reason: String!) { reverseSettlement(settlementId: $id, reason: $reason) { id status } }
"""
APPROVE_WRITE_OFF = "mutation($id: ID!, $comment: String) { approveWriteOff(loanId: $id, comment: $comment) { id } }"
REJECT_WRITE_OFF = "mutation($id: ID!, $comment: String!) { rejectWriteOff(loanId: $id, comment: $comment) { id } }"
LOAN_DONE = ("reversed", "reversal_proposed", "write_off_approved", "write_off_rejected")


async def my_loans(page: Page) -> Response:
    data = check_read(await page.gql(MY_LOANS))
    employee = data["me"]["employee"]
    if employee is None:
        raise PageError(403, page._("该账号没有员工档案，没有借款。"))
    return await page.render("loans/mine.html", {"employee": employee, "loans": employee["loans"]})


async def _loan(page: Page, loan_id: str) -> dict[str, Any]:
    data = check_read(await page.gql(LOAN, {"id": loan_id}))
    if data["loan"] is None:
        raise PageError(404)
    return data["loan"]


async def loan_page(page: Page, loan_id: str, error: str | None = None, status: int = 200,
                    errors: dict[str, str] | None = None, values: dict[str, str] | None = None) -> Response:
    loan = await _loan(page, loan_id)
    done = page.request.query_params.get("done")
    return await page.render("loans/detail.html", {
        "loan": loan, "applied": page.request.query_params.get("applied") == "1", "error": error,
        "settlements": {s["id"]: s for s in loan["settlements"]},
        "done": done if done in LOAN_DONE else None, "errors": errors or {}, "values": values or {},
    }, status=status)


async def _correction(page: Page, loan_id: str, query: str, variables: dict[str, Any], done: str,
                      field: str, key: str) -> Response:
    """Run one correction (reverse, approve or reject a write-off) and come back to the loan's page;
    a refusal is shown beside the form it came from (`key`)."""
    result = await page.gql(query, variables)
    if result.ok:
        return page.redirect(f"/loans/{loan_id}?done={done}")
    refuse_if_forbidden_unless_finance(page, result)
    # A message about the form's own field goes beside it; a refusal (FORBIDDEN, CONFLICT) on top.
    message = result.field_errors({field}).get(field)
    return await loan_page(page, loan_id, status=422, errors={key: message} if message else {},
                           values={key: variables.get(field) or ""},
                           error=None if message else result.errors[0].message)


async def reverse(page: Page, loan_id: str, settlement_id: str) -> Response:
    reason = page.value("reason")
    loan = await _loan(page, loan_id)
    settlement = next((s for s in loan["settlements"] if s["id"] == settlement_id), None)
    if settlement is None:
        raise PageError(404)
    done = "reversal_proposed" if settlement["method"] == SettlementMethod.WRITE_OFF else "reversed"
    return await _correction(page, loan_id, REVERSE, {"id": settlement_id, "reason": reason}, done, "reason",
                             f"reverse-{settlement_id}")


async def approve_write_off(page: Page, loan_id: str) -> Response:
    return await _correction(page, loan_id, APPROVE_WRITE_OFF, {"id": loan_id, "comment": page.value("comment") or None},
                             "write_off_approved", "comment", "approve")


async def reject_write_off(page: Page, loan_id: str) -> Response:
    return await _correction(page, loan_id, REJECT_WRITE_OFF, {"id": loan_id, "comment": page.value("comment")},
                             "write_off_rejected", "comment", "reject")


async def cancel(page: Page, loan_id: str) -> Response:
    result = await page.gql(CANCEL, {"id": loan_id})
    if result.ok:
        return page.redirect(f"/loans/{loan_id}")
    refuse_if_forbidden(result)
    return await loan_page(page, loan_id, error=result.errors[0].message, status=409)


# ---------------------------------------------------------------- approvals inbox

ALERTS_SHOWN = 5
# The approver sees the applicant's unresolved alerts beside each loan (those the viewer may see: a
# supervisor sees those they were notified about), batched for the whole page by the schema.
APPLICANT_ALERTS = f"unresolvedAlerts(first: {ALERTS_SHOWN}) {{ id kind severity message createdAt }} unresolvedAlertCount"
INBOX_FIELDS = """
  id number amount purpose description createdAt expectedSettleDate status batchWarning viewerCan { batchApprove }
  attachments { id filename url }
  approvals { order role approver { name } decision comment decidedAt skipped isCurrent }
  employee {
    id name employeeNo position { name } department { name }
    QUOTA outstanding openLoanCount overdueLoanCount
    ALERTS
  }
""".replace("QUOTA", QUOTA).replace("ALERTS", APPLICANT_ALERTS)
# The inbox is paged (keyset, oldest first): 500 waiting loans cost what 5 do, 50 at a time.
INBOX_PAGE = 50
INBOX = ("query($after: String) { loanApprovalInbox(first: PAGE_SIZE, after: $after) { "
         "totalCount pageInfo { hasNextPage endCursor } edges { node { ").replace("PAGE_SIZE", str(INBOX_PAGE)) + INBOX_FIELDS + " } } } }"
INBOX_ONE = "query($id: ID!) { loan(id: $id) { " + INBOX_FIELDS + " } }"
DECIDE = """
mutation($id: ID!, $decision: Decision!, $comment: String) {
  decideLoan(loanId: $id, decision: $decision, comment: $comment) { id number status amount employee { name } }
}
"""


INBOX_LIGHT = ("query($after: String) { loanApprovalInbox(first: PAGE_SIZE, after: $after) { "
               "totalCount pageInfo { hasNextPage endCursor } edges { node { ").replace("PAGE_SIZE", str(INBOX_PAGE)) + """
    id number amount purpose description createdAt expectedSettleDate status batchWarning viewerCan { batchApprove }
    attachments { id filename url }
    approvals { order role approver { name } decision comment decidedAt skipped isCurrent }
    employee { id name employeeNo position { name } department { name } ALERTS }
  } } } }
""".replace("ALERTS", APPLICANT_ALERTS)


def _applicant_alerts(loans: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Employee id -> {"items": up to ALERTS_SHOWN unresolved alerts, "total": how many there are}."""
    found: dict[str, dict[str, Any]] = {}
    for loan in loans:
        employee = loan.get("employee") or {}
        if employee.get("unresolvedAlertCount"):
            found[str(employee["id"])] = {"items": employee["unresolvedAlerts"],
                                          "total": employee["unresolvedAlertCount"]}
    return found


async def _pending(page: Page) -> dict[str, Any]:
    after = page.request.query_params.get("after") or None
    result = await page.gql(INBOX, {"after": after})
    if not result.ok and "FORBIDDEN" in result.codes:
        # An approver who may not see an applicant's quota (e.g. no longer their supervisor) still
        # gets the list, without the quota beside it.
        result = await page.gql(INBOX_LIGHT, {"after": after})
    data = check_read(result)["loanApprovalInbox"]
    return {"loans": [e["node"] for e in data["edges"]], "total": data["totalCount"],
            "next": data["pageInfo"]["endCursor"] if data["pageInfo"]["hasNextPage"] else None}


async def inbox(page: Page) -> Response:
    data = await _pending(page)
    loans = data["loans"]
    return await page.render("approvals/inbox.html", {
        "loans": loans, "alerts": _applicant_alerts(loans), "errors": {}, "values": {},
        "decided": None, "total": data["total"], "next": data["next"],
    })


BATCH = """
mutation($ids: [ID!]!, $comment: String) {
  decideLoans(loanIds: $ids, decision: APPROVE, comment: $comment) {
    loanId ok error { message } loan { id number status employee { name } }
  }
}
"""


def batch_ids(page: Page) -> list[str]:
    """The checked items of a batch form (the service caps their number and checks each)."""
    if page.form is None:
        return []
    return [v.strip() for v in page.form.getlist("ids") if isinstance(v, str) and v.strip()]


async def decide_batch(page: Page) -> Response:
    """批量同意: every checked loan through decideLoans; the page comes back with what each one became."""
    ids = batch_ids(page)
    general: list[str] = []
    results: list[dict[str, Any]] = []
    if not ids:
        general = [page._("请至少选择一项")]
    else:
        result = await page.gql(BATCH, {"ids": ids, "comment": page.value("comment") or None})
        if result.ok:
            results = result.data["decideLoans"]
        else:
            refuse_if_forbidden(result)
            general = [result.errors[0].message]
    data = await _pending(page)
    loans = data["loans"]
    numbers = {loan["id"]: loan["number"] for loan in loans}  # a refused loan still waits: its number is listed
    refused = [{**r, "label": numbers.get(r["loanId"], "#" + r["loanId"])} for r in results if not r["ok"]]
    return await page.render("approvals/inbox.html", {
        "loans": loans, "alerts": _applicant_alerts(loans), "errors": {}, "values": {}, "decided": None,
        "total": data["total"], "next": data["next"], "general": general,
        "batch_done": [r for r in results if r["ok"]], "batch_refused": refused,
    }, status=200 if results else 422)


async def decide(page: Page, loan_id: str) -> Response:
    decision = page.value("decision")
    comment = page.value("comment")
    if decision not in tuple(Decision):
        raise PageError(400)
    result = await page.gql(DECIDE, {"id": loan_id, "decision": decision, "comment": comment or None})
    if result.ok:
        decided = result.data["decideLoan"]
        if page.htmx:
            return await page.render("approvals/inbox.html", {
                "loan": decided, "decided": decided, "alerts": {}, "errors": {}, "values": {},
            }, block="item")
        return page.redirect(f"/approvals?decided={decided['number']}")
    message = result.errors[0].message
    errors = {loan_id: message}
    values = {loan_id: comment}
    if page.htmx:
        one = await page.gql(INBOX_ONE, {"id": loan_id})
        loan = one.data.get("loan") if one.ok else None
        if loan is None:  # no longer visible or gone: say so in place of the item
            return await page.render("approvals/inbox.html", {
                "loan": {"id": loan_id}, "decided": None, "gone": message, "alerts": {}, "errors": {},
                "values": {},
            }, block="item")
        return await page.render("approvals/inbox.html", {
            "loan": loan, "decided": None, "alerts": _applicant_alerts([loan]), "errors": errors,
            "values": values,
        }, block="item")
    data = await _pending(page)
    loans = data["loans"]
    return await page.render("approvals/inbox.html", {
        "loans": loans, "alerts": _applicant_alerts(loans), "errors": errors, "values": values,
        "decided": None, "total": data["total"], "next": data["next"],
        "general": [] if any(item["id"] == loan_id for item in loans) else [message],
    }, status=422)


# ---------------------------------------------------------------- finance

FINANCE_PAGE = 50
# Both queues paged by keyset; the open loans most overdue first over all of them (SQL order), and
# the figures summed in SQL over every loan of each queue, not over the page.
FINANCE = """
query($approved: [LoanStatus!], $afterDisburse: String, $afterOpen: String) {
  toDisburse: loans(status: $approved, first: PAGE_SIZE, after: $afterDisburse) {
    totalCount totalAmount pageInfo { hasNextPage endCursor }
    edges { node { id number amount purpose createdAt expectedSettleDate viewerCan { disburse }
                   employee { name employeeNo department { name } } } }
  }
  open: openLoansByOverdue(first: PAGE_SIZE, after: $afterOpen) {
    totalCount totalOutstanding overdueCount overdueOutstanding pageInfo { hasNextPage endCursor }
    edges { node { id number amount outstanding daysOverdue expectedSettleDate status
                   viewerCan { settle proposeWriteOff }
                   pendingWriteOff { kind amount reason proposedBy viewerCanDecide }
                   employee { name employeeNo department { name } } } }
  }
  pendingWriteOffs {
    id number status employee { name employeeNo }
    pendingWriteOff { kind amount reason proposedBy proposedAt viewerCanDecide }
  }
}
""".replace("PAGE_SIZE", str(FINANCE_PAGE))
DISBURSE = """
mutation($id: ID!, $method: DisbursementMethod, $reference: String, $paidOn: Date) {
  disburseLoan(loanId: $id, method: $method, reference: $reference, paidOn: $paidOn) { id number status }
}
"""
DISBURSEMENT_METHODS = [m.value for m in DisbursementMethod]
SETTLE = """
mutation($id: ID!, $method: SettlementMethod!, $amount: Decimal!, $note: String, $files: [Upload!]) {
  settleLoan(loanId: $id, method: $method, amount: $amount, note: $note, attachments: $files) {
    id number status outstanding pendingWriteOff { id }
  }
}
"""
METHODS = [m.value for m in SettlementMethod]


async def _finance(page: Page, errors: dict[str, dict[str, str]] | None = None,
                   values: dict[str, dict[str, str]] | None = None, status: int = 200,
                   block_for: str | None = None) -> Response:
    params = page.request.query_params
    data = check_read(await page.gql(FINANCE, {
        "approved": [LoanStatus.APPROVED.value], "afterDisburse": params.get("after_disburse") or None,
        "afterOpen": params.get("after_open") or None,
    }))
    to_disburse = [e["node"] for e in data["toDisburse"]["edges"]]
    open_loans = [e["node"] for e in data["open"]["edges"]]
    context = {
        "to_disburse": to_disburse, "to_disburse_total": data["toDisburse"]["totalCount"],
        "disburse_sum": data["toDisburse"]["totalAmount"], "open_sum": data["open"]["totalOutstanding"],
        "overdue_count": data["open"]["overdueCount"], "overdue_sum": data["open"]["overdueOutstanding"],
        "next_disburse": _next(data["toDisburse"]), "next_open": _next(data["open"]),
        "open_loans": open_loans, "open_total": data["open"]["totalCount"], "errors": errors or {},
        "values": values or {}, "done": page.request.query_params.get("done"),
        "number": page.request.query_params.get("number"), "methods": METHODS,
        "disbursement_methods": DISBURSEMENT_METHODS, "today": today().isoformat(),
        "pending_write_offs": data["pendingWriteOffs"],
    }
    if block_for is not None and page.htmx:
        loan = next((n for n in to_disburse + open_loans if n["id"] == block_for), None)
        if loan is not None:
            block = "disburse_row" if loan in to_disburse else "open_row"
            return await page.render("finance/index.html", {**context, "loan": loan}, block=block)
    return await page.render("finance/index.html", context, status=status)


def _next(connection: dict[str, Any]) -> str | None:
    info = connection["pageInfo"]
    return info["endCursor"] if info["hasNextPage"] else None


async def finance_page(page: Page) -> Response:
    if not page.sees(PageKey.FINANCE):
        raise PageError(403)
    return await _finance(page)


async def disburse(page: Page, loan_id: str) -> Response:
    # The form always names the method, so a bank transfer from the page carries its reference
    # (a post without one falls back to the API's default, as disburseLoan(loanId) does).
    values = {"method": page.value("method"), "reference": page.value("reference"), "paid_on": page.value("paid_on")}
    errors: dict[str, str] = {}
    if values["method"] and values["method"] not in DISBURSEMENT_METHODS:
        errors["method"] = page._("请选择方式")
    paid_on = forms.date(page, values["paid_on"], "paidOn", errors) if values["paid_on"] else None
    if not errors:
        result = await page.gql(DISBURSE, {"id": loan_id, "method": values["method"] or None,
                                           "reference": values["reference"] or None, "paidOn": paid_on})
        if result.ok:
            loan = result.data["disburseLoan"]
            return page.redirect(f"/finance?done=disbursed&number={loan['number']}")
        refuse_if_forbidden_unless_finance(page, result)
        fields = {"method", "reference", "paidOn"}
        errors = result.field_errors(fields)
        general = result.general_errors(fields)
        if general:
            errors["general"] = general[0]
    return await _finance(page, errors={loan_id: errors}, values={loan_id: values}, status=422, block_for=loan_id)


async def settle(page: Page, loan_id: str) -> Response:
    values = {"method": page.value("method"), "amount": page.value("amount"), "note": page.value("note")}
    errors: dict[str, str] = {}
    amount = forms.amount(page, values["amount"], "amount", errors)
    if values["method"] not in METHODS:
        errors["method"] = page._("请选择方式")
    if not errors:
        result = await page.gql(SETTLE, {"id": loan_id, "method": values["method"], "amount": amount,
                                         "note": values["note"] or None,
                                         "files": _uploads(page, "attachments") or None})
        if result.ok:
            loan = result.data["settleLoan"]
            done = "write_off_proposed" if loan["pendingWriteOff"] else values["method"].lower()
            return page.redirect(f"/finance?done={done}&number={loan['number']}")
        refuse_if_forbidden_unless_finance(page, result)
        errors = result.field_errors({"amount", "note", "method", "attachments", "file"})
        if "file" in errors:  # the storage names the upload "file"
            errors["attachments"] = errors.pop("file")
        general = result.general_errors({"amount", "note", "method", "attachments", "file"})
        if general:
            errors["general"] = general[0]
    return await _finance(page, errors={loan_id: errors}, values={loan_id: values}, status=422, block_for=loan_id)


def refuse_if_forbidden_unless_finance(page: Page, result: Any) -> None:
    # Finance and admins see their refusals (e.g. disbursing one's own loan) beside the loan.
    if not page.sees(PageKey.FINANCE):
        refuse_if_forbidden(result)


# ---------------------------------------------------------------- files


async def download(page: Page, file_id: str, name: str) -> Response:
    """A file, for the session cookie or for `Authorization: Bearer` (a mobile app showing its upload).

    Either way the same service decides, with the same answer; a bearer request never gets the login page.
    """
    viewer = page.viewer
    if bearer_token(page.request) is not None:
        viewer = await bearer_viewer(page.request, page.viewer.request_id)
        if not viewer.authenticated:
            response = await error_page(page, 401, _m("令牌无效或已过期"))
            response.headers["WWW-Authenticate"] = "Bearer"
            return response
    elif not viewer.authenticated:
        raise LoginRequired()
    try:
        row = await file_service.attachment_for_download(viewer, file_id, name)
    except DomainError as exc:
        raise PageError(404, i18n.render(exc.msg, page.locale)) from None
    path = path_for(row.sha256)
    if not path.exists():
        raise PageError(404)
    inline = row.content_type.startswith("image/") or row.content_type == "application/pdf"
    return FileResponse(path, media_type=row.content_type, filename=row.filename,
                        content_disposition_type="inline" if inline else "attachment")
