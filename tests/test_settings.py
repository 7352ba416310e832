"""Every setting: its default on one laptop, a good value, and a bad value naming its variable."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from server.settings import SettingsError, load_settings


def env(tmp_path: Path, **values: str) -> dict[str, str]:
    return {"DATA_DIR": str(tmp_path), **values}


def test_defaults_run_on_one_laptop(tmp_path: Path):
    s = load_settings(env(tmp_path))
    assert s.data_dir == tmp_path
    assert s.database_url == f"sqlite://{tmp_path / 'qingkuan.sqlite3'}" and s.is_sqlite
    assert s.redis_url is None and s.embedded_redis
    assert s.admin_username == "admin" and s.admin_password is None
    assert s.timezone == "Asia/Shanghai" and str(s.tz) == "Asia/Shanghai"
    assert s.debug is False and s.demo is True
    assert s.max_upload_bytes == 10 * 1024 * 1024
    assert s.session_days == 7
    assert s.job_queue == "arq:queue"
    assert s.upload_dir == tmp_path / "uploads"


def test_secret_key_is_generated_once_and_kept_private(tmp_path: Path):
    first = load_settings(env(tmp_path)).secret_key
    key_file = tmp_path / "secret_key"
    assert len(first) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_settings(env(tmp_path)).secret_key == first
    assert load_settings(env(tmp_path, SECRET_KEY="x" * 16)).secret_key == "x" * 16


def test_good_values(tmp_path: Path):
    s = load_settings(env(
        tmp_path, DATABASE_URL="postgresql://qk:pw@db:5432/qingkuan", REDIS_URL="redis://cache:6379/2",
        ADMIN_USERNAME="root", ADMIN_PASSWORD="long-enough", TIMEZONE="Europe/Berlin", DEBUG="yes",
        DEMO_DATA="off", MAX_UPLOAD_MB="3", SESSION_DAYS="30", JOB_QUEUE="qingkuan:jobs",
        DB_POOL_SIZE="4", GC_FREEZE="0",
    ))
    assert s.database_url == "postgres://qk:pw@db:5432/qingkuan" and not s.is_sqlite
    assert s.redis_url == "redis://cache:6379/2" and not s.embedded_redis
    assert (s.admin_username, s.admin_password) == ("root", "long-enough")
    assert s.timezone == "Europe/Berlin"
    assert s.debug is True and s.demo is False
    assert s.max_upload_bytes == 3 * 1024 * 1024
    assert s.session_days == 30
    assert s.job_queue == "qingkuan:jobs"
    # DB_POOL_SIZE bounds the asyncpg pool of each process.
    assert s.db_pool_size == 4 and s.gc_freeze is False
    assert s.tortoise_config()["connections"]["default"] == s.database_url + "?minsize=1&maxsize=4"


def test_sqlite_url_is_kept(tmp_path: Path):
    url = f"sqlite://{tmp_path / 'other.db'}"
    assert load_settings(env(tmp_path, DATABASE_URL=url)).database_url == url


@pytest.mark.parametrize(("var", "value"), [
    ("DATABASE_URL", "mysql://root@localhost/qk"),
    ("DATABASE_URL", "just-a-path.db"),
    ("REDIS_URL", "localhost:6379"),
    ("SECRET_KEY", "short"),
    ("ADMIN_PASSWORD", "1234567"),
    ("ADMIN_PASSWORD", "short-9ch"),
    ("ADMIN_PASSWORD", "1234567890"),
    ("ADMIN_PASSWORD", "woaini1314"),
    ("TOKEN_DAYS", "0"),
    ("TRUSTED_PROXIES", "10.0.0.0/8, proxy.local"),
    ("TIMEZONE", "Mars/Base"),
    ("DEBUG", "maybe"),
    ("DEMO_DATA", "sometimes"),
    ("MAX_UPLOAD_MB", "ten"),
    ("MAX_UPLOAD_MB", "0"),
    ("SESSION_DAYS", "-1"),
    ("JOB_QUEUE", "has space"),
    ("AUDIT_KEY", "too-short-for-an-audit-key"),
    ("AUDIT_KEY", "a" * 40),
    ("AUDIT_OLD_KEYS", "short"),
    ("DB_POOL_SIZE", "0"),
    ("GC_FREEZE", "perhaps"),
])
def test_bad_value_names_its_variable(tmp_path: Path, var: str, value: str):
    with pytest.raises(SettingsError) as raised:
        load_settings(env(tmp_path, **{var: value}))
    message = str(raised.value)
    assert message.startswith(var)
    assert "\n" not in message


def test_data_dir_that_cannot_be_created(tmp_path: Path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(SettingsError, match="^DATA_DIR="):
        load_settings({"DATA_DIR": str(blocker / "data")})


def test_token_days_and_trusted_proxies(tmp_path: Path):
    s = load_settings(env(tmp_path))
    assert s.token_days == 30 and s.trusted_proxies == ()
    s = load_settings(env(tmp_path, TOKEN_DAYS="7", TRUSTED_PROXIES=" 10.0.0.0/8 , 192.168.1.5,::1"))
    assert s.token_days == 7
    assert s.trusted_proxies == ("10.0.0.0/8", "192.168.1.5/32", "::1/128")


def test_admin_password_may_not_be_the_username(tmp_path: Path):
    with pytest.raises(SettingsError, match="^ADMIN_PASSWORD.*username"):
        load_settings(env(tmp_path, ADMIN_USERNAME="administrator1", ADMIN_PASSWORD="administrator1"))
    assert load_settings(env(tmp_path, ADMIN_PASSWORD="Bell-Tower-2026!")).admin_password == "Bell-Tower-2026!"
def test_audit_key_is_its_own_generated_once_and_kept_private(tmp_path: Path):
    from server.settings import audit_key_id

    first = load_settings(env(tmp_path)).audit_keys
    key_file = tmp_path / "audit_key"
    assert len(first) == 1 and len(first[0][1]) == 32 and first[0][0] == audit_key_id(first[0][1])
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert load_settings(env(tmp_path)).audit_keys == first
    # Not derived from SECRET_KEY: changing that one leaves the audit key alone.
    assert load_settings(env(tmp_path, SECRET_KEY="another-secret-key-1234")).audit_keys == first


def test_audit_keys_rotate_newest_seals_all_verify(tmp_path: Path):
    from server.settings import audit_key_id

    old_hex, new_hex = "11" * 32, "22" * 32
    (tmp_path / "audit_key").write_text(f"{old_hex}\n{new_hex}\n")
    keys = load_settings(env(tmp_path)).audit_keys
    assert [k for _, k in keys] == [bytes.fromhex(old_hex), bytes.fromhex(new_hex)]
    text_key = "a text audit key with enough entropy: 7f3c9e!"
    keys = load_settings(env(tmp_path, AUDIT_KEY=text_key, AUDIT_OLD_KEYS="33" * 32)).audit_keys
    assert keys[-1] == (audit_key_id(text_key.encode()), text_key.encode())
    assert {k for _, k in keys} == {bytes.fromhex(old_hex), bytes.fromhex(new_hex), bytes.fromhex("33" * 32),
                                    text_key.encode()}
    # With AUDIT_KEY set and no file, none is generated.
    other = tmp_path / "other"
    other.mkdir()
    assert load_settings(env(other, AUDIT_KEY="44" * 32)).audit_keys == ((audit_key_id(b"\x44" * 32), b"\x44" * 32),)
    assert not (other / "audit_key").exists()
