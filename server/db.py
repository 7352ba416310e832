"""Database start-up and shut-down: apply migrations, open Tortoise, close it."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from tortoise import Tortoise

from server.settings import Settings

if TYPE_CHECKING:
    from tortoise.context import TortoiseContext

log = logging.getLogger("qingkuan.db")

# Any fixed number: PostgreSQL advisory lock held while migrating (pg_advisory_lock takes a bigint).
MIGRATION_LOCK_KEY = 0x71696E676B75616E  # "qingkuan"


@contextlib.asynccontextmanager
async def _migration_lock(settings: Settings) -> AsyncIterator[None]:
    """Several web and worker processes may start together on one PostgreSQL database: the first
    one migrates, the others wait and then find nothing to do. SQLite needs no lock (one machine,
    and its write lock serializes the DDL)."""
    if settings.is_sqlite:
        yield
        return
    import asyncpg

    url = settings.database_url.split("?", 1)[0]
    url = "postgres://" + url.split("://", 1)[1]
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        try:
            yield
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
    finally:
        await conn.close()


async def migrate(settings: Settings) -> None:
    """Create or upgrade the schema by the versioned migrations in server/migrations."""
    from tortoise.migrations.api import migrate as run_migrations

    async with _migration_lock(settings):
        try:
            await run_migrations(config=settings.tortoise_config())
        finally:
            await Tortoise.close_connections()


async def init_db(settings: Settings, *, apply_migrations: bool = True) -> TortoiseContext:
    """Open the database for this process. Returns the Tortoise context; keep it to close it from
    another task (ARQ's on_shutdown runs outside the task that called this)."""
    if apply_migrations:
        await migrate(settings)
    return await Tortoise.init(config=settings.tortoise_config(), _enable_global_fallback=True)


async def close_db() -> None:
    await Tortoise.close_connections()
