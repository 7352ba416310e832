"""Outgoing webhooks (ADMIN, MANAGE_WEBHOOKS): endpoints, the delivery log, replay."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from schema.types.common import Counted, PageInfo, connection, decode_cursor, page_size, viewer
from server.domain import vocab
from server.domain import webhooks as rules
from server.models import WebhookDelivery as DeliveryModel
from server.models import WebhookEndpoint as EndpointModel
from server.models import WebhookEvent as EventModel
from server.services import webhooks as webhook_service

WebhookEventType = strawberry.enum(
    vocab.WebhookEventType, name="WebhookEventType",
    description="An outgoing webhook's event; the value in the JSON body is the lower-case dotted name "
                "(LOAN_SUBMITTED is loan.submitted).",
)
WebhookDeliveryStatus = strawberry.enum(vocab.WebhookDeliveryStatus, name="WebhookDeliveryStatus")


async def _events(ids: Sequence[Any]) -> list[Any]:
    found = await webhook_service.events_by_id(list(ids))
    return [found.get(str(i)) for i in ids]


async def _endpoints(ids: Sequence[int]) -> list[Any]:
    found = await webhook_service.endpoints_by_id(list(ids))
    return [found.get(i) for i in ids]


@strawberry.type(description="A receiver of outgoing webhooks. Its signing secret is shown masked.")
class WebhookEndpoint:
    model: strawberry.Private[EndpointModel]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.model.id))

    @strawberry.field
    def url(self) -> str:
        return self.model.url

    @strawberry.field(description="The signing secret's first six and last four characters.")
    def secret_masked(self) -> str:
        return rules.mask_secret(self.model.secret)

    @strawberry.field(description="The event types it receives; empty means every type.")
    def events(self) -> list[WebhookEventType]:  # type: ignore[valid-type]
        return [vocab.WebhookEventType(e) for e in (self.model.events or [])]

    @strawberry.field
    def enabled(self) -> bool:
        return self.model.enabled

    @strawberry.field
    def description(self) -> str:
        return self.model.description

    @strawberry.field
    def created_at(self) -> datetime.datetime:
        return self.model.created_at


@strawberry.type(description="A created endpoint (or a rotated secret) with its signing secret, shown this once.")
class WebhookEndpointSecret:
    endpoint: WebhookEndpoint
    secret: str | None


@strawberry.type(description="One announced change, as the JSON body carries it.")
class WebhookEvent:
    model: strawberry.Private[EventModel]

    @strawberry.field(description="The UUID receivers de-duplicate by.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.model.id))

    @strawberry.field
    def type(self) -> WebhookEventType:  # type: ignore[valid-type]
        return vocab.WebhookEventType(self.model.type)

    @strawberry.field
    def payload(self) -> JSON:
        return self.model.payload

    @strawberry.field
    def created_at(self) -> datetime.datetime:
        return self.model.created_at


@strawberry.type(description="One event to one endpoint: its attempts and what the last one got back.")
class WebhookDelivery:
    model: strawberry.Private[DeliveryModel]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.model.id))

    @strawberry.field
    async def endpoint(self, info: Info) -> WebhookEndpoint | None:
        row = await info.context.loader("webhook_endpoints", _endpoints).load(self.model.endpoint_id)  # type: ignore[attr-defined]
        return WebhookEndpoint(model=row) if row else None

    @strawberry.field
    async def event(self, info: Info) -> WebhookEvent | None:
        row = await info.context.loader("webhook_events", _events).load(str(self.model.event_id))  # type: ignore[attr-defined]
        return WebhookEvent(model=row) if row else None

    @strawberry.field
    def status(self) -> WebhookDeliveryStatus:  # type: ignore[valid-type]
        return vocab.WebhookDeliveryStatus(self.model.status)

    @strawberry.field
    def attempts(self) -> int:
        return self.model.attempts

    @strawberry.field
    def last_status_code(self) -> int | None:
        return self.model.last_status_code

    @strawberry.field
    def last_error(self) -> str | None:
        return self.model.last_error

    @strawberry.field
    def last_attempt_at(self) -> datetime.datetime | None:
        return self.model.last_attempt_at

    @strawberry.field
    def next_attempt_at(self) -> datetime.datetime | None:
        return self.model.next_attempt_at

    @strawberry.field
    def delivered_at(self) -> datetime.datetime | None:
        return self.model.delivered_at

    @strawberry.field(description="The delivery this one replays, when it is a replay.")
    def replay_of_id(self) -> strawberry.ID | None:
        value = self.model.replay_of_id  # type: ignore[attr-defined]
        return strawberry.ID(str(value)) if value is not None else None

    @strawberry.field
    def created_at(self) -> datetime.datetime:
        return self.model.created_at


@strawberry.type
class WebhookDeliveryEdge:
    node: WebhookDelivery
    cursor: str


@strawberry.type
class WebhookDeliveryConnection(Counted):
    edges: list[WebhookDeliveryEdge]
    page_info: PageInfo


@strawberry.input
class WebhookEndpointInput:
    url: str
    events: list[WebhookEventType] | None = None  # type: ignore[valid-type]
    description: str | None = None
    enabled: bool | None = True


@strawberry.type
class WebhookQuery:
    @strawberry.field(description="Every webhook endpoint (ADMIN).")
    async def webhook_endpoints(self, info: Info) -> list[WebhookEndpoint]:
        return [WebhookEndpoint(model=r) for r in await webhook_service.list_endpoints(viewer(info))]

    @strawberry.field(description="The delivery log, newest first (ADMIN).")
    async def webhook_deliveries(
        self, info: Info, endpoint_id: strawberry.ID | None = None,
        status: WebhookDeliveryStatus | None = None,  # type: ignore[valid-type]
        first: int | None = 50, after: str | None = None,
    ) -> WebhookDeliveryConnection:
        position = decode_cursor(after)
        page = await webhook_service.list_deliveries(viewer(info), page_size(first), position,
                                                     endpoint_id=endpoint_id, status=status)
        return connection(page, WebhookDelivery, WebhookDeliveryEdge, WebhookDeliveryConnection)


def _events_value(events: Any) -> list[str] | None:
    return None if events is None else [vocab.WebhookEventType(e).value for e in events]


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(description="Add a webhook endpoint (ADMIN; audited). The signing secret is returned "
                                     "this once.")
    async def create_webhook_endpoint(self, info: Info, input: WebhookEndpointInput) -> WebhookEndpointSecret:
        row, secret = await webhook_service.create_endpoint(
            viewer(info), input.url, _events_value(input.events), input.description,
            input.enabled is not False)
        return WebhookEndpointSecret(endpoint=WebhookEndpoint(model=row), secret=secret)

    @strawberry.mutation(description="Change an endpoint (ADMIN; audited). rotateSecret returns a new secret "
                                     "this once.")
    async def update_webhook_endpoint(
        self, info: Info, id: strawberry.ID, url: str | None = None,
        events: list[WebhookEventType] | None = None,  # type: ignore[valid-type]
        enabled: bool | None = None, description: str | None = None, rotate_secret: bool | None = False,
    ) -> WebhookEndpointSecret:
        row, secret = await webhook_service.update_endpoint(
            viewer(info), id, url=url, events=_events_value(events), enabled=enabled, description=description,
            rotate_secret=bool(rotate_secret))
        return WebhookEndpointSecret(endpoint=WebhookEndpoint(model=row), secret=secret)

    @strawberry.mutation(description="Send a delivery's event again to its endpoint, as a new delivery (ADMIN).")
    async def replay_webhook_delivery(self, info: Info, id: strawberry.ID) -> WebhookDelivery:
        return WebhookDelivery(model=await webhook_service.replay(viewer(info), id))
