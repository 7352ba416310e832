"""Server-side sessions and API tokens: issuing, resolving, revoking, and the viewer they resolve to.

The rows behind a login. The use cases that open a transaction and write an audit entry (login,
logout, logout everywhere, password changes) are in server/services/accounts.py; these functions
run inside the caller's transaction. Secrets are stored only as sha256 digests (server/auth.py).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from server import auth
from server.models import ApiToken, Session, User
from server.services.base import Viewer, utcnow
from server.settings import get_settings

# last_used_at is written at most this often per session or token: not one UPDATE per request.
LAST_USED_EVERY = timedelta(minutes=1)


def viewer_for(user: User, request_id: str | None = None, *, session_id: int | None = None,
               token_id: int | None = None) -> Viewer:
    return Viewer(
        user_id=user.id, username=user.username, roles=frozenset(user.roles or []),
        employee_id=user.employee_id, request_id=request_id, locale=user.locale or "zh_CN",  # type: ignore[attr-defined]
        session_id=session_id, token_id=token_id,
    )


async def issue_token(user: User, *, address: str = "", agent: str = "") -> str:
    token = auth.new_token()
    await ApiToken.create(
        token_hash=auth.digest(token), user=user, expires_at=utcnow() + timedelta(days=get_settings().token_days),
        user_agent=agent[:255], client_address=address[:64], last_used_at=utcnow(),
    )
    return token


async def _touch(model: Any, row: Any) -> None:
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY:
        await model.filter(id=row.id).update(last_used_at=now)
        row.last_used_at = now


async def _live(model: Any, hash_column: str, secret: str) -> Any:
    """The live row (user loaded) for a secret, or None when unknown, revoked, expired or its user is inactive."""
    row = await model.filter(**{hash_column: auth.digest(secret)}, revoked_at=None).select_related("user").first()
    if row is None or row.expires_at <= utcnow() or not row.user.is_active:
        return None
    await _touch(model, row)
    return row


async def token_for(token: str) -> ApiToken | None:
    return await _live(ApiToken, "token_hash", token)


async def create_session(user: User, days: int, *, address: str = "", agent: str = "") -> tuple[str, Session]:
    key = auth.new_session_key()
    session = await Session.create(
        key_hash=auth.digest(key), user=user, csrf_token=auth.new_csrf_token(),
        expires_at=utcnow() + timedelta(days=days),
        user_agent=agent[:255], client_address=address[:64], last_used_at=utcnow(),
    )
    return key, session


async def session_for_key(key: str) -> Session | None:
    return await _live(Session, "key_hash", key)


async def revoke_session(key: str) -> None:
    await Session.filter(key_hash=auth.digest(key), revoked_at=None).update(revoked_at=utcnow())


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
