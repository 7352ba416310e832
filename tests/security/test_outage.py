"""A database or queue outage is UNAVAILABLE (retry later), not INTERNAL."""

from __future__ import annotations

import pytest
import redis.exceptions
from tortoise.exceptions import DBConnectionError

from server.services import org
from tests.factories import PASSWORD, make_org


def _raise(error: BaseException):
    async def broken(*args, **kwargs):
        raise error

    return broken


def _wrapped() -> BaseException:
    try:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except ConnectionRefusedError as exc:
            raise RuntimeError("pool failed") from exc
    except RuntimeError as outer:
        return outer


@pytest.mark.parametrize("error", [
    DBConnectionError("could not connect"), redis.exceptions.ConnectionError("Redis is down"), _wrapped(),
], ids=["database", "redis", "wrapped-socket"])
async def test_outage_is_unavailable_with_request_id(gql, db, monkeypatch, error):
    await make_org()
    token = await gql.login("hr", PASSWORD)
    monkeypatch.setattr(org, "list_departments", _raise(error))
    err = await gql.error("{ departments { code } }", token=token)
    assert err["extensions"]["code"] == "UNAVAILABLE" and err["extensions"]["requestId"]
    assert err["message"] == "服务暂时不可用，请稍后重试" and "Redis is down" not in err["message"]


async def test_a_programming_error_stays_internal(gql, db, monkeypatch):
    await make_org()
    token = await gql.login("hr", PASSWORD)
    monkeypatch.setattr(org, "list_departments", _raise(KeyError("oops")))
    err = await gql.error("{ departments { code } }", token=token)
    assert err["extensions"]["code"] == "INTERNAL"
