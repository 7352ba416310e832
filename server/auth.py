"""Passwords (argon2), server-side sessions, API tokens, and the viewer they resolve to."""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from datetime import timedelta
from functools import cache
from typing import Any

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from server.models import ApiToken, Session, User
from server.services.base import Viewer, utcnow
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
# last_used_at is written at most this often per session or token: not one UPDATE per request.
LAST_USED_EVERY = timedelta(minutes=1)


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


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def viewer_for(user: User, request_id: str | None = None, *, session_id: int | None = None,
               token_id: int | None = None) -> Viewer:
    return Viewer(
        user_id=user.id, username=user.username, roles=frozenset(user.roles or []),
        employee_id=user.employee_id, request_id=request_id, locale=user.locale or "zh_CN",  # type: ignore[attr-defined]
        session_id=session_id, token_id=token_id,
    )


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


# ---------------------------------------------------------------- tokens and sessions


async def issue_token(user: User, request: Any = None) -> str:
    token = "qk_" + secrets.token_urlsafe(32)
    await ApiToken.create(
        token_hash=_digest(token), user=user, expires_at=utcnow() + timedelta(days=get_settings().token_days),
        user_agent=user_agent(request), client_address=client_address(request), last_used_at=utcnow(),
    )
    return token


async def _touch(model: Any, row: Any) -> None:
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY:
        await model.filter(id=row.id).update(last_used_at=now)
        row.last_used_at = now


async def token_for(token: str) -> ApiToken | None:
    """The live token row (user loaded), or None when unknown, revoked, expired or its user is inactive."""
    row = await ApiToken.filter(token_hash=_digest(token), revoked_at=None).select_related("user").first()
    if row is None or row.expires_at <= utcnow() or not row.user.is_active:
        return None
    await _touch(ApiToken, row)
    return row


async def user_for_token(token: str) -> User | None:
    row = await token_for(token)
    return row.user if row is not None else None


async def create_session(user: User, days: int, request: Any = None) -> tuple[str, Session]:
    key = secrets.token_urlsafe(32)
    session = await Session.create(
        key_hash=_digest(key), user=user, csrf_token=secrets.token_urlsafe(24),
        expires_at=utcnow() + timedelta(days=days),
        user_agent=user_agent(request), client_address=client_address(request), last_used_at=utcnow(),
    )
    return key, session


async def session_for_key(key: str) -> Session | None:
    row = await Session.filter(key_hash=_digest(key), revoked_at=None).select_related("user").first()
    if row is None or row.expires_at <= utcnow() or not row.user.is_active:
        return None
    await _touch(Session, row)
    return row


async def revoke_session(key: str) -> None:
    await Session.filter(key_hash=_digest(key), revoked_at=None).update(revoked_at=utcnow())


async def revoke_all(user_id: int, *, keep_session_id: int | None = None) -> int:
    """Logout everywhere: every session and token of the account (but `keep_session_id`).

    Returns how many were revoked."""
    now = utcnow()
    sessions = Session.filter(user_id=user_id, revoked_at=None)
    if keep_session_id is not None:
        sessions = sessions.exclude(id=keep_session_id)
    count = await sessions.update(revoked_at=now)
    count += await ApiToken.filter(user_id=user_id, revoked_at=None).update(revoked_at=now)
    return count
