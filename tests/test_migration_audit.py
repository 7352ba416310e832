"""Migration 0004 on a database that already has an audit log written by the old rule: the old entries
keep verifying (plain SHA-256) up to the boundary it records, new entries are keyed after it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tortoise.context import TortoiseContext
from tortoise.migrations.api import migrate as run_migrations

from server.models import AuditEntry, Sequence
from server.services import audit
from server.services.base import SYSTEM
from server.settings import tortoise_config
from tests.conftest import IS_POSTGRES
from tests.test_migrations import fresh_databases  # noqa: F401 - the fixture


async def _sql(conn, statement: str, params: list) -> None:
    if IS_POSTGRES:
        for number in range(1, len(params) + 1):
            statement = statement.replace("?", f"${number}", 1)
    await conn.execute_query(statement, params)


async def test_old_log_verifies_up_to_the_boundary_and_keyed_after_it(fresh_databases):  # noqa: F811
    url, _ = fresh_databases
    config = tortoise_config(url)
    at_field = AuditEntry._meta.fields_map["at"]
    start = datetime(2026, 1, 5, 9, 30, 0, 123456, tzinfo=UTC)

    async with TortoiseContext() as ctx:
        await run_migrations(config=config, target="models.0001_initial")
        conn = ctx.db()
        prev_hash = audit.GENESIS
        for number in range(1, 4):
            at = start + timedelta(minutes=number)
            digest = audit.entry_hash(number, at.isoformat(), "admin", "user.create", "user", str(number), None,
                                      None, f"old-{number}", prev_hash)
            await _sql(conn, "INSERT INTO audit_entry (id, at, actor_user_id, actor, action, object_type, object_id, "
                             "request_id, prev_hash, hash) VALUES (?, ?, NULL, 'admin', 'user.create', 'user', ?, ?, "
                             "?, ?)", [number, at_field.to_db_value(at, None), str(number), f"old-{number}",
                                       prev_hash, digest])
            prev_hash = digest
        await _sql(conn, "INSERT INTO number_sequence (name, value) VALUES ('audit', ?)", [3])

    async with TortoiseContext() as ctx:
        await run_migrations(config=config)
        applied = {r["name"] for r in await ctx.db().execute_query_dict("SELECT name FROM tortoise_migrations")}
        assert "0004_audit" in applied

    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        assert (await Sequence.get(name=audit.BOUNDARY)).value == 3
        await audit.record(SYSTEM, "test.after_migration", "test", 1)
        await audit.record(SYSTEM, "test.after_migration", "test", 2)

        report = await audit.verify_chain()
        assert (report.ok, report.checked, report.head_id) == (True, 5, 5)
        rows = await AuditEntry.all().order_by("id")
        assert [r.key_id is None for r in rows] == [True, True, True, False, False]
        assert rows[3].prev_hash == rows[2].hash

        # An edit below the boundary is still caught by the old rule; an unkeyed entry after it is refused.
        await AuditEntry.filter(id=2).update(actor="mallory")
        report = await audit.verify_chain()
        assert (report.ok, report.first_bad_id, report.kind) == (False, 2, "EDITED")
        await AuditEntry.filter(id=2).update(actor="admin")
        await AuditEntry.filter(id=5).update(key_id=None)
        report = await audit.verify_chain()
        assert (report.ok, report.first_bad_id, report.kind) == (False, 5, "REHASHED")
