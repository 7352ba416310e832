"""GraphQL over HTTP: the `application/graphql-response+json` media type (the GraphQL-over-HTTP spec).

A client that asks for it (Accept lists it before application/json, or alone) gets it back, and with it
the spec's status codes: a request error — the document does not parse, does not validate, or its
variables do not coerce, so nothing was executed — is answered 400 without a `data` entry. Under
plain `application/json` the answer stays 200 with `data: null`, as older clients expect.

A request error is recognised by its errors: graphql-core gives every field error a `path`, and no
request error has one.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


def wants_graphql_response(accept: str) -> bool:
    """True when the client prefers application/graphql-response+json (listed before application/json)."""
    types = [part.split(";", 1)[0].strip().lower() for part in (accept or "").split(",")]
    if GRAPHQL_RESPONSE not in types:
        return False
    return JSON not in types or types.index(GRAPHQL_RESPONSE) < types.index(JSON)


def is_request_error(data: Any, errors: list[Any] | None) -> bool:
    return data is None and bool(errors) and all(getattr(e, "path", None) is None for e in errors or [])


def as_graphql_response(response: Response, *, request_error: bool) -> Response:
    """The same answer in application/graphql-response+json; a request error becomes a 400 without `data`."""
    content_type = response.headers.get("content-type", "")
    if not content_type.startswith(JSON):
        return response
    body = bytes(response.body)
    status = response.status_code
    if request_error or status >= 400:
        payload = json.loads(body)
        if isinstance(payload, dict) and payload.get("data") is None:
            payload.pop("data", None)
            body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
            status = 400 if status < 400 else status
    headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-type")}
    return Response(body, status_code=status, headers=headers, media_type=f"{GRAPHQL_RESPONSE}; charset=utf-8")
