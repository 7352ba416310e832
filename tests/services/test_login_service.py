"""Login and logout as services (server/services/accounts.py): each opens its transaction and writes
one audit entry; the login page and the GraphQL `login` only call them."""

from __future__ import annotations

import pytest

from server.domain.errors import Unauthenticated
from server.models import ApiToken, AuditEntry, Session
from server.services import accounts, sessions
from tests.factories import PASSWORD, make_org


async def test_login_opens_a_session_and_writes_one_audit_entry(db):
    await make_org()
    before = await AuditEntry.all().count()
    key, user = await accounts.login("sales", PASSWORD, address="10.0.0.7", agent="pytest", request_id="rq-1")
    row = await sessions.session_for_key(key)
    assert row is not None and row.user_id == user.id  # type: ignore[attr-defined]
    assert (row.client_address, row.user_agent) == ("10.0.0.7", "pytest")
    entries = await AuditEntry.filter(id__gt=0).order_by("-id").limit(1)
    assert await AuditEntry.all().count() == before + 1
    assert (entries[0].action, entries[0].actor, entries[0].request_id) == ("user.login", "sales", "rq-1")


async def test_login_replaces_the_session_the_browser_came_with(db):
    await make_org()
    old_key, _ = await accounts.login("sales", PASSWORD)
    new_key, _ = await accounts.login("sales", PASSWORD, replaces_key=old_key)
    assert new_key != old_key
    assert await sessions.session_for_key(old_key) is None
    assert await sessions.session_for_key(new_key) is not None


async def test_a_wrong_password_opens_nothing_and_audits_nothing(db):
    await make_org()
    old_key, _ = await accounts.login("sales", PASSWORD)
    counts = (await Session.all().count(), await AuditEntry.all().count())
    with pytest.raises(Unauthenticated) as refused:
        await accounts.login("sales", "wrong-wrong", replaces_key=old_key)
    assert refused.value.code == "UNAUTHENTICATED"
    assert (await Session.all().count(), await AuditEntry.all().count()) == counts
    assert await sessions.session_for_key(old_key) is not None  # a failed login revokes nothing


async def test_token_login_and_logout_each_write_one_entry(db):
    await make_org()
    token, user = await accounts.login_for_token("sales", PASSWORD, address="10.0.0.8")
    row = await sessions.token_for(token)
    assert row is not None and row.client_address == "10.0.0.8"
    assert await AuditEntry.filter(action="user.login_token", actor="sales").count() == 1
    viewer = sessions.viewer_for(user, token_id=row.id)
    assert await accounts.logout(viewer) is True
    assert await sessions.token_for(token) is None
    assert await AuditEntry.filter(action="user.logout", actor="sales").count() == 1
    # A second logout with the same (revoked) token changes nothing.
    assert await accounts.logout(viewer) is False
    assert await AuditEntry.filter(action="user.logout", actor="sales").count() == 1


async def test_logout_everywhere_revokes_every_session_and_token(db):
    await make_org()
    key, user = await accounts.login("sales", PASSWORD)
    token, _ = await accounts.login_for_token("sales", PASSWORD)
    session = await sessions.session_for_key(key)
    assert session is not None
    revoked = await accounts.logout_everywhere(sessions.viewer_for(user, session_id=session.id))
    assert revoked == 2
    assert await sessions.session_for_key(key) is None and await sessions.token_for(token) is None
    assert await Session.filter(user_id=user.id, revoked_at=None).count() == 0
    assert await ApiToken.filter(user_id=user.id, revoked_at=None).count() == 0
    assert await AuditEntry.filter(action="user.logout_everywhere", actor="sales").count() == 1
