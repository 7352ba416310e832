"""The viewer's own payee bank details (收款账户) and the bank batch-payment download (FINANCE)."""

from __future__ import annotations

import base64
from urllib.parse import quote

from starlette.responses import Response

from server.web.core import Page, PageError, check_read, refuse_if_forbidden

READ = "query($id: ID!) { payeeAccount(employeeId: $id) { accountName accountNoMasked bank branch updatedAt } }"
SAVE = """
mutation($id: ID!, $input: PayeeAccountInput!) {
  setPayeeAccount(employeeId: $id, input: $input) { accountNoMasked }
}
"""
BATCH = """
query($format: BankBatchFormat!) { bankBatchFile(format: $format) { filename contentType contentBase64 } }
"""
FIELDS = {"accountName", "accountNo", "bank", "branch"}


async def _form(page: Page, errors: dict[str, str] | None = None, general: list[str] | None = None,
                values: dict[str, str] | None = None, saved: bool = False, status: int = 200) -> Response:
    if page.viewer.employee_id is None:
        raise PageError(404)
    data = check_read(await page.gql(READ, {"id": str(page.viewer.employee_id)}))
    return await page.render("account/payee.html", {
        "payee": data["payeeAccount"], "errors": errors or {}, "general": general or [], "values": values or {},
        "saved": saved or page.request.query_params.get("saved") == "1",
    }, status=status)


async def payee_page(page: Page) -> Response:
    return await _form(page)


async def payee_save(page: Page) -> Response:
    if page.viewer.employee_id is None:
        raise PageError(404)
    values = {name: page.value(name) for name in FIELDS}
    result = await page.gql(SAVE, {"id": str(page.viewer.employee_id), "input": values})
    refuse_if_forbidden(result)
    if result.ok:
        return page.redirect("/account/payee?saved=1")
    return await _form(page, result.field_errors(FIELDS), result.general_errors(FIELDS), values, status=422)


async def bank_batch_download(page: Page) -> Response:
    file_format = page.request.query_params.get("format") or "CSV"
    if file_format not in ("CSV", "XLSX"):
        file_format = "CSV"
    data = check_read(await page.gql(BATCH, {"format": file_format}))["bankBatchFile"]
    return Response(base64.b64decode(data["contentBase64"]), media_type=data["contentType"], headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(data['filename'])}"})
