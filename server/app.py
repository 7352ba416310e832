"""Starlette app factory: explicit route table, middleware, lifespan (DB, job queue)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.asgi import GraphQL

from schema import schema
from schema.context import Context, build_context, client_request_id, new_request_id
from server.services.audit import client_request_id as audit_client_request_id
from server.services.audit import request_id as audit_request_id
from server.settings import ROOT, Settings, get_settings

log = logging.getLogger("qingkuan")


class QingkuanGraphQL(GraphQL):
    async def get_context(self, request: Any, response: Any = None) -> Context:
        return await build_context(request=request, response=response)


class RequestIdMiddleware:
    """Every request gets an id (logged with errors, written to audit entries) and safe headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        request_id = new_request_id(request)
        scope.setdefault("state", {})["request_id"] = request_id
        # The client's own id, if any, goes beside ours into the audit log (never instead of it).
        server_token = audit_request_id.set(request_id)
        client_token = audit_client_request_id.set(client_request_id(request))

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                present = {k.lower() for k, _ in headers}
                extra = {
                    b"x-request-id": request_id.encode(),
                    b"x-content-type-options": b"nosniff",
                    b"x-frame-options": b"DENY",
                    b"referrer-policy": b"same-origin",
                }
                headers.extend((k, v) for k, v in extra.items() if k not in present)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            audit_client_request_id.reset(client_token)
            audit_request_id.reset(server_token)


async def healthz(request: Request) -> Response:
    return JSONResponse({"ok": True})


def routes(settings: Settings) -> list[Any]:
    from server.web.routes import web_routes

    graphql = QingkuanGraphQL(
        schema, graphql_ide="graphiql" if settings.debug else None, multipart_uploads_enabled=True,
    )
    return [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/healthz", healthz),
        Mount("/static", StaticFiles(directory=ROOT / "server" / "static"), name="static"),
        *web_routes(),
    ]


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    from server.runtime import runtime

    async with runtime(get_settings()):
        yield


def create_app(settings: Settings | None = None, *, with_lifespan: bool = True) -> Starlette:
    """`with_lifespan=False` for tests that open the database themselves."""
    settings = settings or get_settings()
    return Starlette(
        debug=settings.debug,
        routes=routes(settings),
        middleware=[Middleware(RequestIdMiddleware)],
        lifespan=lifespan if with_lifespan else None,
    )
