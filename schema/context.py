"""The per-request context (viewer, DataLoaders) for HTTP and in-process use alike."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from starlette.requests import Request
from strawberry.dataloader import DataLoader

from server import auth, i18n
from server.services import sessions as session_service
from server.services.base import ANONYMOUS, Viewer


@dataclass
class Context:
    viewer: Viewer
    request: Request | None = None
    response: Any = None
    _loaders: dict[str, DataLoader] = field(default_factory=dict)

    def loader(self, name: str, batch: Callable[[Sequence[Any]], Awaitable[Sequence[Any]]]) -> DataLoader:
        """One DataLoader per name per request: a page of objects costs one query per relation."""
        existing = self._loaders.get(name)
        if existing is None:
            existing = self._loaders[name] = DataLoader(load_fn=batch)  # type: ignore[arg-type]
        return existing


def new_request_id(request: Request | None = None) -> str:
    """Always generated here: a client's X-Request-Id is kept beside it (`client_request_id`), never
    instead, so the id in the audit log is one no client chose."""
    return uuid.uuid4().hex


def client_request_id(request: Request) -> str | None:
    """The X-Request-Id a client sent, when it looks like an id (8–64 letters, digits, '-' or '_')."""
    incoming = request.headers.get("x-request-id", "")
    if 8 <= len(incoming) <= 64 and incoming.replace("-", "").replace("_", "").isalnum() and incoming.isascii():
        return incoming
    return None


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header[:7].lower() != "bearer ":
        return None
    return header[7:].strip()


async def bearer_viewer(request: Request, request_id: str | None) -> Viewer:
    """The viewer an API token stands for (anonymous when it is unknown, expired or revoked).

    Used by /graphql and by the file downloads, so a token means the same everywhere."""
    token = bearer_token(request)
    row = await session_service.token_for(token) if token else None
    if row is None:
        return Viewer(user_id=None, username="anonymous", request_id=request_id)
    return session_service.viewer_for(row.user, request_id, token_id=row.id)


async def viewer_from_request(request: Request) -> Viewer:
    """Bearer token (API clients) or the session cookie (browsers; CSRF header required on /graphql).

    Its locale (the language of error messages and stored texts): `Accept-Language` when the request
    has one (en → English, anything else zh-CN), else the user's stored choice, else zh-CN."""
    viewer = await _viewer_from_request(request)
    header = i18n.accept_language(request.headers.get("accept-language"))
    return replace(viewer, locale=header) if header and header != viewer.locale else viewer


async def _viewer_from_request(request: Request) -> Viewer:
    request_id = getattr(request.state, "request_id", None) or new_request_id(request)
    if bearer_token(request) is not None:
        return await bearer_viewer(request, request_id)
    key = request.cookies.get(auth.SESSION_COOKIE)
    if key:
        session = await session_service.session_for_key(key)
        if session is not None:
            if request.method == "POST" and request.headers.get("x-csrf-token") != session.csrf_token:
                return Viewer(user_id=None, username="anonymous", request_id=request_id)
            return session_service.viewer_for(session.user, request_id, session_id=session.id)
    return Viewer(user_id=None, username="anonymous", request_id=request_id)


async def build_context(viewer: Viewer | None = None, request: Request | None = None, response: Any = None) -> Context:
    """Used by the /graphql view and by the pages' in-process `schema.execute`."""
    if viewer is None:
        viewer = await viewer_from_request(request) if request is not None else ANONYMOUS
    return Context(viewer=viewer, request=request, response=response)
