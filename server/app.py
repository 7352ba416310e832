"""Starlette app factory: explicit route table, middleware, lifespan (DB, job queue)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from cross_web import HTTPException as StrawberryHTTPException
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.asgi import GraphQL

from schema import schema
from schema.context import Context, build_context, client_request_id, new_request_id
from schema.errors import UNAVAILABLE, is_outage
from server import graphql_http, i18n
from server.domain.messages import Message, _m
from server.http_idempotency import IdempotentGraphQL
from server.services.audit import client_request_id as audit_client_request_id
from server.services.audit import request_id as audit_request_id
from server.settings import ROOT, Settings, get_settings

log = logging.getLogger("qingkuan")


class QingkuanGraphQL(GraphQL):
    async def get_context(self, request: Any, response: Any = None) -> Context:
        return await build_context(request=request, response=response)

    def decode_json(self, data: str | bytes) -> object:
        try:
            value = super().decode_json(data)
        except RecursionError:
            raise StrawberryHTTPException(400, _m("JSON 嵌套过深")) from None
        except ValueError as exc:  # JSONDecodeError, and integers beyond Python's digit limit
            raise StrawberryHTTPException(400, _m("请求体不是有效的 JSON")) from exc
        if _has_nul(value):
            # Text columns cannot hold NUL (PostgreSQL refuses it): refused here for every argument at once.
            raise StrawberryHTTPException(400, _m("请求含有 NUL 字符"))
        if isinstance(value, list):
            raise StrawberryHTTPException(400, _m("不支持批量请求"))
        if not isinstance(value, dict):
            raise StrawberryHTTPException(400, _m("请求体须为 JSON 对象"))
        return value

    async def parse_http_body(self, request: Any) -> Any:
        data = await super().parse_http_body(request)
        if not isinstance(data, list) and data.query is None and isinstance(data.extensions, dict) \
                and "persistedQuery" in data.extensions:
            raise _PersistedQueryNotSupported()
        return data

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        # As the parent class, but a refused request is answered as GraphQL errors, not plain text.
        request = Request(scope=scope, receive=receive)
        try:
            response = await self.run(request)
        except _PersistedQueryNotSupported:
            response = PERSISTED_QUERY_NOT_SUPPORTED()
        except StrawberryHTTPException as exc:
            response = _graphql_error(_http_reason(exc, _request_locale(scope)), exc.status_code)
        if graphql_http.wants_graphql_response(request.headers.get("accept", "")):
            response = graphql_http.as_graphql_response(
                response, request_error=bool(getattr(request.state, "graphql_request_error", False)))
        await response(scope, receive, send)

    async def process_result(self, request: Any, result: Any) -> Any:
        # Remembered for the media type's status code: nothing was executed (server/graphql_http.py).
        request.state.graphql_request_error = graphql_http.is_request_error(result.data, result.errors)
        return await super().process_result(request, result)


class _PersistedQueryNotSupported(Exception):
    pass


def PERSISTED_QUERY_NOT_SUPPORTED() -> JSONResponse:  # noqa: N802 - a constant answer
    """Apollo's automatic persisted queries: a hash without its query gets the standard answer (as Apollo
    Server words it, HTTP 400), and the client sends the full query instead."""
    return JSONResponse({"errors": [{"message": "PersistedQueryNotSupported",
                                     "extensions": {"code": "PERSISTED_QUERY_NOT_SUPPORTED"}}]}, status_code=400)


def _has_nul(value: object) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _request_locale(scope: Scope) -> str:
    """A refused request's language: its Accept-Language (zh-CN unless it asks for English)."""
    header = dict(scope.get("headers") or []).get(b"accept-language", b"").decode("latin-1")
    return i18n.accept_language(header) or i18n.DEFAULT_LOCALE


def _http_reason(exc: StrawberryHTTPException, locale: str = i18n.DEFAULT_LOCALE) -> str:
    reason: Any = exc.reason
    if isinstance(reason, Message):  # ours
        return i18n.render(reason, locale)
    # The library's own reason (English): the zh-CN text names the cause, English shows it alone.
    return reason if locale == "en" else i18n.render(_m("请求无效 (%(reason)s)", reason=reason), locale)


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
                    **security_headers(scope),
                }
                headers.extend((k, v) for k, v in extra.items() if k not in present)
            await send(message)

        started = False

        async def send_tracking(message: Any) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send_with_headers(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception as exc:
            if not started and is_outage(exc):
                # The database or Redis went away before any resolver could answer (building the viewer,
                # a page's own queries): a clean, retryable 503 — not a 500 — and the process stays up.
                log.warning("outage (request %s) %s: %r", request_id, scope.get("path"), exc)
                await _unavailable(scope, request_id)(scope, receive, send_with_headers)
                return
            # Starlette's own 500 page is sent outside this middleware, without the headers above:
            # send it from here, then let the error propagate to be logged as usual.
            if not started:
                await PlainTextResponse("Internal Server Error", status_code=500)(scope, receive, send_with_headers)
            raise
        finally:
            audit_client_request_id.reset(client_token)
            audit_request_id.reset(server_token)


# No inline scripts anywhere (htmx is configured by a meta tag, page scripts are static files);
# inline style attributes remain in a few templates, hence 'unsafe-inline' for styles only.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def security_headers(scope: Scope) -> dict[bytes, bytes]:
    if get_settings().debug and scope.get("path") == "/graphql" and scope.get("method") == "GET":
        # GraphiQL (DEBUG only) loads its scripts from a CDN and starts with an inline script.
        return {}
    return {b"content-security-policy": CONTENT_SECURITY_POLICY.encode()}


GRAPHQL_MAX_BODY = 1024 * 1024  # a JSON request to /graphql; multipart uploads have their own limit
FORM_MAX_BODY = 64 * 1024  # a page's form post without files


def _unavailable(scope: Scope, request_id: str) -> Response:
    locale = _request_locale(scope)
    message = i18n.render(UNAVAILABLE, locale)
    headers = {"Retry-After": "5"}
    if scope.get("path") == "/graphql":
        return JSONResponse({"errors": [{"message": message, "extensions": {"code": "UNAVAILABLE",
                                                                            "requestId": request_id}}]},
                            status_code=503, headers=headers)
    return PlainTextResponse(message, status_code=503, headers=headers)


def _graphql_error(message: str, status: int) -> JSONResponse:
    return JSONResponse({"data": None, "errors": [{"message": message, "extensions": {"code": "VALIDATION"}}]},
                        status_code=status)


class BodyLimitMiddleware:
    """413 for a request body beyond its need, whether announced (Content-Length) or streamed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    @staticmethod
    def limit_for(scope: Scope) -> int | None:
        if scope.get("method") not in ("POST", "PUT", "PATCH"):
            return None
        content_type = ""
        for key, value in scope.get("headers", []):
            if key == b"content-type":
                content_type = value.decode("latin-1").lower()
        settings = get_settings()
        if content_type.startswith("multipart/"):
            from server.web.reimbursements import FORM_MAX_FILES

            # Every file part of the largest form at its largest, plus room for the other fields; each
            # page (server/web/core.py) and the storage layer still apply their own, smaller limits.
            return settings.max_upload_bytes * FORM_MAX_FILES + 1024 * 1024
        if scope.get("path") == "/graphql":
            return GRAPHQL_MAX_BODY
        return FORM_MAX_BODY

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limit_for(scope) if scope["type"] == "http" else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        for key, value in scope.get("headers", []):
            if key == b"content-length" and value.isdigit() and int(value) > limit:
                await self._too_large(scope, receive, send)
                return
        received = 0
        started = False

        async def limited_receive() -> Any:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge()
            return message

        async def tracking_send(message: Any) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await self._too_large(scope, receive, send)

    @staticmethod
    async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
        message = i18n.render(_m("请求体过大"), _request_locale(scope))
        if scope.get("path") == "/graphql":
            response: Response = _graphql_error(message, 413)
        else:
            response = PlainTextResponse(message, status_code=413)
        await response(scope, receive, send)


class _BodyTooLarge(Exception):
    pass


async def healthz(request: Request) -> Response:
    return JSONResponse({"ok": True})


def routes(settings: Settings) -> list[Any]:
    from server.web.routes import web_routes

    graphql = QingkuanGraphQL(
        schema, graphql_ide="graphiql" if settings.debug else None, multipart_uploads_enabled=True,
    )
    return [
        # Idempotency-Key on mutations (server/http_idempotency.py) around the GraphQL view.
        Route("/graphql", IdempotentGraphQL(graphql), methods=["GET", "POST"]),
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
        middleware=[Middleware(RequestIdMiddleware), Middleware(BodyLimitMiddleware)],
        lifespan=lifespan if with_lifespan else None,
    )
