"""Delivery rules as pure functions: robot signatures, message shapes and sizes, digests, masking, backoff.

The robots' algorithms (research/wave2-facts.md §1):
- DingTalk 加签: sign = urlencode(base64(HmacSHA256(key=secret, msg=f"{timestamp_ms}\\n{secret}"))),
  `timestamp` and `sign` in the URL; markdown message; ~20 messages a minute.
- WeCom group robot: no signature (the key in the URL is the credential); markdown content ≤ 4,096 bytes.
- Feishu custom bot: the HMAC *key* is f"{timestamp_s}\\n{secret}" over an empty message, base64;
  `timestamp` and `sign` in the JSON body.
Robot messages are Chinese: they post into group chats, whatever each reader's language.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote_plus, urlencode, urlsplit, urlunsplit

from server.domain.vocab import ALERT_KIND_LABELS, SEVERITY_LABELS, ChannelKind

WECOM_MARKDOWN_MAX_BYTES = 4096
DINGTALK_BODY_MAX_BYTES = 18000  # DingTalk refuses bodies over ~20,000 bytes (errcode 460101)
FEISHU_TEXT_MAX_BYTES = 18000
ROBOT_PER_MINUTE = 20
WECOM_SEND_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
DETAILS_MAX = 20  # alerts listed by name in one digest; the rest are counted
MASK = "••••"


# ---------------------------------------------------------------- signatures


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    string_to_sign = f"{timestamp_ms}\n{secret}"
    digest = hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest))


def dingtalk_url(url: str, secret: str | None, timestamp_ms: int) -> str:
    """The webhook URL with `timestamp` and `sign` appended (unchanged without a secret)."""
    if not secret:
        return url
    sign = dingtalk_sign(secret, timestamp_ms)
    return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp_ms}&sign={sign}"


def feishu_sign(secret: str, timestamp_s: int) -> str:
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


def wecom_url(target: str) -> str:
    """WeCom's target is the whole webhook URL or only its key."""
    if target.startswith(("http://", "https://")):
        return target
    return f"{WECOM_SEND_URL}?{urlencode({'key': target})}"


# ---------------------------------------------------------------- sizes


def truncate_utf8(text: str, max_bytes: int, ellipsis: str = "…") -> str:
    """`text` cut to at most `max_bytes` UTF-8 bytes at a character boundary, with `ellipsis` when cut."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    room = max_bytes - len(ellipsis.encode("utf-8"))
    if room <= 0:
        return data[:max_bytes].decode("utf-8", "ignore")
    return data[:room].decode("utf-8", "ignore") + ellipsis


# ---------------------------------------------------------------- message bodies


def robot_body(kind: str, title: str, markdown: str, secret: str | None, timestamp_ms: int) -> dict:
    """The JSON body one robot expects for a markdown message `title` / `markdown`."""
    if kind == ChannelKind.DINGTALK:
        text = truncate_utf8(markdown, DINGTALK_BODY_MAX_BYTES)
        return {"msgtype": "markdown", "markdown": {"title": title, "text": text}}
    if kind == ChannelKind.WECOM:
        return {"msgtype": "markdown", "markdown": {"content": truncate_utf8(markdown, WECOM_MARKDOWN_MAX_BYTES)}}
    if kind == ChannelKind.FEISHU:
        body: dict = {"msg_type": "interactive", "card": {
            "header": {"title": {"tag": "plain_text", "content": title}},
            "elements": [{"tag": "markdown", "content": truncate_utf8(markdown, FEISHU_TEXT_MAX_BYTES)}],
        }}
        if secret:
            timestamp_s = timestamp_ms // 1000
            body = {"timestamp": str(timestamp_s), "sign": feishu_sign(secret, timestamp_s), **body}
        return body
    raise ValueError(f"not a robot: {kind}")


def robot_accepted(kind: str, status_code: int, answer: Mapping | None) -> str | None:
    """None when the robot took the message, else why not (its error code and message)."""
    if status_code >= 300:
        return f"HTTP {status_code}"
    if not isinstance(answer, Mapping):
        return "not a JSON answer"
    if kind == ChannelKind.FEISHU:
        code = answer.get("code", answer.get("StatusCode", 0))
        return None if code in (0, None) else f"{code} {answer.get('msg', '')}".strip()
    code = answer.get("errcode", 0)
    return None if code in (0, None) else f"{code} {answer.get('errmsg', '')}".strip()


# ---------------------------------------------------------------- digests


@dataclass(frozen=True)
class DigestAlert:
    kind: str
    severity: str
    message: str  # zh-CN: names and amounts, shown only with include_details


def digest_text(alerts: Iterable[DigestAlert], link: str, include_details: bool) -> tuple[str, str]:
    """(title, markdown) in Chinese: counts per kind and severity, a link into Qingkuan, and each alert's
    message only when the channel allows details (names and amounts are not for every group chat)."""
    items = list(alerts)
    counts: dict[str, int] = {}
    critical = 0
    for alert in items:
        counts[alert.kind] = counts.get(alert.kind, 0) + 1
        critical += alert.severity == "CRITICAL"
    title = f"清款风险预警汇总：{len(items)} 条"
    lines = [f"### {title}", ""]
    if critical:
        lines.append(f"其中{SEVERITY_LABELS['CRITICAL']} {critical} 条")
        lines.append("")
    for kind in sorted(counts, key=lambda k: (-counts[k], k)):
        lines.append(f"- {ALERT_KIND_LABELS.get(kind, kind)}：{counts[kind]} 条")
    if include_details:
        lines.append("")
        for alert in items[:DETAILS_MAX]:
            label = SEVERITY_LABELS.get(alert.severity, alert.severity)
            lines.append(f"> 【{label}】{alert.message}")
            lines.append("")
        if len(items) > DETAILS_MAX:
            lines.append(f"另有 {len(items) - DETAILS_MAX} 条未列出")
    lines += ["", f"[在清款中查看]({link})"]
    return title, "\n".join(lines)


def audit_text(result: Mapping, link: str) -> tuple[str, str]:
    """(title, markdown) in Chinese: the verification's outcome and the chain's head (a copy kept outside)."""
    if result.get("ok"):
        title = "清款审计日志校验通过"
        lines = [f"### {title}", "", f"- 已校验：{result.get('checked')} 条",
                 f"- 链头编号：{result.get('headId')}", f"- 链头哈希：`{result.get('headHash')}`"]
    else:
        title = "清款审计日志校验失败"
        lines = [f"### {title}", "", f"- 首个异常条目：{result.get('firstBadId')}",
                 f"- 类型：{result.get('kind')}", f"- 说明：{result.get('message')}"]
    lines += ["", f"[在清款中查看]({link})"]
    return title, "\n".join(lines)


# ---------------------------------------------------------------- masking and checks


def mask_secret(value: str | None) -> str | None:
    """A secret as the page may show it: its last 4 characters when it is long, else nothing of it."""
    if not value:
        return None
    return MASK + value[-4:] if len(value) >= 12 else MASK


def mask_target(kind: str, target: str) -> str:
    """A webhook URL with its token (access_token, key, the Feishu hook id) masked; a mailbox as it is."""
    if kind == ChannelKind.EMAIL:
        return target
    if not target.startswith(("http://", "https://")):
        return mask_secret(target) or ""
    parts = urlsplit(target)
    # Shown, never sent: the mask stays readable rather than percent-encoded.
    query = "&".join(f"{k}={mask_secret(v) or ''}" for k, v in parse_qsl(parts.query, keep_blank_values=True))
    path = parts.path
    if kind == ChannelKind.FEISHU and "/hook/" in path:
        head, _, hook = path.rpartition("/")
        path = f"{head}/{mask_secret(hook) or ''}"
    return urlunsplit((parts.scheme, parts.netloc, path, query, ""))


def backoff_seconds(attempt: int, base: float) -> float:
    """Exponential backoff after the `attempt`-th failed try (1, 2, 3…): base, 2·base, 4·base…, capped at 1 h."""
    return min(base * 2 ** (max(attempt, 1) - 1), 3600.0)
