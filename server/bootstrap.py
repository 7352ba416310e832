"""First start of an empty database: an admin account, and the demo company unless disabled."""

from __future__ import annotations

import logging
import secrets

from server.models import User
from server.services import org
from server.services.base import SYSTEM
from server.settings import Settings

log = logging.getLogger("qingkuan")


async def ensure_admin(settings: Settings) -> str | None:
    """Create the admin account when there is no account at all. Returns a generated password."""
    if await User.exists():
        return None
    password = settings.admin_password or secrets.token_urlsafe(12)
    await org.create_admin(settings.admin_username, password, SYSTEM)
    if settings.admin_password:
        return None
    # Printed once, on the console of whoever started the service: it is stored only hashed.
    bar = "=" * 64
    print(f"\n{bar}\n  Qingkuan admin account created (shown only this once; it is stored hashed):\n"
          f"    username: {settings.admin_username}\n    password: {password}\n{bar}\n", flush=True)
    return password


async def bootstrap(settings: Settings) -> None:
    empty = not await User.exists()
    await ensure_admin(settings)
    if empty and settings.demo:
        from server.demo import seed_demo

        # The demo company takes several seconds to build (history, vouchers, audit chain): say so, or the first
        # start looks hung.
        print("  Loading the demo company (30 people, a year of history); this takes a few seconds ...", flush=True)
        await seed_demo()
        print("  Demo company loaded: the login page lists its accounts (password demo1234).", flush=True)
        log.info("demo data loaded")
