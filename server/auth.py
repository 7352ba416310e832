"""Passwords (argon2), server-side sessions, API tokens, and the viewer they resolve to."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

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

TOKEN_DAYS = 90
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


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def viewer_for(user: User, request_id: str | None = None) -> Viewer:
    return Viewer(
        user_id=user.id, username=user.username, roles=frozenset(user.roles or []),
        employee_id=user.employee_id, request_id=request_id, locale=user.locale or "zh_CN",  # type: ignore[attr-defined]
    )


async def issue_token(user: User) -> str:
    token = "qk_" + secrets.token_urlsafe(32)
    await ApiToken.create(token_hash=_digest(token), user=user, expires_at=utcnow() + timedelta(days=TOKEN_DAYS))
    return token


async def user_for_token(token: str) -> User | None:
    row = await ApiToken.filter(token_hash=_digest(token), revoked_at=None).select_related("user").first()
    if row is None or row.expires_at < utcnow() or not row.user.is_active:
        return None
    return row.user


async def create_session(user: User, days: int) -> tuple[str, Session]:
    key = secrets.token_urlsafe(32)
    session = await Session.create(
        key_hash=_digest(key), user=user, csrf_token=secrets.token_urlsafe(24),
        expires_at=utcnow() + timedelta(days=days),
    )
    return key, session


async def session_for_key(key: str) -> Session | None:
    row = await Session.filter(key_hash=_digest(key), revoked_at=None).select_related("user").first()
    if row is None or row.expires_at < utcnow() or not row.user.is_active:
        return None
    return row


async def revoke_session(key: str) -> None:
    await Session.filter(key_hash=_digest(key), revoked_at=None).update(revoked_at=utcnow())


async def revoke_all(user_id: int) -> None:
    """Logout everywhere: every session and token of the account."""
    now = utcnow()
    await Session.filter(user_id=user_id, revoked_at=None).update(revoked_at=now)
    await ApiToken.filter(user_id=user_id, revoked_at=None).update(revoked_at=now)
