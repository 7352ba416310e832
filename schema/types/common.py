"""Shared GraphQL pieces: PageInfo, cursors, the context accessor."""

from __future__ import annotations

import base64
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


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        if not text.startswith("o:"):
            raise ValueError
        value = int(text[2:])
        if value < 0:
            raise ValueError
        return value
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed(_m("after 不是有效的游标"), field="after") from None


def page_size(first: int | None) -> int:
    if first is None:
        return 50
    if first < 0 or first > MAX_PAGE:
        raise ValidationFailed(_m("first 须在 0 到 %(max)s 之间", max=MAX_PAGE), field="first")
    return first


def connection(page: Any, node: Any, edge: Any, conn: Any) -> Any:
    """A contract connection (edges, pageInfo, totalCount) from a service's Page."""
    edges = [edge(node=node(model=r), cursor=encode_cursor(page.offset + i + 1)) for i, r in enumerate(page.rows)]
    return conn(edges=edges, total_count=page.total,
                page_info=PageInfo(has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None))
