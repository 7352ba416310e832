"""Shared GraphQL pieces: PageInfo, cursors, the context accessor."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import strawberry
from strawberry.types import Info

from schema.context import Context
from server import i18n
from server.domain.errors import ValidationFailed
from server.domain.messages import _m
from server.services.base import Viewer

MAX_PAGE = 200


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


def ctx(info: Info) -> Context:
    return info.context


def viewer(info: Info) -> Viewer:
    return info.context.viewer


def tr(info: Info, message: Any) -> str | None:
    """A Message (or None, or a plain string shown as is) in the viewer's language."""
    if message is None:
        return None
    return i18n.render(message, viewer(info).locale)


def tr_stored(info: Info, data: dict | None, text: str | None) -> str | None:
    """A stored message (JSON column) in the viewer's language; older rows keep their text."""
    if not data:
        return tr_text(info, text)
    return i18n.render_stored(data, text, viewer(info).locale)


def tr_text(info: Info, text: str | None) -> str | None:
    """A fixed system text stored as its zh-CN message id (a step's "无直属上级，跳过此步"): translated when the
    catalog knows it, else (a person's own words) shown as is."""
    if not text:
        return text
    return i18n.translations(viewer(info).locale).gettext(text)


def encode_cursor(keys: list[Any]) -> str:
    """Opaque to clients: the row's sort key and id, so the next page starts right after it."""
    text = "k:" + json.dumps(keys, separators=(",", ":"), ensure_ascii=True)
    return base64.urlsafe_b64encode(text.encode()).decode()


def decode_cursor(cursor: str | None) -> list[Any] | None:
    """The position a cursor names (checked against the list's sort key by the service's paginate)."""
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        if not text.startswith("k:"):
            raise ValueError
        keys = json.loads(text[2:])
        if not isinstance(keys, list) or not keys or not all(isinstance(k, (str, int)) for k in keys):
            raise ValueError
        return keys
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise ValidationFailed(_m("after 不是有效的游标"), field="after") from None


def page_size(first: int | None) -> int:
    if first is None:
        return 50
    if first < 0 or first > MAX_PAGE:
        raise ValidationFailed(_m("first 须在 0 到 %(max)s 之间", max=MAX_PAGE), field="first")
    return first


@strawberry.type
class Counted:
    """Base of every connection: totalCount runs its COUNT only when a client selects it."""

    page: strawberry.Private[Any]

    @strawberry.field
    async def total_count(self) -> int:
        return await self.page.count()


def connection(page: Any, node: Any, edge: Any, conn: Any) -> Any:
    """A contract connection (edges, pageInfo, totalCount on demand) from a service's Page."""
    edges = [edge(node=node(model=r), cursor=encode_cursor(page.keys(r))) for r in page.rows]
    return conn(edges=edges, page=page,
                page_info=PageInfo(has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None))
