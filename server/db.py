"""Database start-up and shut-down: apply migrations, open Tortoise, close it."""

from __future__ import annotations

import logging

from tortoise import Tortoise

from server.settings import Settings

log = logging.getLogger("qingkuan.db")


async def migrate(settings: Settings) -> None:
    """Create or upgrade the schema by the versioned migrations in server/migrations."""
    from tortoise.migrations.api import migrate as run_migrations

    await run_migrations(config=settings.tortoise_config())
    await Tortoise.close_connections()


async def init_db(settings: Settings, *, apply_migrations: bool = True) -> None:
    if apply_migrations:
        await migrate(settings)
    await Tortoise.init(config=settings.tortoise_config(), _enable_global_fallback=True)


async def close_db() -> None:
    await Tortoise.close_connections()
