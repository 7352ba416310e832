"""`python main.py backup DIR` and `restore DIR`: the database, the uploads and the keys, together.

A backup is a directory:

    manifest.json        what is inside: every file's path, size and sha256; database kind; creation time
    database.sqlite3     SQLite's online backup (a consistent copy while the server runs), or
    database.pgdump      pg_dump's custom format (one transaction: a consistent snapshot)
    uploads/…            every stored file (content-addressed by sha256, so never rewritten)
    keys/secret_key      the session/CSRF signing key
    keys/audit_keys      the audit log's HMAC keys, oldest first (without them the chain cannot be verified)

Why this order is consistent: the database is copied first, the uploads after. Uploads are only ever
added (their names are their hashes), so every file the copied database refers to is already on disk
when the copy of the uploads starts; a file uploaded in between is carried along unreferenced, harmless.

The directory holds the keys: keep it where only operators can read it (it is created mode 0700).
Restoring goes into an empty deployment only (no tables in the database, no uploads): it never merges
into or overwrites live data.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from server.settings import Settings

FORMAT = "qingkuan-backup/1"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, for the operator."""


@dataclass(frozen=True)
class Result:
    path: Path
    files: int
    bytes: int
    database: str


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _sqlite_path(url: str) -> Path:
    path = url.split("://", 1)[1].split("?", 1)[0]
    return Path(path)


def _pg_url(url: str) -> str:
    """libpq's form of the database URL (Tortoise accepts asyncpg:// too; pg_dump does not)."""
    scheme, rest = url.split("://", 1)
    return "postgresql://" + rest.split("?", 1)[0] if scheme in ("postgres", "postgresql", "asyncpg") else url


def _pg_env(url: str) -> dict[str, str]:
    env = dict(os.environ)
    password = urlsplit(_pg_url(url)).password
    if password:
        env["PGPASSWORD"] = unquote(password)
    return env


def _run(args: list[str], env: dict[str, str] | None = None) -> None:
    try:
        proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=3600)
    except FileNotFoundError:
        raise BackupError(f"{args[0]} is not installed (PostgreSQL's client tools are needed)") from None
    if proc.returncode != 0:
        raise BackupError(f"{args[0]} failed: {proc.stderr.strip() or proc.stdout.strip()}")


def _keys(settings: Settings) -> tuple[str, str]:
    audit = "".join(secret.hex() + "\n" for _, secret in settings.audit_keys)
    return settings.secret_key + "\n", audit


def backup(settings: Settings, target: Path) -> Result:
    target = target.expanduser().resolve()
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty: back up into a new directory")
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    target.chmod(0o700)

    # 1. the database first (see the module's docstring for why)
    if settings.is_sqlite:
        source = _sqlite_path(settings.database_url)
        if not source.exists():
            raise BackupError(f"no database at {source}")
        db_file, kind = target / "database.sqlite3", "sqlite"
        with sqlite3.connect(source) as src, sqlite3.connect(db_file) as dst:
            src.backup(dst)  # the online backup API: a consistent copy while writers go on
        dst.close()
    else:
        db_file, kind = target / "database.pgdump", "postgresql"
        _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={db_file}",
              _pg_url(settings.database_url)], env=_pg_env(settings.database_url))

    # 2. the uploads
    uploads = settings.upload_dir
    if uploads.exists():
        shutil.copytree(uploads, target / "uploads", dirs_exist_ok=False)

    # 3. the keys
    keys = target / "keys"
    keys.mkdir(mode=0o700)
    secret_key, audit_keys = _keys(settings)
    (keys / "secret_key").write_text(secret_key)
    (keys / "audit_keys").write_text(audit_keys)
    for path in keys.iterdir():
        path.chmod(0o600)

    files = sorted(p for p in target.rglob("*") if p.is_file())
    entries = [{"path": p.relative_to(target).as_posix(), "size": p.stat().st_size, "sha256": _sha256(p)}
               for p in files]
    manifest = {"format": FORMAT, "database": kind, "createdAt": datetime.now(UTC).isoformat(timespec="seconds"),
                "files": entries}
    (target / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True))
    return Result(target, len(entries), sum(e["size"] for e in entries), kind)


def check(source: Path) -> dict[str, Any]:
    """The backup's manifest after checking every file against it; BackupError names what differs."""
    manifest_path = source / "manifest.json"
    if not manifest_path.exists():
        raise BackupError(f"{source} has no manifest.json: not a Qingkuan backup")
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    listed = {e["path"] for e in manifest["files"]}
    for entry in manifest["files"]:
        path = source / entry["path"]
        if not path.is_file():
            raise BackupError(f"{entry['path']} is missing from the backup")
        if path.stat().st_size != entry["size"] or _sha256(path) != entry["sha256"]:
            raise BackupError(f"{entry['path']} differs from the manifest (changed or damaged)")
    extra = [p.relative_to(source).as_posix() for p in source.rglob("*")
             if p.is_file() and p.name != "manifest.json" and p.relative_to(source).as_posix() not in listed]
    if extra:
        raise BackupError(f"{extra[0]} is not in the manifest")
    return manifest


def _sqlite_is_empty(path: Path) -> bool:
    if not path.exists():
        return True
    with sqlite3.connect(path) as db:
        tables = db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
    db.close()
    return tables == 0


def _pg_is_empty(url: str) -> bool:
    proc = subprocess.run(["psql", "-At", "-c",
                           "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", _pg_url(url)],
                          capture_output=True, text=True, env=_pg_env(url), timeout=60)
    if proc.returncode != 0:
        raise BackupError(f"psql failed: {proc.stderr.strip()}")
    return proc.stdout.strip() == "0"


def restore(settings: Settings, source: Path, *, audit_key_file: Path) -> Result:
    """Restore a checked backup into an empty deployment: database, uploads, then keys."""
    source = source.expanduser().resolve()
    manifest = check(source)
    kind = manifest["database"]
    if kind != ("sqlite" if settings.is_sqlite else "postgresql"):
        raise BackupError(f"the backup holds a {kind} database but DATABASE_URL is "
                          f"{'SQLite' if settings.is_sqlite else 'PostgreSQL'}")
    uploads = settings.upload_dir
    if uploads.exists() and any(uploads.iterdir()):
        raise BackupError(f"{uploads} is not empty: restore into an empty deployment")

    if kind == "sqlite":
        target = _sqlite_path(settings.database_url)
        if not _sqlite_is_empty(target):
            raise BackupError(f"{target} already holds a database: restore into an empty deployment")
        target.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(source / "database.sqlite3") as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        dst.close()
    else:
        if not _pg_is_empty(settings.database_url):
            raise BackupError("the database named by DATABASE_URL is not empty: restore into an empty database")
        _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
              f"--dbname={_pg_url(settings.database_url)}", str(source / "database.pgdump")],
             env=_pg_env(settings.database_url))

    if (source / "uploads").exists():
        shutil.copytree(source / "uploads", uploads, dirs_exist_ok=True)

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    secret_file = settings.data_dir / "secret_key"
    if not os.environ.get("SECRET_KEY"):
        secret_file.write_text((source / "keys" / "secret_key").read_text().strip())
        secret_file.chmod(0o600)
    if not os.environ.get("AUDIT_KEY"):
        audit_key_file.parent.mkdir(parents=True, exist_ok=True)
        audit_key_file.write_text((source / "keys" / "audit_keys").read_text())
        audit_key_file.chmod(0o600)
    return Result(source, len(manifest["files"]), sum(e["size"] for e in manifest["files"]), kind)
