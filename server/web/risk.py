"""The employee's risk panel (score and "why this score", alert history, business records, recording one)
and the risk rules' section of the company settings page (ADMIN)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from server.web import forms
from server.web.core import Page, PageError, check_read, refuse_if_forbidden

EMPLOYEE_RISK = """
query($id: ID!) {
  employee(id: $id) {
    id name employeeNo status department { name } position { name } region { name } monthlySalary
    risk { score severity scorecardVersion factors { name detail points } }
    businessRecords(first: 50) { id kind reference amount signedOn }
    viewerCan { recordBusiness }
  }
  alerts(employeeId: $id, unresolvedOnly: false, first: 20) {
    totalCount
    edges { node { id kind severity message createdAt resolvedAt resolutionNote score scorecardVersion
                   loan { id number } } }
  }
}
"""
RECORD = """
mutation($input: BusinessRecordInput!) { recordBusinessRecord(input: $input) { id kind reference amount signedOn } }
"""
RECORD_FIELDS = {"employeeNo", "kind", "reference", "amount", "signedOn"}
SET_SETTING = "mutation($key: String!, $value: JSON!) { setCompanySetting(key: $key, value: $value) { key value } }"


async def _employee(page: Page, employee_id: str, values: dict[str, str] | None = None,
                    errors: dict[str, str] | None = None, general: list[str] | None = None,
                    status: int = 200) -> Response:
    result = await page.gql(EMPLOYEE_RISK, {"id": employee_id})
    refuse_if_forbidden(result)
    data = check_read(result)
    if data["employee"] is None:
        raise PageError(404, page._("员工不存在"))
    return await page.render("risk/employee.html", {
        "employee": data["employee"], "alerts": [e["node"] for e in data["alerts"]["edges"]],
        "alert_total": data["alerts"]["totalCount"], "values": values or {}, "errors": errors or {},
        "general": general or [], "saved": page.request.query_params.get("saved"),
    }, status=status)


async def employee_risk(page: Page, employee_id: str) -> Response:
    return await _employee(page, employee_id)


async def record_business(page: Page, employee_id: str) -> Response:
    values = {name: page.value(name) for name in ("employeeNo", "kind", "reference", "amount", "signedOn")}
    errors: dict[str, str] = {}
    variables: dict[str, Any] = {"input": {
        "employeeNo": values["employeeNo"], "kind": values["kind"], "reference": values["reference"],
        "amount": forms.amount(page, values["amount"], "amount", errors),
        "signedOn": forms.date(page, values["signedOn"], "signedOn", errors),
    }}
    if errors:
        return await _employee(page, employee_id, values, errors, status=422)
    result = await page.gql(RECORD, variables)
    if result.ok:
        return page.redirect(f"/employees/{employee_id}/risk?saved=1")
    refuse_if_forbidden(result)
    return await _employee(page, employee_id, values, result.field_errors(RECORD_FIELDS),
                           result.general_errors(RECORD_FIELDS), status=422)


async def save_risk_setting(page: Page) -> Response:
    """One risk rule's new value (an integer); ADMIN only (the mutation decides)."""
    from server.web.admin import _settings

    key, raw = page.value("key"), page.value("value")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 6):
        return await _settings(page, [page._("请输入非负整数")], status=422)
    result = await page.gql(SET_SETTING, {"key": key, "value": int(raw)})
    refuse_if_forbidden(result)
    if result.ok:
        return page.redirect(f"/admin/settings?saved={key}#risk")
    return await _settings(page, [e.message for e in result.errors], status=422)
