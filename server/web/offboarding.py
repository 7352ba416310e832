"""Offboarding pages (离职清款): HR's list, starting an offboarding (HR for anyone, an employee for
themself), the clearance page (open loans, settlements, confirm, complete, cancel) and the printable
离职清款证明.

Every figure and every refusal comes from the GraphQL schema: the page shows the API's blockers as
the reason a button is disabled, and the API's message when an action is refused anyway.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from markupsafe import Markup
from starlette.responses import HTMLResponse, Response

from server.domain.pages import PageKey
from server.domain.vocab import (
    COMMITTING_STATUSES,
    LEDGER_STATUSES,
    OPEN_OFFBOARDING_STATUSES,
    OPEN_STATUSES,
    EmployeeStatus,
    EntryKind,
    LoanStatus,
    OffboardingStatus,
    SettlementMethod,
)
from server.services import certificates
from server.settings import get_settings
from server.web import forms
from server.web.core import GqlResult, Page, PageError, check_read, refuse_if_forbidden, render_template

STATUSES = [s.value for s in OffboardingStatus]
OPEN = [s.value for s in OffboardingStatus if s in OPEN_OFFBOARDING_STATUSES]
# The list's filter: a name in the address -> the statuses asked for (None: all).
FILTERS: dict[str, list[str] | None] = {"open": OPEN, **{s: [s] for s in STATUSES}, "all": None}
PAGE_SIZE = 50
LOAN_OPEN = [s.value for s in LoanStatus if s in OPEN_STATUSES]
LOAN_UNSETTLED = [s.value for s in LoanStatus if s in COMMITTING_STATUSES]
LOAN_HISTORY = [s.value for s in LoanStatus if s in LEDGER_STATUSES]
SETTLE_METHODS = [m.value for m in SettlementMethod]


def _status_code(result: GqlResult) -> int:
    codes = result.codes
    if "CONFLICT" in codes or "CLEARANCE_BLOCKED" in codes:
        return 409
    if "NOT_FOUND" in codes:
        return 404
    return 422


# ---------------------------------------------------------------- the list

LIST = """
query($status: [OffboardingStatus!], $first: Int, $after: String) {
  me { employee { id status viewerCan { startOffboarding } } }
  offboardings(status: $status, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      id status lastWorkingDay outstanding createdAt clearedAt completedAt cancelledAt
      employee { id name employeeNo department { name } position { name } }
    } }
  }
  pending: offboardings(status: [CLEARANCE_PENDING], first: 0) { totalCount }
  cleared: offboardings(status: [CLEARED], first: 0) { totalCount }
  completed: offboardings(status: [COMPLETED], first: 0) { totalCount }
  cancelled: offboardings(status: [CANCELLED], first: 0) { totalCount }
}
"""


async def offboarding_list(page: Page) -> Response:
    params = page.request.query_params
    key = params.get("status", "open")
    if key not in FILTERS:
        raise PageError(400, page._("未知的状态筛选"))
    after = params.get("after") or None
    data = check_read(await page.gql(LIST, {"status": FILTERS[key], "first": PAGE_SIZE, "after": after}))
    rows = [e["node"] for e in data["offboardings"]["edges"]]
    owing = sorted((r for r in rows if Decimal(r["outstanding"]) > 0), key=lambda r: -Decimal(r["outstanding"]))
    counts = {s: data[alias]["totalCount"] for s, alias in
              ((OffboardingStatus.CLEARANCE_PENDING, "pending"), (OffboardingStatus.CLEARED, "cleared"),
               (OffboardingStatus.COMPLETED, "completed"), (OffboardingStatus.CANCELLED, "cancelled"))}
    me = data["me"]["employee"]
    return await page.render("offboarding/list.html", {
        "rows": rows, "total": data["offboardings"]["totalCount"], "page_info": data["offboardings"]["pageInfo"],
        "filter": key, "after": after, "counts": counts, "owing": owing[:12],
        "owing_total": sum((Decimal(r["outstanding"]) for r in rows), Decimal("0.00")),
        "can_resign": bool(me and me["viewerCan"]["startOffboarding"]),
    })


# ---------------------------------------------------------------- starting one (HR)

START = """
mutation($employeeId: ID!, $lastWorkingDay: Date!, $reason: String) {
  startOffboarding(employeeId: $employeeId, lastWorkingDay: $lastWorkingDay, reason: $reason) { id }
}
"""
EMPLOYEE_CHOICES = "query { employees { id employeeNo name status department { name } } }"
EMPLOYEE_SUMMARY = """
query($id: ID!, $unsettled: [LoanStatus!]) {
  employee(id: $id) {
    id name employeeNo status hireDate outstanding
    department { name } position { name } supervisor { name }
    loans(status: $unsettled) { id number amount outstanding status daysOverdue expectedSettleDate }
  }
}
"""
START_FIELDS = {"employeeId", "lastWorkingDay", "reason"}


async def _summary(page: Page, employee_id: str) -> dict[str, Any] | None:
    if not employee_id:
        return None
    result = await page.gql(EMPLOYEE_SUMMARY, {"id": employee_id, "unsettled": LOAN_UNSETTLED})
    if not result.ok:
        if "VALIDATION" in result.codes:  # not an id at all
            return None
        check_read(result)
    return result.data.get("employee")


async def _start_form(page: Page, values: dict[str, str], errors: dict[str, str] | None = None,
                      general: list[str] | None = None, status: int = 200) -> Response:
    choices = check_read(await page.gql(EMPLOYEE_CHOICES))["employees"]
    return await page.render("offboarding/start.html", {
        "employees": [e for e in choices if e["status"] == EmployeeStatus.ACTIVE or e["id"] == values.get("employeeId")],
        "summary": await _summary(page, values.get("employeeId", "")), "values": values,
        "errors": errors or {}, "general": general or [], "today": _today(),
    }, status=status)


def _today() -> datetime.date:
    return datetime.datetime.now(get_settings().tz).date()


async def start_page(page: Page) -> Response:
    if not page.sees(PageKey.START_OFFBOARDING):
        raise PageError(403, page._("只有人事可以为员工发起离职；员工本人请使用“提交离职”。"))
    params = page.request.query_params
    employee_id = (params.get("employee") or params.get("employeeId") or "").strip()
    if page.htmx:
        # Choosing an employee asks for their summary only: what they owe and what will be cancelled.
        return await page.render("offboarding/start.html", {"summary": await _summary(page, employee_id)},
                                 block="summary")
    return await _start_form(page, {"employeeId": employee_id, "lastWorkingDay": "", "reason": ""})


async def _start(page: Page, employee_id: str, values: dict[str, str], form: Any) -> Response:
    errors: dict[str, str] = {}
    last_day = forms.date(page, values["lastWorkingDay"], "lastWorkingDay", errors)
    if not employee_id:
        errors["employeeId"] = page._("请选择员工")
    if errors:
        return await form(values, errors, [], 422)
    result = await page.gql(START, {"employeeId": employee_id, "lastWorkingDay": last_day,
                                    "reason": values["reason"] or None})
    if result.ok:
        return page.redirect(f"/offboarding/{result.data['startOffboarding']['id']}?done=started")
    refuse_if_forbidden(result)
    return await form(values, result.field_errors(START_FIELDS), result.general_errors(START_FIELDS),
                      _status_code(result))


async def start_submit(page: Page) -> Response:
    values = {name: page.value(name) for name in ("employeeId", "lastWorkingDay", "reason")}

    async def form(values: dict[str, str], errors: dict[str, str], general: list[str], status: int) -> Response:
        return await _start_form(page, values, errors, general, status)

    return await _start(page, values["employeeId"], values, form)


# ---------------------------------------------------------------- resigning (the employee themself)

MINE = """
query($unsettled: [LoanStatus!], $open: [OffboardingStatus!]) {
  me { employee {
    id name employeeNo status hireDate outstanding department { name } position { name }
    loans(status: $unsettled) { id number amount outstanding status daysOverdue expectedSettleDate }
  } }
  offboardings(status: $open, first: 50) { edges { node { id status lastWorkingDay employee { id } } } }
}
"""


async def _resign_form(page: Page, values: dict[str, str], errors: dict[str, str] | None = None,
                       general: list[str] | None = None, status: int = 200) -> Response:
    data = check_read(await page.gql(MINE, {"unsettled": LOAN_UNSETTLED, "open": OPEN}))
    employee = data["me"]["employee"]
    if employee is None:
        raise PageError(403, page._("该账号没有员工档案。"))
    current = next((e["node"] for e in data["offboardings"]["edges"]
                    if e["node"]["employee"]["id"] == employee["id"]), None)
    return await page.render("offboarding/resign.html", {
        "employee": employee, "current": current, "values": values, "errors": errors or {},
        "general": general or [], "today": _today(),
    }, status=status)


async def resign_page(page: Page) -> Response:
    return await _resign_form(page, {"lastWorkingDay": "", "reason": ""})


async def resign_submit(page: Page) -> Response:
    values = {name: page.value(name) for name in ("lastWorkingDay", "reason")}
    me = check_read(await page.gql("query { me { employee { id } } }"))["me"]["employee"]
    if me is None:
        raise PageError(403, page._("该账号没有员工档案。"))

    async def form(values: dict[str, str], errors: dict[str, str], general: list[str], status: int) -> Response:
        return await _resign_form(page, values, errors, general, status)

    return await _start(page, me["id"], values, form)


# ---------------------------------------------------------------- the clearance page

CLEARANCE = """
query($id: ID!, $history: [LoanStatus!]) {
  offboarding(id: $id) {
    id status lastWorkingDay reason outstanding blockers createdAt clearedAt completedAt cancelledAt
    clearedBy { name employeeNo }
    viewerCan { confirm complete cancel settle confirmRefusedBecause completeRefusedBecause }
    employee {
      id name employeeNo status hireDate department { name } position { name } supervisor { name }
      viewerCan { requestEvidence }
      loans(status: $history) { id number ledger { id kind delta note recordedAt } }
    }
    openLoans { id number amount outstanding status purpose disbursedAt expectedSettleDate daysOverdue
                pendingWriteOff { amount reason proposedBy viewerCanDecide } viewerCan { settle proposeWriteOff } }
    pendingReimbursements { id number status total offsetTotal createdAt offsets { amount state loan { number } } }
  }
}
"""
SETTLE = """
mutation($id: ID!, $method: SettlementMethod!, $amount: Decimal!, $note: String) {
  settleLoan(loanId: $id, method: $method, amount: $amount, note: $note) {
    id number status outstanding pendingWriteOff { id }
  }
}
"""
ACTIONS = {
    "confirm": "mutation($id: ID!) { confirmClearance(offboardingId: $id) { id status } }",
    "complete": "mutation($id: ID!) { completeOffboarding(offboardingId: $id) { id status } }",
    "cancel": "mutation($id: ID!) { cancelOffboarding(offboardingId: $id) { id status } }",
}
SETTLE_FIELDS = {"amount", "note", "method"}


def _moment(value: str | None) -> datetime.datetime | None:
    return datetime.datetime.fromisoformat(value) if value else None


async def _offboarding(page: Page, offboarding_id: str) -> dict[str, Any]:
    data = check_read(await page.gql(CLEARANCE, {"id": offboarding_id, "history": LOAN_HISTORY}))
    if data["offboarding"] is None:
        raise PageError(404)
    return data["offboarding"]


def _settlements(o: dict[str, Any]) -> list[dict[str, Any]]:
    """Money that came in on the leaver's loans since the offboarding started, newest first."""
    started = _moment(o["createdAt"])
    out = []
    for loan in o["employee"]["loans"]:
        for entry in loan["ledger"]:
            recorded = _moment(entry["recordedAt"])
            if entry["kind"] != EntryKind.DISBURSEMENT and started and recorded and recorded >= started:
                out.append({**entry, "loan": loan})
    return sorted(out, key=lambda e: (e["recordedAt"], e["id"]), reverse=True)


async def clearance_page(page: Page, offboarding_id: str, *, error: str | None = None,
                         settle_error: dict[str, Any] | None = None, status: int = 200,
                         done: str | None = None) -> Response:
    o = await _offboarding(page, offboarding_id)
    context = {
        "o": o,
        "settlements": _settlements(o), "error": error, "settle_error": settle_error or {},
        "done": done or page.request.query_params.get("done"), "methods": SETTLE_METHODS,
    }
    if page.htmx:
        return await page.render("offboarding/detail.html", context, block="clearance")
    return await page.render("offboarding/detail.html", context, status=status)


async def clearance(page: Page, offboarding_id: str) -> Response:
    return await clearance_page(page, offboarding_id)


async def settle(page: Page, offboarding_id: str, loan_id: str) -> Response:
    values = {"method": page.value("method"), "amount": page.value("amount"), "note": page.value("note")}
    errors: dict[str, str] = {}
    amount = forms.amount(page, values["amount"], "amount", errors)
    if values["method"] not in SETTLE_METHODS:
        raise PageError(400)
    if not errors:
        result = await page.gql(SETTLE, {"id": loan_id, "method": values["method"], "amount": amount,
                                         "note": values["note"] or None})
        if result.ok:
            # FINANCE's write-off is a proposal until a different ADMIN approves it.
            done = "write_off_proposed" if result.data["settleLoan"]["pendingWriteOff"] else values["method"].lower()
            if page.htmx:
                return await clearance_page(page, offboarding_id, done=done)
            return page.redirect(f"/offboarding/{offboarding_id}?done={done}")
        refuse_if_forbidden(result)
        errors = result.field_errors(SETTLE_FIELDS)
        general = result.general_errors(SETTLE_FIELDS)
        if general:
            errors["general"] = general[0]
        status = _status_code(result)
    else:
        status = 422
    return await clearance_page(page, offboarding_id, status=status, settle_error={
        "loan": loan_id, "method": values["method"], "values": values, "errors": errors,
    })


async def action(page: Page, offboarding_id: str, name: str) -> Response:
    if name not in ACTIONS:
        raise PageError(404)
    result = await page.gql(ACTIONS[name], {"id": offboarding_id})
    done = {"confirm": "confirmed", "complete": "completed", "cancel": "cancelled"}[name]
    if result.ok:
        if page.htmx:
            return await clearance_page(page, offboarding_id, done=done)
        return page.redirect(f"/offboarding/{offboarding_id}?done={done}")
    refuse_if_forbidden(result)
    return await clearance_page(page, offboarding_id, error=result.errors[0].message,
                                status=_status_code(result))


async def confirm(page: Page, offboarding_id: str) -> Response:
    return await action(page, offboarding_id, "confirm")


async def complete(page: Page, offboarding_id: str) -> Response:
    return await action(page, offboarding_id, "complete")


async def cancel(page: Page, offboarding_id: str) -> Response:
    return await action(page, offboarding_id, "cancel")


# ---------------------------------------------------------------- the certificate (离职清款证明)

CERTIFICATE = """
query($id: ID!) {
  clearanceCertificate(offboardingId: $id) {
    number offboardingId status employeeNo employeeName department position hireDate lastWorkingDay reason
    loans { number amount disbursedOn settledOn statusLabel offset cashReturn salaryDeduction writeOff notes }
    totalBorrowed totalOffset totalCashReturn totalSalaryDeduction totalWriteOff outstanding
    clearedByName clearedByNo clearedAt clearedOn completedAt issuedOn verificationCode companyName
  }
}
"""
_DATES = ("hireDate", "lastWorkingDay", "clearedOn", "issuedOn", "disbursedOn", "settledOn")
_MOMENTS = ("clearedAt", "completedAt")
_MONEY = ("amount", "offset", "cashReturn", "salaryDeduction", "writeOff", "totalBorrowed", "totalOffset",
          "totalCashReturn", "totalSalaryDeduction", "totalWriteOff", "outstanding")
_RENAMED = {"statusLabel": "status"}


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def _typed(item: dict[str, Any]) -> SimpleNamespace:
    """The API's JSON as the template reads it: dates, zoned times and Decimals, snake_case names."""
    tz = get_settings().tz
    out: dict[str, Any] = {}
    for key, value in item.items():
        if value is not None and key in _DATES:
            value = datetime.date.fromisoformat(value)
        elif value is not None and key in _MOMENTS:
            value = datetime.datetime.fromisoformat(value).astimezone(tz)
        elif value is not None and key in _MONEY:
            value = Decimal(value)
        elif key == "loans":
            value = [_typed(x) for x in value]
        out[_RENAMED.get(key, _snake(key))] = value
    return SimpleNamespace(**out)


async def certificate(page: Page, offboarding_id: str) -> Response:
    result = await page.gql(CERTIFICATE, {"id": offboarding_id})
    if not result.ok and result.codes & {"CONFLICT", "CLEARANCE_BLOCKED"}:
        raise PageError(409, result.errors[0].message)
    cert = _typed(check_read(result)["clearanceCertificate"])
    link = f"{str(page.request.base_url).rstrip('/')}/verify/{cert.verification_code}"
    html = render_template("zh_CN", "offboarding/certificate.html", {"cert": cert, "toolbar": {
        "back": f"/offboarding/{offboarding_id}",
    }, "verify_link": link, "verify_qr": Markup(certificates.qr_svg(link))})
    return HTMLResponse(html)


# ---------------------------------------------------------------- public verification (/verify/<code>)

VERIFY = """
query($code: String!) {
  certificateVerification(code: $code) {
    number status employeeNameMasked department clearedOn completedOn companyName
  }
}
"""


async def verify_certificate(page: Page, code: str) -> Response:
    """No login: whoever holds the code sees the certificate confirmed, the name partly masked."""
    data = check_read(await page.gql(VERIFY, {"code": code[:64]}))
    found = data["certificateVerification"]
    return await page.render("verify.html", {"v": found}, status=200 if found else 404,
                             headers={"X-Robots-Tag": "noindex", "Referrer-Policy": "no-referrer"})
