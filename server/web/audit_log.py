"""The audit log page (AUDITOR, ADMIN): filter by object, actor and date; each entry links to its object;
CSV export streamed from the service; the last chain verification and a button to verify now."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date
from typing import Any
from urllib.parse import urlencode

from starlette.responses import Response, StreamingResponse

from server import i18n
from server.domain import duties
from server.domain.errors import DomainError
from server.exports import csv_stream
from server.services import audit_log
from server.web.core import Page, PageError, check_read, refuse_if_forbidden

PAGE_SIZE = 50
QUERY = """
query($type: String, $id: String, $actor: String, $from: Date, $to: Date, $first: Int, $after: String) {
  auditLog(objectType: $type, objectId: $id, actor: $actor, dateFrom: $from, dateTo: $to, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { id at actor action objectType objectId before after link requestId } }
  }
  auditObjectTypes
  lastAuditVerification { ok checked headId headHash firstBadId message finishedAt job { id state } }
  runningAuditVerification { id state }
}
"""
VERIFY = "mutation { verifyAuditChain { id state } }"


def _require(page: Page) -> None:
    if not duties.may(page.viewer.roles, duties.VIEW_AUDIT_LOG):
        raise PageError(403)


def _date(raw: str | None) -> str:
    try:
        return date.fromisoformat(raw or "").isoformat()
    except ValueError:
        return ""


def _form(page: Page) -> dict[str, str]:
    params = page.request.query_params
    return {"type": (params.get("type") or "").strip()[:40], "id": (params.get("id") or "").strip()[:40],
            "actor": (params.get("actor") or "").strip()[:64], "from": _date(params.get("from")),
            "to": _date(params.get("to"))}


AFTER_SHOWN = 240


def _shown(entry: dict[str, Any]) -> dict[str, Any]:
    """The change as readable JSON (Chinese as it is), cut short on the page; the CSV has it whole."""
    after = entry.get("after")
    text = "" if after is None else json.dumps(after, ensure_ascii=False, sort_keys=True)
    return {**entry, "afterText": text if len(text) <= AFTER_SHOWN else text[:AFTER_SHOWN] + "…"}


async def audit_page(page: Page) -> Response:
    _require(page)
    form = _form(page)
    after = page.request.query_params.get("after") or None
    variables = {k: v or None for k, v in form.items()} | {"first": PAGE_SIZE, "after": after}
    result = await page.gql(QUERY, variables)
    errors = [e.message for e in result.errors if e.code == "VALIDATION"]
    if errors:
        result = await page.gql(QUERY, {"first": 0})
    data = check_read(result)
    connection = data["auditLog"]
    query = urlencode([(k, v) for k, v in form.items() if v])
    return await page.render("audit/index.html", {
        "form": form, "entries": [_shown(e["node"]) for e in connection["edges"]], "types": data["auditObjectTypes"],
        "last": data["lastAuditVerification"], "running": data["runningAuditVerification"], "errors": errors,
        "query": query, "after": after, "requested": page.request.query_params.get("requested"),
        "next": connection["pageInfo"]["endCursor"] if connection["pageInfo"]["hasNextPage"] else None,
    }, block="results")


async def verify(page: Page) -> Response:
    result = await page.gql(VERIFY)
    refuse_if_forbidden(result)
    check_read(result)
    return page.redirect(f"/audit?requested={result.data['verifyAuditChain']['id']}")


async def _cells(rows: AsyncIterator[Any]) -> AsyncIterator[list[Any]]:
    async for r in rows:
        yield [r.id, r.at, r.actor, r.action, r.object_type, r.object_id,
               json.dumps(r.before, ensure_ascii=False, sort_keys=True) if r.before is not None else "",
               json.dumps(r.after, ensure_ascii=False, sort_keys=True) if r.after is not None else "",
               r.request_id or "", r.prev_hash, r.hash]


async def export(page: Page) -> Response:
    _require(page)
    form = _form(page)
    search = audit_log.AuditSearch(form["type"] or None, form["id"] or None, form["actor"] or None,
                                   date.fromisoformat(form["from"]) if form["from"] else None,
                                   date.fromisoformat(form["to"]) if form["to"] else None)
    try:
        audit_log.entry_query(page.viewer, search)
    except DomainError as exc:
        raise PageError(422, str(exc)) from exc
    t = i18n.translations(page.locale).gettext
    header = ["id", t("时间"), t("操作人"), t("操作"), t("对象类型"), t("对象"), t("变更前"), t("变更后"),
              "requestId", "prevHash", "hash"]
    body = csv_stream(header, _cells(audit_log.entry_rows(page.viewer, search)))
    return StreamingResponse(body, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="audit-log-{date.today().isoformat()}.csv"'})
