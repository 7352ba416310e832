"""The versioned migrations in server/migrations build exactly the schema the models describe.

Two fresh databases of the test's kind (SQLite files, or PostgreSQL schemas inside the test
database): one built by the migrations, one by Tortoise.generate_schemas(). Their tables, columns,
types, nullability, defaults, keys, unique constraints and indexes must be identical, and the
autodetector must find no model change that lacks a migration.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate as run_migrations
from tortoise.migrations.autodetector import MigrationAutodetector

from server.settings import tortoise_config
from tests.conftest import IS_POSTGRES

RECORDER_TABLE = "tortoise_migrations"
Schema = dict[str, Any]


# ---------------------------------------------------------------- introspection


async def _rows(conn: Any, sql: str, params: list | None = None) -> list[dict]:
    return list(await conn.execute_query_dict(sql, params or []))


async def _sqlite_schema(conn: Any) -> Schema:
    tables = [r["name"] for r in await _rows(
        conn, "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    schema: Schema = {}
    for table in tables:
        if table == RECORDER_TABLE:
            continue
        columns = {
            r["name"]: (r["type"].upper(), bool(r["notnull"]), r["dflt_value"], r["pk"])
            for r in await _rows(conn, f'PRAGMA table_info("{table}")')
        }
        indexes = set()
        for idx in await _rows(conn, f'PRAGMA index_list("{table}")'):
            cols = tuple(r["name"] for r in await _rows(conn, f'PRAGMA index_info("{idx["name"]}")'))
            # Automatic indexes (UNIQUE constraints, primary keys) are named by SQLite: compare by content.
            name = None if idx["name"].startswith("sqlite_autoindex_") else idx["name"]
            indexes.add((name, bool(idx["unique"]), idx["origin"], cols))
        foreign_keys = {
            (r["from"], r["table"], r["to"], r["on_delete"], r["on_update"])
            for r in await _rows(conn, f'PRAGMA foreign_key_list("{table}")')
        }
        schema[table] = {"columns": columns, "indexes": indexes, "foreign_keys": foreign_keys}
    return schema


async def _postgres_schema(conn: Any, namespace: str) -> Schema:
    def norm(text: str | None) -> str | None:
        # Definitions mention the schema they live in; the two copies differ only by that name.
        return None if text is None else re.sub(rf'\b"?{namespace}"?\.', "", text)

    schema: Schema = {}
    for r in await _rows(conn, """
            SELECT table_name, column_name, data_type, udt_name, is_nullable, column_default,
                   character_maximum_length, numeric_precision, numeric_scale
            FROM information_schema.columns WHERE table_schema = $1""", [namespace]):
        if r["table_name"] == RECORDER_TABLE:
            continue
        table = schema.setdefault(r["table_name"], {"columns": {}, "indexes": set(), "constraints": set()})
        table["columns"][r["column_name"]] = (
            r["data_type"], r["udt_name"], r["is_nullable"], norm(r["column_default"]),
            r["character_maximum_length"], r["numeric_precision"], r["numeric_scale"],
        )
    for r in await _rows(conn, "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = $1",
                         [namespace]):
        if r["tablename"] in schema:
            schema[r["tablename"]]["indexes"].add((r["indexname"], norm(r["indexdef"])))
    for r in await _rows(conn, """
            SELECT rel.relname AS table_name, con.conname, con.contype::text AS contype,
                   pg_get_constraintdef(con.oid) AS definition
            FROM pg_constraint con
            JOIN pg_class rel ON rel.oid = con.conrelid
            JOIN pg_namespace ns ON ns.oid = rel.relnamespace
            WHERE ns.nspname = $1""", [namespace]):
        if r["table_name"] in schema:
            schema[r["table_name"]]["constraints"].add((r["conname"], r["contype"], norm(r["definition"])))
    return schema


# ---------------------------------------------------------------- two fresh databases


async def _drop_create_namespace(base_url: str, namespace: str) -> None:
    import asyncpg

    conn = await asyncpg.connect("postgres://" + base_url.split("://", 1)[1])
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{namespace}" CASCADE')
        await conn.execute(f'CREATE SCHEMA "{namespace}"')
    finally:
        await conn.close()


async def _drop_namespace(base_url: str, namespace: str) -> None:
    import asyncpg

    conn = await asyncpg.connect("postgres://" + base_url.split("://", 1)[1])
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{namespace}" CASCADE')
    finally:
        await conn.close()


@pytest.fixture
async def fresh_databases(settings, database, tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    """Two empty databases of the test's kind: (url for the migrations, url for generate_schemas)."""
    if not IS_POSTGRES:
        yield f"sqlite://{tmp_path / 'migrated.sqlite3'}", f"sqlite://{tmp_path / 'generated.sqlite3'}"
        return
    base = settings.database_url.split("?", 1)[0]
    names = ("qk_migrated", "qk_generated")
    for name in names:
        await _drop_create_namespace(base, name)
    try:
        yield f"{base}?schema={names[0]}", f"{base}?schema={names[1]}"
    finally:
        for name in names:
            await _drop_namespace(base, name)


async def _introspect(ctx: TortoiseContext, url: str) -> Schema:
    conn = ctx.db()
    if IS_POSTGRES:
        return await _postgres_schema(conn, url.rsplit("schema=", 1)[1])
    return await _sqlite_schema(conn)


# ---------------------------------------------------------------- tests


async def test_migrations_build_the_models_schema(fresh_databases):
    migrated_url, generated_url = fresh_databases

    async with TortoiseContext() as ctx:
        await run_migrations(config=tortoise_config(migrated_url))
        migrated = await _introspect(ctx, migrated_url)
        applied = await ctx.db().execute_query_dict(f'SELECT app, name FROM "{RECORDER_TABLE}"')
        assert {"app": "models", "name": "0001_initial"} in applied

    async with TortoiseContext() as ctx:
        await ctx.init(config=tortoise_config(generated_url))
        await ctx.generate_schemas(safe=False)
        generated = await _introspect(ctx, generated_url)

    assert migrated.keys() == generated.keys(), "tables differ"
    assert "audit_entry" in migrated and "job" in migrated
    for table in generated:
        assert migrated[table] == generated[table], f"table {table!r} differs between migrations and models"


async def test_migrating_twice_changes_nothing(fresh_databases):
    migrated_url, _ = fresh_databases
    async with TortoiseContext() as ctx:
        await run_migrations(config=tortoise_config(migrated_url))
        first = await _introspect(ctx, migrated_url)
    async with TortoiseContext() as ctx:
        await run_migrations(config=tortoise_config(migrated_url))
        assert await _introspect(ctx, migrated_url) == first


async def test_no_model_change_without_a_migration():
    config = tortoise_config("sqlite://:memory:")
    async with TortoiseContext() as ctx:
        await ctx.init(config=config, init_connections=False)
        assert ctx.apps is not None
        writers = await MigrationAutodetector(ctx.apps, config["apps"]).changes()
    pending = [f"{w.app_label}: {op!r}" for w in writers for op in w.operations]
    assert not pending, (
        "models changed without a migration; regenerate the initial one with\n"
        "  rm server/migrations/0001_initial.py && "
        ".venv/bin/tortoise -c server.settings.TORTOISE_ORM makemigrations\n" + "\n".join(pending)
    )
