"""Accounts through GraphQL: password change and reset, logout, sessions and tokens, TOKEN_DAYS."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.domain.errors import ValidationFailed
from server.models import ApiToken, AuditEntry, Session, User
from server.services import org, sessions
from server.services.base import SYSTEM, utcnow
from tests.factories import PASSWORD, make_org

ME = "{ me { username } }"
CHANGE = "mutation($c:String!,$n:String!){ changePassword(currentPassword:$c, newPassword:$n) }"
RESET_USER = "mutation($id:ID!,$n:String!){ resetPassword(userId:$id, newPassword:$n) }"
RESET_EMPLOYEE = "mutation($id:ID!,$n:String!){ resetPassword(employeeId:$id, newPassword:$n) }"
NEW = "Bell-Tower-2026!"


async def _hash_of(username: str) -> str:
    return (await User.get(username=username)).password_hash


async def test_change_password_revokes_every_other_token_and_session(gql, db):
    await make_org()
    old_token = await gql.login("sales")
    other_token = await gql.login("sales")
    user = await User.get(username="sales")
    cookie, _ = await sessions.create_session(user, 1)
    manager_token = await gql.login("manager")

    assert (await gql.ok(CHANGE, {"c": PASSWORD, "n": NEW}, token=old_token)) == {"changePassword": True}

    for token in (old_token, other_token):
        assert (await gql.error(ME, token=token))["extensions"]["code"] == "UNAUTHENTICATED"
    assert await sessions.session_for_key(cookie) is None
    # another account is untouched
    assert (await gql.ok(ME, token=manager_token))["me"]["username"] == "manager"
    # the old password no longer works, the new one does
    err = await gql.error('mutation { login(username:"sales", password:"pass-1234") { token } }')
    assert err["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await gql.ok(ME, token=await gql.login("sales", NEW)))["me"]["username"] == "sales"
    entry = await AuditEntry.get(action="user.change_password")
    assert entry.actor == "sales" and entry.after == {"revokedSessions": 3}


async def test_change_password_refusals_change_nothing(gql, db):
    await make_org()
    token = await gql.login("sales")
    before = await _hash_of("sales")
    audit_before = await AuditEntry.all().count()
    cases = [
        ({"c": "wrong-current-1", "n": NEW}, "currentPassword", "当前密码不正确"),
        ({"c": PASSWORD, "n": "short-9ch"}, "newPassword", "密码至少 10 位"),
        ({"c": PASSWORD, "n": "1234567890"}, "newPassword", "该密码过于常见"),
        ({"c": PASSWORD, "n": "woaini1314"}, "newPassword", "该密码过于常见"),
        ({"c": PASSWORD, "n": "sales"}, "newPassword", "密码不能与用户名相同"),
    ]
    for variables, field, message in cases:
        err = await gql.error(CHANGE, variables, token=token)
        assert err["extensions"]["code"] == "VALIDATION", err
        assert err["extensions"]["field"] == field
        assert message in err["message"]
    assert await _hash_of("sales") == before
    assert await AuditEntry.all().count() == audit_before
    assert await ApiToken.filter(revoked_at=None).count() == 1
    assert (await gql.ok(ME, token=token))["me"]["username"] == "sales"
    err = await gql.error(CHANGE, {"c": PASSWORD, "n": NEW})
    assert err["extensions"]["code"] == "UNAUTHENTICATED"


async def test_admin_resets_another_password_and_signs_them_out(gql, db):
    people = await make_org()
    admin = await gql.login("admin")
    sales_token = await gql.login("sales")
    sales = await User.get(username="sales")
    cookie, _ = await sessions.create_session(sales, 1)

    assert await gql.ok(RESET_EMPLOYEE, {"id": str(people.sales), "n": NEW}, token=admin) == {"resetPassword": True}
    assert (await gql.error(ME, token=sales_token))["extensions"]["code"] == "UNAUTHENTICATED"
    assert await sessions.session_for_key(cookie) is None
    assert (await gql.ok(ME, token=await gql.login("sales", NEW)))["me"]["username"] == "sales"
    # by user id as well; the admin's own token still works
    manager = await User.get(username="manager")
    assert await gql.ok(RESET_USER, {"id": str(manager.id), "n": "Manager-Pass-2026"}, token=admin)
    assert (await gql.ok(ME, token=admin))["me"]["username"] == "admin"
    entries = await AuditEntry.filter(action="user.reset_password").order_by("id")
    assert [(e.actor, e.object_id) for e in entries] == [("admin", str(sales.id)), ("admin", str(manager.id))]


async def test_reset_is_admin_only_never_ones_own_and_keeps_the_policy(gql, db):
    people = await make_org()
    admin_user = await User.get(username="admin")
    sales_before, admin_before = await _hash_of("sales"), await _hash_of("admin")
    hr = await gql.login("hr")
    sales_token = await gql.login("sales")
    admin = await gql.login("admin")
    audit_before = await AuditEntry.all().count()

    err = await gql.error(RESET_EMPLOYEE, {"id": str(people.sales), "n": NEW}, token=hr)
    assert err["extensions"]["code"] == "FORBIDDEN"
    err = await gql.error(RESET_USER, {"id": str(admin_user.id), "n": NEW}, token=admin)
    assert err["extensions"]["code"] == "FORBIDDEN"
    err = await gql.error(RESET_EMPLOYEE, {"id": str(people.sales), "n": "qwerty123"}, token=admin)
    assert err["extensions"]["code"] == "VALIDATION" and err["extensions"]["field"] == "newPassword"
    err = await gql.error("mutation { resetPassword(newPassword:\"Bell-Tower-2026!\") }", token=admin)
    assert err["extensions"]["code"] == "VALIDATION"
    err = await gql.error(RESET_USER, {"id": "999999", "n": NEW}, token=admin)
    assert err["extensions"]["code"] == "NOT_FOUND"

    assert (await _hash_of("sales"), await _hash_of("admin")) == (sales_before, admin_before)
    assert await AuditEntry.all().count() == audit_before
    assert (await gql.ok(ME, token=sales_token))["me"]["username"] == "sales"
    assert (await gql.ok(ME, token=admin))["me"]["username"] == "admin"


async def test_logout_revokes_only_the_token_it_is_called_with(gql, db):
    await make_org()
    first, second = await gql.login("sales"), await gql.login("sales")
    assert await gql.ok("mutation { logout }", token=first) == {"logout": True}
    assert (await gql.error(ME, token=first))["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await gql.ok(ME, token=second))["me"]["username"] == "sales"
    assert await AuditEntry.filter(action="user.logout", actor="sales").count() == 1
    assert (await gql.error("mutation { logout }"))["extensions"]["code"] == "UNAUTHENTICATED"


async def test_my_tokens_lists_and_revokes_own_tokens_only(gql, client, db):
    await make_org()
    response = await client.post("/graphql", headers={"User-Agent": "ERP-Connector/2.1"}, json={
        "query": 'mutation { login(username:"sales", password:"pass-1234") { token } }'})
    erp = response.json()["data"]["login"]["token"]
    mine = await gql.login("sales")
    manager = await gql.login("manager")

    tokens = (await gql.ok("{ myTokens { id userAgent clientAddress createdAt lastUsedAt expiresAt current } }",
                           token=mine))["myTokens"]
    assert len(tokens) == 2
    assert [t["current"] for t in tokens].count(True) == 1
    by_agent = {t["userAgent"]: t for t in tokens}
    assert by_agent["ERP-Connector/2.1"]["clientAddress"] == "127.0.0.1"
    assert by_agent["ERP-Connector/2.1"]["lastUsedAt"] and by_agent["ERP-Connector/2.1"]["createdAt"]
    erp_id = by_agent["ERP-Connector/2.1"]["id"]

    # the manager cannot revoke the salesperson's token, and learns nothing from trying
    err = await gql.error("mutation($id:ID!){ revokeToken(id:$id) }", {"id": erp_id}, token=manager)
    assert err["extensions"]["code"] == "NOT_FOUND"
    assert (await gql.ok(ME, token=erp))["me"]["username"] == "sales"
    assert await AuditEntry.filter(action="token.revoke").count() == 0

    assert await gql.ok("mutation($id:ID!){ revokeToken(id:$id) }", {"id": erp_id}, token=mine)
    assert (await gql.error(ME, token=erp))["extensions"]["code"] == "UNAUTHENTICATED"
    assert len((await gql.ok("{ myTokens { id } }", token=mine))["myTokens"]) == 1
    assert await AuditEntry.filter(action="token.revoke").count() == 1


async def test_logout_everywhere(gql, db):
    await make_org()
    first, second = await gql.login("sales"), await gql.login("sales")
    cookie, _ = await sessions.create_session(await User.get(username="sales"), 1)
    assert await gql.ok("mutation { logoutEverywhere }", token=first) == {"logoutEverywhere": True}
    for token in (first, second):
        assert (await gql.error(ME, token=token))["extensions"]["code"] == "UNAUTHENTICATED"
    assert await sessions.session_for_key(cookie) is None
    assert await Session.filter(revoked_at=None).count() == 0


async def test_tokens_expire_after_token_days(gql, db, settings):
    await make_org()
    token = await gql.login("sales")
    row = await ApiToken.get(user__username="sales")
    days = (row.expires_at - row.created_at).total_seconds() / 86400
    assert settings.token_days == 30 and abs(days - 30) < 0.01
    await ApiToken.filter(id=row.id).update(expires_at=utcnow() - timedelta(seconds=1))
    assert (await gql.error(ME, token=token))["extensions"]["code"] == "UNAUTHENTICATED"


async def test_last_used_is_written_at_most_once_a_minute(gql, db):
    await make_org()
    token = await gql.login("sales")
    row = await ApiToken.get(user__username="sales")
    long_ago = utcnow() - timedelta(hours=2)
    await ApiToken.filter(id=row.id).update(last_used_at=long_ago)
    await gql.ok(ME, token=token)
    first = (await ApiToken.get(id=row.id)).last_used_at
    assert first > long_ago + timedelta(hours=1)
    await gql.ok(ME, token=token)
    assert (await ApiToken.get(id=row.id)).last_used_at == first  # within the minute: no second write


async def test_create_admin_resetting_a_password_revokes_everything(gql, db):
    await make_org()
    token = await gql.login("admin")
    cookie, _ = await sessions.create_session(await User.get(username="admin"), 1)
    with pytest.raises(ValidationFailed, match="该密码过于常见"):  # the policy applies to create-admin
        await org.create_admin("admin", "1234567890", SYSTEM)
    assert (await gql.ok(ME, token=token))["me"]["username"] == "admin"  # refused: nothing revoked
    await org.create_admin("admin", NEW, SYSTEM)
    assert (await gql.error(ME, token=token))["extensions"]["code"] == "UNAUTHENTICATED"
    assert await sessions.session_for_key(cookie) is None
    assert (await gql.ok(ME, token=await gql.login("admin", NEW)))["me"]["username"] == "admin"
    entry = await AuditEntry.filter(action="user.reset_admin").order_by("-id").first()
    assert entry is not None and entry.after["revokedSessions"] == 2


async def test_guessing_the_current_password_is_throttled_like_a_login(gql, db):
    await make_org()
    token = await gql.login("sales")
    before = await _hash_of("sales")
    for _ in range(5):
        err = await gql.error(CHANGE, {"c": "guess-guess-1", "n": NEW}, token=token)
        assert err["extensions"]["code"] == "VALIDATION"
    err = await gql.error(CHANGE, {"c": PASSWORD, "n": NEW}, token=token)
    assert err["extensions"]["code"] == "RATE_LIMITED" and err["extensions"]["retryAfter"] > 0
    assert await _hash_of("sales") == before
    assert await AuditEntry.filter(action="user.change_password").count() == 0
