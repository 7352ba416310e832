"""The account's security page: password change, sessions and tokens with revoke, sign out everywhere;
and the login page's throttling message."""

from __future__ import annotations

from server.models import ApiToken, AuditEntry, Session, User
from tests.factories import PASSWORD, make_org
from tests.web.conftest import csrf_from, text_of

NEW = "Bell-Tower-2026!"


async def _token(gql_client, username: str = "sales") -> str:
    response = await gql_client.post("/graphql", headers={"User-Agent": "ERP-Connector/2.1"}, json={
        "query": 'mutation($u:String!,$p:String!){ login(username:$u, password:$p) { token } }',
        "variables": {"u": username, "p": PASSWORD}})
    return response.json()["data"]["login"]["token"]


async def _me(client, token: str) -> dict:
    response = await client.post("/graphql", json={"query": "{ me { username } }"},
                                 headers={"Authorization": f"Bearer {token}"})
    return response.json()


async def test_page_lists_sessions_and_tokens(browser, db):
    await make_org()
    browser.client.headers["User-Agent"] = "Firefox/140 on Linux"
    await browser.login("sales")
    await _token(browser.client)
    page = await browser.get("/account/security")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "账号安全" in text and "浏览器登录" in text and "API 令牌" in text
    assert "Firefox/140 on Linux" in text and "ERP-Connector/2.1" in text
    assert "当前" in text  # this browser's session is marked
    assert page.text.count("/revoke") == 2
    assert 'action="/account/signout-everywhere"' in page.text
    home = await browser.get("/")
    assert 'href="/account/security"' in home.text


async def test_revoke_a_token_from_the_page(browser, client, db):
    await make_org()
    await browser.login("sales")
    token = await _token(client)
    row = await ApiToken.get(user__username="sales")
    page = await browser.get("/account/security")
    # without the CSRF token: refused, nothing revoked
    forged = await browser.client.post(f"/account/tokens/{row.id}/revoke", data={})
    assert forged.status_code == 403
    assert (await _me(client, token))["data"]["me"]["username"] == "sales"
    response = await browser.post(f"/account/tokens/{row.id}/revoke", {"csrf_token": csrf_from(page.text)})
    assert response.status_code == 303 and response.headers["location"] == "/account/security?done=revoked"
    assert (await _me(client, token))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    after = await browser.get(response.headers["location"])
    assert "已注销" in text_of(after.text) and "ERP-Connector" not in after.text
    assert await AuditEntry.filter(action="token.revoke", actor="sales").count() == 1


async def test_revoke_another_browser_session(browser, second_browser, db):
    await make_org()
    await browser.login("sales")
    await second_browser.login("sales")
    mine = await Session.filter(user__username="sales").order_by("id").first()
    other = await Session.filter(user__username="sales").order_by("-id").first()
    assert mine and other and mine.id != other.id
    await browser.get("/account/security")
    response = await browser.post(f"/account/sessions/{other.id}/revoke")
    assert response.status_code == 303
    assert (await second_browser.get("/loans")).headers["location"].startswith("/login")
    assert (await browser.get("/loans")).status_code == 200


async def test_change_password_on_the_page_signs_out_the_others(browser, second_browser, client, db):
    await make_org()
    await browser.login("sales")
    await second_browser.login("sales")
    token = await _token(client)
    await browser.get("/account/security")

    mismatch = await browser.post("/account/password", {"currentPassword": PASSWORD, "newPassword": NEW,
                                                         "confirmPassword": NEW + "x"})
    assert mismatch.status_code == 400 and "两次输入的新密码不一致" in text_of(mismatch.text)
    common = await browser.post("/account/password", {"currentPassword": PASSWORD, "newPassword": "1234567890",
                                                       "confirmPassword": "1234567890"})
    assert common.status_code == 400 and "过于常见" in text_of(common.text)
    wrong = await browser.post("/account/password", {"currentPassword": "not-my-pass", "newPassword": NEW,
                                                      "confirmPassword": NEW})
    assert wrong.status_code == 400 and "当前密码不正确" in text_of(wrong.text)
    assert await AuditEntry.filter(action="user.change_password").count() == 0
    assert (await second_browser.get("/loans")).status_code == 200

    response = await browser.post("/account/password", {"currentPassword": PASSWORD, "newPassword": NEW,
                                                         "confirmPassword": NEW})
    assert response.status_code == 303
    done = await browser.get(response.headers["location"])
    assert "密码已修改" in text_of(done.text)
    # this browser stays signed in; the other browser and the token are out
    assert (await browser.get("/loans")).status_code == 200
    assert (await second_browser.get("/loans")).headers["location"].startswith("/login")
    assert (await _me(client, token))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await AuditEntry.filter(action="user.change_password").count() == 1


async def test_sign_out_everywhere(browser, second_browser, client, db):
    await make_org()
    await browser.login("sales")
    await second_browser.login("sales")
    token = await _token(client)
    await browser.get("/account/security")
    response = await browser.post("/account/signout-everywhere")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    for b in (browser, second_browser):
        assert (await b.get("/loans")).headers["location"].startswith("/login")
    assert (await _me(client, token))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await Session.filter(revoked_at=None).count() == 0
    assert await ApiToken.filter(revoked_at=None).count() == 0


async def test_login_page_says_how_long_to_wait_in_the_users_language(browser, db):
    await make_org()
    page = await browser.get("/login")
    csrf = csrf_from(page.text)
    for _ in range(5):
        r = await browser.client.post("/login", data={"username": "sales", "password": "wrong-pass", "csrf_token": csrf})
        assert r.status_code == 401
    r = await browser.client.post("/login", data={"username": "sales", "password": PASSWORD, "csrf_token": csrf})
    assert r.status_code == 429
    assert "登录失败次数过多，请 15 分钟后再试。" in text_of(r.text)
    assert await Session.all().count() == 0
    await browser.post("/locale", {"locale": "en", "next": "/login", "csrf_token": csrf})
    r = await browser.client.post("/login", data={"username": "sales", "password": PASSWORD, "csrf_token": csrf})
    assert r.status_code == 429
    assert "Too many failed logins. Try again in 15 min." in text_of(r.text)


async def test_anonymous_is_sent_to_login(browser, db):
    response = await browser.get("/account/security")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert await User.all().count() == 0
