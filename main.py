"""Qingkuan (清款) command line.

    python main.py [--host H] [--port P] [--no-demo]   serve the web app (the default command)
    python main.py worker                             process jobs from REDIS_URL
    python main.py migrate | seed-demo | create-admin | verify-audit | rotate-audit-key

Configuration comes from environment variables (see README). A wrong value stops with one line
naming the variable and exit code 2.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2

DESCRIPTION = """\
Qingkuan (清款): employee cash advances, reimbursements that offset loans and offboarding clearance.

Without a command, serves the web app and the GraphQL API (same as `serve`). With no configuration
it keeps everything under ./data (SQLite file, embedded Redis) and runs background jobs in-process.
Settings are environment variables: DATABASE_URL, REDIS_URL, DATA_DIR, SECRET_KEY, ADMIN_USERNAME,
ADMIN_PASSWORD, TIMEZONE, DEBUG, DEMO_DATA, MAX_UPLOAD_MB, SESSION_DAYS, JOB_QUEUE, TOKEN_DAYS,
TRUSTED_PROXIES, AUDIT_KEY, AUDIT_KEY_FILE, AUDIT_OLD_KEYS (see README.md).
"""


def _add_serve_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    # The `serve` subcommand repeats these without defaults so it does not reset top-level values.
    d = (lambda v: v) if defaults else (lambda v: argparse.SUPPRESS)
    parser.add_argument("--host", default=d("127.0.0.1"),
                        help="address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)")
    parser.add_argument("--port", type=int, default=d(8000), help="TCP port to listen on (default 8000)")
    parser.add_argument("--no-demo", action="store_true", default=d(False),
                        help="do not load the demo company into an empty database (sets DEMO_DATA=0)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python main.py", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_serve_options(parser, defaults=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser("serve", help="serve the web app and GraphQL API (the default command)",
                           description="Serve the web app and GraphQL API with uvicorn. Applies pending "
                                       "migrations and creates the admin account on first start. Without "
                                       "REDIS_URL it also runs an embedded Redis and the job worker.")
    _add_serve_options(serve, defaults=False)
    sub.add_parser("worker", help="process background jobs from REDIS_URL (run one or more beside the web app)",
                   description="Run an ARQ worker on REDIS_URL until SIGTERM/SIGINT. Needs REDIS_URL; "
                               "without it `python main.py` runs the jobs itself.")
    sub.add_parser("migrate", help="create or upgrade the database schema, then exit",
                   description="Apply the versioned migrations in server/migrations to DATABASE_URL.")
    sub.add_parser("seed-demo", help="load the demo company (30 people in Xi'an) into the database",
                   description="Migrate, then load the demo data unless it is already there.")
    admin = sub.add_parser("create-admin", help="create an ADMIN account, or reset its password",
                           description="Create an ADMIN account (or reset an existing account's password "
                                       "and give it ADMIN; resetting signs that account out everywhere). "
                                       "Prompts for what is not given.")
    admin.add_argument("--username", help="account name (default: ADMIN_USERNAME, or prompt)")
    admin.add_argument("--password", help="password: at least 10 characters, not the username, not a common "
                                          "password (default: prompt; "
                                          "a password on the command line is visible to other local users)")
    sub.add_parser("verify-audit", help="check the audit log's hash chain; exit 1 when it is broken",
                   description="Check every audit entry's keyed seal, the chain, the count against the "
                               "audit sequence and the anchored heads. Prints OK, the count and the head "
                               "(anchored for later runs), or names the first bad entry and what is wrong: "
                               "EDITED, MISSING_MIDDLE, MISSING_END, REHASHED or OUT_OF_ORDER (exit code 1).")
    backup = sub.add_parser("backup", help="copy the database, the uploads and the keys into a new directory DIR",
                            description="A consistent backup: the database (SQLite's online backup or pg_dump), "
                                        "then the uploads, then the keys, with a manifest of sha256 hashes.")
    backup.add_argument("dir", metavar="DIR")
    restore = sub.add_parser("restore", help="restore a backup DIR into an empty deployment, then verify the audit log",
                             description="Checks every file against the backup's manifest, restores into an empty "
                                         "database and upload directory, writes the keys, and verifies the audit chain.")
    restore.add_argument("dir", metavar="DIR")
    evidence = sub.add_parser("verify-evidence", help="check an evidence package (证据包); exit 1 when it does not verify",
                              description="Check an evidence package ZIP: every file against manifest.json (size, "
                                          "SHA-256), the audit excerpt's lines, seals (with the audit key) and chain "
                                          "links up to the anchored head, and the timestamp token when present "
                                          "(its signature with TSA_CA_FILE). Names what does not match (exit 1).")
    evidence.add_argument("package", help="the package's ZIP file")
    evidence.add_argument("--lang", help="zh_CN or en (default: from LANG)")
    sub.add_parser("rotate-audit-key", help="add a new audit key to AUDIT_KEY_FILE; it seals from now on",
                   description="Append a new random key to AUDIT_KEY_FILE (default DATA_DIR/audit_key). New "
                               "audit entries are sealed with it; the older keys in the file still verify "
                               "the entries they sealed. Restart the processes to use it. Without effect "
                               "while AUDIT_KEY is set (that key seals).")
    return parser


def _fail(message: str, code: int) -> int:
    print(f"qingkuan: {message}", file=sys.stderr, flush=True)
    return code


async def _with_db(settings: Any, work: Callable[[], Awaitable[int]]) -> int:
    from server.db import close_db, init_db

    await init_db(settings)
    try:
        return await work()
    finally:
        await close_db()


def cmd_serve(args: argparse.Namespace, settings: Any) -> int:
    import uvicorn

    # X-Forwarded-For/-Proto are believed only from TRUSTED_PROXIES (uvicorn would otherwise trust 127.0.0.1).
    trusted = list(settings.trusted_proxies)
    uvicorn.run("server.app:create_app", factory=True, host=args.host, port=args.port,
                log_level="debug" if settings.debug else "info", proxy_headers=bool(trusted),
                forwarded_allow_ips=trusted or None)
    return EXIT_OK


def cmd_worker(args: argparse.Namespace, settings: Any) -> int:
    from jobs.worker import run_worker

    if not settings.redis_url:
        return _fail("REDIS_URL is not set: `worker` processes jobs from a shared Redis "
                     "(without REDIS_URL, `python main.py` runs the jobs itself)", EXIT_CONFIG)
    asyncio.run(run_worker(settings))
    return EXIT_OK


def cmd_migrate(args: argparse.Namespace, settings: Any) -> int:
    from server.db import migrate

    asyncio.run(migrate(settings))
    print("migrations applied")
    return EXIT_OK


def cmd_seed_demo(args: argparse.Namespace, settings: Any) -> int:
    async def work() -> int:
        from server.demo import seed_demo

        loaded = await seed_demo()
        print("demo data loaded" if loaded else "demo data already present; nothing to do")
        return EXIT_OK

    return asyncio.run(_with_db(settings, work))


def cmd_create_admin(args: argparse.Namespace, settings: Any) -> int:
    username = args.username or (input(f"username [{settings.admin_username}]: ").strip() if sys.stdin.isatty()
                                 else "") or settings.admin_username
    password = args.password
    if password is None:
        if not sys.stdin.isatty():
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass("password: ")
            if getpass.getpass("password again: ") != password:
                return _fail("the passwords do not match", EXIT_FAILED)

    async def work() -> int:
        from server.domain.errors import DomainError
        from server.services import org
        from server.services.base import SYSTEM

        try:
            user = await org.create_admin(username, password, SYSTEM)
        except DomainError as exc:
            return _fail(exc.message, EXIT_FAILED)
        print(f"admin account ready: {user.username}")
        return EXIT_OK

    return asyncio.run(_with_db(settings, work))


def cmd_verify_audit(args: argparse.Namespace, settings: Any) -> int:
    async def work() -> int:
        from server.services.audit import verify_chain

        report = await verify_chain(anchor=True)
        if report.ok:
            print(f"OK: {report.checked} audit entries, hash chain intact; head #{report.head_id} "
                  f"{report.head_hash} (anchored)")
            return EXIT_OK
        print(f"BROKEN: audit entry #{report.first_bad_id}: {report.kind}: {report.message} "
              f"({report.checked} entries before it are intact)")
        return EXIT_FAILED

    return asyncio.run(_with_db(settings, work))


def cmd_verify_evidence(args: argparse.Namespace, settings: Any) -> int:
    from server import i18n
    from server.services import evidence
    from server.services.evidence_zip import NotAPackage

    locale = i18n.normalize(args.lang) or i18n.normalize((os.environ.get("LC_ALL") or os.environ.get("LANG") or
                                                          "").split(".")[0]) or i18n.DEFAULT_LOCALE
    try:
        verdict = evidence.verify_package(args.package)
    except (NotAPackage, FileNotFoundError) as exc:
        return _fail(f"{args.package}: {exc}", EXIT_FAILED)
    for line in evidence.report_lines(verdict, locale):
        print(line)
    return EXIT_OK if verdict.ok else EXIT_FAILED


def cmd_rotate_audit_key(args: argparse.Namespace, settings: Any) -> int:
    import secrets
    from pathlib import Path

    from server.settings import audit_key_id

    path = Path(os.environ.get("AUDIT_KEY_FILE") or settings.data_dir / "audit_key").expanduser()
    key = secrets.token_hex(32)
    existing = path.read_text() if path.exists() else ""
    path.write_text(existing + ("" if not existing or existing.endswith("\n") else "\n") + key + "\n")
    path.chmod(0o600)
    print(f"new audit key {audit_key_id(bytes.fromhex(key))} added to {path}; restart the processes to seal with it")
    if os.environ.get("AUDIT_KEY"):
        print("note: AUDIT_KEY is set and keeps sealing new entries")
    return EXIT_OK


def cmd_backup(args: argparse.Namespace, settings: Any) -> int:
    from pathlib import Path

    from server.backup import BackupError, backup

    try:
        result = backup(settings, Path(args.dir))
    except BackupError as exc:
        return _fail(str(exc), EXIT_FAILED)
    print(f"backup written to {result.path}: {result.database} database, {result.files} files, {result.bytes} bytes "
          f"(it holds the keys: keep it where only operators can read it)")
    return EXIT_OK


def cmd_restore(args: argparse.Namespace, settings: Any) -> int:
    from pathlib import Path

    from server.backup import BackupError, restore

    key_file = Path(os.environ.get("AUDIT_KEY_FILE") or settings.data_dir / "audit_key").expanduser()
    try:
        result = restore(settings, Path(args.dir), audit_key_file=key_file)
    except BackupError as exc:
        return _fail(str(exc), EXIT_FAILED)
    print(f"restored {result.database} database and {result.files} files from {result.path}")
    # The keys were just written: read the settings again so the check uses the restored ones.
    from server.settings import load_settings, override_settings

    restored = load_settings()
    override_settings(restored)
    return cmd_verify_audit(args, restored)


COMMANDS: dict[str | None, Callable[[argparse.Namespace, Any], int]] = {
    None: cmd_serve, "serve": cmd_serve, "worker": cmd_worker, "migrate": cmd_migrate,
    "seed-demo": cmd_seed_demo, "create-admin": cmd_create_admin, "verify-audit": cmd_verify_audit,
    "rotate-audit-key": cmd_rotate_audit_key, "backup": cmd_backup, "restore": cmd_restore,
    "verify-evidence": cmd_verify_evidence,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "no_demo", False):
        os.environ["DEMO_DATA"] = "0"

    from server.settings import SettingsError, load_settings, override_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        return _fail(f"configuration error: {exc}", EXIT_CONFIG)
    override_settings(settings)
    logging.basicConfig(level=logging.DEBUG if settings.debug else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return COMMANDS[args.command](args, settings)


if __name__ == "__main__":
    sys.exit(main())
