"""Delivery channels and records (ADMIN, MANAGE_CHANNELS): channels with masked secrets, test-send, deliveries."""

from __future__ import annotations

import datetime

import strawberry
from strawberry.types import Info

from schema.types.common import Counted, PageInfo, connection, decode_cursor, page_size, viewer
from server.domain import delivery as rules
from server.domain import vocab
from server.models import Channel as ChannelModel
from server.models import Delivery as DeliveryModel
from server.services import channels as channel_service

ChannelKind = strawberry.enum(vocab.ChannelKind, name="ChannelKind")
DeliveryKind = strawberry.enum(vocab.DeliveryKind, name="DeliveryKind")
DeliveryStatus = strawberry.enum(vocab.DeliveryStatus, name="DeliveryStatus")


@strawberry.type(description="Where alerts and notifications go: a mailbox or a chat robot. Its webhook URL and "
                             "signing secret are stored server-side and only ever shown masked.")
class Channel:
    model: strawberry.Private[ChannelModel]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.model.id))

    @strawberry.field
    def kind(self) -> ChannelKind:
        return ChannelKind(self.model.kind)

    @strawberry.field
    def name(self) -> str:
        return self.model.name

    @strawberry.field(description="The mailbox, or the webhook URL with its token masked.")
    def target(self) -> str:
        return rules.mask_target(self.model.kind, self.model.target)

    @strawberry.field(description="The signing secret's last 4 characters behind a mask, or null when none is set.")
    def secret(self) -> str | None:
        return rules.mask_secret(self.model.secret)

    @strawberry.field
    def enabled(self) -> bool:
        return self.model.enabled

    @strawberry.field(description="Alerts are batched into one digest per this many minutes.")
    def digest_minutes(self) -> int:
        return self.model.digest_minutes

    @strawberry.field(description="Whether digests name employees and amounts (off: counts per kind and a link).")
    def include_details(self) -> bool:
        return self.model.include_details

    @strawberry.field
    def created_at(self) -> datetime.datetime:
        return self.model.created_at

    @strawberry.field
    def updated_at(self) -> datetime.datetime:
        return self.model.updated_at


@strawberry.input
class ChannelInput:
    kind: ChannelKind
    name: str
    target: str = strawberry.field(description="DingTalk/Feishu: the webhook URL; WeCom: the URL or its key; "
                                               "EMAIL: the mailbox.")
    secret: str | None = strawberry.field(default=None, description="DingTalk 加签 / Feishu signing secret.")
    enabled: bool = True
    digest_minutes: int = 15
    include_details: bool = False


@strawberry.input(description="Only the fields given change; secret \"\" removes the secret.")
class ChannelUpdateInput:
    name: str | None = None
    target: str | None = None
    secret: str | None = None
    enabled: bool | None = None
    digest_minutes: int | None = None
    include_details: bool | None = None


@strawberry.type(description="One message sent (or being sent) to a channel or by e-mail to a user.")
class Delivery:
    model: strawberry.Private[DeliveryModel]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.model.id))

    @strawberry.field
    def kind(self) -> DeliveryKind:
        return DeliveryKind(self.model.kind)

    @strawberry.field
    async def channel(self, info: Info) -> Channel | None:
        if self.model.channel_id is None:  # type: ignore[attr-defined]
            return None
        row = await info.context.loader("delivery_channels", channel_service.channels_by_id).load(
            self.model.channel_id)  # type: ignore[attr-defined]
        return Channel(model=row) if row else None

    @strawberry.field(description="The e-mail address, for an e-mail to a user.")
    def address(self) -> str | None:
        return self.model.address

    @strawberry.field
    def status(self) -> DeliveryStatus:
        return DeliveryStatus(self.model.status)

    @strawberry.field
    def attempts(self) -> int:
        return self.model.attempts

    @strawberry.field
    def last_error(self) -> str | None:
        return self.model.last_error

    @strawberry.field
    def created_at(self) -> datetime.datetime:
        return self.model.created_at

    @strawberry.field
    def sent_at(self) -> datetime.datetime | None:
        return self.model.sent_at


@strawberry.type
class DeliveryEdge:
    node: Delivery
    cursor: str


@strawberry.type
class DeliveryConnection(Counted):
    edges: list[DeliveryEdge]
    page_info: PageInfo


def _input(data: ChannelInput | ChannelUpdateInput) -> channel_service.ChannelInput:
    kind = data.kind.value if isinstance(data, ChannelInput) else None
    return channel_service.ChannelInput(
        kind=kind, name=data.name, target=data.target, secret=data.secret, enabled=data.enabled,
        digest_minutes=data.digest_minutes, include_details=data.include_details,
    )


@strawberry.type
class DeliveryQuery:
    @strawberry.field(description="ADMIN: every delivery channel, secrets masked.")
    async def channels(self, info: Info) -> list[Channel]:
        return [Channel(model=c) for c in await channel_service.list_channels(viewer(info))]

    @strawberry.field(description="ADMIN: deliveries, newest first.")
    async def deliveries(
        self, info: Info, status: DeliveryStatus | None = None, channel_id: strawberry.ID | None = None,
        first: int | None = 50, after: str | None = None,
    ) -> DeliveryConnection:
        page = await channel_service.list_deliveries(
            viewer(info), status.value if status else None, channel_id, page_size(first), decode_cursor(after))
        return connection(page, Delivery, DeliveryEdge, DeliveryConnection)


@strawberry.type
class DeliveryMutation:
    @strawberry.mutation(description="ADMIN: add a channel (audited, secret never logged).")
    async def create_channel(self, info: Info, input: ChannelInput) -> Channel:
        return Channel(model=await channel_service.create_channel(viewer(info), _input(input)))

    @strawberry.mutation(description="ADMIN: change a channel (audited).")
    async def update_channel(self, info: Info, id: strawberry.ID, input: ChannelUpdateInput) -> Channel:
        return Channel(model=await channel_service.update_channel(viewer(info), id, _input(input)))

    @strawberry.mutation(description="ADMIN: remove a channel; its delivery records stay (audited).")
    async def delete_channel(self, info: Info, id: strawberry.ID) -> bool:
        return await channel_service.delete_channel(viewer(info), id)

    @strawberry.mutation(description="ADMIN: send a test message to a channel now (a recorded delivery).")
    async def test_send_channel(self, info: Info, id: strawberry.ID) -> Delivery:
        return Delivery(model=await channel_service.test_send(viewer(info), id))
