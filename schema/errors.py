"""Domain errors become GraphQL errors with extensions.code; anything unexpected is masked and logged."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from server import i18n
from server.domain.errors import DomainError
from server.domain.messages import Message, _m, plain

log = logging.getLogger("qingkuan.graphql")
MASKED = _m("内部错误，请联系管理员")
UNAVAILABLE = _m("服务暂时不可用，请稍后重试")
MASKED_MESSAGE = i18n.render(MASKED, "zh_CN")
UNAVAILABLE_MESSAGE = i18n.render(UNAVAILABLE, "zh_CN")


def _outage_errors() -> tuple[type[BaseException], ...]:
    """Connection failures of the database (asyncpg, Tortoise) and of Redis (the job queue)."""
    import asyncpg
    import redis.exceptions
    from tortoise.exceptions import DBConnectionError

    return (
        DBConnectionError, asyncpg.PostgresConnectionError, asyncpg.exceptions.CannotConnectNowError,
        asyncpg.exceptions.TooManyConnectionsError, asyncpg.exceptions.ConnectionDoesNotExistError,
        # A pooled connection caught by the server's restart in the middle of a statement ("cannot switch to
        # state …; another operation is in progress"): the pool replaces it, the request may be retried.
        asyncpg.InternalClientError,
        redis.exceptions.ConnectionError, redis.exceptions.TimeoutError,
        ConnectionError,  # the OS refused or reset the socket (ConnectionRefusedError, ConnectionResetError)
    )


def is_outage(error: BaseException | None) -> bool:
    seen = 0
    while error is not None and seen < 5:  # Tortoise wraps the driver's error (raise ... from)
        if isinstance(error, _outage_errors()):
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


_VARIABLE = re.compile(r"^Variable '\$(\w+)'")
_INSIDE = re.compile(r" at '([^']+)'")
_LITERAL = re.compile(r"^Expected value of type '(\w+)!?'")


def _coercion_place(message: str) -> dict[str, str]:
    if (found := _VARIABLE.match(message)) is not None:
        name = found.group(1)
        inside = (_INSIDE.search(message) or [None, None])[1]
        return {"field": inside.split(".", 1)[1] if inside and "." in inside else (inside or name)}
    if (found := _LITERAL.match(message)) is not None:
        return {"type": found.group(1)}
    return {}


def map_error(error: GraphQLError, request_id: str | None, locale: str | None = None) -> GraphQLError:
    original = error.original_error
    while isinstance(original, GraphQLError):  # coercion errors wrap the scalar's or enum's own error
        original = original.original_error
    if isinstance(original, DomainError):
        extensions: dict = {"code": original.code}
        if original.field:
            extensions["field"] = original.field
        elif error.path is None:
            # A scalar refused its input while graphql-core coerced it: name the variable (and the place
            # inside it) or the literal's type from graphql-core's wrapper, whose English text is dropped.
            extensions.update(_coercion_place(error.message))
        if not original.msg.literal:
            extensions["messageId"] = original.msg.msgid
            extensions["params"] = {k: plain(v) for k, v in original.msg.params.items()}
        # The details the message names (RATE_LIMITED: retryAfter; CLEARANCE_BLOCKED: loans; a
        # duplicate invoice: duplicateOf), never overriding the code.
        for key, value in (original.details or {}).items():
            extensions.setdefault(key, plain(value))
        return GraphQLError(i18n.render(original.msg, locale), error.nodes, error.source, error.positions,
                            error.path, None, extensions)
    if original is None or error.path is None:
        # Parse, validation and variable-coercion errors (before any resolver ran, so no path):
        # the client's input is wrong, and the message says how.
        extensions = dict(error.extensions or {})
        extensions.setdefault("code", "VALIDATION")
        message = error.message
        if "messageId" in extensions:  # our own validation rules (schema/rules.py): the viewer's language
            message = i18n.render(Message(extensions["messageId"], extensions.get("params") or {}), locale)
        return GraphQLError(message, error.nodes, error.source, error.positions, error.path, None,
                            extensions)
    if is_outage(original):
        # The database or the job queue is unreachable: nothing the client did; retry later.
        log.warning("outage (request %s) at %s: %r", request_id, error.path, original)
        return GraphQLError(i18n.render(UNAVAILABLE, locale), error.nodes, error.source, error.positions, error.path, None,
                            {"code": "UNAVAILABLE", "requestId": request_id})
    log.error("unexpected error (request %s) at %s", request_id, error.path,
              exc_info=(type(original), original, original.__traceback__))
    return GraphQLError(i18n.render(MASKED, locale), error.nodes, error.source, error.positions, error.path, None,
                        {"code": "INTERNAL", "requestId": request_id})


class ErrorCodes(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        self._rewrite()

    def _rewrite(self) -> None:
        result = self.execution_context.result
        if result is None or not getattr(result, "errors", None):
            return
        if getattr(result, "_qk_mapped", False):
            return
        context = self.execution_context.context
        viewer = getattr(context, "viewer", None)
        request_id = getattr(viewer, "request_id", None)
        locale = getattr(viewer, "locale", None)
        result.errors = [map_error(e, request_id, locale) for e in result.errors]
        try:
            result._qk_mapped = True  # type: ignore[attr-defined]
        except AttributeError:
            pass
