"""Domain errors become GraphQL errors with extensions.code; anything unexpected is masked and logged."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from server.domain.errors import DomainError

log = logging.getLogger("qingkuan.graphql")
MASKED_MESSAGE = "内部错误，请联系管理员 (unexpected error; it has been logged)"


def map_error(error: GraphQLError, request_id: str | None) -> GraphQLError:
    original = error.original_error
    while isinstance(original, GraphQLError):  # coercion errors wrap the scalar's or enum's own error
        original = original.original_error
    if isinstance(original, DomainError):
        extensions = {"code": original.code}
        if original.field:
            extensions["field"] = original.field
        extensions.update(getattr(original, "extensions", None) or {})  # RATE_LIMITED: retryAfter
        return GraphQLError(original.message, error.nodes, error.source, error.positions, error.path,
                            None, extensions)
    if original is None or error.path is None:
        # Parse, validation and variable-coercion errors (before any resolver ran, so no path):
        # the client's input is wrong, and the message says how.
        extensions = dict(error.extensions or {})
        extensions.setdefault("code", "VALIDATION")
        return GraphQLError(error.message, error.nodes, error.source, error.positions, error.path, None,
                            extensions)
    log.error("unexpected error (request %s) at %s", request_id, error.path,
              exc_info=(type(original), original, original.__traceback__))
    return GraphQLError(MASKED_MESSAGE, error.nodes, error.source, error.positions, error.path, None,
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
        request_id = getattr(getattr(context, "viewer", None), "request_id", None)
        result.errors = [map_error(e, request_id) for e in result.errors]
        try:
            result._qk_mapped = True  # type: ignore[attr-defined]
        except AttributeError:
            pass
