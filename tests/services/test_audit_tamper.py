"""Someone with write access to the database, but not the audit key, tampers with the audit log by raw
SQL; verify_chain names the first bad entry and the kind of tampering. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import secrets
from datetime import timedelta
from typing import Any

import pytest
from tortoise import Tortoise

from server import i18n
from server.models import AuditAnchor, AuditEntry, Sequence
from server.services import audit
from server.services.base import SYSTEM, atomic
from server.settings import audit_key_id, get_settings, override_settings
from tests.conftest import IS_POSTGRES
from tests.factories import make_org


def english(report) -> str:
    """The report's message as an English reader sees it (lower-cased for the assertions)."""
    return i18n.render_stored(report.message_data, report.message, "en").lower()


async def sql(statement: str, *params: Any) -> None:
    """Raw SQL with `?` placeholders, on whichever database the tests run."""
    if IS_POSTGRES:
        for number in range(1, len(params) + 1):
            statement = statement.replace("?", f"${number}", 1)
    await Tortoise.get_connection("default").execute_query(statement, list(params))


async def count_entries() -> int:
    return await AuditEntry.all().count()


async def rehash_from(first: int, digest: Any, key_id: Any = "keep") -> None:
    """What an attacker does after an edit: recompute hash and prev_hash of every entry from `first` on,
    with a function of the content they can compute (no audit key)."""
    rows = await AuditEntry.filter(id__gte=first).order_by("id")
    prev = await AuditEntry.get(id=first - 1) if first > 1 else None
    prev_hash = prev.hash if prev else audit.GENESIS
    for row in rows:
        row.prev_hash = prev_hash
        if key_id != "keep":
            row.key_id = key_id
        row.hash = digest(row)
        await sql("UPDATE audit_entry SET prev_hash = ?, hash = ?, key_id = ? WHERE id = ?",
                  row.prev_hash, row.hash, row.key_id, row.id)
        prev_hash = row.hash


def plain_sha256(row: Any) -> str:
    return hashlib.sha256(audit._payload(row)).hexdigest()


@pytest.fixture
async def log(db) -> int:
    """A company's worth of audit entries, intact; returns how many."""
    await make_org()
    report = await audit.verify_chain()
    assert report.ok, report
    n = await count_entries()
    assert n >= 10 and report.checked == n
    return n


async def test_intact_chain_is_keyed_and_covers_every_column(log):
    rows = await AuditEntry.all().order_by("id")
    key_id, key = get_settings().audit_keys[-1]
    assert key_id == audit_key_id(key) and len(key_id) == 8
    assert all(r.key_id == key_id for r in rows)
    # Not the old unkeyed rule, not a plain SHA-256: the key is needed to compute it.
    for r in rows:
        assert r.hash != plain_sha256(r)
        assert r.hash == hmac.new(key, audit._payload(r), hashlib.sha256).hexdigest()
    assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]
    assert rows[0].prev_hash == audit.GENESIS


EDITS = [
    ("actor", "UPDATE audit_entry SET actor = 'mallory' WHERE id = 3"),
    ("actor_user_id", "UPDATE audit_entry SET actor_user_id = 999 WHERE id = 3"),
    ("action", "UPDATE audit_entry SET action = 'user.delete' WHERE id = 3"),
    ("object_type", "UPDATE audit_entry SET object_type = 'loan' WHERE id = 3"),
    ("object_id", "UPDATE audit_entry SET object_id = '424242' WHERE id = 3"),
    ("request_id", "UPDATE audit_entry SET request_id = 'forged-request-id' WHERE id = 3"),
    ("client_request_id", "UPDATE audit_entry SET client_request_id = 'forged' WHERE id = 3"),
    ("prev_hash", f"UPDATE audit_entry SET prev_hash = '{'a' * 64}' WHERE id = 3"),
    ("key_id", "UPDATE audit_entry SET key_id = 'deadbeef' WHERE id = 3"),
    ("unkeyed", "UPDATE audit_entry SET key_id = NULL WHERE id = 3"),
]


@pytest.mark.parametrize("column,statement", EDITS, ids=[e[0] for e in EDITS])
async def test_editing_any_column_is_named(log, column, statement):
    await sql(statement)

    report = await audit.verify_chain()

    assert (report.ok, report.first_bad_id, report.kind, report.checked) == (False, 3, "EDITED", 2)
    assert "entry 3 was edited" in english(report) and "第 3 条" in report.message
    assert await count_entries() == log


@pytest.mark.parametrize("column", ["at", "before", "after"])
async def test_editing_time_or_values_is_named(log, column):
    row = await AuditEntry.filter(after__not_isnull=True).order_by("id").offset(2).first()
    assert row is not None and row.id > 1
    if column == "at":
        await sql("UPDATE audit_entry SET at = ? WHERE id = ?", row.at + timedelta(seconds=1), row.id)
    else:
        forged = json.dumps({"amount": "1.00"})
        await sql(f"UPDATE audit_entry SET {column} = ?{'::jsonb' if IS_POSTGRES else ''} WHERE id = ?",
                  forged, row.id)
        assert getattr(await AuditEntry.get(id=row.id), column) == {"amount": "1.00"}

    report = await audit.verify_chain()

    assert (report.ok, report.first_bad_id, report.kind) == (False, row.id, "EDITED")


async def test_editing_the_last_entry_is_named(log):
    await sql("UPDATE audit_entry SET actor = 'mallory' WHERE id = ?", log)
    report = await audit.verify_chain()
    assert (report.ok, report.first_bad_id, report.kind) == (False, log, "EDITED")


async def test_missing_in_the_middle(log):
    await sql("DELETE FROM audit_entry WHERE id IN (4, 5)")

    report = await audit.verify_chain()

    assert (report.ok, report.first_bad_id, report.kind, report.checked) == (False, 4, "MISSING_MIDDLE", 3)
    assert "entries 4 to 5 are missing" in english(report)


async def test_missing_in_the_middle_and_renumbered(log):
    """Delete an entry and move the rest down to close the gap: the ids are sealed, so it shows."""
    await sql("DELETE FROM audit_entry WHERE id = 4")
    for number in range(5, log + 1):
        await sql("UPDATE audit_entry SET id = ? WHERE id = ?", number - 1, number)
    await sql("UPDATE number_sequence SET value = value - 1 WHERE name = 'audit'")

    report = await audit.verify_chain()

    assert (report.ok, report.first_bad_id, report.kind, report.checked) == (False, 4, "MISSING_MIDDLE", 3)
    assert "entry 4 was sealed as entry 5" in english(report)


async def test_missing_at_the_end_by_the_sequence(log):
    await sql("DELETE FROM audit_entry WHERE id > ?", log - 2)

    report = await audit.verify_chain()

    assert (report.ok, report.first_bad_id, report.kind, report.checked) == (False, log - 1, "MISSING_END", log - 2)
    assert f"entries {log - 1} to {log} are missing at the end" in english(report)


async def test_missing_at_the_end_by_the_anchor(log):
    """The truncation also resets the sequence: the anchored head of an earlier run still shows it."""
    assert (await audit.verify_chain(anchor=True)).ok
    await sql("DELETE FROM audit_entry WHERE id > ?", log - 2)
    await sql("UPDATE number_sequence SET value = ? WHERE name = 'audit'", log - 2)

    report = await audit.verify_chain()

    assert (report.ok, report.first_bad_id, report.kind) == (False, log - 1, "MISSING_END")
    assert f"anchored head is entry {log}" in english(report)


async def test_rewritten_suffix_with_plain_sha256_is_named(log):
    await sql("UPDATE audit_entry SET actor = 'mallory' WHERE id = 3")
    await rehash_from(3, plain_sha256)

    report = await audit.verify_chain()

    assert (report.ok, report.first_bad_id, report.kind, report.checked) == (False, 3, "REHASHED", 2)
    assert "re-hashed without the audit key" in english(report)


async def test_rewritten_suffix_with_a_wrong_key_is_named(log):
    wrong = secrets.token_bytes(32)
    await sql("UPDATE audit_entry SET action = 'nothing' WHERE id = 5")
    await rehash_from(5, lambda row: hmac.new(wrong, audit._payload(row), hashlib.sha256).hexdigest())

    report = await audit.verify_chain()

    assert (report.ok, report.first_bad_id, report.kind) == (False, 5, "REHASHED")
    assert "wrong key" in english(report)


async def test_rewritten_suffix_under_an_invented_key_id_is_named(log):
    wrong = secrets.token_bytes(32)
    await sql("UPDATE audit_entry SET actor = 'mallory' WHERE id = 5")
    await rehash_from(5, lambda row: hmac.new(wrong, audit._payload(row), hashlib.sha256).hexdigest(),
                      key_id=audit_key_id(wrong))

    report = await audit.verify_chain()

    assert (report.ok, report.first_bad_id, report.kind) == (False, 5, "REHASHED")
    assert "unknown key" in english(report)


async def test_rewritten_suffix_by_the_old_rule_is_named(log):
    """Passing entries off as written before the keyed rule: they are after the boundary."""
    await sql("UPDATE audit_entry SET actor = 'mallory' WHERE id = 4")
    await rehash_from(4, lambda r: audit.entry_hash(r.id, r.at.isoformat(), r.actor, r.action, r.object_type,
                                                    r.object_id, r.before, r.after, r.request_id, r.prev_hash),
                      key_id=None)

    report = await audit.verify_chain()

    assert (report.ok, report.first_bad_id, report.kind) == (False, 4, "REHASHED")
    assert "unkeyed after the old-rule boundary 0" in english(report)


async def test_moving_the_boundary_after_an_anchor_is_named(log):
    assert (await audit.verify_chain(anchor=True)).ok
    await rehash_from(1, lambda r: audit.entry_hash(r.id, r.at.isoformat(), r.actor, r.action, r.object_type,
                                                    r.object_id, r.before, r.after, r.request_id, r.prev_hash),
                      key_id=None)
    await Sequence.create(name=audit.BOUNDARY, value=log)

    report = await audit.verify_chain()

    assert (report.ok, report.kind) == (False, "REHASHED")
    assert "boundary moved" in english(report)


async def test_forged_anchor_is_named(log):
    assert (await audit.verify_chain(anchor=True)).ok
    await sql("UPDATE audit_anchor SET head_id = head_id - 3, count = count - 3")
    report = await audit.verify_chain()
    assert (report.ok, report.kind, report.first_bad_id) == (False, "EDITED", log - 3)
    assert "invalid signature" in english(report)


async def test_swapped_entries_are_out_of_order(log):
    await sql("UPDATE audit_entry SET id = -1 WHERE id = 3")
    await sql("UPDATE audit_entry SET id = 3 WHERE id = 4")
    await sql("UPDATE audit_entry SET id = 4 WHERE id = -1")

    report = await audit.verify_chain()

    assert (report.ok, report.first_bad_id, report.kind, report.checked) == (False, 3, "OUT_OF_ORDER", 2)
    assert "entry 3 follows entry 4" in english(report)


async def test_link_to_an_earlier_entry_is_out_of_order(log):
    first = await AuditEntry.get(id=1)
    await sql("UPDATE audit_entry SET prev_hash = ? WHERE id = 4", first.hash)

    report = await audit.verify_chain()

    assert (report.ok, report.first_bad_id, report.kind) == (False, 4, "OUT_OF_ORDER")
    assert "entry 4 follows entry 1" in english(report)


async def test_verification_anchors_only_an_intact_head(log):
    report = await audit.verify_chain(anchor=True)
    head = await AuditEntry.get(id=log)
    assert (report.head_id, report.head_hash) == (log, head.hash)
    anchor = await AuditAnchor.get()
    assert (anchor.head_id, anchor.head_hash, anchor.count, anchor.boundary_id) == (log, head.hash, log, 0)

    # New entries after an anchor keep verifying: the anchored head is still in the chain.
    await make_extra_entries(2)
    report = await audit.verify_chain(anchor=True)
    assert (report.ok, report.checked, report.head_id) == (True, log + 2, log + 2)
    assert await AuditAnchor.all().count() == 2

    await sql("DELETE FROM audit_entry WHERE id = 2")
    assert not (await audit.verify_chain(anchor=True)).ok
    assert await AuditAnchor.all().count() == 2


async def make_extra_entries(count: int) -> None:
    for number in range(count):
        await audit.record(SYSTEM, "test.extra", "test", number)


# ---------------------------------------------------------------- key rotation


async def test_rotated_key_seals_new_entries_and_old_keys_still_verify(log):
    settings = get_settings()
    old_id, old_key = settings.audit_keys[-1]
    new_key = secrets.token_bytes(32)
    rotated = dataclasses.replace(settings, audit_keys=(*settings.audit_keys, (audit_key_id(new_key), new_key)))
    override_settings(rotated)
    try:
        await make_extra_entries(3)
        assert (await audit.verify_chain()).ok
        newest = await AuditEntry.filter(id__gt=log).order_by("id")
        assert [r.key_id for r in newest] == [audit_key_id(new_key)] * 3
        assert await AuditEntry.filter(key_id=old_id).count() == log

        # The old key removed: the entries it sealed can no longer be checked, and that is reported.
        override_settings(dataclasses.replace(settings, audit_keys=((audit_key_id(new_key), new_key),)))
        report = await audit.verify_chain()
        assert (report.ok, report.first_bad_id, report.kind) == (False, 1, "REHASHED")
        assert "unknown key" in english(report)
    finally:
        override_settings(settings)


# ---------------------------------------------------------------- logs written before the keyed rule


async def write_old_rule_entries(count: int) -> list[AuditEntry]:
    """Entries as the first version wrote them: plain SHA-256, no key id, no client request id."""
    prev_hash = audit.GENESIS
    rows = []
    for number in range(1, count + 1):
        at = audit.utcnow()
        digest = audit.entry_hash(number, at.isoformat(), "admin", "old.action", "user", str(number), None,
                                  {"n": number}, f"req-{number}", prev_hash)
        rows.append(await AuditEntry.create(id=number, at=at, actor="admin", action="old.action",
                                            object_type="user", object_id=str(number), after={"n": number},
                                            request_id=f"req-{number}", prev_hash=prev_hash, hash=digest))
        prev_hash = digest
    await Sequence.create(name=audit.SEQUENCE, value=count)
    return rows


async def test_old_entries_verify_by_the_old_rule_up_to_the_boundary(db):
    old = await write_old_rule_entries(4)
    # What migration 0004 records: the last entry of the old rule.
    await Sequence.create(name=audit.BOUNDARY, value=4)
    await make_extra_entries(3)

    report = await audit.verify_chain()
    assert (report.ok, report.checked) == (True, 7)
    new = await AuditEntry.filter(id__gt=4).order_by("id")
    assert new[0].prev_hash == old[-1].hash and all(r.key_id for r in new)

    # Below the boundary, the old rule still catches edits.
    await sql("UPDATE audit_entry SET actor = 'mallory' WHERE id = 2")
    report = await audit.verify_chain()
    assert (report.ok, report.first_bad_id, report.kind) == (False, 2, "EDITED")


async def test_without_the_boundary_old_entries_are_not_accepted(db):
    await write_old_rule_entries(2)
    report = await audit.verify_chain()
    assert (report.ok, report.first_bad_id, report.kind) == (False, 1, "REHASHED")


# ---------------------------------------------------------------- writing


async def test_entries_of_one_transaction_are_written_together_at_commit(db):
    async with atomic():
        await audit.record(SYSTEM, "test.one", "test", 1)
        await audit.record(SYSTEM, "test.two", "test", 2)
        # Buffered: nothing is written (nor the head taken) until the transaction commits.
        assert await count_entries() == 0
        assert not await Sequence.filter(name="audit").exists()
    rows = await AuditEntry.all().order_by("id")
    assert [(r.id, r.action) for r in rows] == [(1, "test.one"), (2, "test.two")]
    assert (await audit.verify_chain()).ok


async def test_rolled_back_transaction_and_savepoint_leave_no_entry(db):
    with pytest.raises(RuntimeError):
        async with atomic():
            await audit.record(SYSTEM, "test.lost", "test", 1)
            raise RuntimeError("rolled back")
    assert await count_entries() == 0

    async with atomic():
        await audit.record(SYSTEM, "test.kept", "test", 1)
        with pytest.raises(RuntimeError):
            async with atomic():
                await audit.record(SYSTEM, "test.savepoint", "test", 2)
                raise RuntimeError("savepoint rolled back")
        await audit.record(SYSTEM, "test.kept", "test", 3)
    assert [r.object_id for r in await AuditEntry.all().order_by("id")] == ["1", "3"]
    assert (await audit.verify_chain()).ok


async def test_concurrent_transactions_never_fork_the_chain(db):
    import asyncio

    async def work(number: int) -> None:
        async with atomic():
            for part in range(3):
                await audit.record(SYSTEM, "test.concurrent", "test", f"{number}-{part}")

    await asyncio.gather(*(work(n) for n in range(8)))

    report = await audit.verify_chain()
    assert (report.ok, report.checked) == (True, 24)
    rows = await AuditEntry.all().order_by("id")
    # Each transaction's entries are contiguous: one reservation, one bulk insert.
    owners = [r.object_id.split("-")[0] for r in rows]
    assert all(len(set(owners[i:i + 3])) == 1 for i in range(0, 24, 3))
    assert (await Sequence.get(name="audit")).value == 24
