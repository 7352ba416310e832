"""The `Idempotency-Key` header on /graphql mutations (HTTP): a retry returns the first response.

Wraps the GraphQL view. A POST carrying the header, from a signed-in user, whose operation is a mutation:
its fingerprint (the operation, its variables, and each uploaded file's sha256) is claimed under
(user, key) before the view runs (server/services/idempotency.py); the response is stored and replayed
to a retry with the same key and input (with `Idempotent-Replayed: true`). Queries, anonymous requests
and requests without the header pass through untouched.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from graphql import OperationDefinitionNode, OperationType, parse
from graphql.error import GraphQLError
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schema.context import viewer_from_request
from server import i18n
from server.domain.errors import DomainError
from server.services import idempotency

HEADER = b"idempotency-key"
REPLAYED = b"idempotent-replayed"


def _header(scope: Scope) -> str | None:
    for key, value in scope.get("headers", []):
        if key == HEADER:
            return value.decode("latin-1")
    return None


def _is_mutation(operations: Any) -> bool:
    if not isinstance(operations, dict) or not isinstance(operations.get("query"), str):
        return False
    try:
        document = parse(operations["query"])
    except GraphQLError:
        return False
    name = operations.get("operationName")
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [d for d in ops if name is None or (d.name is not None and d.name.value == name)]
    return any(d.operation == OperationType.MUTATION for d in chosen[:1] or ops[:1])


async def _fingerprint(request: Request, body: bytes) -> tuple[Any, str] | None:
    """(operations, sha256 of what the request asks) or None when it is not a request we understand."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/"):
        form = await request.form()
        try:
            operations = json.loads(str(form.get("operations") or ""))
            mapping = json.loads(str(form.get("map") or "{}"))
        except ValueError:
            return None
        files = {}
        for name in sorted(mapping):
            part = form.get(name)
            if isinstance(part, UploadFile):
                digest = hashlib.sha256()
                while chunk := await part.read(1024 * 1024):
                    digest.update(chunk)
                await part.seek(0)
                files[name] = digest.hexdigest()
        canonical = {"operations": operations, "map": mapping, "files": files}
    else:
        try:
            operations = json.loads(body)
        except ValueError:
            return None
        canonical = operations
    text = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return operations, hashlib.sha256(text.encode()).hexdigest()


def _error(error: DomainError, locale: str) -> JSONResponse:
    return JSONResponse({"data": None, "errors": [{
        "message": i18n.render(error.msg, locale),
        "extensions": {"code": error.code, "field": error.field},
    }]}, status_code=200)


class IdempotentGraphQL:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope) if scope["type"] == "http" and scope.get("method") == "POST" else None
        if key is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        body = await request.body()
        viewer = await viewer_from_request(request)
        fingerprint = await _fingerprint(request, body) if viewer.authenticated else None
        if fingerprint is None or not _is_mutation(fingerprint[0]):
            await self.app(scope, _replay_body(body, receive), send)
            return
        try:
            claimed = await idempotency.claim(int(viewer.user_id or 0), idempotency.check_key(key), fingerprint[1])
        except DomainError as error:
            await _error(error, viewer.locale)(scope, receive, send)
            return
        if isinstance(claimed, idempotency.Stored):
            response = Response(claimed.body, status_code=claimed.status_code, media_type="application/json",
                                headers={"Idempotent-Replayed": "true"})
            await response(scope, receive, send)
            return
        captured = _Capture(send)
        try:
            await self.app(scope, _replay_body(body, receive), captured)
        except BaseException:
            await idempotency.release(claimed)
            raise
        if captured.status is not None and captured.status < 500:
            await idempotency.complete(claimed, captured.status, b"".join(captured.body).decode("utf-8", "replace"))
        else:
            await idempotency.release(claimed)


def _replay_body(body: bytes, original: Receive) -> Receive:
    """The body already read, once; then the client's own messages (its disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await original()

    return receive


class _Capture:
    """Passes the response through while keeping its status and body."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.status: int | None = None
        self.body: list[bytes] = []

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
        elif message["type"] == "http.response.body":
            self.body.append(message.get("body", b""))
        await self.send(message)


__all__ = ["REPLAYED", "IdempotentGraphQL"]
