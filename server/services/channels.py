"""Channels (a mailbox, DingTalk / WeCom / Feishu robots) and the delivery records: ADMIN only (MANAGE_CHANNELS).

A channel's target URL and signing secret stay server-side: the audit log and every reader get them
masked (server/domain/delivery.py mask_target / mask_secret). The records themselves are written by
server/services/delivery.py (collecting) and server/services/sending.py (sending).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from server import outbound
from server.domain import delivery as rules
from server.domain import duties
from server.domain import validation as V
from server.domain.errors import NotFound, ValidationFailed
from server.domain.messages import _m
from server.domain.vocab import ChannelKind, DeliveryKind, DeliveryStatus
from server.models import Alert, Channel, Delivery
from server.services import audit
from server.services.base import Page, Viewer, after_commit, atomic, paginate, parse_id, require_login, utcnow

KINDS = tuple(ChannelKind)
STATUSES = tuple(DeliveryStatus)
MIN_DIGEST_MINUTES, MAX_DIGEST_MINUTES = 1, 1440
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# WeCom keys are UUIDs; accept any plain token (letters, digits, dashes).
KEY_RE = re.compile(r"^[A-Za-z0-9_-]{8,200}$")


@dataclass
class ChannelInput:
    """None leaves a field unchanged on update; secret "" removes the secret."""

    kind: str | None = None
    name: str | None = None
    target: str | None = None
    secret: str | None = None
    enabled: bool | None = None
    digest_minutes: int | None = None
    include_details: bool | None = None


def _require(viewer: Viewer) -> None:
    require_login(viewer)
    duties.require(viewer.roles, duties.MANAGE_CHANNELS)


def _check_target(kind: str, target: str) -> str:
    if kind == ChannelKind.EMAIL:
        if not EMAIL_RE.match(target):
            raise ValidationFailed(_m("请输入有效的电子邮件地址"), field="target")
        return target
    if kind == ChannelKind.WECOM and KEY_RE.match(target):
        return target
    if not target.startswith(("https://", "http://")) or any(c.isspace() for c in target):
        raise ValidationFailed(_m("请输入以 HTTPS 开头的机器人地址"), field="target")
    if outbound.saved_refusal(target):
        raise ValidationFailed(_m("该地址指向本机或内部网络，不能作为接收地址"), field="target")
    return target


def snapshot(channel: Channel) -> dict[str, Any]:
    """What the audit log keeps of a channel: never the secret, the target masked."""
    return {
        "kind": channel.kind, "name": channel.name, "target": rules.mask_target(channel.kind, channel.target),
        "secretSet": bool(channel.secret), "enabled": channel.enabled, "digestMinutes": channel.digest_minutes,
        "includeDetails": channel.include_details,
    }


def _apply(channel: Channel, data: ChannelInput) -> None:
    if data.name is not None:
        channel.name = V.required_text(data.name, "name", V.NAME)
    if data.target is not None:
        channel.target = _check_target(channel.kind, V.required_text(data.target, "target", 500))
    if data.secret is not None:
        channel.secret = V.clean_text(data.secret, "secret", 200)
    if data.enabled is not None:
        channel.enabled = bool(data.enabled)
    if data.digest_minutes is not None:
        if not MIN_DIGEST_MINUTES <= data.digest_minutes <= MAX_DIGEST_MINUTES:
            raise ValidationFailed(_m("汇总间隔须在 %(min)s 到 %(max)s 分钟之间", min=MIN_DIGEST_MINUTES,
                                      max=MAX_DIGEST_MINUTES), field="digestMinutes")
        channel.digest_minutes = data.digest_minutes
    if data.include_details is not None:
        channel.include_details = bool(data.include_details)


async def list_channels(viewer: Viewer) -> list[Channel]:
    _require(viewer)
    return await Channel.all().order_by("id")


async def get_channel(viewer: Viewer, channel_id: Any) -> Channel:
    _require(viewer)
    channel = await Channel.filter(id=parse_id(channel_id, "channel")).first()
    if channel is None:
        raise NotFound(_m("渠道 %(id)s 不存在", id=channel_id))
    return channel


async def create_channel(viewer: Viewer, data: ChannelInput) -> Channel:
    _require(viewer)
    if data.kind not in KINDS:
        raise ValidationFailed(_m("未知的渠道类型 %(kind)s", kind=data.kind), field="kind")
    if data.name is None or data.target is None:
        raise ValidationFailed(_m("名称和地址不能为空"), field="name" if data.name is None else "target")
    now = utcnow()
    channel = Channel(kind=data.kind, created_at=now, updated_at=now, created_by_id=viewer.user_id,
                      updated_by_id=viewer.user_id, target="", name="")
    _apply(channel, data)
    async with atomic():
        # A new channel carries the alerts raised from now on, not the history.
        last_alert = await Alert.all().order_by("-id").first()
        channel.start_alert_id = last_alert.id if last_alert else 0
        await channel.save()
        await audit.record(viewer, "channel.create", "channel", channel.id, None, snapshot(channel))
    return channel


async def update_channel(viewer: Viewer, channel_id: Any, data: ChannelInput) -> Channel:
    _require(viewer)
    if data.kind is not None:
        raise ValidationFailed(_m("渠道类型不能修改"), field="kind")
    async with atomic():
        channel = await get_channel(viewer, channel_id)
        before = snapshot(channel)
        secret_before = channel.secret
        _apply(channel, data)
        after = snapshot(channel)
        if after != before or channel.secret != secret_before:
            channel.updated_at, channel.updated_by_id = utcnow(), viewer.user_id  # type: ignore[attr-defined]
            await channel.save()
            # A replaced secret shows as a change even when both are "set".
            if channel.secret != secret_before:
                after = {**after, "secretChanged": True}
            await audit.record(viewer, "channel.update", "channel", channel.id, before, after)
    return channel


async def delete_channel(viewer: Viewer, channel_id: Any) -> bool:
    """Its delivery records stay (without the channel); its waiting digest items go."""
    _require(viewer)
    async with atomic():
        channel = await get_channel(viewer, channel_id)
        before, cid = snapshot(channel), channel.id
        await channel.delete()
        await audit.record(viewer, "channel.delete", "channel", cid, before, None)
    return True


async def test_send(viewer: Viewer, channel_id: Any) -> Delivery:
    """A test message to the channel now (through the same queue, retries and record as every delivery)."""
    from server.services import delivery as delivery_service

    _require(viewer)
    async with atomic():
        channel = await get_channel(viewer, channel_id)
        row = await Delivery.create(kind=DeliveryKind.TEST, dedupe_key=f"t:{channel.id}:{uuid.uuid4().hex}",
                                    channel=channel, status=DeliveryStatus.PENDING, created_at=utcnow())
        await audit.record(viewer, "channel.test", "channel", channel.id, None, {"deliveryId": row.id})

        async def _enqueue() -> None:
            await delivery_service.enqueue_pending([row.id])

        after_commit(_enqueue)
    return row


async def list_deliveries(viewer: Viewer, status: str | None = None, channel_id: Any = None, first: int = 50,
                          after: list[Any] | None = None) -> Page:
    _require(viewer)
    qs = Delivery.all()
    if status is not None:
        if status not in STATUSES:
            raise ValidationFailed(_m("未知的发送状态 %(status)s", status=status), field="status")
        qs = qs.filter(status=status)
    if channel_id is not None:
        qs = qs.filter(channel_id=parse_id(channel_id, "channel"))
    return await paginate(qs, first, after)


async def channels_by_id(ids: list[int]) -> list[Channel | None]:
    """Batch reader for the delivery list (one statement for a page)."""
    found = {c.id: c for c in await Channel.filter(id__in=list(set(ids)))}
    return [found.get(i) for i in ids]
