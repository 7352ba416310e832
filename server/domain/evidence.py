"""Evidence packages (证据包): the manifest and its verification, over bytes and hashes only.

A package is a ZIP holding the employee's original files, `records.json`, `audit.jsonl` (the audit
entries of the employee's objects), `audit-links.tsv` (the chain links from the first of those
entries to the anchored head), the summary PDF(s) and `manifest.json`, which lists every other file
with its size and sha256, plus the creation time, the creator and the audit head covered. An
optional `manifest.tsr` is an RFC 3161 token over manifest.json.

Nothing here reads a database or a file: the caller hashes what it holds and passes the results,
and the checks that need a key (audit seals, the anchor's signature) or a certificate (the
timestamp token) are passed in as functions.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from server.domain.messages import Message, _m

FORMAT = "qingkuan-evidence/1"
MANIFEST = "manifest.json"
TIMESTAMP = "manifest.tsr"
RECORDS = "records.json"
AUDIT = "audit.jsonl"
LINKS = "audit-links.tsv"
SUMMARY = "证据摘要.pdf"
LOAN_SUMMARIES = "证据摘要-借款"
LOAN_FILES = "借款"
REIMBURSEMENT_FILES = "报销"
# Not listed in the manifest: the manifest itself and the token over it.
UNLISTED = frozenset({MANIFEST, TIMESTAMP})
GENESIS = "0" * 64

# What a verification found wrong, as a code (for tests and clients) with a message naming it.
MANIFEST_MISSING = "MANIFEST_MISSING"
MANIFEST_INVALID = "MANIFEST_INVALID"
FILE_MISSING = "FILE_MISSING"
FILE_CHANGED = "FILE_CHANGED"
FILE_UNLISTED = "FILE_UNLISTED"
AUDIT_LINE_CHANGED = "AUDIT_LINE_CHANGED"
AUDIT_LINE_MISSING = "AUDIT_LINE_MISSING"
AUDIT_LINE_ADDED = "AUDIT_LINE_ADDED"
AUDIT_SEAL_INVALID = "AUDIT_SEAL_INVALID"
AUDIT_CHAIN_BROKEN = "AUDIT_CHAIN_BROKEN"
AUDIT_HEAD_MISMATCH = "AUDIT_HEAD_MISMATCH"
ANCHOR_INVALID = "ANCHOR_INVALID"
TIMESTAMP_INVALID = "TIMESTAMP_INVALID"


def canonical_json(value: Any, *, pretty: bool = False) -> bytes:
    """Stable bytes for the same data: sorted keys, UTF-8, no float formatting surprises (no floats)."""
    if pretty:
        return (json.dumps(value, sort_keys=True, ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_UNSAFE = re.compile(r"[\x00-\x1f/\\:*?\"<>|]+")


def safe_name(name: str) -> str:
    """A path segment that cannot climb out of its folder nor confuse an unzipper."""
    cleaned = _UNSAFE.sub("_", name).strip(" .") or "file"
    return cleaned[:180]


def original_path(folder: str, number: str, position: int, filename: str) -> str:
    """Where an original file sits, e.g. `借款/JK-2026-000001/01-合同.pdf`; the position keeps equal names apart."""
    return f"{folder}/{safe_name(number)}/{position:02d}-{safe_name(filename)}"


@dataclass(frozen=True)
class FileEntry:
    path: str
    size: int
    sha256: str

    def as_json(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "sha256": self.sha256}


def audit_line(entry: Mapping[str, Any]) -> bytes:
    """One line of audit.jsonl (without the newline): the entry's columns, canonical."""
    return canonical_json(dict(entry))


def link_line(entry_id: int, prev_hash: str, entry_hash: str) -> str:
    return f"{entry_id}\t{prev_hash}\t{entry_hash}\n"


def build_manifest(
    files: Iterable[FileEntry], *, created_at: str, creator: Mapping[str, Any], employee: Mapping[str, Any],
    system: Mapping[str, Any], audit_head: Mapping[str, Any], audit_lines: Mapping[int, str],
) -> dict[str, Any]:
    """The manifest: every file (sorted by path), who made the package and when, the audit head covered,
    and each audit line's sha256 by entry id (so a verifier names the edited entry)."""
    listed = sorted(files, key=lambda f: f.path)
    paths = [f.path for f in listed]
    if len(set(paths)) != len(paths):
        raise ValueError("duplicate path in the package")
    if UNLISTED & set(paths):
        raise ValueError("the manifest cannot list itself")
    return {
        "format": FORMAT,
        "createdAt": created_at,
        "createdBy": dict(creator),
        "system": dict(system),
        "employee": dict(employee),
        "auditHead": dict(audit_head),
        "auditLines": {str(k): v for k, v in sorted(audit_lines.items())},
        "files": [f.as_json() for f in listed],
    }


# ---------------------------------------------------------------- verification


@dataclass(frozen=True)
class Problem:
    code: str
    message: Message
    subject: str | None = None  # the path or the audit entry id it is about

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "subject": self.subject, "message": self.message.to_json()}


@dataclass
class Verdict:
    problems: list[Problem] = field(default_factory=list)
    checked_files: int = 0
    checked_entries: int = 0
    seals_checked: bool = False
    timestamp: str | None = None  # when a token is present and valid: the authority's time
    notes: list[Message] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, code: str, message: Message, subject: Any = None) -> None:
        self.problems.append(Problem(code, message, None if subject is None else str(subject)))

    @property
    def codes(self) -> list[str]:
        return [p.code for p in self.problems]


# Given the manifest bytes and the token: None when it verifies, else what is wrong; the time it names;
# and a note on what could not be checked (no authority certificate at hand).
TimestampCheck = Callable[[bytes, bytes], tuple[Message | None, str | None, Message | None]]
# Given an audit entry (parsed line): None when its seal verifies, else what is wrong.
SealCheck = Callable[[Mapping[str, Any]], Message | None]
# Given the manifest's auditHead: None when the anchor's signature verifies.
AnchorCheck = Callable[[Mapping[str, Any]], Message | None]


def parse_manifest(data: bytes | None, verdict: Verdict) -> dict[str, Any] | None:
    if data is None:
        verdict.add(MANIFEST_MISSING, _m("证据包中没有 %(file)s", file=MANIFEST), MANIFEST)
        return None
    try:
        manifest = json.loads(data.decode("utf-8"))
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not isinstance(
                manifest.get("files"), list):
            raise ValueError
        for item in manifest["files"]:
            if not isinstance(item, dict) or not {"path", "size", "sha256"} <= set(item):
                raise ValueError
    except (ValueError, UnicodeDecodeError):
        verdict.add(MANIFEST_INVALID, _m("%(file)s 不是有效的证据包清单", file=MANIFEST), MANIFEST)
        return None
    return manifest


def check_files(manifest: Mapping[str, Any], actual: Mapping[str, FileEntry], verdict: Verdict) -> None:
    """Every listed file present with its size and hash; nothing present that is not listed."""
    listed = {str(item["path"]): item for item in manifest["files"]}
    for path, item in sorted(listed.items()):
        found = actual.get(path)
        if found is None:
            verdict.add(FILE_MISSING, _m("文件缺失：%(path)s", path=path), path)
        elif found.sha256 != item["sha256"] or found.size != int(item["size"]):
            verdict.add(FILE_CHANGED, _m("文件被改动：%(path)s（SHA-256 与清单不符）", path=path), path)
        else:
            verdict.checked_files += 1
    for path in sorted(set(actual) - set(listed) - UNLISTED):
        verdict.add(FILE_UNLISTED, _m("清单中没有的文件：%(path)s", path=path), path)


def _parse_links(text: str) -> list[tuple[int, str, str]] | None:
    links = []
    for line in text.splitlines():
        if not line:
            continue
        parts = line.split("\t")
        if len(parts) != 3 or not parts[0].isdigit():
            return None
        links.append((int(parts[0]), parts[1], parts[2]))
    return links


def check_audit(
    manifest: Mapping[str, Any], audit_text: str | None, links_text: str | None, verdict: Verdict,
    seal_check: SealCheck | None = None, anchor_check: AnchorCheck | None = None,
) -> None:
    """The audit excerpt: each line as the manifest recorded it, sealed (when the key is at hand), and
    linked entry by entry to the anchored head named in the manifest."""
    expected_lines: dict[str, str] = dict(manifest.get("auditLines") or {})
    head = manifest.get("auditHead") or {}
    entries: dict[int, dict[str, Any]] = {}
    if audit_text is None:
        if expected_lines:
            verdict.add(FILE_MISSING, _m("文件缺失：%(path)s", path=AUDIT), AUDIT)
        return
    for raw in audit_text.split("\n"):
        if not raw:
            continue
        try:
            entry = json.loads(raw)
            entry_id = int(entry["id"])
        except (ValueError, KeyError, TypeError):
            verdict.add(AUDIT_LINE_CHANGED, _m("审计记录中有无法解析的一行"), AUDIT)
            continue
        entries[entry_id] = entry
        wanted = expected_lines.get(str(entry_id))
        if wanted is None:
            verdict.add(AUDIT_LINE_ADDED, _m("审计记录第 %(entry)s 条不在清单中", entry=entry_id), entry_id)
        elif sha256_hex(raw.encode("utf-8")) != wanted:
            verdict.add(AUDIT_LINE_CHANGED, _m("审计记录第 %(entry)s 条被改动", entry=entry_id), entry_id)
        if seal_check is not None:
            problem = seal_check(entry)
            if problem is not None:
                verdict.add(AUDIT_SEAL_INVALID, _m("审计记录第 %(entry)s 条的签封无效：%(detail)s", entry=entry_id,
                                                   detail=problem), entry_id)
    for missing in sorted(set(int(k) for k in expected_lines) - set(entries)):
        verdict.add(AUDIT_LINE_MISSING, _m("审计记录第 %(entry)s 条缺失", entry=missing), missing)
    verdict.seals_checked = seal_check is not None
    verdict.checked_entries = len(entries)
    if not entries:
        return
    _check_links(head, entries, links_text, verdict)
    if anchor_check is not None and head:
        problem = anchor_check(head)
        if problem is not None:
            verdict.add(ANCHOR_INVALID, problem, head.get("id"))


def _check_links(head: Mapping[str, Any], entries: Mapping[int, Mapping[str, Any]], links_text: str | None,
                 verdict: Verdict) -> None:
    if links_text is None:
        verdict.add(FILE_MISSING, _m("文件缺失：%(path)s", path=LINKS), LINKS)
        return
    links = _parse_links(links_text)
    if links is None or not links:
        verdict.add(AUDIT_CHAIN_BROKEN, _m("审计链接文件无法解析"), LINKS)
        return
    by_id: dict[int, tuple[str, str]] = {}
    previous: tuple[int, str, str] | None = None
    for link in links:
        entry_id, prev_hash, entry_hash = link
        if previous is not None and (entry_id != previous[0] + 1 or prev_hash != previous[2]):
            verdict.add(AUDIT_CHAIN_BROKEN, _m("审计链在第 %(entry)s 条处断开", entry=entry_id), entry_id)
            return
        by_id[entry_id] = (prev_hash, entry_hash)
        previous = link
    assert previous is not None
    if previous[0] != int(head.get("id", -1)) or previous[2] != head.get("hash"):
        verdict.add(AUDIT_HEAD_MISMATCH, _m("审计链没有通到清单记录的锚定链头（第 %(entry)s 条）", entry=head.get("id")),
                    head.get("id"))
    for entry_id, entry in sorted(entries.items()):
        link_found = by_id.get(entry_id)
        if link_found is None or link_found != (entry.get("prevHash"), entry.get("hash")):
            verdict.add(AUDIT_CHAIN_BROKEN, _m("审计记录第 %(entry)s 条不在审计链上", entry=entry_id), entry_id)


def check_timestamp(manifest_bytes: bytes, token: bytes | None, verdict: Verdict,
                    timestamp_check: TimestampCheck | None) -> None:
    if token is None:
        return
    if timestamp_check is None:
        verdict.notes.append(_m("有时间戳令牌，但未验证"))
        return
    problem, when, note = timestamp_check(manifest_bytes, token)
    if note is not None:
        verdict.notes.append(note)
    if problem is not None:
        verdict.add(TIMESTAMP_INVALID, _m("时间戳令牌无效：%(detail)s", detail=problem), TIMESTAMP)
    else:
        verdict.timestamp = when


def verify(
    files: Mapping[str, bytes | None], actual: Mapping[str, FileEntry], *,
    seal_check: SealCheck | None = None, anchor_check: AnchorCheck | None = None,
    timestamp_check: TimestampCheck | None = None,
) -> Verdict:
    """The whole check. `files` holds the small files by name (manifest, token, audit, links; None when
    absent); `actual` every file of the package with the size and sha256 the caller measured."""
    verdict = Verdict()
    manifest_bytes = files.get(MANIFEST)
    manifest = parse_manifest(manifest_bytes, verdict)
    if manifest is None or manifest_bytes is None:
        return verdict
    check_files(manifest, actual, verdict)
    audit_bytes, links_bytes = files.get(AUDIT), files.get(LINKS)
    check_audit(manifest, None if audit_bytes is None else audit_bytes.decode("utf-8", "replace"),
                None if links_bytes is None else links_bytes.decode("utf-8", "replace"), verdict,
                seal_check, anchor_check)
    check_timestamp(manifest_bytes, files.get(TIMESTAMP), verdict, timestamp_check)
    if seal_check is None:
        verdict.notes.append(_m("没有审计密钥：未重新计算审计记录的签封，只核对了清单中的哈希和链接"))
    return verdict
