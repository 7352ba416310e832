"""The loan ledger (借款台账) and the reimbursement ledger, for finance, admin and auditor: search, sort,
page and export.

The pages run the `loanLedger` / `reimbursementLedger` queries; the exports stream the same filtered
list from the service (server/services/ledger_search.py) as CSV (UTF-8 with BOM) or XLSX in
bounded memory: a GraphQL answer is built whole, a 100,000-row export must not be.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import date
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import QueryParams
from starlette.responses import Response, StreamingResponse

from server import i18n
from server.domain import duties
from server.domain.errors import DomainError
from server.domain.vocab import LoanPurpose, LoanStatus, ReimbursementStatus, label
from server.exports import csv_stream, xlsx_stream
from server.services import ledger_search
from server.services.base import parse_id
from server.web.core import Page, PageError, check_read

PAGE_SIZE = 50
LOAN_SORTS = list(ledger_search.LOAN_SORTS)
REIMBURSEMENT_SORTS = list(ledger_search.REIMBURSEMENT_SORTS)

LOAN_FIELDS = """
  totalCount totalAmount totalOutstanding overdueCount overdueOutstanding
  pageInfo { hasNextPage endCursor }
  edges { node {
    id number amount purpose status outstanding daysOverdue expectedSettleDate createdAt
    employee { id name employeeNo department { name } region { name } }
  } }
"""
LOANS = (
    "query($search: LoanLedgerSearch, $first: Int, $after: String) {"
    " loanLedger(search: $search, first: $first, after: $after) {" + LOAN_FIELDS + "}"
    " departments { id name } regions { id name } }"
)
REIMBURSEMENTS = """
query($search: ReimbursementLedgerSearch, $first: Int, $after: String) {
  reimbursementLedger(search: $search, first: $first, after: $after) {
    totalCount totalAmount totalOffset totalPayable
    pageInfo { hasNextPage endCursor }
    edges { node {
      id number status total offsetTotal payable createdAt
      employee { id name employeeNo department { name } region { name } }
    } }
  }
  departments { id name } regions { id name }
}
"""


def _require(page: Page) -> None:
    if not duties.may(page.viewer.roles, duties.VIEW_LEDGER):
        raise PageError(403)


def _date(raw: str | None) -> str | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw).isoformat()
    except ValueError:
        return None


def _form(params: QueryParams, statuses: Sequence[str], sorts: Sequence[str], loans: bool) -> dict[str, Any]:
    """What the filter form shows (the request's values, unknown ones dropped)."""
    form = {
        "q": (params.get("q") or "").strip()[:ledger_search.MAX_QUERY],
        "status": [s for s in params.getlist("status") if s in statuses],
        "department": params.get("department") or "", "region": params.get("region") or "",
        "from": _date(params.get("from")) or "", "to": _date(params.get("to")) or "",
        "sort": params.get("sort") if params.get("sort") in sorts else "NEWEST",
    }
    if loans:
        form["purpose"] = params.get("purpose") if params.get("purpose") in tuple(LoanPurpose) else ""
        form["overdue"] = params.get("overdue") if params.get("overdue") in ledger_search.BUCKETS else ""
    return form


def _id_or_none(raw: str) -> str | None:
    return raw if raw.isdigit() else None


def _variables(form: dict[str, Any], loans: bool) -> dict[str, Any]:
    search: dict[str, Any] = {
        "text": form["q"] or None, "status": form["status"] or None,
        "departmentId": _id_or_none(form["department"]), "regionId": _id_or_none(form["region"]),
        "dateFrom": form["from"] or None, "dateTo": form["to"] or None, "sort": form["sort"],
    }
    if loans:
        search.update(purpose=form["purpose"] or None, overdueBucket=form["overdue"] or None)
    return search


def _query_string(form: dict[str, Any]) -> str:
    pairs: list[tuple[str, str]] = []
    for key, value in form.items():
        for v in value if isinstance(value, list) else [value]:
            if v:
                pairs.append((key, v))
    return urlencode(pairs)


async def _ledger(page: Page, loans: bool) -> Response:
    _require(page)
    params = page.request.query_params
    statuses = tuple(LoanStatus) if loans else tuple(ReimbursementStatus)
    form = _form(params, statuses, LOAN_SORTS if loans else REIMBURSEMENT_SORTS, loans)
    result = await page.gql(LOANS if loans else REIMBURSEMENTS, {
        "search": _variables(form, loans), "first": PAGE_SIZE, "after": params.get("after") or None,
    })
    errors = [e.message for e in result.errors if e.code in ("VALIDATION",)]
    if errors:
        result = await page.gql(LOANS if loans else REIMBURSEMENTS, {"search": None, "first": 0})
    data = check_read(result)
    connection = data["loanLedger" if loans else "reimbursementLedger"]
    query = _query_string(form)
    return await page.render("ledger/loans.html" if loans else "ledger/reimbursements.html", {
        "form": form, "rows": [e["node"] for e in connection["edges"]], "c": connection, "errors": errors,
        "departments": data["departments"], "regions": data["regions"], "statuses": [s.value for s in statuses],
        "sorts": LOAN_SORTS if loans else REIMBURSEMENT_SORTS, "buckets": list(ledger_search.BUCKETS),
        "bucket_labels": ledger_search.BUCKET_LABELS, "purposes": [p.value for p in LoanPurpose],
        "query": query, "after": params.get("after"),
        "next": connection["pageInfo"]["endCursor"] if connection["pageInfo"]["hasNextPage"] else None,
    }, block="results")


async def loans_page(page: Page) -> Response:
    return await _ledger(page, loans=True)


async def reimbursements_page(page: Page) -> Response:
    return await _ledger(page, loans=False)


# ---------------------------------------------------------------- exports


def _search(form: dict[str, Any], loans: bool) -> ledger_search.LedgerSearch:
    def ident(raw: str) -> int | None:
        return parse_id(raw) if raw.isdigit() else None

    return ledger_search.LedgerSearch(
        text=form["q"] or None, statuses=tuple(form["status"]), purpose=form.get("purpose") or None,
        department_id=ident(form["department"]), region_id=ident(form["region"]),
        date_from=date.fromisoformat(form["from"]) if form["from"] else None,
        date_to=date.fromisoformat(form["to"]) if form["to"] else None,
        overdue_bucket=form.get("overdue") or None, sort=form["sort"],
    )


def _headers(page: Page, loans: bool) -> list[str]:
    t = i18n.translations(page.locale).gettext
    common = [t("员工编号"), t("员工"), t("部门"), t("区域")]
    if loans:
        return [t("单号"), *common, t("用途"), t("金额"), t("未结清"), t("状态"), t("申请日期"), t("预计报销日期"),
                t("逾期天数")]
    return [t("单号"), *common, t("报销金额"), t("冲抵借款"), t("应付"), t("状态"), t("提交时间"), t("付款时间")]


async def _cells(page: Page, rows: AsyncIterator[dict[str, Any]], loans: bool) -> AsyncIterator[list[Any]]:
    t = i18n.translations(page.locale).gettext
    async for r in rows:
        common = [r["employeeNo"], r["employee"], r["department"], r["region"]]
        if loans:
            yield [r["number"], *common, t(label("purpose", r["purpose"])), r["amount"], r["outstanding"],
                   t(label("status", r["status"])), r["appliedOn"], r["expectedSettleDate"], r["daysOverdue"]]
        else:
            yield [r["number"], *common, r["total"], r["offset"], r["payable"], t(label("status", r["status"])),
                   r["createdAt"], r["paidAt"]]


async def _export(page: Page, loans: bool, kind: str) -> Response:
    _require(page)
    if kind not in ("csv", "xlsx"):
        raise PageError(404)
    statuses = tuple(LoanStatus) if loans else tuple(ReimbursementStatus)
    form = _form(page.request.query_params, statuses, LOAN_SORTS if loans else REIMBURSEMENT_SORTS, loans)
    search = _search(form, loans)
    try:  # validate before the response starts: an error mid-stream cannot become an error page
        (ledger_search.loan_query if loans else ledger_search.reimbursement_query)(page.viewer, search)
    except DomainError as exc:
        raise PageError(422, str(exc)) from exc
    rows = ledger_search.loan_rows(page.viewer, search) if loans else ledger_search.reimbursement_rows(page.viewer, search)
    name = "loan-ledger" if loans else "reimbursement-ledger"
    stamp = date.today().isoformat()
    cells = _cells(page, rows, loans)
    if kind == "csv":
        body, media = csv_stream(_headers(page, loans), cells), "text/csv; charset=utf-8"
    else:
        t = i18n.translations(page.locale).gettext
        sheet = t("借款台账") if loans else t("报销台账")
        body = xlsx_stream(sheet, _headers(page, loans), cells)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return StreamingResponse(body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{name}-{stamp}.{kind}"'})


async def loans_export(page: Page, kind: str) -> Response:
    return await _export(page, True, kind)


async def reimbursements_export(page: Page, kind: str) -> Response:
    return await _export(page, False, kind)
