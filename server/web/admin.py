"""Organization pages (ADMIN, HR): departments, regions, positions with their loan policy, employees.

Everything goes through the contract's queries and upsert/create mutations; the services decide who may
change what, and their messages are shown next to the field they name.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from server.domain import duties
from server.domain.vocab import Role
from server.services import company as company_settings
from server.web import forms
from server.web.core import GqlResult, Page, PageError, check_read, refuse_if_forbidden

ROLES = [r.value for r in Role]
CHAIN_STEPS = 6



def _refuse_if_no_form(page: Page, result: GqlResult) -> None:
    # The forms are shown to ADMIN and HR; anyone else refused gets the 403 page (there is no form to
    # show the message in). Editors see a refusal (e.g. HR granting ADMIN) above their form.
    if not page.may(duties.EDIT_EMPLOYEE):
        refuse_if_forbidden(result)


# ---------------------------------------------------------------- departments and regions

CODE_KINDS = {
    "departments": ("query { items: departments { id code name } }",
                    "mutation($code: String!, $name: String!) { item: upsertDepartment(code: $code, name: $name) { code } }"),
    "regions": ("query { items: regions { id code name } }",
                "mutation($code: String!, $name: String!) { item: upsertRegion(code: $code, name: $name) { code } }"),
}
CODE_FIELDS = {"code", "name"}


async def _codes(page: Page, kind: str, values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                 general: list[str] | None = None, status: int = 200) -> Response:
    query, _ = CODE_KINDS[kind]
    data = check_read(await page.gql(query))
    return await page.render("admin/codes.html", {
        "kind": kind, "items": data["items"], "values": values or {}, "errors": errors or {},
        "general": general or [], "saved": page.request.query_params.get("saved"),
    }, block="form", status=status)


async def codes_page(page: Page, kind: str) -> Response:
    if kind not in CODE_KINDS:
        raise PageError(404)
    return await _codes(page, kind)


async def codes_save(page: Page, kind: str) -> Response:
    if kind not in CODE_KINDS:
        raise PageError(404)
    values = {"code": page.value("code"), "name": page.value("name")}
    result = await page.gql(CODE_KINDS[kind][1], values)
    _refuse_if_no_form(page, result)
    if result.ok:
        return page.redirect(f"/admin/{kind}?saved={result.data['item']['code']}")
    return await _codes(page, kind, values, result.field_errors(CODE_FIELDS), result.general_errors(CODE_FIELDS),
                        status=200 if page.htmx else 422)


# ---------------------------------------------------------------- positions

POSITIONS = """
query { positions { id code name level loanLimit monthlyLoanLimit settleDays approvalChain } }
"""
UPSERT_POSITION = """
mutation($input: PositionInput!) {
  upsertPosition(input: $input) { code name loanLimit monthlyLoanLimit settleDays approvalChain }
}
"""
POSITION_FIELDS = {"code", "name", "level", "loanLimit", "monthlyLoanLimit", "settleDays", "approvalChain"}


async def positions_page(page: Page) -> Response:
    data = check_read(await page.gql(POSITIONS))
    return await page.render("admin/positions.html", {
        "positions": data["positions"], "saved": page.request.query_params.get("saved"),
    })


def _position_values(position: dict[str, Any] | None) -> dict[str, str]:
    if position is None:
        return {"settleDays": "15", "level": "3", "chain_1": "SUPERVISOR", "chain_2": "FINANCE"}
    values = {
        "code": position["code"], "name": position["name"], "level": str(position["level"]),
        "loanLimit": position["loanLimit"], "monthlyLoanLimit": position["monthlyLoanLimit"] or "",
        "settleDays": str(position["settleDays"]),
    }
    for i, role in enumerate(position["approvalChain"], start=1):
        values[f"chain_{i}"] = role
    return values


async def _position_form(page: Page, values: dict[str, str], existing: bool, errors: dict[str, str] | None = None,
                         general: list[str] | None = None, status: int = 200,
                         extra: dict[str, Any] | None = None) -> Response:
    return await page.render("admin/position_form.html", {
        "values": values, "existing": existing, "errors": errors or {}, "general": general or [],
        "roles": ROLES, "steps": range(1, CHAIN_STEPS + 1), **(extra or {"history": [], "blocked": []}),
    }, block="form", status=status)


POSITION_HISTORY = """
query { positions { code history { at actor action before after }
                    blockedLoans { id number amount blockedReason employee { name employeeNo } } } }
"""
HISTORY_FIELDS = (("loanLimit", "借款额度"), ("monthlyLoanLimit", "月度限额"), ("settleDays", "报销期限（天）"),
                  ("approvalChain", "审批链"), ("name", "名称"), ("level", "级别"))


def _changes(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """The fields a position change touched, for the history table (the template formats money and chains)."""
    before, after = entry.get("before") or {}, entry.get("after") or {}
    return [{"key": key, "label": label, "before": before.get(key), "after": after.get(key)}
            for key, label in HISTORY_FIELDS if before.get(key) != after.get(key)]


async def position_edit(page: Page, code: str | None = None) -> Response:
    position = None
    extra: dict[str, Any] = {"history": [], "blocked": []}
    if code is not None:
        data = check_read(await page.gql(POSITIONS))
        position = next((p for p in data["positions"] if p["code"] == code), None)
        if position is None:
            raise PageError(404)
        if page.may(duties.VIEW_POSITION_HISTORY):
            found = next(p for p in check_read(await page.gql(POSITION_HISTORY))["positions"] if p["code"] == code)
            extra = {"history": [{**h, "changes": _changes(h)} for h in reversed(found["history"])],
                     "blocked": found["blockedLoans"]}
    return await _position_form(page, _position_values(position), existing=position is not None, extra=extra)


async def position_save(page: Page) -> Response:
    fields = ("code", "name", "level", "loanLimit", "monthlyLoanLimit", "settleDays")
    values = {name: page.value(name) for name in fields}
    chain = []
    for i in range(1, CHAIN_STEPS + 1):
        role = page.value(f"chain_{i}")
        values[f"chain_{i}"] = role
        if role:
            chain.append(role)
    errors: dict[str, str] = {}
    variables = {"input": {
        "code": values["code"], "name": values["name"],
        "level": forms.whole_number(page, values["level"], "level", errors),
        "loanLimit": forms.amount(page, values["loanLimit"], "loanLimit", errors),
        "monthlyLoanLimit": forms.amount(page, values["monthlyLoanLimit"], "monthlyLoanLimit", errors,
                                         required=False),
        "settleDays": forms.whole_number(page, values["settleDays"], "settleDays", errors),
        "approvalChain": chain,
    }}
    if errors:
        return await _position_form(page, values, existing=page.value("existing") == "1", errors=errors,
                                    status=200 if page.htmx else 422)
    result = await page.gql(UPSERT_POSITION, variables)
    _refuse_if_no_form(page, result)
    if result.ok:
        return page.redirect(f"/admin/positions?saved={result.data['upsertPosition']['code']}")
    return await _position_form(
        page, values, existing=page.value("existing") == "1", errors=result.field_errors(POSITION_FIELDS),
        general=result.general_errors(POSITION_FIELDS), status=200 if page.htmx else 422,
    )


# ---------------------------------------------------------------- employees

EMPLOYEE_PAGE = 20  # rows per page of the employees list (keyset): on a phone each row is a card
EMPLOYEES = """
query($search: String, $first: Int, $after: String) {
  employeeCount(search: $search)
  employeesPage(search: $search, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node {
      id employeeNo name status viewerCan { edit startOffboarding }
      department { name } region { name } position { name }
      supervisor { employeeNo name }
    } }
  }
}
"""
FORM_CHOICES = """
query { departments { code name } regions { code name } positions { code name }
        employees { employeeNo name } }
"""
CREATE_EMPLOYEE = """
mutation($input: EmployeeInput!) { createEmployee(input: $input) { id employeeNo name } }
"""
EMPLOYEE_FIELDS = {
    "employeeNo", "name", "departmentCode", "regionCode", "positionCode", "supervisorNo", "monthlySalary",
    "hireDate", "username", "password", "roles", "email", "phone",
}
TEXT_FIELDS = ("employeeNo", "name", "departmentCode", "regionCode", "positionCode", "supervisorNo",
               "monthlySalary", "hireDate", "username", "email", "phone")


async def _employees(page: Page, values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                     general: list[str] | None = None, status: int = 200, block: str | None = None) -> Response:
    search = page.request.query_params.get("q", "").strip()
    after = page.request.query_params.get("after") or None
    listing = check_read(await page.gql(EMPLOYEES, {"search": search or None, "first": EMPLOYEE_PAGE, "after": after}))
    connection = listing["employeesPage"]
    info = connection["pageInfo"]
    choices = check_read(await page.gql(FORM_CHOICES)) if page.may(duties.CREATE_EMPLOYEE) else {}
    return await page.render("admin/employees.html", {
        "employees": [e["node"] for e in connection["edges"]], "employee_count": listing["employeeCount"],
        "next_cursor": info["endCursor"] if info["hasNextPage"] else None, "paged": bool(after),
        "search": search, "choices": choices, "roles": ROLES,
        "values": values or {"roles": ["EMPLOYEE"]}, "errors": errors or {}, "general": general or [],
        "created": page.request.query_params.get("created"),
    }, block=block, status=status)


async def employees_page(page: Page) -> Response:
    # The search box asks for the list only (hx-get with HX-Target "results").
    return await _employees(page, block="results")


async def employee_create(page: Page) -> Response:
    values: dict[str, Any] = {name: page.value(name) for name in TEXT_FIELDS}
    values["roles"] = [r for r in page.form.getlist("roles") if isinstance(r, str)] if page.form else []
    password = page.form.get("password") if page.form is not None else ""
    errors: dict[str, str] = {}
    variables = {"input": {
        **{k: (values[k] or None) for k in ("supervisorNo", "email", "phone")},
        **{k: values[k] for k in ("employeeNo", "name", "departmentCode", "regionCode", "positionCode", "username")},
        "monthlySalary": forms.amount(page, values["monthlySalary"], "monthlySalary", errors),
        "hireDate": forms.date(page, values["hireDate"], "hireDate", errors),
        "password": password if isinstance(password, str) else "",
        "roles": values["roles"] or ["EMPLOYEE"],
    }}
    if errors:
        return await _employees(page, values, errors, status=200 if page.htmx else 422, block="create")
    result = await page.gql(CREATE_EMPLOYEE, variables)
    _refuse_if_no_form(page, result)
    if result.ok:
        return page.redirect(f"/admin/employees?created={result.data['createEmployee']['employeeNo']}")
    return await _employees(page, values, result.field_errors(EMPLOYEE_FIELDS),
                            result.general_errors(EMPLOYEE_FIELDS), status=200 if page.htmx else 422,
                            block="create")


# ---------------------------------------------------------------- editing an employee (roles, position, salary)

EMPLOYEE_EDIT = """
query($id: ID!) {
  employee(id: $id) {
    id employeeNo name monthlySalary roles status email phone viewerCan { requestEvidence }
    department { code } region { code } position { code } supervisor { employeeNo }
  }
}
"""
EDIT_CHOICES = "query { departments { code name } regions { code name } positions { code name } }"
# The supervisor picker: matches of what is typed, and the chosen one (kept checked while searching).
SUPERVISOR_SEARCH = """
query($q: String, $chosen: String, $withChosen: Boolean!, $withMatches: Boolean!) {
  matches: employees(search: $q, first: 20) @include(if: $withMatches) {
    employeeNo name status department { name } position { name } }
  chosen: employees(search: $chosen, first: 5) @include(if: $withChosen) {
    employeeNo name status department { name } position { name } }
}
"""
SUPERVISOR_MATCHES = 20
UPDATE_EMPLOYEE = """
mutation($id: ID!, $input: EmployeeUpdateInput!) { updateEmployee(id: $id, input: $input) { id employeeNo } }
"""
UPDATE_FIELDS = {"name", "departmentCode", "regionCode", "positionCode", "supervisorNo", "monthlySalary", "roles",
                 "email", "phone"}
EDIT_TEXT = ("name", "departmentCode", "regionCode", "positionCode", "supervisorNo", "monthlySalary", "email", "phone")


def _employee_values(e: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": e["name"], "departmentCode": e["department"]["code"], "regionCode": e["region"]["code"],
        "positionCode": e["position"]["code"], "supervisorNo": e["supervisor"]["employeeNo"] if e["supervisor"] else "",
        "monthlySalary": e["monthlySalary"], "roles": list(e["roles"]), "email": e["email"] or "",
        "phone": e["phone"] or "",
    }


async def _supervisor_choices(page: Page, query: str, chosen: str, employee_no: str) -> dict[str, Any]:
    """What the picker lists: the chosen supervisor first, then up to 20 matches of `query` (never the
    employee themself; the service also refuses their own subordinates)."""
    data = check_read(await page.gql(SUPERVISOR_SEARCH, {
        "q": query or None, "chosen": chosen or None, "withChosen": bool(chosen), "withMatches": bool(query)}))
    picked = next((e for e in data.get("chosen") or [] if e["employeeNo"] == chosen), None)
    if chosen and picked is None:
        picked = {"employeeNo": chosen, "name": chosen, "status": None, "department": None, "position": None}
    matches = [e for e in data.get("matches") or [] if e["employeeNo"] not in (chosen, employee_no)]
    return {"chosen": picked, "matches": matches[:SUPERVISOR_MATCHES], "query": query,
            "searched": bool(query)}


async def supervisor_search(page: Page, employee_id: str) -> Response:
    """The picker's HTMX search: the radio list only."""
    employee = check_read(await page.gql(EMPLOYEE_EDIT, {"id": employee_id}))["employee"]
    if employee is None:
        raise PageError(404)
    if not page.htmx:  # a fragment of the edit form: opened on its own, the form is where it belongs
        return page.redirect(f"/admin/employees/{employee_id}")
    picker = await _supervisor_choices(page, page.request.query_params.get("supervisor_q", "").strip()[:100],
                                       page.request.query_params.get("supervisorNo", "").strip()[:32],
                                       employee["employeeNo"])
    return await page.render("admin/employee_form.html", {"employee": employee, "picker": picker},
                             block="supervisor_matches")


async def _employee_form(page: Page, employee_id: str, values: dict[str, Any] | None = None,
                         errors: dict[str, str] | None = None, general: list[str] | None = None,
                         status: int = 200) -> Response:
    employee = check_read(await page.gql(EMPLOYEE_EDIT, {"id": employee_id}))["employee"]
    if employee is None:
        raise PageError(404)
    choices = check_read(await page.gql(EDIT_CHOICES))
    values = values or _employee_values(employee)
    picker = await _supervisor_choices(page, "", values.get("supervisorNo", ""), employee["employeeNo"])
    return await page.render("admin/employee_form.html", {
        "employee": employee, "values": values, "errors": errors or {}, "picker": picker,
        "general": general or [], "choices": choices, "roles": ROLES,
        "saved": page.request.query_params.get("saved") == "1",
    }, block="form", status=status)


async def employee_edit(page: Page, employee_id: str) -> Response:
    return await _employee_form(page, employee_id)


async def employee_update(page: Page, employee_id: str) -> Response:
    values: dict[str, Any] = {name: page.value(name) for name in EDIT_TEXT}
    values["roles"] = [r for r in page.form.getlist("roles") if isinstance(r, str)] if page.form else []
    errors: dict[str, str] = {}
    variables = {"id": employee_id, "input": {
        **{k: values[k] for k in ("name", "departmentCode", "regionCode", "positionCode")},
        "supervisorNo": values["supervisorNo"],
        "monthlySalary": forms.amount(page, values["monthlySalary"], "monthlySalary", errors),
        "roles": values["roles"] or ["EMPLOYEE"],
        "email": values["email"], "phone": values["phone"],
    }}
    if errors:
        return await _employee_form(page, employee_id, values, errors, status=200 if page.htmx else 422)
    result = await page.gql(UPDATE_EMPLOYEE, variables)
    _refuse_if_no_form(page, result)
    if result.ok:
        return page.redirect(f"/admin/employees/{employee_id}?saved=1")
    return await _employee_form(page, employee_id, values, result.field_errors(UPDATE_FIELDS),
                                result.general_errors(UPDATE_FIELDS), status=200 if page.htmx else 422)


# ---------------------------------------------------------------- company settings (ADMIN)

SETTINGS = "query { companySettings { key value description } }"
SET_SETTING = """
mutation($key: String!, $value: JSON!) { setCompanySetting(key: $key, value: $value) { key value } }
"""


async def _settings(page: Page, general: list[str] | None = None, status: int = 200) -> Response:
    data = check_read(await page.gql(SETTINGS))
    return await page.render("admin/settings.html", {
        "settings": data["companySettings"], "general": general or [],
        # the risk rules have their own section (templates/risk/_settings.html)
        "risk_keys": frozenset(company_settings.RISK_DESCRIPTIONS),
        "saved": page.request.query_params.get("saved"),
    }, status=status)


async def settings_page(page: Page) -> Response:
    return await _settings(page)


async def settings_save(page: Page) -> Response:
    key = page.value("key")
    current = {row["key"]: row["value"] for row in check_read(await page.gql(SETTINGS))["companySettings"]}
    raw = page.value("value")
    value: Any = raw == "1"
    if key in current and not isinstance(current[key], bool):
        # A number setting (SETTLE_REMINDER_DAYS …) or a text one (COMPANY_NAME, account codes): typed as its
        # current value.
        value = int(raw) if isinstance(current[key], int) and raw.lstrip("-").isdigit() else raw
    result = await page.gql(SET_SETTING, {"key": key, "value": value})
    if not page.may(duties.EDIT_SETTING):
        refuse_if_forbidden(result)
    if result.ok:
        return page.redirect(f"/admin/settings?saved={key}")
    return await _settings(page, [e.message for e in result.errors], status=422)


async def admin_index(page: Page) -> Response:
    return page.redirect("/admin/positions")
