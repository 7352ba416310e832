"""Channels and deliveries (ADMIN): /admin/channels, and the header bell's polled fragment.

The page runs the GraphQL operations of schema/types/delivery.py; who may manage channels is the
service's answer (FORBIDDEN → the 403 page), never decided here.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.responses import Response

from server.web.core import Page, check_read, refuse_if_forbidden

CHANNEL_FIELDS = "id kind name target secret enabled digestMinutes includeDetails"
PAGE = f"""
query($after: String) {{
  channels {{ {CHANNEL_FIELDS} }}
  deliveries(first: 30, after: $after) {{
    totalCount pageInfo {{ hasNextPage endCursor }}
    edges {{ node {{ id kind status attempts lastError createdAt sentAt address channel {{ id name }} }} }}
  }}
}}
"""
CREATE = f"mutation($input: ChannelInput!) {{ createChannel(input: $input) {{ {CHANNEL_FIELDS} }} }}"
UPDATE = f"""mutation($id: ID!, $input: ChannelUpdateInput!) {{
  updateChannel(id: $id, input: $input) {{ {CHANNEL_FIELDS} }} }}"""
DELETE = "mutation($id: ID!) { deleteChannel(id: $id) }"
TEST_SEND = "mutation($id: ID!) { testSendChannel(id: $id) { id } }"
FORM_FIELDS = {"kind", "name", "target", "secret", "digestMinutes", "includeDetails"}
UNREAD = "query { unreadNotificationCount }"


async def _page(page: Page, values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
                general: list[str] | None = None, status: int = 200) -> Response:
    result = await page.gql(PAGE, {"after": page.request.query_params.get("after") or None})
    refuse_if_forbidden(result)
    data = check_read(result)
    return await page.render("admin/channels.html", {
        "channels": data["channels"], "deliveries": [e["node"] for e in data["deliveries"]["edges"]],
        "total": data["deliveries"]["totalCount"], "page_info": data["deliveries"]["pageInfo"],
        "values": values or {"kind": "DINGTALK", "digestMinutes": "15"}, "errors": errors or {},
        "general": general or [], "done": page.request.query_params.get("done"),
    }, status=status)


async def channels_page(page: Page) -> Response:
    return await _page(page)


def _minutes(raw: str, errors: dict[str, str], page: Page) -> int | None:
    try:
        return int(raw)
    except ValueError:
        errors["digestMinutes"] = page._("请输入整数分钟")
        return None


async def channel_create(page: Page) -> Response:
    values = {name: page.value(name) for name in ("kind", "name", "target", "secret", "digestMinutes")}
    values["includeDetails"] = "1" if page.value("includeDetails") == "1" else ""
    errors: dict[str, str] = {}
    minutes = _minutes(values["digestMinutes"] or "15", errors, page)
    if errors:
        return await _page(page, values, errors, status=422)
    result = await page.gql(CREATE, {"input": {
        "kind": values["kind"], "name": values["name"], "target": values["target"],
        "secret": values["secret"] or None, "digestMinutes": minutes, "includeDetails": bool(values["includeDetails"]),
    }})
    refuse_if_forbidden(result)
    if result.ok:
        return page.redirect("/admin/channels?done=created")
    values["secret"] = ""  # never echoed back into the page
    return await _page(page, values, result.field_errors(FORM_FIELDS), result.general_errors(FORM_FIELDS), 422)


async def channel_action(page: Page, channel_id: str) -> Response:
    """One button per action: test-send, enable/disable, details on/off, delete."""
    action = page.value("action")
    if action == "test":
        result = await page.gql(TEST_SEND, {"id": channel_id})
    elif action == "delete":
        result = await page.gql(DELETE, {"id": channel_id})
    elif action in ("enable", "disable"):
        result = await page.gql(UPDATE, {"id": channel_id, "input": {"enabled": action == "enable"}})
    elif action in ("details-on", "details-off"):
        result = await page.gql(UPDATE, {"id": channel_id, "input": {"includeDetails": action == "details-on"}})
    else:
        return await _page(page, general=[page._("未知的操作")], status=422)
    refuse_if_forbidden(result)
    if result.ok:
        return page.redirect(f"/admin/channels?done={action}")
    return await _page(page, general=[e.message for e in result.errors], status=422)


async def bell(page: Page) -> Response:
    """The header's bell alone: polled by the layout every 30 s so the unread count stays current."""
    unread = check_read(await page.gql(UNREAD))["unreadNotificationCount"]
    current = urlsplit(page.request.headers.get("HX-Current-URL", "")).path.startswith("/notifications")
    response = await page.render("notifications/bell.html", {"unread": unread, "current": current})
    response.headers["Cache-Control"] = "no-store"
    return response
