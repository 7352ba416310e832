"""One-time set-password links for accounts without a usable password (imported accounts).

An import leaves one pending `PasswordToken` per new account. HR or ADMIN (whoever may import employees)
issue the links: each gets a fresh random token, valid 7 days, replacing the previous link of that account;
the list is handed out (or e-mailed, once SMTP is configured). Opening the link sets the password once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from server import auth
from server.domain import duties
from server.domain.errors import NotFound, ValidationFailed
from server.domain.messages import _m
from server.domain.passwords import check_password
from server.models import Employee, ImportReport, PasswordToken, User
from server.services import audit, sessions
from server.services.base import Viewer, atomic, lookup_id, require_login, utcnow
from server.services.import_kinds import UNUSABLE_PASSWORD

VALID_DAYS = 7
ISSUE_MAX = 5000  # links per call; a larger import is issued in several calls (`after`)


@dataclass(frozen=True)
class Link:
    user_id: int
    username: str
    employee_no: str | None
    name: str | None
    email: str | None
    token: str
    expires_at: datetime


def path_for(token: str) -> str:
    return f"/set-password/{token}"


async def issue_links(viewer: Viewer, report_id: Any, limit: int = ISSUE_MAX) -> list[Link]:
    """Fresh links for the accounts an import created that have not set their password yet."""
    require_login(viewer)
    duties.require(viewer.roles, duties.IMPORT_EMPLOYEES)
    report = await ImportReport.filter(id=lookup_id(report_id)).first()
    if report is None:
        raise NotFound(_m("导入记录 %(id)s 不存在", id=report_id))
    now = utcnow()
    out: list[Link] = []
    async with atomic():
        pending = await PasswordToken.filter(report_id=report.id, used_at__isnull=True).order_by("id").limit(limit)
        users = {u.id: u for u in await User.filter(id__in=[p.user_id for p in pending])}  # type: ignore[attr-defined]
        employees = {e.id: e for e in await Employee.filter(
            id__in=[u.employee_id for u in users.values() if u.employee_id])}  # type: ignore[attr-defined]
        for row in pending:
            user = users.get(row.user_id)  # type: ignore[attr-defined]
            if user is None or not user.is_active or user.password_hash != UNUSABLE_PASSWORD:
                continue
            token = "sp_" + secrets.token_urlsafe(32)
            expires = now + timedelta(days=VALID_DAYS)
            await PasswordToken.filter(id=row.id).update(token_hash=auth.digest(token), issued_at=now,
                                                         expires_at=expires)
            employee = employees.get(user.employee_id) if user.employee_id else None  # type: ignore[attr-defined]
            out.append(Link(user.id, user.username, employee.employee_no if employee else None,
                            employee.name if employee else None, employee.email if employee else None, token,
                            expires))
        await audit.record(viewer, "password_links.issue", "import_report", report.id, None,
                           {"links": len(out), "userIds": [link.user_id for link in out][:1000]})
    return out


async def token_row(token: str) -> PasswordToken | None:
    """The link's row while it can still be used (issued, unused, not expired)."""
    if not token or len(token) > 100:
        return None
    row = await PasswordToken.filter(token_hash=auth.digest(token), used_at__isnull=True).first()
    if row is None or row.expires_at is None or row.expires_at <= utcnow():
        return None
    return row


async def link_user(token: str) -> User | None:
    row = await token_row(token)
    return None if row is None else await User.filter(id=row.user_id, is_active=True).first()  # type: ignore[attr-defined]


async def set_password(token: str, password: str, confirm: str | None = None) -> User:
    """The link's owner sets their password; the link is used up (every other link of theirs too)."""
    async with atomic():
        row = await token_row(token)
        user = None if row is None else await User.filter(id=row.user_id, is_active=True).first()  # type: ignore[attr-defined]
        if row is None or user is None:
            raise NotFound(_m("链接无效或已过期，请联系人事重新获取"))
        if confirm is not None and confirm != password:
            raise ValidationFailed(_m("两次输入的密码不一致"), field="confirm")
        problems = check_password(password, user.username)
        if problems:
            raise ValidationFailed(_m("密码不符合要求：%(problems)s", problems=problems), field="password")
        used = await PasswordToken.filter(id=row.id, used_at__isnull=True).update(used_at=utcnow())
        if not used:
            raise NotFound(_m("链接无效或已过期，请联系人事重新获取"))
        await PasswordToken.filter(user_id=user.id, used_at__isnull=True).update(used_at=utcnow())
        user.password_hash = auth.hash_password(password)
        await user.save(update_fields=["password_hash"])
        await audit.record(sessions.viewer_for(user), "user.set_password", "user", user.id, None,
                           {"via": "set-password link", "tokenId": row.id})
    return user
