"""Alerts (风险预警: filter by kind, severity, department, position and state; resolve with a note) and the viewer's notifications (mark read).

The header's bell is the layout's `unreadNotificationCount` (server/web/core.py); marking a
notification read from here sends the new count back out of band so the bell follows.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import QueryParams
from starlette.responses import HTMLResponse, Response

from server.domain.vocab import AlertKind, Severity
from server.web.core import Page, PageError, check_read, refuse_if_forbidden, safe_next

# The filter's order on the page: the most pressing first.
KINDS = [k.value for k in (AlertKind.OFFBOARDING_OUTSTANDING, AlertKind.OVERDUE, AlertKind.LARGE_LOAN_NO_BUSINESS,
                           AlertKind.FREQUENT_BORROWING, AlertKind.POSITION_OVERDUE_RATE, AlertKind.MISSING_VOUCHERS)]
PAGE_SIZE = 50
ALERT_FIELDS = """
  id kind severity message createdAt resolvedAt resolutionNote pausedUntil score scorecardVersion
  employee { id name employeeNo } loan { id number } position { name } region { name } purpose recipients { name }
  viewerCan { resolve }
"""
SEVERITIES = [s.value for s in (Severity.CRITICAL, Severity.WARNING, Severity.INFO)]
SHOWS = ("open", "resolved", "all")

# ---------------------------------------------------------------- alerts


def _alerts_query() -> str:
    # One COUNT per kind for the chart, in the same request as the list.
    counts = " ".join(f"{k.lower()}: alerts(kind: {k}, unresolvedOnly: true, first: 0) {{ totalCount }}"
                      for k in KINDS)
    return ("query($kind: AlertKind, $unresolvedOnly: Boolean, $first: Int, $after: String, $severity: Severity,"
            " $departmentId: ID, $positionId: ID, $resolved: Boolean) {"
            " alerts(kind: $kind, unresolvedOnly: $unresolvedOnly, first: $first, after: $after, severity: $severity,"
            " departmentId: $departmentId, positionId: $positionId, resolved: $resolved) {"
            " totalCount pageInfo { hasNextPage endCursor } edges { node { " + ALERT_FIELDS + " } } } "
            " departments { id name } positions { id name } viewerCanRunRiskScan "
            + counts + " }")


ALERTS = _alerts_query()
RESOLVE = ("mutation($id: ID!, $note: String, $pauseUntil: Date) { resolveAlert(alertId: $id, note: $note, "
           "pauseUntil: $pauseUntil) { " + ALERT_FIELDS + " } }")


def _filters(page: Page, params: Any) -> dict[str, Any]:
    kind = params.get("kind") or None
    if kind is not None and kind not in KINDS:
        raise PageError(400, page._("未知的预警类型"))
    severity = params.get("severity") or None
    if severity is not None and severity not in SEVERITIES:
        raise PageError(400, page._("未知的严重程度"))
    show = params.get("show") if params.get("show") in SHOWS else "open"
    ids = {name: (params.get(name) or "").strip() or None for name in ("department", "position")}
    for value in ids.values():
        if value is not None and not (value.isascii() and value.isdigit()):
            raise PageError(400, page._("筛选条件无效"))
    return {"kind": kind, "severity": severity, "show": show, "after": params.get("after") or None, **ids}


def _query_string(f: dict[str, Any]) -> str:
    """The filters as a query string (for the pager's links)."""
    parts = [f"show={f['show']}"] + [f"{k}={f[k]}" for k in ("kind", "severity", "department", "position") if f.get(k)]
    return "&".join(parts)


async def _alerts(page: Page, errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                  status: int = 200, params: Any = None) -> Response:
    f = _filters(page, page.request.query_params if params is None else params)
    data = check_read(await page.gql(ALERTS, {
        "kind": f["kind"], "unresolvedOnly": f["show"] == "open", "first": PAGE_SIZE, "after": f["after"],
        "severity": f["severity"], "departmentId": f["department"], "positionId": f["position"],
        "resolved": {"open": False, "resolved": True}.get(f["show"]),
    }))
    counts = [{"kind": k, "count": data[k.lower()]["totalCount"]} for k in KINDS]
    listed = [e["node"] for e in data["alerts"]["edges"]]
    shown = {a["id"] for a in listed if not a["resolvedAt"]}
    # A refusal about an alert without its form here (resolved meanwhile) goes on top of the page.
    general = [message for alert_id, message in (errors or {}).items() if alert_id not in shown]
    return await page.render("alerts/index.html", {
        "alerts": listed, "total": data["alerts"]["totalCount"], "general": general,
        "page_info": data["alerts"]["pageInfo"], "filters": f, "counts": counts,
        "top": max([c["count"] for c in counts] + [1]), "kinds": KINDS, "errors": errors or {},
        "values": values or {}, "resolved": page.request.query_params.get("resolved"),
        "severities": SEVERITIES, "departments": data["departments"], "positions": data["positions"],
        "query_string": _query_string(f), "can_scan": data["viewerCanRunRiskScan"],
        "scan_job": await _scan_job(page),
    }, status=status)


SCAN = "mutation { runRiskScan { id state progress } }"
SCAN_JOB = "query($id: ID!) { job(id: $id) { id state progress error result } }"


async def _scan_job(page: Page) -> dict[str, Any] | None:
    """The scan this page started (?scan=<job id>), for its state and progress."""
    job_id = page.request.query_params.get("scan")
    if not job_id or len(job_id) > 64:
        return None
    result = await page.gql(SCAN_JOB, {"id": job_id})
    return result.data.get("job") if result.ok else None


async def run_scan(page: Page) -> Response:
    """FINANCE or ADMIN: scan every rule as of today in the background; the page shows the job."""
    result = await page.gql(SCAN)
    refuse_if_forbidden(result)
    job = check_read(result)["runRiskScan"]
    return page.redirect(f"/alerts?scan={job['id']}")


async def alerts_page(page: Page) -> Response:
    return await _alerts(page)


def _back(page: Page, default: str) -> str:
    target = safe_next(page.value("next"), default)
    return target if target.split("?")[0] == default else default


async def resolve(page: Page, alert_id: str) -> Response:
    note = page.value("note")
    pause = page.value("pauseUntil") or None
    result = await page.gql(RESOLVE, {"id": alert_id, "note": note or None, "pauseUntil": pause})
    if result.ok:
        alert = result.data["resolveAlert"]
        if page.htmx:
            return await page.render("alerts/index.html", {"alert": alert, "errors": {}, "values": {}},
                                     block="alert")
        back = _back(page, "/alerts")
        return page.redirect(back + ("&" if "?" in back else "?") + f"resolved={alert['id']}")
    refuse_if_forbidden(result)
    message = result.errors[0].message
    if page.htmx:
        # Only the message, under the form that was sent (the note typed stays in place).
        return await page.render("alerts/index.html", {"message": message}, block="resolve_error",
                                 headers={"HX-Retarget": f"#err-{alert_id}", "HX-Reswap": "innerHTML"})
    back = _back(page, "/alerts")
    return await _alerts(page, errors={alert_id: message}, values={alert_id: note},
                         status=409 if "CONFLICT" in result.codes else 422,
                         params=QueryParams(back.partition("?")[2]))


# ---------------------------------------------------------------- notifications

NOTIFICATIONS = """
query($unreadOnly: Boolean, $first: Int, $after: String) {
  notifications(unreadOnly: $unreadOnly, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      id title body createdAt readAt link
      alert { id kind severity resolvedAt employee { id name } loan { id number } }
    } }
  }
  unreadNotificationCount
}
"""
MARK_READ = """
mutation($id: ID!) {
  markNotificationRead(notificationId: $id) {
    id title body createdAt readAt link
    alert { id kind severity resolvedAt employee { id name } loan { id number } }
  }
}
"""
UNREAD = "query { unreadNotificationCount }"


async def notifications_page(page: Page) -> Response:
    params = page.request.query_params
    show = "unread" if params.get("show") == "unread" else "all"
    after = params.get("after") or None
    data = check_read(await page.gql(NOTIFICATIONS, {"unreadOnly": show == "unread", "first": PAGE_SIZE,
                                                     "after": after}))
    return await page.render("notifications/index.html", {
        "items": [e["node"] for e in data["notifications"]["edges"]], "total": data["notifications"]["totalCount"],
        "page_info": data["notifications"]["pageInfo"], "show": show, "after": after,
        "unread_count": data["unreadNotificationCount"],
    })


async def mark_read(page: Page, notification_id: str) -> Response:
    result = await page.gql(MARK_READ, {"id": notification_id})
    if not result.ok:
        refuse_if_forbidden(result)
        check_read(result)
    if page.htmx:
        # The item as read, and the header's bell with the new count (out of band).
        unread = check_read(await page.gql(UNREAD))["unreadNotificationCount"]
        item = await page.render("notifications/index.html", {"n": result.data["markNotificationRead"]},
                                 block="item")
        bell = await page.render("notifications/index.html", {"unread": unread}, block="bell")
        return HTMLResponse(bytes(item.body) + bytes(bell.body))
    return page.redirect(_back(page, "/notifications"))
