"""The viewer's own account: login and logout, password change, ADMIN's password reset, sessions and tokens.

Changing or resetting a password revokes, in the same transaction, every other session and every
bearer token of the account: whoever else knew the old password is signed out at once.
"""

from __future__ import annotations

from typing import Any

from server import auth
from server.domain import roles
from server.domain.errors import Forbidden, NotFound, ValidationFailed
from server.domain.messages import _m
from server.domain.passwords import check_password
from server.models import ApiToken, Session, User
from server.services import audit, org, sessions
from server.services.base import Viewer, atomic, parse_id, require_login, require_role, utcnow
from server.settings import get_settings


def _policy(password: str, username: str, field: str = "newPassword") -> None:
    problems = check_password(password, username)
    if problems:
        raise ValidationFailed(_m("密码不符合要求：%(problems)s", problems=problems), field=field)


async def change_password(viewer: Viewer, current_password: str, new_password: str, address: str = "") -> int:
    """The viewer's own password; returns how many other sessions and tokens were revoked.

    A wrong current password counts as a failed login from `address`: someone at an unattended
    browser cannot guess the password (and then take the account over) faster than at the login form.
    """
    require_login(viewer)
    user = await User.filter(id=viewer.user_id).first()
    if user is None:
        raise NotFound(_m("账号不存在"))
    await org._throttle_check(user.username, address)
    if not auth.verify_password(user.password_hash, current_password or ""):
        await org._throttle_fail(user.username, address)
        raise ValidationFailed(_m("当前密码不正确"), field="currentPassword")
    _policy(new_password, user.username)
    if new_password == current_password:
        raise ValidationFailed(_m("新密码不能与当前密码相同"),
                               field="newPassword")
    password_hash = auth.hash_password(new_password)
    async with atomic():
        await User.filter(id=user.id).update(password_hash=password_hash)
        revoked = await sessions.revoke_all(user.id, keep_session_id=viewer.session_id)
        await audit.record(viewer, "user.change_password", "user", user.id, None, {"revokedSessions": revoked})
    return revoked


async def reset_password(viewer: Viewer, user_id: Any, employee_id: Any, new_password: str) -> int:
    """ADMIN sets another account's password (never their own: that is changePassword)."""
    require_role(viewer, roles.ADMIN)
    if (user_id is None) == (employee_id is None):
        raise ValidationFailed(_m("请指定 userId 或 employeeId 之一"),
                               field="userId")
    if user_id is not None:
        user = await User.filter(id=parse_id(user_id, "user")).first()
    else:
        user = await User.filter(employee_id=parse_id(employee_id, "employee")).first()
    if user is None:
        raise NotFound(_m("账号不存在"))
    if user.id == viewer.user_id:
        raise Forbidden(_m("不能用重置修改自己的密码，请用修改密码"))
    _policy(new_password, user.username)
    password_hash = auth.hash_password(new_password)
    async with atomic():
        await User.filter(id=user.id).update(password_hash=password_hash)
        revoked = await sessions.revoke_all(user.id)
        await audit.record(viewer, "user.reset_password", "user", user.id, None, {"revokedSessions": revoked})
    return revoked


# ---------------------------------------------------------------- login and logout


async def login(username: str, password: str, *, address: str = "", agent: str = "",
                replaces_key: str | None = None, request_id: str | None = None) -> tuple[str, User]:
    """Browser sign-in: check the password (throttled, server/services/org.py `authenticate`) and open a
    session; returns its key (for the cookie) and the user.

    `replaces_key` is the session cookie the browser came with: it is revoked in the same transaction,
    so every login gets a new key (no session fixation).
    """
    user = await org.authenticate(username, password, address)
    async with atomic():
        if replaces_key:
            await sessions.revoke_session(replaces_key)
        key, _session = await sessions.create_session(user, get_settings().session_days, address=address,
                                                      agent=agent)
        await audit.record(sessions.viewer_for(user, request_id), "user.login", "user", user.id, None,
                           {"via": "web"})
    return key, user


async def login_for_token(username: str, password: str, *, address: str = "", agent: str = "") -> tuple[str, User]:
    """API sign-in: check the password as `login` does and issue a bearer token."""
    user = await org.authenticate(username, password, address)
    async with atomic():
        token = await sessions.issue_token(user, address=address, agent=agent)
        await audit.record(sessions.viewer_for(user), "user.login_token", "user", user.id, None, None)
    return token, user


# ---------------------------------------------------------------- sessions and tokens


async def my_sessions(viewer: Viewer) -> list[Session]:
    """The viewer's live browser sessions, most recently used first."""
    require_login(viewer)
    return await Session.filter(user_id=viewer.user_id, revoked_at=None, expires_at__gt=utcnow()).order_by(
        "-last_used_at", "-id")


async def my_tokens(viewer: Viewer) -> list[ApiToken]:
    """The viewer's live bearer tokens, most recently used first."""
    require_login(viewer)
    return await ApiToken.filter(user_id=viewer.user_id, revoked_at=None, expires_at__gt=utcnow()).order_by(
        "-last_used_at", "-id")


async def _revoke_own(viewer: Viewer, model: Any, object_id: Any, what: str, action: str) -> None:
    require_login(viewer)
    number = parse_id(object_id, what)
    async with atomic():
        # Someone else's, or already revoked: the same answer, so ids reveal nothing.
        updated = await model.filter(id=number, user_id=viewer.user_id, revoked_at=None).update(revoked_at=utcnow())
        if not updated:
            raise NotFound(_m("记录 %(id)s 不存在", id=repr(object_id)))
        await audit.record(viewer, action, what, number, None, {"revoked": True})


async def revoke_session(viewer: Viewer, session_id: Any) -> None:
    await _revoke_own(viewer, Session, session_id, "session", "session.revoke")


async def revoke_token(viewer: Viewer, token_id: Any) -> None:
    await _revoke_own(viewer, ApiToken, token_id, "token", "token.revoke")


async def logout(viewer: Viewer) -> bool:
    """Revoke the token (API) or the session (browser) this request came with."""
    require_login(viewer)
    model, object_id, via = (
        (ApiToken, viewer.token_id, "token") if viewer.token_id is not None else (Session, viewer.session_id, "web")
    )
    if object_id is None:
        return False
    async with atomic():
        updated = await model.filter(id=object_id, user_id=viewer.user_id, revoked_at=None).update(
            revoked_at=utcnow())
        if updated:
            await audit.record(viewer, "user.logout", "user", viewer.user_id, None, {"via": via})
    return bool(updated)


async def logout_everywhere(viewer: Viewer) -> int:
    """Every session and token of the viewer's account, this one included."""
    require_login(viewer)
    assert viewer.user_id is not None
    async with atomic():
        revoked = await sessions.revoke_all(viewer.user_id)
        await audit.record(viewer, "user.logout_everywhere", "user", viewer.user_id, None,
                           {"revokedSessions": revoked})
    return revoked
