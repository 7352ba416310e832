"""main.py's commands, run as an operator would, each on a fresh DATA_DIR (SQLite by default)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from server.settings import ROOT
from tests.e2e.test_server import clean_env


def run(data_dir: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, env=clean_env(DATA_DIR=str(data_dir)),
                          input=stdin, capture_output=True, text=True, timeout=120)


def test_help_explains_every_command(tmp_path: Path):
    proc = run(tmp_path, "--help")
    assert proc.returncode == 0
    for command in ("serve", "worker", "migrate", "seed-demo", "create-admin", "verify-audit", "rotate-audit-key",
                    "backup", "restore",
                    "--port", "--host",
                    "--no-demo"):
        assert command in proc.stdout


def test_migrate_create_admin_and_verify_audit(tmp_path: Path):
    proc = run(tmp_path, "migrate")
    assert proc.returncode == 0, proc.stderr
    assert "migrations applied" in proc.stdout
    assert (tmp_path / "qingkuan.sqlite3").exists()

    proc = run(tmp_path, "create-admin", "--username", "boss", "--password", "boss-pass-123")
    assert proc.returncode == 0, proc.stderr
    assert "boss" in proc.stdout
    # No --password and no terminal: the password is read from standard input.
    proc = run(tmp_path, "create-admin", "--username", "ops", stdin="ops-pass-1234\n")
    assert proc.returncode == 0, proc.stderr
    proc = run(tmp_path, "create-admin", "--username", "weak", "--password", "short")
    assert proc.returncode == 1
    assert proc.stderr.strip() and "Traceback" not in proc.stderr
    # the password policy: common passwords and the username itself are refused too
    for weak in ("1234567890", "woaini1314", "weakling99"):
        proc = run(tmp_path, "create-admin", "--username", "weakling99", "--password", weak)
        assert proc.returncode == 1, weak
        problems = [line for line in proc.stderr.splitlines() if line.startswith("qingkuan:")]
        assert len(problems) == 1 and "Traceback" not in proc.stderr

    with sqlite3.connect(tmp_path / "qingkuan.sqlite3") as db:
        users = {row[0]: row[1] for row in db.execute("SELECT username, roles FROM app_user")}
        entries = db.execute("SELECT COUNT(*) FROM audit_entry").fetchone()[0]
    assert set(users) == {"boss", "ops"}
    assert "ADMIN" in users["boss"]
    assert entries == 2

    proc = run(tmp_path, "verify-audit")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("OK: 2 audit entries")
    with sqlite3.connect(tmp_path / "qingkuan.sqlite3") as db:
        head = db.execute("SELECT hash FROM audit_entry WHERE id = 2").fetchone()[0]
        anchors = db.execute("SELECT head_id, head_hash FROM audit_anchor").fetchall()
    assert f"head #2 {head} (anchored)" in proc.stdout
    assert anchors == [(2, head)]

    # A new key seals what comes after it; the old one still verifies the first two entries.
    proc = run(tmp_path, "rotate-audit-key")
    assert proc.returncode == 0, proc.stderr
    assert len((tmp_path / "audit_key").read_text().split()) == 2
    proc = run(tmp_path, "create-admin", "--username", "boss", "--password", "boss-pass-456")
    assert proc.returncode == 0, proc.stderr
    proc = run(tmp_path, "verify-audit")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("OK: 3 audit entries")
    with sqlite3.connect(tmp_path / "qingkuan.sqlite3") as db:
        key_ids = [row[0] for row in db.execute("SELECT key_id FROM audit_entry ORDER BY id")]
    assert key_ids[0] == key_ids[1] != key_ids[2]

    with sqlite3.connect(tmp_path / "qingkuan.sqlite3") as db:
        actor = db.execute("SELECT actor FROM audit_entry WHERE id = 2").fetchone()[0]
        db.execute("UPDATE audit_entry SET actor = 'nobody' WHERE id = 2")
    proc = run(tmp_path, "verify-audit")
    assert proc.returncode == 1
    assert proc.stdout.startswith("BROKEN: audit entry #2: EDITED")

    with sqlite3.connect(tmp_path / "qingkuan.sqlite3") as db:
        db.execute("UPDATE audit_entry SET actor = ? WHERE id = 2", (actor,))
        db.execute("DELETE FROM audit_entry WHERE id = 3")
    proc = run(tmp_path, "verify-audit")
    assert proc.returncode == 1
    assert proc.stdout.startswith("BROKEN: audit entry #3: MISSING_END")


def test_seed_demo_loads_once(tmp_path: Path):
    proc = run(tmp_path, "seed-demo")
    assert proc.returncode == 0, proc.stderr
    assert "demo data loaded" in proc.stdout
    with sqlite3.connect(tmp_path / "qingkuan.sqlite3") as db:
        employees = db.execute("SELECT COUNT(*) FROM employee").fetchone()[0]
    assert employees >= 10

    proc = run(tmp_path, "seed-demo")
    assert proc.returncode == 0, proc.stderr
    assert "already present" in proc.stdout
    with sqlite3.connect(tmp_path / "qingkuan.sqlite3") as db:
        assert db.execute("SELECT COUNT(*) FROM employee").fetchone()[0] == employees


def test_a_bad_admin_password_stops_start_up_with_one_line(tmp_path: Path):
    env = clean_env(DATA_DIR=str(tmp_path), ADMIN_PASSWORD="1234567890")
    proc = subprocess.run([sys.executable, "main.py", "migrate"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.startswith("qingkuan: configuration error: ADMIN_PASSWORD") and proc.stderr.count("\n") == 1
    assert "too common" in proc.stderr
