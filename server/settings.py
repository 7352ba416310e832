"""Every setting, read once from the environment, with defaults that run on one laptop.

A wrong value stops start-up with one line naming the variable (``SettingsError``).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import string
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ROOT = Path(__file__).resolve().parent.parent
TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off", ""}


class SettingsError(Exception):
    """A setting has a value the service cannot use; the message names the variable."""


def _bool(env: dict[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise SettingsError(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no)")


def _choice(env: dict[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    value = (env.get(name) or default).strip().lower()
    if value not in choices:
        raise SettingsError(f"{name}={value!r} must be one of: {', '.join(choices)}")
    return value


def _int(env: dict[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number") from None
    if value < minimum:
        raise SettingsError(f"{name}={raw!r} must be at least {minimum}")
    return value


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    redis_url: str | None
    secret_key: str
    admin_username: str
    admin_password: str | None
    timezone: str
    debug: bool
    max_upload_bytes: int
    session_days: int
    demo: bool = True
    password_hash_cost: str = "default"
    graphql_max_depth: int = 12
    graphql_max_aliases: int = 30
    graphql_max_tokens: int = 4000
    # Introspection for tools that need it (the GraphQL-over-HTTP audit, codegen); on with DEBUG anyway.
    graphql_introspection: bool = False
    # Redis key of the ARQ queue: change it when several deployments (or test runs) share one Redis.
    job_queue: str = "arq:queue"
    # Bearer tokens from `login` expire after this many days.
    token_days: int = 30
    # Reverse proxies whose X-Forwarded-For is believed (IP addresses or CIDR networks).
    trusted_proxies: tuple[str, ...] = ()
    # Webhooks and robots never reach loopback, private or link-local addresses (SSRF) except these
    # networks (an ERP inside the company's network, say).
    outbound_allow_private: tuple[str, ...] = ()
    # (key id, secret) for the audit log's HMAC: the last one seals new entries, every one verifies.
    audit_keys: tuple[tuple[str, bytes], ...] = ()
    extra: dict[str, str] = field(default_factory=dict)
    # PostgreSQL connections per process (asyncpg pool maxsize); several uvicorn workers each open one.
    db_pool_size: int = 10
    # gc.freeze() once started: the objects alive after start-up (schema, models, templates) leave the
    # collector's generations, which removes the long gen-2 pauses under load (BENCHMARKS.md).
    gc_freeze: bool = True
    # Evidence packages: an RFC 3161 time-stamping authority for the manifest (unset: no manifest.tsr),
    # and the PEM certificate(s) of the authorities whose tokens verify-evidence accepts.
    tsa_url: str | None = None
    tsa_ca_file: Path | None = None
    # The company's legal name, printed on evidence packages' summaries.
    company_name: str = ""

    @property
    def evidence_dir(self) -> Path:
        return self.data_dir / "evidence"
    # Delivery (issue 11): e-mail over SMTP when SMTP_URL is set; links in messages start with PUBLIC_URL.
    smtp_url: str | None = None
    smtp_from: str = "qingkuan@localhost"
    # PUBLIC_URL: where people open Qingkuan (links in e-mails, robot messages, set-password links);
    # unset: a page's own address, and http://localhost:8000 in messages sent from jobs.
    public_url: str = ""
    # The first retry of a failed delivery waits this long, each next one twice as long.
    delivery_retry_s: float = 30.0
    # importCsv: the largest file accepted (IMPORT_MAX_MB); 100,000 rows of employees are about 15 MB.
    import_max_bytes: int = 50 * 1024 * 1024

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def embedded_redis(self) -> bool:
        return not self.redis_url

    @property
    def upload_dir(self) -> Path:
        return self.data_dir / "uploads"

    def tortoise_config(self) -> dict:
        return tortoise_config(_with_pool_size(self.database_url, self.db_pool_size))


MODELS = ["server.models"]


def tortoise_config(database_url: str) -> dict:
    return {
        "connections": {"default": database_url},
        "apps": {
            "models": {
                "models": MODELS,
                "default_connection": "default",
                "migrations": "server.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _with_pool_size(url: str, size: int) -> str:
    """asyncpg's pool bounds from DB_POOL_SIZE, unless the URL already names them."""
    if not url.startswith(("postgres", "asyncpg")) or "maxsize=" in url:
        return url
    return f"{url}{'&' if '?' in url else '?'}minsize=1&maxsize={size}"


def _database_url(env: dict[str, str], data_dir: Path) -> str:
    raw = env.get("DATABASE_URL", "").strip()
    if not raw:
        return f"sqlite://{data_dir / 'qingkuan.sqlite3'}"
    scheme = raw.split("://", 1)[0]
    if "://" not in raw or scheme not in {"sqlite", "postgres", "postgresql", "asyncpg", "psycopg"}:
        raise SettingsError(
            f"DATABASE_URL={raw!r} is not supported: use sqlite:///path/file.db or postgres://user@host:5432/db"
        )
    if scheme == "postgresql":
        raw = "postgres://" + raw.split("://", 1)[1]
    return raw


def _redis_url(env: dict[str, str]) -> str | None:
    raw = env.get("REDIS_URL", "").strip()
    if not raw:
        return None
    if not raw.startswith(("redis://", "rediss://", "unix://")):
        raise SettingsError(f"REDIS_URL={raw!r} is not a redis:// or rediss:// address")
    return raw


def _job_queue(env: dict[str, str]) -> str:
    raw = (env.get("JOB_QUEUE") or "").strip()
    if not raw:
        return "arq:queue"
    if any(c.isspace() for c in raw) or len(raw) > 100:
        raise SettingsError(f"JOB_QUEUE={raw!r} must be a Redis key without spaces (at most 100 characters)")
    return raw


def _secret_key(env: dict[str, str], data_dir: Path) -> str:
    raw = env.get("SECRET_KEY")
    if raw is not None:
        if len(raw) < 16:
            raise SettingsError("SECRET_KEY is shorter than 16 characters")
        return raw
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def _networks(env: dict[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated list of IP addresses or CIDR networks (TRUSTED_PROXIES, OUTBOUND_ALLOW_PRIVATE)."""
    import ipaddress

    out = []
    for part in (env.get(name) or "").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            out.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            raise SettingsError(f"{name}: {part!r} is not an IP address or network (e.g. 10.0.0.0/8)") from None
    return tuple(out)


def _trusted_proxies(env: dict[str, str]) -> tuple[str, ...]:
    return _networks(env, "TRUSTED_PROXIES")


def _english(message: object) -> str:
    """Start-up errors are for the operator: in English."""
    from server import i18n

    return i18n.render(message, "en")  # type: ignore[arg-type]


def _admin_password(env: dict[str, str]) -> str | None:
    from server.domain.passwords import check_password

    password = env.get("ADMIN_PASSWORD") or None
    if password is not None:
        problems = check_password(password, (env.get("ADMIN_USERNAME") or "admin").strip())
        if problems:
            raise SettingsError(f"ADMIN_PASSWORD is not acceptable: {'; '.join(_english(p) for p in problems)}")
    return password
AUDIT_KEY_MIN_BYTES = 32


def audit_key_id(secret: bytes) -> str:
    """A key's public name, stored with every entry it seals: a short fingerprint, never the key."""
    return hashlib.sha256(secret).hexdigest()[:8]


def parse_audit_key(raw: str, name: str) -> bytes:
    """Hex (64+ digits, 32+ bytes) or text of at least 32 characters."""
    text = raw.strip()
    if len(text) >= 2 * AUDIT_KEY_MIN_BYTES and len(text) % 2 == 0 and all(c in string.hexdigits for c in text):
        return bytes.fromhex(text)
    if len(text.encode("utf-8")) < AUDIT_KEY_MIN_BYTES or len(set(text)) < 8:
        raise SettingsError(f"{name} must be at least {AUDIT_KEY_MIN_BYTES} bytes of random text or "
                            f"{2 * AUDIT_KEY_MIN_BYTES} hex digits")
    return text.encode("utf-8")


def _audit_keys(env: dict[str, str], data_dir: Path) -> tuple[tuple[str, bytes], ...]:
    """The audit log's keys, its own (not derived from SECRET_KEY): rotating one never touches the other.

    - AUDIT_KEY_FILE (default DATA_DIR/audit_key): one key per line (hex), oldest first; generated
      with one key on the first start when AUDIT_KEY is unset. `python main.py rotate-audit-key`
      appends a new one. Every line verifies; the last seals, unless AUDIT_KEY is set.
    - AUDIT_OLD_KEYS: comma-separated retired keys that still verify the entries they sealed.
    - AUDIT_KEY: when set, seals new entries (and verifies).
    """
    path = Path(env.get("AUDIT_KEY_FILE") or data_dir / "audit_key").expanduser()
    raw_key = env.get("AUDIT_KEY", "").strip()
    secrets_: list[bytes] = []
    if path.exists():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if line.strip() and not line.lstrip().startswith("#"):
                secrets_.append(parse_audit_key(line, f"{path} line {number}"))
    elif not raw_key:
        key = secrets.token_hex(32)
        try:
            path.write_text(key + "\n")
            path.chmod(0o600)
        except OSError as exc:
            raise SettingsError(f"AUDIT_KEY_FILE={str(path)!r} cannot be written: {exc.strerror}") from None
        secrets_.append(bytes.fromhex(key))
    for part in (env.get("AUDIT_OLD_KEYS") or "").split(","):
        if part.strip():
            secrets_.append(parse_audit_key(part, "AUDIT_OLD_KEYS"))
    if raw_key:
        secrets_.append(parse_audit_key(raw_key, "AUDIT_KEY"))
    if not secrets_:
        raise SettingsError(f"AUDIT_KEY_FILE={str(path)!r} holds no key (and AUDIT_KEY is unset)")
    sealing = secrets_[-1]
    ordered = [s for s in dict.fromkeys(secrets_) if s != sealing] + [sealing]
    return tuple((audit_key_id(s), s) for s in ordered)


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    data_dir = Path(env.get("DATA_DIR") or ROOT / "data").expanduser()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingsError(f"DATA_DIR={str(data_dir)!r} cannot be created: {exc.strerror}") from None
    tz = env.get("TIMEZONE", "Asia/Shanghai").strip() or "Asia/Shanghai"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"TIMEZONE={tz!r} is not a known time zone (e.g. Asia/Shanghai)") from None
    admin_password = _admin_password(env)
    return Settings(
        data_dir=data_dir,
        database_url=_database_url(env, data_dir),
        redis_url=_redis_url(env),
        secret_key=_secret_key(env, data_dir),
        admin_username=(env.get("ADMIN_USERNAME") or "admin").strip(),
        admin_password=admin_password,
        timezone=tz,
        debug=_bool(env, "DEBUG", False),
        graphql_introspection=_bool(env, "GRAPHQL_INTROSPECTION", False),
        max_upload_bytes=_int(env, "MAX_UPLOAD_MB", 10) * 1024 * 1024,
        session_days=_int(env, "SESSION_DAYS", 7),
        demo=_bool(env, "DEMO_DATA", True),
        password_hash_cost=_choice(env, "PASSWORD_HASH_COST", ("default", "test"), "default"),
        job_queue=_job_queue(env),
        token_days=_int(env, "TOKEN_DAYS", 30),
        trusted_proxies=_trusted_proxies(env),
        outbound_allow_private=_networks(env, "OUTBOUND_ALLOW_PRIVATE"),
        audit_keys=_audit_keys(env, data_dir),
        db_pool_size=_int(env, "DB_POOL_SIZE", 10),
        gc_freeze=_bool(env, "GC_FREEZE", True),
        tsa_url=(env.get("TSA_URL") or "").strip() or None,
        tsa_ca_file=Path(env["TSA_CA_FILE"]).expanduser() if (env.get("TSA_CA_FILE") or "").strip() else None,
        company_name=(env.get("COMPANY_NAME") or "").strip(),
        **_delivery_settings(env),
        import_max_bytes=_int(env, "IMPORT_MAX_MB", 50) * 1024 * 1024,
    )


def _delivery_settings(env: dict[str, str]) -> dict:
    from urllib.parse import urlsplit

    smtp_url = (env.get("SMTP_URL") or "").strip() or None
    if smtp_url is not None:
        parts = urlsplit(smtp_url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise SettingsError("SMTP_URL must look like smtp://user:password@host:587 or smtps://host:465")
        try:
            _ = parts.port  # urlsplit checks the port only when asked
        except ValueError:
            raise SettingsError("SMTP_URL has an invalid port") from None
    smtp_from = (env.get("SMTP_FROM") or "").strip() or "qingkuan@localhost"
    if "@" not in smtp_from:
        raise SettingsError(f"SMTP_FROM={smtp_from!r} is not an e-mail address")
    public_url = (env.get("PUBLIC_URL") or "").strip().rstrip("/")
    if public_url and not public_url.startswith(("http://", "https://")):
        raise SettingsError(f"PUBLIC_URL={public_url!r} must start with http:// or https://")
    return {"smtp_url": smtp_url, "smtp_from": smtp_from, "public_url": public_url,
            "delivery_retry_s": float(_int(env, "DELIVERY_RETRY_SECONDS", 30))}


_settings: Settings | None = None


def get_settings() -> Settings:
    global _settings
    if _settings is None:
        _settings = load_settings()
    return _settings


def override_settings(settings: Settings | None) -> None:
    """Tests and the CLI replace the process-wide settings explicitly."""
    global _settings
    _settings = settings


def _tortoise_orm() -> dict:
    # For the `tortoise` CLI (makemigrations): `tortoise -c server.settings.TORTOISE_ORM ...`
    return tortoise_config(os.environ.get("DATABASE_URL") or "sqlite://:memory:")


TORTOISE_ORM = _tortoise_orm()
