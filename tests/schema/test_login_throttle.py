"""Login throttling per (username, client address) and per client address, counted atomically.

Each address is its own httpx client over the real ASGI app (the TCP peer the app sees).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest

from server.models import ApiToken, LoginCounter
from server.services import org
from server.settings import get_settings, override_settings
from tests.conftest import GQL, IS_POSTGRES
from tests.factories import PASSWORD, make_org

LOGIN = "mutation($u:String!,$p:String!){ login(username:$u, password:$p) { token } }"


@pytest.fixture
async def from_address(app, db) -> AsyncIterator:
    clients: list[httpx.AsyncClient] = []

    def make(address: str, headers: dict | None = None) -> GQL:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        client = httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=headers or {})
        clients.append(client)
        return GQL(client)

    yield make
    for client in clients:
        await client.aclose()


async def _fail(gql: GQL, username: str = "sales") -> dict:
    return await gql.error(LOGIN, {"u": username, "p": "wrong-password"})


async def _failures(key: str) -> int:
    row = await LoginCounter.filter(key=key).first()
    return row.failures if row else 0


async def test_forty_concurrent_wrong_passwords_count_as_forty(from_address):
    """On PostgreSQL the 40 requests run on several pooled connections at once, so only the single
    INSERT ... ON CONFLICT DO UPDATE ... RETURNING keeps the count; on SQLite (one connection, statements
    serialized) it proves the same statement counts each failure once and locks the address."""
    await make_org()
    attacker = from_address("203.0.113.7")
    errors = await asyncio.gather(*(_fail(attacker) for _ in range(40)))
    assert all(e["extensions"]["code"] in ("UNAUTHENTICATED", "RATE_LIMITED") for e in errors)
    pair, per_address = org._counter_keys("sales", "203.0.113.7")
    counted = await _failures(pair) + sum(e["extensions"]["code"] == "RATE_LIMITED" for e in errors)
    # every request either counted a failure or was already refused as locked: none is lost
    assert counted == 40
    if IS_POSTGRES:
        assert await _failures(pair) >= 5
    assert await _failures(per_address) == await _failures(pair)
    err = await attacker.error(LOGIN, {"u": "sales", "p": PASSWORD})
    assert err["extensions"]["code"] == "RATE_LIMITED"
    assert await ApiToken.all().count() == 0


async def test_forty_concurrent_counts_are_forty_exactly(db):
    """The counting statement itself, 40 at once: on PostgreSQL each runs on a pooled connection of its
    own (a read-then-write would lose updates there); on SQLite they queue on the one connection."""
    await asyncio.gather(*(org._throttle_fail("sales", "203.0.113.41") for _ in range(40)))
    pair, per_address = org._counter_keys("sales", "203.0.113.41")
    assert await _failures(pair) == 40
    assert await _failures(per_address) == 40
    assert (await LoginCounter.get(key=pair)).locked_until is not None


async def test_concurrent_failures_all_count_below_the_lock(from_address):
    """4 concurrent failures (below the lock of 5): all 4 are counted, none is refused or lost."""
    await make_org()
    attacker = from_address("203.0.113.8")
    errors = await asyncio.gather(*(_fail(attacker) for _ in range(4)))
    assert {e["extensions"]["code"] for e in errors} == {"UNAUTHENTICATED"}
    assert await _failures(org._counter_keys("sales", "203.0.113.8")[0]) == 4
    # the fifth locks
    await _fail(attacker)
    assert (await attacker.error(LOGIN, {"u": "sales", "p": PASSWORD}))["extensions"]["code"] == "RATE_LIMITED"




async def test_a_lockout_for_one_address_leaves_the_others_working(from_address):
    await make_org()
    attacker, colleague = from_address("198.51.100.9"), from_address("10.20.0.5")
    for _ in range(5):
        assert (await _fail(attacker))["extensions"]["code"] == "UNAUTHENTICATED"
    err = await attacker.error(LOGIN, {"u": "sales", "p": PASSWORD})
    assert err["extensions"]["code"] == "RATE_LIMITED"
    assert 0 < err["extensions"]["retryAfter"] <= 15 * 60
    # the real owner, elsewhere, still logs in; the attacker may still try other accounts
    assert (await colleague.ok(LOGIN, {"u": "sales", "p": PASSWORD}))["login"]["token"]
    assert (await attacker.ok(LOGIN, {"u": "manager", "p": PASSWORD}))["login"]["token"]
    assert await ApiToken.filter(user__username="sales").count() == 1


async def test_a_success_does_not_erase_other_addresses_failures(from_address):
    await make_org()
    attacker, owner = from_address("198.51.100.10"), from_address("10.20.0.6")
    for _ in range(4):
        await _fail(attacker)
    await _fail(owner)
    assert (await owner.ok(LOGIN, {"u": "sales", "p": PASSWORD}))["login"]["token"]
    assert await _failures(org._counter_keys("sales", "10.20.0.6")[0]) == 0  # its own counter is cleared
    assert await _failures(org._counter_keys("sales", "198.51.100.10")[0]) == 4
    await _fail(attacker)  # the fifth from that address
    assert (await attacker.error(LOGIN, {"u": "sales", "p": PASSWORD}))["extensions"]["code"] == "RATE_LIMITED"


async def test_an_address_is_locked_after_fifty_failures_whatever_the_usernames(from_address):
    await make_org()
    sprayer, other = from_address("192.0.2.50"), from_address("192.0.2.51")
    for i in range(50):
        await _fail(sprayer, f"guess{i}")
    err = await sprayer.error(LOGIN, {"u": "sales", "p": PASSWORD})
    assert err["extensions"]["code"] == "RATE_LIMITED" and err["extensions"]["retryAfter"] > 0
    assert await ApiToken.all().count() == 0
    assert (await other.ok(LOGIN, {"u": "sales", "p": PASSWORD}))["login"]["token"]


async def test_an_old_window_starts_over(from_address):
    await make_org()
    client = from_address("192.0.2.60")
    for _ in range(4):
        await _fail(client)
    pair = org._counter_keys("sales", "192.0.2.60")[0]
    row = await LoginCounter.get(key=pair)
    await LoginCounter.filter(key=pair).update(window_started=row.window_started - org.THROTTLE_WINDOW - 1)
    await _fail(client)
    assert await _failures(pair) == 1
    assert (await client.ok(LOGIN, {"u": "sales", "p": PASSWORD}))["login"]["token"]


@pytest.fixture
def trusted_proxy(settings):
    override_settings(dataclasses.replace(settings, trusted_proxies=("10.0.0.0/8",)))
    yield
    override_settings(settings)


async def test_forwarded_for_is_believed_only_from_a_trusted_proxy(from_address, trusted_proxy):
    await make_org()
    assert get_settings().trusted_proxies == ("10.0.0.0/8",)
    # Through the proxy 10.0.0.2: the client claims 1.1.1.1, the proxy appended the real 203.0.113.20.
    proxied = from_address("10.0.0.2", {"X-Forwarded-For": "1.1.1.1, 203.0.113.20, 10.0.0.3"})
    await _fail(proxied)
    assert await _failures(org._counter_keys("sales", "203.0.113.20")[0]) == 1
    # Straight from an untrusted peer, the header is ignored: the peer is the client.
    direct = from_address("198.51.100.30", {"X-Forwarded-For": "203.0.113.99"})
    await _fail(direct)
    assert await _failures(org._counter_keys("sales", "198.51.100.30")[0]) == 1
    assert await _failures(org._counter_keys("sales", "203.0.113.99")[0]) == 0
    row = await LoginCounter.filter(key__startswith="ua:1.1.1.1").first()
    assert row is None
