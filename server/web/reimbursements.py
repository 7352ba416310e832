"""Reimbursement pages: my reimbursements, the new-reimbursement form (line rows added and removed with HTMX,
vouchers per line, the open loans with the proposed offsets and the payable updated as amounts are typed),
one reimbursement (lines, vouchers, offsets, approvals, payable), the approvers' queue and finance's payments.

Every figure comes from GraphQL (offsetPreview while typing; the server decides again on submit).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.datastructures import UploadFile
from starlette.responses import HTMLResponse, Response

from server import i18n
from server.domain import offsets
from server.domain.pages import PageKey
from server.domain.validation import amount_text_error
from server.domain.vocab import Decision, LoanPurpose, ReimbursementStatus
from server.services.base import today
from server.storage import MAX_FILES
from server.web import forms
from server.web.core import GqlError, GqlResult, Page, PageError, check_read, environment, refuse_if_forbidden
from server.web.loans import batch_ids

CATEGORIES = [p.value for p in LoanPurpose]
LINE_FIELDS = ("category", "amount", "incurredOn", "invoiceNo", "description")
_KEY = re.compile(r"^[0-9a-f]{1,16}$")
_AMOUNT_PARAM = re.compile(r"^line-([0-9a-f]{1,16})-amount$")
_OFFSET_PARAM = re.compile(r"^offset-(\d{1,18})$")
_LINE_ERROR = re.compile(r"^lines\.(\d+)\.(\w+)$")
PAGE_SIZE = 20
FINANCE_PAGE = 200  # reimbursements waiting for payment listed on finance's page (figures cover all)
# File parts the submit form may carry: each line has its own voucher input (the service allows
# MAX_FILES per line), and an input left empty still sends one part (the form's script leaves
# those out, but without script they count).
FORM_MAX_FILES = 60

DETAIL_FIELDS = """
  id number status total offsetTotal payable createdAt decidedAt paidAt
  employee { id name employeeNo position { name } department { name } }
  lines {
    category amount incurredOn invoiceNo description voucherMissing
    vouchers { id filename contentType size url }
    duplicates { kind reimbursementId reimbursementNumber reimbursementStatus sameEmployee invoiceNo filename }
  }
  offsets { amount state loan { id number amount outstanding status daysOverdue expectedSettleDate } }
  approvals { order role approver { name } decision comment decidedAt skipped isCurrent }
  viewerCan { decide pay }
"""


async def _render(page: Page, name: str, context: dict[str, Any], **kwargs: Any) -> Response:
    """page.render with the reimbursement macros (`rm`) beside the shared ones (`m`)."""
    macros = environment(page.locale).get_template("reimbursements/_macros.html").module
    return await page.render(name, {"rm": macros, **context}, **kwargs)


def _key() -> str:
    return secrets.token_hex(4)


def _decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip().replace(",", "").replace("，", ""))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


# ---------------------------------------------------------------- the form's rows


@dataclass
class Row:
    key: str
    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)  # names chosen before a refused submission
    held: list[tuple[str, str]] = field(default_factory=list)  # (id, filename) of vouchers kept for the draft


def _blank_row() -> Row:
    return Row(key=_key(), values={"category": LoanPurpose.CLIENT_VISIT.value, "incurredOn": today().isoformat()})


def _rows_from_form(page: Page) -> list[Row]:
    """The rows in the order the browser sent them (the hidden `line` field of each row)."""
    assert page.form is not None
    keys: list[str] = []
    for raw in page.form.getlist("line"):
        if isinstance(raw, str) and _KEY.match(raw) and raw not in keys:
            keys.append(raw)
    rows = []
    for key in keys:
        values = {name: page.value(f"line-{key}-{name}") for name in LINE_FIELDS}
        held = []
        for raw in page.form.getlist(f"line-{key}-held"):
            # "id:filename" (the name only for showing it; the service checks the id is the viewer's own).
            if isinstance(raw, str) and ":" in raw and raw.split(":", 1)[0].isdigit():
                number, name = raw.split(":", 1)
                held.append((number, name[:255]))
        rows.append(Row(key=key, values=values, files=[f.filename for f in _uploads(page, key) if f.filename],
                        held=held))
    return rows


HOLD = "mutation($files: [Upload!]!) { holdVouchers(files: $files) { id filename } }"
LINE_LABELS = {"category": "类别", "amount": "金额", "incurredOn": "发生日期", "invoiceNo": "发票号",
               "description": "说明", "vouchers": "凭证"}


async def _hold(page: Page, rows: list[Row]) -> str | None:
    """Keep the files of a refused submission on the server (holdVouchers), so they need not be chosen
    again; a file the checks refuse is named instead."""
    for row in rows:
        uploads = _uploads(page, row.key)
        if not uploads:
            continue
        result = await page.gql(HOLD, {"files": uploads})
        if not result.ok:
            row.errors.setdefault("vouchers", result.errors[0].message)
            continue
        row.held += [(a["id"], a["filename"]) for a in result.data["holdVouchers"]]
        row.files = []
    return None


def _summary(page: Page, rows: list[Row]) -> list[str]:
    """What is wrong and where, for the top of the form: one line per field in error."""
    out = []
    for number, row in enumerate(rows, start=1):
        for name, message in row.errors.items():
            label = page._(LINE_LABELS[name]) if name in LINE_LABELS else name
            out.append(page._("明细 %(n)s · %(field)s：%(message)s") % {"n": number, "field": label, "message": message})
    return out


def _uploads(page: Page, key: str) -> list[UploadFile]:
    if page.form is None:
        return []
    # An empty file input still sends one part without a filename.
    return [f for f in page.form.getlist(f"line-{key}-vouchers") if isinstance(f, UploadFile) and f.filename]


# ---------------------------------------------------------------- offsets panel

PREVIEW = """
query($total: Decimal!) {
  offsetPreview(total: $total) {
    total owed offsetTotal payable
    offsets { amount loan { id } }
    openLoans { amount loan { id number amount outstanding daysOverdue expectedSettleDate } }
  }
}
"""
NEW_PAGE = "query { me { employee { id name position { name } } } }"


@dataclass
class Panel:
    """What the offsets panel shows: the preview for the typed total, the mode, any offsets typed by hand."""

    total: Decimal
    unreadable: int  # rows whose amount could not be read (left out of the total)
    mode: str
    typed: dict[str, str]
    preview: dict[str, Any] | None = None
    error: str | None = None

    @property
    def proposed(self) -> dict[str, str]:
        return {o["loan"]["id"]: o["amount"] for o in (self.preview or {}).get("offsets", [])}

    def offset_value(self, loan_id: str) -> str:
        """The amount in a loan's input: what was typed, else the server's proposal."""
        if loan_id in self.typed:
            return self.typed[loan_id]
        return self.proposed.get(loan_id, "0.00")

    @property
    def manual_total(self) -> Decimal:
        loans = [o["loan"]["id"] for o in (self.preview or {}).get("openLoans", [])]
        return sum((_decimal(self.offset_value(i)) or Decimal(0) for i in loans), Decimal(0))

    @property
    def offset_total(self) -> Decimal:
        if self.mode == "manual":
            return self.manual_total
        return Decimal(str((self.preview or {}).get("offsetTotal") or 0))

    @property
    def payable(self) -> Decimal:
        if self.mode == "manual":
            return offsets.payable_of(self.total, self.manual_total)
        return Decimal(str((self.preview or {}).get("payable") or 0))


def _panel_inputs(params: Any) -> tuple[Decimal, int, str, dict[str, str]]:
    """The typed amounts (summed only to ask the server), the offset mode and any offsets typed by hand."""
    total, unreadable = Decimal(0), 0
    typed: dict[str, str] = {}
    for name, value in params.multi_items():
        if not isinstance(value, str):
            continue
        if _AMOUNT_PARAM.match(name):
            if not value.strip():
                continue
            amount = _decimal(value)
            if amount is None:
                unreadable += 1
            else:
                total += amount
        found = _OFFSET_PARAM.match(name)
        if found:
            typed[found.group(1)] = value.strip()
    mode = "manual" if params.get("offsetMode") == "manual" else "auto"
    return total, unreadable, mode, typed


async def _panel(page: Page, params: Any) -> Panel:
    total, unreadable, mode, typed = _panel_inputs(params)
    panel = Panel(total=total, unreadable=unreadable, mode=mode, typed=typed)
    # A total the Decimal scalar would refuse gets the scalar's own message, not graphql's coercion text.
    error = amount_text_error(str(total))
    message = i18n.render(error, page.locale) if error else ""
    result = GqlResult({}, [GqlError(message, "VALIDATION", "total")]) if error else await page.gql(
        PREVIEW, {"total": str(total)})
    if result.ok:
        panel.preview = result.data["offsetPreview"]
        return panel
    refuse_if_forbidden(result)
    panel.error = result.errors[0].message
    # Still list the open loans beside the message.
    base = check_read(await page.gql(PREVIEW, {"total": "0"}))
    panel.preview = base["offsetPreview"]
    panel.total = Decimal(0) if total < 0 else total
    return panel


async def offsets_panel(page: Page) -> Response:
    """GET /reimbursements/new/offsets: the panel (or only its figures) for what is typed."""
    if not page.htmx:  # fragments only; an address typed by hand gets the form
        return page.redirect("/reimbursements/new")
    panel = await _panel(page, page.request.query_params)
    block = "figures" if page.request.query_params.get("part") == "figures" else "offsets"
    return await _render(page, "reimbursements/new.html", {"panel": panel, "errors": {}}, block=block)


# ---------------------------------------------------------------- new reimbursement

SUBMIT = "mutation($input: ReimbursementInput!) { submitReimbursement(input: $input) { id number status } }"


async def _form(page: Page, rows: list[Row], panel: Panel, errors: dict[str, str], general: list[str],
                status: int = 200) -> Response:
    data = check_read(await page.gql(NEW_PAGE))
    if data["me"]["employee"] is None:
        raise PageError(403, page._("该账号没有员工档案，不能报销。"))
    return await _render(page, "reimbursements/new.html", {
        "employee": data["me"]["employee"], "rows": rows, "panel": panel, "errors": errors, "general": general,
        "categories": CATEGORIES, "today": today().isoformat(), "max_files": FORM_MAX_FILES,
        "line_max_files": MAX_FILES,
    }, status=status)


async def new_page(page: Page) -> Response:
    panel = await _panel(page, page.request.query_params)
    return await _form(page, [_blank_row()], panel, {}, [])


async def new_line(page: Page) -> Response:
    """GET /reimbursements/new/line: one more blank row (HTMX appends it)."""
    if not page.htmx:
        return page.redirect("/reimbursements/new")
    return await _render(page, "reimbursements/new.html", {
        "row": _blank_row(), "categories": CATEGORIES, "today": today().isoformat(),
    }, block="line")


async def remove_line(page: Page) -> Response:
    """GET /reimbursements/new/line/remove: HTMX deletes the row itself; the panel is told to recount."""
    if not page.htmx:
        return page.redirect("/reimbursements/new")
    return Response(status_code=200, headers={"HX-Trigger-After-Swap": "lines-changed"})


async def submit(page: Page) -> Response:
    rows = _rows_from_form(page)
    errors: dict[str, str] = {}
    lines = []
    for index, row in enumerate(rows):
        row_errors: dict[str, str] = {}
        if row.values["category"] not in CATEGORIES:
            row_errors["category"] = page._("请选择类别")
        amount = forms.amount(page, row.values["amount"], "amount", row_errors)
        incurred_on = forms.date(page, row.values["incurredOn"], "incurredOn", row_errors)
        row.errors = row_errors
        errors.update({f"lines.{index}.{k}": v for k, v in row_errors.items()})
        lines.append({
            "category": row.values["category"], "amount": amount, "incurredOn": incurred_on,
            "invoiceNo": row.values["invoiceNo"] or None, "description": row.values["description"] or None,
            "vouchers": _uploads(page, row.key) or None,
            "heldVouchers": [number for number, _name in row.held] or None,
        })
    assert page.form is not None
    _, _, mode, typed = _panel_inputs(page.form)
    offsets = None
    if mode == "manual":
        offsets = []
        for loan_id, text in typed.items():
            amount = forms.amount(page, text, "offsets", errors, required=False)
            if amount is not None and _decimal(amount) != 0:  # 0 or blank: this loan is not offset
                offsets.append({"loanId": loan_id, "amount": amount})
    general: list[str] = []
    if not errors:
        result = await page.gql(SUBMIT, {"input": {"lines": lines, "offsets": offsets}})
        if result.ok:
            return page.redirect(f"/reimbursements/{result.data['submitReimbursement']['id']}?submitted=1")
        refuse_if_forbidden(result)
        for error in result.errors:
            found = _LINE_ERROR.match(error.field or "")
            if found and int(found.group(1)) < len(rows):
                rows[int(found.group(1))].errors.setdefault(found.group(2), error.message)
            elif error.field == "offsets":
                errors.setdefault("offsets", error.message)
            else:
                general.append(error.message)
    await _hold(page, rows)
    general = _summary(page, rows) + general
    if any(row.held for row in rows):
        general.append(page._("已上传的凭证已为本草稿保留，无需重新选择。"))
    if any(row.files for row in rows):
        general.append(page._("上传的凭证没有保存，请重新选择文件。"))
    panel = await _panel(page, page.form)
    return await _form(page, rows, panel, errors, general, status=422)


# ---------------------------------------------------------------- my reimbursements

MINE = """
query($employee: ID!, $after: String, $first: Int) {
  reimbursements(employeeId: $employee, first: $first, after: $after) {
    totalCount claimedTotal offsetTotal payableTotal unpaidPayable pendingApprovalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id number status total offsetTotal payable createdAt paidAt lines { voucherMissing } } }
  }
}
"""


async def my_reimbursements(page: Page) -> Response:
    if page.viewer.employee_id is None:
        raise PageError(403, page._("该账号没有员工档案，没有报销。"))
    after = page.request.query_params.get("after") or None
    data = check_read(await page.gql(MINE, {"employee": str(page.viewer.employee_id), "after": after,
                                            "first": PAGE_SIZE}))
    connection = data["reimbursements"]
    return await _render(page, "reimbursements/mine.html", {
        "items": [e["node"] for e in connection["edges"]], "total_count": connection["totalCount"],
        "figures": connection, "page_info": connection["pageInfo"], "first_page": after is None,
    })


# ---------------------------------------------------------------- one reimbursement

DETAIL = "query($id: ID!) { reimbursement(id: $id) { " + DETAIL_FIELDS + " } }"


async def detail(page: Page, reimbursement_id: str, error: str | None = None, comment: str = "",
                 status: int = 200) -> Response:
    data = check_read(await page.gql(DETAIL, {"id": reimbursement_id}))
    item = data["reimbursement"]
    if item is None:
        raise PageError(404)
    return await _render(page, "reimbursements/detail.html", {
        "r": item, "error": error, "comment": comment,
        "submitted": page.request.query_params.get("submitted") == "1",
        "done": page.request.query_params.get("done"),
    }, status=status)


# ---------------------------------------------------------------- approvals

INBOX_PAGE = 50
# Paged by keyset, oldest first: the approvers' queue costs the same for 5 and 500 waiting claims.
# The inbox also asks whether each claim may go into 批量同意 (and why not).
INBOX_FIELDS = DETAIL_FIELDS + " batchWarning viewerCan { batchApprove } "
INBOX = ("query($after: String) { reimbursementApprovalInbox(first: PAGE_SIZE, after: $after) { "
         "totalCount pageInfo { hasNextPage endCursor } edges { node { ").replace("PAGE_SIZE", str(INBOX_PAGE)) + INBOX_FIELDS + " } } } }"
ONE = "query($id: ID!) { reimbursement(id: $id) { " + INBOX_FIELDS + " } }"
BATCH = """
mutation($ids: [ID!]!, $comment: String) {
  decideReimbursements(reimbursementIds: $ids, decision: APPROVE, comment: $comment) {
    reimbursementId ok error { message } reimbursement { id number status }
  }
}
"""
DECIDE = """
mutation($id: ID!, $decision: Decision!, $comment: String) {
  decideReimbursement(reimbursementId: $id, decision: $decision, comment: $comment) {
    id number status total payable employee { name }
  }
}
"""


async def _inbox(page: Page, errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                 general: list[str] | None = None, status: int = 200, extra: dict[str, Any] | None = None) -> Response:
    data = (await _queue(page))["reimbursementApprovalInbox"]
    info = data["pageInfo"]
    return await _render(page, "reimbursements/inbox.html", {
        "items": [e["node"] for e in data["edges"]], "total": data["totalCount"],
        "next": info["endCursor"] if info["hasNextPage"] else None, "errors": errors or {}, "values": values or {},
        "general": general or [], "decided": None, "embedded": page.htmx,
        "decided_number": page.request.query_params.get("decided"), **(extra or {}),
    }, block="section", status=status)


async def _queue(page: Page) -> dict[str, Any]:
    return check_read(await page.gql(INBOX, {"after": page.request.query_params.get("after") or None}))


async def inbox(page: Page) -> Response:
    """The approver's queue; for HTMX (the loan inbox loads it as a section) only the section."""
    return await _inbox(page)


async def decide(page: Page, reimbursement_id: str) -> Response:
    decision, comment = page.value("decision"), page.value("comment")
    from_detail = page.value("from") == "detail"
    if decision not in tuple(Decision):
        raise PageError(400)
    result = await page.gql(DECIDE, {"id": reimbursement_id, "decision": decision, "comment": comment or None})
    if result.ok:
        decided = result.data["decideReimbursement"]
        if page.htmx and not from_detail:
            return await _render(page, "reimbursements/inbox.html", {
                "item": decided, "decided": decided, "errors": {}, "values": {},
            }, block="item")
        if from_detail:
            return page.redirect(f"/reimbursements/{decided['id']}?done=decided")
        return page.redirect(f"/approvals/reimbursements?decided={decided['number']}")
    message = result.errors[0].message
    if from_detail:
        refuse_if_forbidden(result)
        return await detail(page, reimbursement_id, error=message, comment=comment, status=422)
    if page.htmx:
        one = await page.gql(ONE, {"id": reimbursement_id})
        item = one.data.get("reimbursement") if one.ok else None
        if item is None or item["status"] != ReimbursementStatus.PENDING_APPROVAL:
            return await _render(page, "reimbursements/inbox.html", {
                "item": {"id": reimbursement_id}, "decided": None, "gone": message, "errors": {}, "values": {},
            }, block="item")
        return await _render(page, "reimbursements/inbox.html", {
            "item": item, "decided": None, "errors": {reimbursement_id: message},
            "values": {reimbursement_id: comment},
        }, block="item")
    edges = (await _queue(page))["reimbursementApprovalInbox"]["edges"]
    listed = any(e["node"]["id"] == reimbursement_id for e in edges)
    return await _inbox(page, errors={reimbursement_id: message}, values={reimbursement_id: comment},
                        general=[] if listed else [message], status=422)


async def decide_batch(page: Page) -> Response:
    """批量同意 of reimbursements: every checked claim through decideReimbursements, then the queue with the outcome."""
    ids = batch_ids(page)
    if not ids:
        return await _inbox(page, general=[page._("请至少选择一项")], status=422)
    result = await page.gql(BATCH, {"ids": ids, "comment": page.value("comment") or None})
    if not result.ok:
        refuse_if_forbidden(result)
        return await _inbox(page, general=[result.errors[0].message], status=422)
    results = result.data["decideReimbursements"]
    numbers = {e["node"]["id"]: e["node"]["number"] for e in (await _queue(page))["reimbursementApprovalInbox"]["edges"]}
    refused = [{**r, "label": numbers.get(r["reimbursementId"], "#" + r["reimbursementId"])} for r in results if not r["ok"]]
    return await _inbox(page, extra={"batch_done": [r for r in results if r["ok"]], "batch_refused": refused})


# ---------------------------------------------------------------- finance

FINANCE = """
query($approved: [ReimbursementStatus!], $paid: [ReimbursementStatus!], $first: Int) {
  toPay: reimbursements(status: $approved, first: $first) {
    totalCount payableTotal offsetTotal
    edges { node { id number total offsetTotal payable decidedAt viewerCan { pay }
                   employee { name employeeNo department { name } } lines { voucherMissing } } }
  }
  paid: reimbursements(status: $paid, first: 10) {
    totalCount
    edges { node { id number total offsetTotal payable paidAt employee { name employeeNo } } }
  }
}
"""
PAY = """
mutation($id: ID!) { payReimbursement(reimbursementId: $id) {
  id number status total offsetTotal payable decidedAt paidAt
  employee { name employeeNo department { name } } lines { voucherMissing } } }
"""
# The queue's figures after a payment, swapped in beside the paid row (out of band).
PAY_FIGURES = """
query($approved: [ReimbursementStatus!]) { toPay: reimbursements(status: $approved, first: 1) {
  totalCount payableTotal offsetTotal } }
"""


async def _finance(page: Page, errors: dict[str, str] | None = None, status: int = 200,
                   row_for: str | None = None) -> Response:
    if not page.sees(PageKey.FINANCE):
        raise PageError(403)
    data = check_read(await page.gql(FINANCE, {"approved": [ReimbursementStatus.APPROVED.value], "paid": [ReimbursementStatus.PAID.value],
                                             "first": FINANCE_PAGE}))
    to_pay = [e["node"] for e in data["toPay"]["edges"]]
    context = {
        "to_pay": to_pay, "to_pay_total": data["toPay"]["totalCount"],
        "pay_sum": data["toPay"]["payableTotal"], "offset_sum": data["toPay"]["offsetTotal"],
        "paid": [e["node"] for e in data["paid"]["edges"]], "errors": errors or {}, "embedded": page.htmx,
        "paid_number": page.request.query_params.get("paid"),
        # A refusal about a reimbursement no longer listed (e.g. paid meanwhile) goes above the list.
        "general": [m for i, m in (errors or {}).items() if all(n["id"] != i for n in to_pay)],
    }
    if row_for is not None and page.htmx:
        item = next((n for n in to_pay if n["id"] == row_for), None)
        if item is not None:
            return await _render(page, "reimbursements/finance.html", {**context, "item": item}, block="pay_row")
    return await _render(page, "reimbursements/finance.html", context, block="section", status=status)


async def finance_page(page: Page) -> Response:
    return await _finance(page)


async def _paid_in_place(page: Page, paid: dict[str, Any]) -> Response:
    """The paid row (every column kept, its status instead of the button) and the queue's figures
    re-read from the server, out of band: nothing on the page is left stale until a reload."""
    figures = check_read(await page.gql(PAY_FIGURES, {"approved": [ReimbursementStatus.APPROVED.value]}))["toPay"]
    row = await _render(page, "reimbursements/finance.html", {"item": paid, "done": True, "errors": {}},
                        block="pay_row")
    summary = await _render(page, "reimbursements/finance.html", {
        "oob": True, "to_pay_total": figures["totalCount"], "pay_sum": figures["payableTotal"],
        "offset_sum": figures["offsetTotal"]}, block="figures")
    return HTMLResponse(bytes(row.body) + bytes(summary.body))


async def pay(page: Page, reimbursement_id: str) -> Response:
    from_detail = page.value("from") == "detail"
    result = await page.gql(PAY, {"id": reimbursement_id})
    if result.ok:
        paid = result.data["payReimbursement"]
        if from_detail:
            return page.redirect(f"/reimbursements/{paid['id']}?done=paid")
        if page.htmx:
            return await _paid_in_place(page, paid)
        return page.redirect(f"/finance/reimbursements?paid={paid['number']}")
    if not page.sees(PageKey.FINANCE):
        refuse_if_forbidden(result)
    message = result.errors[0].message
    if from_detail:
        return await detail(page, reimbursement_id, error=message, status=422)
    return await _finance(page, errors={reimbursement_id: message}, status=422, row_for=reimbursement_id)
