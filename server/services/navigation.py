"""What a viewer may open and do, for the pages to present: page keys and held duties.

Computed from `server.domain.pages` (itself from the duties matrix), so a nav item, a page gate and
a button follow the same rule the services enforce. Exposed in the schema as `me { pages duties }`.
"""

from __future__ import annotations

from server.domain import pages
from server.domain.errors import Forbidden
from server.domain.messages import _m
from server.services.base import Viewer


def navigation(viewer: Viewer) -> frozenset[pages.PageKey]:
    """The page keys the viewer may open (nothing when not signed in)."""
    if not viewer.authenticated:
        return frozenset()
    return pages.pages_for(viewer.roles)


def duties_of(viewer: Viewer) -> frozenset[str]:
    """The actions of the duties matrix the viewer's roles hold."""
    if not viewer.authenticated:
        return frozenset()
    return pages.duties_for(viewer.roles)


def may_open(viewer: Viewer, key: pages.PageKey) -> bool:
    return key in navigation(viewer)


def require_page(viewer: Viewer, key: pages.PageKey) -> None:
    if not may_open(viewer, key):
        raise Forbidden(_m("无权打开该页面"))
