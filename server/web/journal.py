"""会计凭证导出 page (FINANCE; AUDITOR and ADMIN read): pick a range, see the totals, download a layout."""

from __future__ import annotations

import base64
import datetime
from urllib.parse import quote

from starlette.responses import Response

from server.domain import duties
from server.services.base import today
from server.web.core import Page, check_read

SUMMARY = """
query($from: Date!, $to: Date!, $layout: JournalLayout!) {
  journalExport(from: $from, to: $to, layout: $layout) { voucherCount lineCount debitTotal creditTotal }
}
"""
FILE = """
query($from: Date!, $to: Date!, $layout: JournalLayout!) {
  journalExport(from: $from, to: $to, layout: $layout) { filename contentType contentBase64 }
}
"""
LAYOUTS = ("KINGDEE", "U8")


def _range(page: Page) -> tuple[str, str, list[str]]:
    params = page.request.query_params
    first = today().replace(day=1)
    start, end = params.get("from") or first.isoformat(), params.get("to") or today().isoformat()
    errors = []
    for value in (start, end):
        try:
            datetime.date.fromisoformat(value)
        except ValueError:
            errors.append(page._("日期格式须为 YYYY-MM-DD"))
            break
    return start, end, errors


async def journal_page(page: Page) -> Response:
    start, end, errors = _range(page)
    summary = None
    if not errors:
        result = await page.gql(SUMMARY, {"from": start, "to": end, "layout": "KINGDEE"})
        if result.ok:
            summary = result.data["journalExport"]
        elif result.codes & {"FORBIDDEN", "UNAUTHENTICATED"}:
            check_read(result)
        else:
            errors = [e.message for e in result.errors]
    return await page.render("finance/journal.html", {
        "start": start, "end": end, "summary": summary, "errors": errors, "layouts": LAYOUTS,
        # the bank batch file is FINANCE's (the duty that bankBatchFile enforces)
        "may_batch": duties.may(page.viewer.roles, duties.DISBURSE) or duties.may(page.viewer.roles,
                                                                                   duties.PAY_REIMBURSEMENT),
    }, status=200 if not errors else 422)


async def journal_download(page: Page) -> Response:
    start, end, errors = _range(page)
    layout = page.request.query_params.get("layout") or "KINGDEE"
    if errors or layout not in LAYOUTS:
        return await journal_page(page)
    data = check_read(await page.gql(FILE, {"from": start, "to": end, "layout": layout}))["journalExport"]
    return Response(base64.b64decode(data["contentBase64"]), media_type=data["contentType"], headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(data['filename'])}"})
