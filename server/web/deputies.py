"""The account page's deputy section (代理审批): name a deputy for a period, clear it, see whom one stands in for."""

from __future__ import annotations

from starlette.responses import Response

from server.web import forms
from server.web.core import Page, check_read, refuse_if_forbidden

READ = """{ deputySettings { maxDays viewerCan { set clear }
  current { deputyName deputyEmployeeNo startsOn endsOn active }
  actingFor { approverName startsOn endsOn } } }"""
SET = """mutation($no: String!, $s: Date!, $e: Date!) {
  setDeputy(deputyNo: $no, startsOn: $s, endsOn: $e) { id } }"""
CLEAR = "mutation { clearDeputy { id } }"
FIELDS = {"deputyNo", "deputyId", "startsOn", "endsOn"}


async def _page(page: Page, errors: dict[str, str] | None = None, general: list[str] | None = None,
                values: dict[str, str] | None = None, status: int = 200) -> Response:
    data = check_read(await page.gql(READ))["deputySettings"]
    return await page.render("account/deputy.html", {
        "settings": data, "errors": errors or {}, "general": general or [], "values": values or {},
        "done": page.request.query_params.get("done"),
    }, status=status)


async def deputy_page(page: Page) -> Response:
    return await _page(page)


async def deputy_save(page: Page) -> Response:
    values = {name: page.value(name) for name in ("deputyNo", "startsOn", "endsOn")}
    errors: dict[str, str] = {}
    starts = forms.date(page, values["startsOn"], "startsOn", errors)
    ends = forms.date(page, values["endsOn"], "endsOn", errors)
    if not values["deputyNo"]:
        errors["deputyNo"] = page._("请填写代理人工号")
    if not errors:
        result = await page.gql(SET, {"no": values["deputyNo"], "s": starts, "e": ends})
        if result.ok:
            return page.redirect("/account/deputy?done=set")
        refuse_if_forbidden(result)
        errors = result.field_errors(FIELDS)
        if "deputyId" in errors:
            errors["deputyNo"] = errors.pop("deputyId")
        return await _page(page, errors, result.general_errors(FIELDS), values, status=422)
    return await _page(page, errors, [], values, status=422)


async def deputy_clear(page: Page) -> Response:
    result = await page.gql(CLEAR)
    refuse_if_forbidden(result)
    check_read(result)
    return page.redirect("/account/deputy?done=cleared")
