"""The evidence package's manifest and its verification, over bytes and hashes (no database, no ZIP)."""

from __future__ import annotations

import json

import pytest

from server.domain import evidence as ev
from server.domain.messages import _m


def _entry(entry_id: int, prev: str, action: str = "loan.apply") -> dict:
    return {"id": entry_id, "action": action, "prevHash": prev, "hash": f"{entry_id:064x}"}


def package(**override) -> tuple[dict[str, bytes | None], dict[str, ev.FileEntry]]:
    """A small valid package: two files, audit entries 2 and 4 of a chain 1..5 whose head is 5."""
    files = {"records.json": b"{}", "借款/JK-1/01-合同.pdf": b"%PDF contract"}
    chain = [_entry(1, ev.GENESIS)]
    for i in range(2, 6):
        chain.append(_entry(i, chain[-1]["hash"]))
    excerpt = [chain[1], chain[3]]
    audit = b"".join(ev.audit_line(e) + b"\n" for e in excerpt)
    links = "".join(ev.link_line(e["id"], e["prevHash"], e["hash"]) for e in chain[1:]).encode()
    files[ev.AUDIT], files[ev.LINKS] = audit, links
    entries = [ev.FileEntry(p, len(d), ev.sha256_hex(d)) for p, d in files.items()]
    manifest = ev.build_manifest(
        entries, created_at="2026-12-01T00:00:00+00:00", creator={"username": "finance"}, employee={"id": 1},
        system={"name": "test"}, audit_head={"id": 5, "hash": chain[-1]["hash"]},
        audit_lines={e["id"]: ev.sha256_hex(ev.audit_line(e)) for e in excerpt})
    files.update(override)
    files[ev.MANIFEST] = override.get(ev.MANIFEST, ev.canonical_json(manifest, pretty=True))
    present = {p: d for p, d in files.items() if d is not None}
    actual = {p: ev.FileEntry(p, len(d), ev.sha256_hex(d)) for p, d in present.items()}
    small = {name: files.get(name) for name in (ev.MANIFEST, ev.TIMESTAMP, ev.AUDIT, ev.LINKS)}
    return small, actual


def test_a_whole_package_verifies():
    verdict = ev.verify(*package())
    assert verdict.ok and verdict.checked_files == 4 and verdict.checked_entries == 2
    assert not verdict.seals_checked and verdict.notes  # no key given: said so


@pytest.mark.parametrize(("change", "codes", "subject"), [
    ({"借款/JK-1/01-合同.pdf": b"%PDF forged"}, ["FILE_CHANGED"], "借款/JK-1/01-合同.pdf"),
    ({"借款/JK-1/01-合同.pdf": None}, ["FILE_MISSING"], "借款/JK-1/01-合同.pdf"),
    ({"extra.txt": b"x"}, ["FILE_UNLISTED"], "extra.txt"),
    ({ev.MANIFEST: None}, ["MANIFEST_MISSING"], ev.MANIFEST),
    ({ev.MANIFEST: b"not json"}, ["MANIFEST_INVALID"], ev.MANIFEST),
])
def test_each_change_is_named(change, codes, subject):
    verdict = ev.verify(*package(**change))
    assert verdict.codes == codes and verdict.problems[0].subject == subject


def test_an_edited_audit_line_is_named_by_its_entry():
    small, actual = package()
    lines = small[ev.AUDIT].decode().splitlines()
    edited = json.loads(lines[1])
    edited["action"] = "loan.cancel"
    tampered = (lines[0] + "\n" + json.dumps(edited) + "\n").encode()
    verdict = ev.verify(*package(**{ev.AUDIT: tampered}))
    assert verdict.codes == ["FILE_CHANGED", "AUDIT_LINE_CHANGED"]
    assert [p.subject for p in verdict.problems] == [ev.AUDIT, "4"]


def test_a_removed_audit_line_and_a_broken_link_are_named():
    small, _ = package()
    first_only = small[ev.AUDIT].decode().splitlines()[0].encode() + b"\n"
    verdict = ev.verify(*package(**{ev.AUDIT: first_only}))
    assert "AUDIT_LINE_MISSING" in verdict.codes and verdict.problems[-1].subject == "4"
    links = small[ev.LINKS].decode().splitlines()
    del links[1]  # entry 3's link: 2 → 4 no longer chains
    verdict = ev.verify(*package(**{ev.LINKS: ("\n".join(links) + "\n").encode()}))
    assert "AUDIT_CHAIN_BROKEN" in verdict.codes
    assert next(p for p in verdict.problems if p.code == "AUDIT_CHAIN_BROKEN").subject == "4"


def test_links_must_reach_the_head_and_the_seal_and_timestamp_checks_are_used():
    small, _ = package()
    short = "".join(small[ev.LINKS].decode().splitlines(keepends=True)[:-1]).encode()
    assert "AUDIT_HEAD_MISMATCH" in ev.verify(*package(**{ev.LINKS: short})).codes
    verdict = ev.verify(*package(), seal_check=lambda e: _m("内容与其签封不符") if e["id"] == 2 else None)
    assert verdict.codes == ["AUDIT_SEAL_INVALID"] and verdict.problems[0].subject == "2" and verdict.seals_checked
    stamped = ev.verify(*package(**{ev.TIMESTAMP: b"token"}),
                        timestamp_check=lambda manifest, token: (_m("无法解析"), None, None))
    assert stamped.codes == ["TIMESTAMP_INVALID"]
    good = ev.verify(*package(**{ev.TIMESTAMP: b"token"}),
                     timestamp_check=lambda manifest, token: (None, "2026-12-01T00:00:00+00:00", None))
    assert good.ok and good.timestamp


def test_manifest_rules():
    entry = ev.FileEntry("a", 1, "0" * 64)
    with pytest.raises(ValueError):
        ev.build_manifest([entry, entry], created_at="", creator={}, employee={}, system={}, audit_head={},
                          audit_lines={})
    with pytest.raises(ValueError):
        ev.build_manifest([ev.FileEntry(ev.MANIFEST, 1, "0" * 64)], created_at="", creator={}, employee={},
                          system={}, audit_head={}, audit_lines={})
    assert ev.original_path("借款", "JK/../x", 3, "../../etc/passwd") == "借款/JK_.._x/03-_.._etc_passwd"
    assert ev.canonical_json({"b": 1, "a": "中"}) == '{"a":"中","b":1}'.encode()
