"""Pure helpers of authentication: passwords (argon2), secrets and their digests, where a request comes from.

No database: the session and token rows are server/services/sessions.py, the use cases (login,
logout, password changes) server/services/accounts.py.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from functools import cache
from typing import Any

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from server.settings import get_settings

_hashers: dict[str, tuple[PasswordHasher, str]] = {}


def _hasher() -> tuple[PasswordHasher, str]:
    """argon2id with RFC 9106's low-memory profile; PASSWORD_HASH_COST=test only for test suites.

    Also returns a real hash to verify against when the username is unknown: the same cost
    either way, so response time does not reveal which usernames exist.
    """
    cost = get_settings().password_hash_cost
    if cost not in _hashers:
        hasher = PasswordHasher.from_parameters(
            profiles.CHEAPEST if cost == "test" else profiles.RFC_9106_LOW_MEMORY
        )
        _hashers[cost] = (hasher, hasher.hash("qingkuan-timing-equalizer"))
    return _hashers[cost]

SESSION_COOKIE = "qk_session"


def hash_password(password: str) -> str:
    return _hasher()[0].hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        hasher, dummy = _hasher()
        return hasher.verify(password_hash or dummy, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher()[0].check_needs_rehash(password_hash)


def digest(secret: str) -> str:
    """What is stored of a session key or a token: its sha256."""
    return hashlib.sha256(secret.encode()).hexdigest()


# ---------------------------------------------------------------- where a request comes from


@cache
def _networks(trusted: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(ipaddress.ip_network(n, strict=False) for n in trusted)


def _trusted(address: str, trusted: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in _networks(trusted))


def client_address(request: Any) -> str:
    """The client's IP: the TCP peer, or behind a trusted proxy the right-most X-Forwarded-For entry
    that is not itself a trusted proxy (entries further left are whatever the client claimed)."""
    if request is None:
        return ""
    peer = request.client.host if request.client else ""
    trusted = get_settings().trusted_proxies
    if not trusted or not _trusted(peer, trusted):
        return peer[:64]
    hops = [h.strip() for h in ",".join(request.headers.getlist("x-forwarded-for")).split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            return hop[:64]
    return (hops[0] if hops else peer)[:64]


def user_agent(request: Any) -> str:
    return (request.headers.get("user-agent", "") if request is not None else "")[:255]


# ---------------------------------------------------------------- secrets


def new_token() -> str:
    """A bearer token as the client sees it (stored only as its digest)."""
    return "qk_" + secrets.token_urlsafe(32)


def new_session_key() -> str:
    return secrets.token_urlsafe(32)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)
