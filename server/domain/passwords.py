"""The password policy: a pure function over the candidate password and the account's username.

Used wherever a person chooses a password that protects an account for good: changePassword,
resetPassword, ADMIN_PASSWORD at start-up and `main.py create-admin`. The demo loader's accounts
(demo mode only) and HR's initial passwords (createEmployee) follow their own, older rule.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from server.domain.messages import Message, _m

MIN_LENGTH = 10
MAX_LENGTH = 256  # argon2 accepts more; a limit keeps one login from costing a megabyte of hashing


@cache
def common_passwords() -> frozenset[str]:
    """The commonest passwords (leak lists, Chinese favourites), lower-cased; ships with the package."""
    text = resources.files("server.domain").joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def check_password(password: str, username: str | None = None) -> list[Message]:
    """Every problem with `password` as messages; an empty list means it is acceptable."""
    password = password or ""
    problems: list[Message] = []
    if len(password) < MIN_LENGTH:
        problems.append(_m("密码至少 %(min)s 位", min=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        problems.append(_m("密码最多 %(max)s 位", max=MAX_LENGTH))
    lowered = password.strip().lower()
    name = (username or "").strip().lower()
    if name and (lowered == name or lowered == name[::-1]):
        problems.append(_m("密码不能与用户名相同"))
    if lowered in common_passwords():
        problems.append(_m("该密码过于常见，请换一个"))
    elif len(set(password)) == 1 and password:
        problems.append(_m("密码不能只由一个字符重复组成"))
    return problems
