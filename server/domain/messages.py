"""What a person reads, as data: a message id (the zh-CN source text with named placeholders) and
its parameters. Rendered in the reader's language by `server.i18n.render`; the English text is in
locales/en/LC_MESSAGES/messages.po.

`_m(msgid, **params)` is the marker babel's extractor recognises (`-k _m`), so every message id in
server/, schema/ and jobs/ can be collected and checked (tests/test_messages.py).

Parameter values are plain data: str, int, Decimal (formatted for the locale by the renderer),
a nested Message, or a list of Messages (joined in the reader's language).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Message:
    msgid: str
    params: dict[str, Any] = field(default_factory=dict)
    # A text that is not a message id (rows written before message ids, other lanes' new strings):
    # shown as it is in every language.
    literal: bool = False

    def to_json(self) -> dict[str, Any]:
        """For a JSON column: {"id": ..., "params": {...}} (Decimals as strings, tagged)."""
        return {"id": self.msgid, "params": {k: _dump(v) for k, v in self.params.items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Message:
        return cls(str(data["id"]), {k: _load(v) for k, v in (data.get("params") or {}).items()})

    def __str__(self) -> str:  # logs, and code that still expects a string: the zh-CN text
        from server.i18n import render  # the renderer lives above the domain

        return render(self, "zh_CN")


def _m(msgid: str, **params: Any) -> Message:
    return Message(msgid, params)


def text(value: str | Message) -> Message:
    """A Message for whatever a caller passed: a plain string is shown as it is."""
    return value if isinstance(value, Message) else Message(str(value), literal=True)


def _dump(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, Message):
        return {"$message": value.to_json()}
    if isinstance(value, (list, tuple)):
        return [_dump(v) for v in value]
    return value


def _load(value: Any) -> Any:
    if isinstance(value, dict) and "$decimal" in value:
        return Decimal(value["$decimal"])
    if isinstance(value, dict) and "$message" in value:
        return Message.from_json(value["$message"])
    if isinstance(value, list):
        return [_load(v) for v in value]
    return value


def plain(value: Any) -> Any:
    """A parameter as JSON for API clients (extensions.params): Decimals as "1200.00" strings."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Message):
        return {"messageId": value.msgid, "params": {k: plain(v) for k, v in value.params.items()}}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value
