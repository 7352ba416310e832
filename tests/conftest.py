"""Test harness: a real database (SQLite by default, PostgreSQL with TEST_DATABASE_URL), migrated once
per session and emptied before every test; GraphQL driven over HTTP through the real ASGI app."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tortoise import Tortoise
from tortoise.contrib.test import truncate_all_models

from server.settings import load_settings, override_settings

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
IS_POSTGRES = TEST_DATABASE_URL.startswith(("postgres", "asyncpg"))
_tmp = Path(tempfile.mkdtemp(prefix="qk-test-"))
_db_url = TEST_DATABASE_URL or f"sqlite://{_tmp / 'test.sqlite3'}"
SETTINGS = load_settings({
    "DATA_DIR": str(_tmp), "DATABASE_URL": _db_url, "SECRET_KEY": "test-secret-key-0123456789",
    "ADMIN_USERNAME": "admin", "ADMIN_PASSWORD": "admin-pass-123", "DEMO_DATA": "0",
    "REDIS_URL": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"), "TIMEZONE": "Asia/Shanghai",
    # argon2id still, with its cheapest parameters: the suite hashes hundreds of passwords.
    "PASSWORD_HASH_COST": "test",
    # The job tests' webhook and robot receivers listen on loopback (tests/jobs/receivers.py).
    "OUTBOUND_ALLOW_PRIVATE": "127.0.0.0/8,::1",
})
override_settings(SETTINGS)


async def _recreate_postgres(url: str) -> None:
    import asyncpg

    base, _, name = url.rpartition("/")
    name = name.split("?")[0]
    conn = await asyncpg.connect(base.replace("asyncpg://", "postgres://") + "/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def settings():
    return SETTINGS


@pytest.fixture(scope="session")
async def database(settings) -> AsyncIterator[None]:
    from server.db import close_db, init_db

    if IS_POSTGRES:
        await _recreate_postgres(settings.database_url)
    await init_db(settings)
    yield
    await close_db()


@pytest.fixture
async def db(database) -> AsyncIterator[None]:
    """An empty, migrated database for each test."""
    await truncate_all_models()
    yield


@pytest.fixture(scope="session")
def app(settings):
    from server.app import create_app

    return create_app(settings, with_lifespan=False)


class GQL:
    """A GraphQL client over the real ASGI app. `await gql(query, variables, token=...)`."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def __call__(self, query: str, variables: dict | None = None, token: str | None = None,
                       files: dict | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.client.post("/graphql", json={"query": query, "variables": variables or {}},
                                          headers=headers)
        assert response.status_code in (200, 400), response.text
        return response.json()

    async def ok(self, query: str, variables: dict | None = None, token: str | None = None) -> dict[str, Any]:
        body = await self(query, variables, token)
        assert not body.get("errors"), body["errors"]
        return body["data"]

    async def error(self, query: str, variables: dict | None = None, token: str | None = None) -> dict[str, Any]:
        body = await self(query, variables, token)
        assert body.get("errors"), body
        return body["errors"][0]

    async def login(self, username: str, password: str = "pass-1234") -> str:
        data = await self.ok("mutation($u:String!,$p:String!){login(username:$u,password:$p){token}}",
                             {"u": username, "p": password})
        return data["login"]["token"]


@pytest.fixture
async def client(app, db) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def gql(client) -> GQL:
    return GQL(client)


def pytest_report_header(config):
    return f"database: {'PostgreSQL' if IS_POSTGRES else 'SQLite'} ({_db_url})"


_ = Tortoise  # re-exported for tests that need the raw connection
