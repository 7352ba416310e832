"""The webhook settings page: endpoints, their secrets (shown once), the delivery log and replay (ADMIN)."""

from __future__ import annotations

from starlette.responses import Response

from server.domain import vocab
from server.web.core import Page, check_read, refuse_if_forbidden

PAGE = """
query($after: String) {
  webhookEndpoints { id url secretMasked events enabled description createdAt }
  webhookDeliveries(first: 50, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id status attempts lastStatusCode lastError lastAttemptAt nextAttemptAt deliveredAt
                   replayOfId createdAt endpoint { id url } event { id type createdAt } } }
  }
}
"""
CREATE = """
mutation($input: WebhookEndpointInput!) {
  createWebhookEndpoint(input: $input) { secret endpoint { id } }
}
"""
UPDATE = """
mutation($id: ID!, $enabled: Boolean, $rotate: Boolean) {
  updateWebhookEndpoint(id: $id, enabled: $enabled, rotateSecret: $rotate) { secret endpoint { id } }
}
"""
REPLAY = "mutation($id: ID!) { replayWebhookDelivery(id: $id) { id } }"
EVENT_NAMES = [t.name for t in vocab.WebhookEventType]


async def _page(page: Page, *, secret: str | None = None, errors: list[str] | None = None,
                status: int = 200) -> Response:
    data = check_read(await page.gql(PAGE, {"after": page.request.query_params.get("after") or None}))
    return await page.render("admin/webhooks.html", {
        "endpoints": data["webhookEndpoints"], "deliveries": data["webhookDeliveries"], "secret": secret,
        "errors": errors or [], "event_names": EVENT_NAMES,
        "event_values": {t.name: t.value for t in vocab.WebhookEventType},
        "status_labels": vocab.WEBHOOK_DELIVERY_LABELS,
    }, status=status)


async def webhooks_page(page: Page) -> Response:
    return await _page(page)


async def webhook_create(page: Page) -> Response:
    assert page.form is not None
    events = [e for e in page.form.getlist("events") if isinstance(e, str) and e in EVENT_NAMES]
    result = await page.gql(CREATE, {"input": {"url": page.value("url"), "events": events,
                                               "description": page.value("description") or None}})
    refuse_if_forbidden(result)
    if not result.ok:
        return await _page(page, errors=[e.message for e in result.errors], status=422)
    return await _page(page, secret=result.data["createWebhookEndpoint"]["secret"])


async def webhook_update(page: Page, endpoint_id: str) -> Response:
    action = page.value("action")
    variables = {"id": endpoint_id, "enabled": None, "rotate": action == "rotate"}
    if action in ("enable", "disable"):
        variables["enabled"] = action == "enable"
    result = await page.gql(UPDATE, variables)
    refuse_if_forbidden(result)
    if not result.ok:
        return await _page(page, errors=[e.message for e in result.errors], status=422)
    secret = result.data["updateWebhookEndpoint"]["secret"]
    return await _page(page, secret=secret) if secret else page.redirect("/admin/webhooks")


async def delivery_replay(page: Page, delivery_id: str) -> Response:
    result = await page.gql(REPLAY, {"id": delivery_id})
    refuse_if_forbidden(result)
    if not result.ok:
        return await _page(page, errors=[e.message for e in result.errors], status=422)
    return page.redirect("/admin/webhooks")
