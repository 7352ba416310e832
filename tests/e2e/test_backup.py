"""`backup DIR` then `restore DIR` into an empty deployment: the audit chain verifies and every file is identical.

Run as an operator would (main.py in a subprocess), on SQLite, and on PostgreSQL when the suite runs on it
(TEST_DATABASE_URL): the restore goes into a second, empty database.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from server.settings import ROOT
from tests.e2e.test_server import clean_env

PG = os.environ.get("TEST_DATABASE_URL", "")


def _pg_db(name: str) -> str:
    base = PG.rsplit("/", 1)[0]
    admin = f"{base}/postgres".replace("postgres://", "postgresql://", 1)
    for sql in (f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'):
        subprocess.run(["psql", "-q", "-c", sql, admin], check=True, capture_output=True)
    return f"{base}/{name}"


def _deployment(tmp_path: Path, name: str) -> dict[str, str]:
    env = {"DATA_DIR": str(tmp_path / name), "PASSWORD_HASH_COST": "test", "DEMO_DATA": "0"}
    if PG:
        env["DATABASE_URL"] = _pg_db(f"{PG.rsplit('/', 1)[1]}_{name}")
    return env


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, env=clean_env(**env),
                          capture_output=True, text=True, timeout=300)


def _files(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*") if p.is_file()}


def _counts(env: dict[str, str]) -> dict[str, int]:
    tables = ("app_user", "employee", "loan", "ledger_entry", "reimbursement", "attachment", "audit_entry")
    if "DATABASE_URL" in env:
        url = env["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
        out = {}
        for table in tables:
            proc = subprocess.run(["psql", "-At", "-c", f"SELECT count(*) FROM {table}", url],
                                  capture_output=True, text=True, check=True)
            out[table] = int(proc.stdout)
        return out
    with sqlite3.connect(Path(env["DATA_DIR"]) / "qingkuan.sqlite3") as db:
        return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


def test_backup_and_restore_into_an_empty_deployment(tmp_path: Path):
    source = _deployment(tmp_path, "src")
    proc = run(source, "seed-demo")
    assert proc.returncode == 0, proc.stderr
    uploads = _files(Path(source["DATA_DIR"]) / "uploads")
    assert len(uploads) >= 3, "the demo company stores vouchers: the backup must carry files"

    proc = run(source, "backup", str(tmp_path / "bk"))
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text())
    assert manifest["database"] == ("postgresql" if PG else "sqlite")
    assert {e["path"] for e in manifest["files"]} >= {"keys/secret_key", "keys/audit_keys"}
    assert oct((tmp_path / "bk").stat().st_mode & 0o777) == "0o700"
    # A second backup into the same directory is refused rather than mixed in.
    assert run(source, "backup", str(tmp_path / "bk")).returncode == 1

    target = _deployment(tmp_path, "dst")
    proc = run(target, "restore", str(tmp_path / "bk"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "OK:" in proc.stdout and "hash chain intact" in proc.stdout

    assert _files(Path(target["DATA_DIR"]) / "uploads") == uploads
    assert _counts(target) == _counts(source)
    assert (Path(target["DATA_DIR"]) / "audit_key").read_text().split() == \
        (Path(source["DATA_DIR"]) / "audit_key").read_text().split()
    proc = run(target, "verify-audit")
    assert proc.returncode == 0 and proc.stdout.startswith("OK:"), proc.stdout + proc.stderr

    # Restoring again over the now-filled deployment is refused: restore never merges into live data.
    proc = run(target, "restore", str(tmp_path / "bk"))
    assert proc.returncode == 1 and "empty" in proc.stderr


def test_a_damaged_backup_is_refused_naming_the_file(tmp_path: Path):
    source = _deployment(tmp_path, "src2")
    assert run(source, "seed-demo").returncode == 0
    assert run(source, "backup", str(tmp_path / "bk")).returncode == 0
    manifest = json.loads((tmp_path / "bk" / "manifest.json").read_text())
    upload = next(e["path"] for e in manifest["files"] if e["path"].startswith("uploads/"))
    damaged = tmp_path / "bk" / upload
    damaged.write_bytes(damaged.read_bytes() + b"x")

    target = _deployment(tmp_path, "dst2")
    proc = run(target, "restore", str(tmp_path / "bk"))
    assert proc.returncode == 1
    assert upload in proc.stderr and "differs" in proc.stderr
    assert not (Path(target["DATA_DIR"]) / "uploads").exists(), "nothing is restored from a damaged backup"

    (tmp_path / "bk" / upload).unlink()
    proc = run(target, "restore", str(tmp_path / "bk"))
    assert proc.returncode == 1 and upload in proc.stderr and "missing" in proc.stderr
