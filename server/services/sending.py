"""Sending one Delivery: e-mail over SMTP (stdlib smtplib in a worker thread) or a robot's webhook (httpx).

`attempt(delivery_id)` re-reads the row (a SENT or FAILED one is left alone: ARQ delivers at least
once), sends, and records the outcome: SENT with its attempts, or the error and, until MAX_ATTEMPTS,
the delay before the next try (exponential backoff), which the job turns into arq's `Retry(defer=...)`.
A robot that already took ROBOT_PER_MINUTE messages in the last minute is not called: the try is
postponed without counting as an attempt.

E-mail to a person is in their stored language (User.locale); robots and channel mailboxes get Chinese.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
import time
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

import httpx
from tortoise.expressions import F

from server import i18n, outbound
from server.domain import delivery as rules
from server.domain.messages import Message, _m
from server.domain.vocab import ChannelKind, DeliveryKind, DeliveryStatus
from server.models import Alert, Channel, Delivery, DigestItem, Notification, User
from server.services.base import utcnow
from server.settings import get_settings

log = logging.getLogger("qingkuan.sending")

MAX_ATTEMPTS = 5
HTTP_TIMEOUT_S = 10.0
SMTP_TIMEOUT_S = 20.0
RATE_WINDOW = timedelta(minutes=1)
MAX_ERROR_CHARS = 1000


class SendError(Exception):
    """The destination refused or could not be reached: the text is recorded as last_error."""


class Undeliverable(SendError):
    """Nowhere to send it (its channel was deleted): FAILED at once, no retry."""


@dataclass(frozen=True)
class Outcome:
    status: str
    retry_in: float | None = None  # seconds until the next try, when one should follow


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


# ---------------------------------------------------------------- transports


def _smtp_send(url: str, sender: str, mail: Mail) -> None:
    parts = urlsplit(url)
    message = EmailMessage()
    # A header holds one line: a title never carries a line break into the message's headers.
    subject = " ".join(mail.subject.split())
    message["From"], message["To"], message["Subject"] = sender, mail.to, subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(mail.body)
    host = parts.hostname or "localhost"
    if parts.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, parts.port or 465, timeout=SMTP_TIMEOUT_S,
                                                context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(host, parts.port or 25, timeout=SMTP_TIMEOUT_S)
    try:
        client.ehlo()
        if parts.scheme == "smtp" and client.has_extn("starttls"):
            client.starttls(context=ssl.create_default_context())
            client.ehlo()
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(message)
    finally:
        try:
            client.quit()
        except smtplib.SMTPException:
            client.close()


async def send_mail(mail: Mail) -> None:
    settings = get_settings()
    if not settings.smtp_url:
        raise SendError("SMTP_URL is not set")
    try:
        await asyncio.to_thread(_smtp_send, settings.smtp_url, settings.smtp_from, mail)
    except (smtplib.SMTPException, OSError) as exc:
        raise SendError(f"{type(exc).__name__}: {exc}") from exc


async def post_robot(channel: Channel, title: str, markdown: str) -> None:
    timestamp_ms = int(time.time() * 1000)
    if channel.kind == ChannelKind.DINGTALK:
        url = rules.dingtalk_url(channel.target, channel.secret, timestamp_ms)
    elif channel.kind == ChannelKind.WECOM:
        url = rules.wecom_url(channel.target)
    else:
        url = channel.target
    body = rules.robot_body(channel.kind, title, markdown, channel.secret, timestamp_ms)
    try:
        await outbound.check(url)
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_S, follow_redirects=False) as client:
            response = await client.post(url, json=body)
    except (httpx.HTTPError, outbound.DestinationRefused) as exc:
        raise SendError(f"{type(exc).__name__}: {exc}") from exc
    try:
        answer = response.json()
    except ValueError:
        answer = None
    refusal = rules.robot_accepted(channel.kind, response.status_code, answer)
    if refusal is not None:
        raise SendError(refusal)


# ---------------------------------------------------------------- contents


def _link(path: str) -> str:
    return (get_settings().public_url or "http://localhost:8000") + path


async def _digest_alerts(delivery: Delivery) -> list[rules.DigestAlert]:
    alert_ids = await DigestItem.filter(delivery_id=delivery.id).order_by("alert_id").values_list("alert_id", flat=True)
    rows = await Alert.filter(id__in=list(alert_ids)).order_by("id").values("kind", "severity", "message")
    return [rules.DigestAlert(r["kind"], r["severity"], r["message"]) for r in rows]


def _audit_mail(result: dict, locale: str | None) -> tuple[str, str]:
    if result.get("ok"):
        subject: Message = _m("清款审计日志校验通过")
        body = _m("已校验 %(checked)s 条。链头：第 %(id)s 条，哈希 %(hash)s", checked=result.get("checked"),
                  id=result.get("headId"), hash=result.get("headHash"))
    else:
        subject = _m("清款审计日志校验失败")
        detail = i18n.render_stored(result.get("messageData"), result.get("message"), locale)
        body = _m("首个异常条目：第 %(id)s 条（%(kind)s）。%(detail)s", id=result.get("firstBadId"),
                  kind=result.get("kind"), detail=detail)
    return i18n.render(subject, locale), i18n.render(body, locale)


async def _content(delivery: Delivery, channel: Channel | None) -> tuple[str, str]:
    """(title, text): Chinese for channels, the user's language for a person's e-mail."""
    if delivery.kind == DeliveryKind.NOTIFICATION:
        user = await User.get(id=delivery.user_id)  # type: ignore[attr-defined]
        note = await Notification.get(id=delivery.notification_id)  # type: ignore[attr-defined]
        locale = user.locale
        title = i18n.render_stored(note.title_data, note.title, locale)
        body = i18n.render_stored(note.body_data, note.body, locale)
        more = i18n.render(_m("在清款中查看：%(url)s", url=_link("/notifications")), locale)
        return title, f"{body}\n\n{more}\n"
    if delivery.kind == DeliveryKind.AUDIT:
        if channel is None:  # a person's e-mail
            user = await User.get(id=delivery.user_id)  # type: ignore[attr-defined]
            subject, body = _audit_mail(delivery.payload or {}, user.locale)
            return subject, f"{body}\n"
        return rules.audit_text(delivery.payload or {}, _link("/"))
    if delivery.kind == DeliveryKind.DIGEST:
        assert channel is not None
        return rules.digest_text(await _digest_alerts(delivery), _link("/alerts"), channel.include_details)
    title = "清款测试消息"
    return title, f"### {title}\n\n渠道「{channel.name if channel else ''}」配置正确。\n\n[打开清款]({_link('/')})"


async def _send(delivery: Delivery) -> None:
    channel = await Channel.get_or_none(id=delivery.channel_id) if delivery.channel_id else None  # type: ignore[attr-defined]
    if channel is None and not delivery.address:
        raise Undeliverable("the channel was deleted")
    title, text = await _content(delivery, channel)
    if channel is None:
        await send_mail(Mail(delivery.address or "", title, text))
    elif channel.kind == ChannelKind.EMAIL:
        await send_mail(Mail(channel.target, title, text))
    else:
        await post_robot(channel, title, text)


# ---------------------------------------------------------------- one try


async def _robot_busy(delivery: Delivery) -> bool:
    if delivery.channel_id is None:  # type: ignore[attr-defined]
        return False
    channel = await Channel.get_or_none(id=delivery.channel_id)  # type: ignore[attr-defined]
    if channel is None or channel.kind == ChannelKind.EMAIL:
        return False
    recent = await Delivery.filter(channel_id=channel.id, last_attempt_at__gte=utcnow() - RATE_WINDOW).count()
    return recent >= rules.ROBOT_PER_MINUTE


async def attempt(delivery_id: int) -> Outcome:
    delivery = await Delivery.get_or_none(id=delivery_id)
    if delivery is None:
        return Outcome(DeliveryStatus.FAILED)
    if delivery.status != DeliveryStatus.PENDING:
        return Outcome(delivery.status)
    if await _robot_busy(delivery):
        return Outcome(DeliveryStatus.PENDING, retry_in=RATE_WINDOW.total_seconds())
    started = utcnow()
    await Delivery.filter(id=delivery.id).update(last_attempt_at=started)
    try:
        await _send(delivery)
    except Exception as exc:  # noqa: BLE001 - recorded on the row; the job decides whether to retry
        error = str(exc) if isinstance(exc, SendError) else f"{type(exc).__name__}: {exc}"
        attempts = delivery.attempts + 1
        failed = attempts >= MAX_ATTEMPTS or isinstance(exc, Undeliverable)
        await Delivery.filter(id=delivery.id, status=DeliveryStatus.PENDING).update(
            attempts=F("attempts") + 1, last_error=error[:MAX_ERROR_CHARS],
            status=DeliveryStatus.FAILED if failed else DeliveryStatus.PENDING)
        log.warning("delivery %s attempt %d failed: %s", delivery.id, attempts, error)
        if failed:
            return Outcome(DeliveryStatus.FAILED)
        return Outcome(DeliveryStatus.PENDING, retry_in=rules.backoff_seconds(attempts, get_settings().delivery_retry_s))
    await Delivery.filter(id=delivery.id, status=DeliveryStatus.PENDING).update(
        attempts=F("attempts") + 1, status=DeliveryStatus.SENT, sent_at=utcnow(), last_error=None)
    return Outcome(DeliveryStatus.SENT)
