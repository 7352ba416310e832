"""Login, logout, CSRF and the language switch through the real pages."""

from __future__ import annotations

import re

from server import auth
from server.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, MARKER
from server.models import AuditEntry, Loan, Notification, Sequence, Session, User
from server.services import sessions
from server.services.base import utcnow
from tests.factories import PASSWORD, make_org
from tests.web.conftest import csrf_from, text_of


async def test_login_through_the_form_shows_home(browser, db):
    await make_org()
    home = await browser.login("sales")
    text = text_of(home.text)
    assert "您好，张三" in text
    assert "我的借款额度" in text and "10,000.00" in text
    assert 'href="/loans/new"' in home.text
    assert "组织管理" not in text and "财务" not in text.replace("财务部", "")
    assert await AuditEntry.filter(action="user.login", actor="sales").count() == 1


async def test_session_cookie_flags(browser, db):
    await make_org()
    page = await browser.get("/login")
    response = await browser.client.post("/login", data={
        "username": "sales", "password": PASSWORD, "csrf_token": csrf_from(page.text)})
    assert response.status_code == 303
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(auth.SESSION_COOKIE + "="))
    flags = cookie.lower()
    assert "httponly" in flags and "samesite=lax" in flags and "secure" in flags
    assert "max-age=604800" in flags  # SESSION_DAYS 7


async def test_wrong_password_shows_the_message(browser, db):
    await make_org()
    page = await browser.get("/login")
    response = await browser.client.post("/login", data={
        "username": "sales", "password": "wrong-wrong", "csrf_token": csrf_from(page.text)})
    assert response.status_code == 401
    assert "用户名或密码错误" in text_of(response.text)
    assert auth.SESSION_COOKIE not in response.cookies
    assert await Session.all().count() == 0


async def test_anonymous_is_sent_to_login_and_back(browser, db):
    await make_org()
    response = await browser.get("/loans")
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/loans"
    response = await browser.get("/?tab=1")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/%3Ftab%3D1"
    page = await browser.get("/login?next=/%3Ftab%3D1")
    assert 'name="next" value="/?tab=1"' in page.text
    response = await browser.client.post("/login", data={
        "username": "sales", "password": PASSWORD, "csrf_token": csrf_from(page.text), "next": "/?tab=1"})
    assert response.headers["location"] == "/?tab=1"


async def test_next_never_leaves_the_site(browser, db):
    await make_org()
    page = await browser.get("/login")
    response = await browser.client.post("/login", data={
        "username": "sales", "password": PASSWORD, "csrf_token": csrf_from(page.text),
        "next": "//evil.example/x"})
    assert response.headers["location"] == "/"


async def test_login_without_csrf_token_is_403(browser, db):
    await make_org()
    await browser.get("/login")
    response = await browser.client.post("/login", data={"username": "sales", "password": PASSWORD})
    assert response.status_code == 403
    forged = await browser.client.post("/login", data={
        "username": "sales", "password": PASSWORD, "csrf_token": "abc.def"})
    assert forged.status_code == 403
    assert await Session.all().count() == 0


async def test_login_token_must_match_this_browsers_cookie(browser, second_browser, db):
    """Double submit: a token taken from another browser's login page is refused."""
    await make_org()
    other = await second_browser.get("/login")
    await browser.get("/login")
    response = await browser.client.post("/login", data={
        "username": "sales", "password": PASSWORD, "csrf_token": csrf_from(other.text)})
    assert response.status_code == 403


async def test_posts_without_csrf_are_403_and_change_nothing(browser, db):
    await make_org()
    await browser.login("admin")
    for url, data in [
        ("/logout", {}),
        ("/locale", {"locale": "en"}),
        ("/admin/departments", {"code": "X1", "name": "新部门"}),
        ("/admin/positions", {"code": "SALES", "name": "销售", "level": "3", "loanLimit": "1.00",
                              "settleDays": "15", "chain_1": "FINANCE"}),
        ("/admin/employees", {"employeeNo": "Z1"}),
        ("/loans/new", {"amount": "100.00", "purpose": "TRAVEL", "description": "x"}),
        ("/loans/1/cancel", {}),
        ("/approvals/1", {"decision": "APPROVE"}),
        ("/finance/1/disburse", {}),
        ("/finance/1/settle", {"method": "CASH_RETURN", "amount": "1.00"}),
    ]:
        response = await browser.post(url, data, csrf=False)
        assert response.status_code == 403, url
        wrong = await browser.post(url, {**data, "csrf_token": "not-the-token"})
        assert wrong.status_code == 403, url
    assert (await browser.get("/")).status_code == 200  # still logged in
    assert (await User.get(username="admin")).locale == "zh_CN"
    assert await AuditEntry.filter(action="department.create", actor="admin").count() == 0
    assert await AuditEntry.filter(action="position.update", actor="admin").count() == 0
    assert await Loan.all().count() == 0


async def test_htmx_header_token_is_accepted(browser, db):
    await make_org()
    await browser.login("sales")
    response = await browser.client.post("/locale", data={"locale": "en", "next": "/"},
                                         headers={"X-CSRF-Token": browser.csrf, "HX-Request": "true"})
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/"


async def test_logout_revokes_the_session(browser, db):
    await make_org()
    await browser.login("sales")
    key = browser.client.cookies.get(auth.SESSION_COOKIE)
    response = await browser.post("/logout")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert await sessions.session_for_key(key) is None
    assert await AuditEntry.filter(action="user.logout", actor="sales").count() == 1
    browser.client.cookies.set(auth.SESSION_COOKIE, key, domain="testserver")  # a stolen copy of the cookie
    assert (await browser.get("/")).status_code == 303


async def test_language_switch_shows_english(browser, db):
    await make_org()
    await browser.login("sales")
    response = await browser.post("/locale", {"locale": "en", "next": "/loans/new"})
    assert response.status_code == 303 and response.headers["location"] == "/loans/new"
    home = await browser.get("/")
    text = text_of(home.text)
    assert '<html lang="en">' in home.text
    assert "Hello, 张三" in text and "My loan quota" in text and "Log out" in text
    assert "我的借款额度" not in text
    assert (await User.get(username="sales")).locale == "en"
    await browser.post("/locale", {"locale": "zh_CN", "next": "/"})
    assert "我的借款额度" in text_of((await browser.get("/")).text)


async def test_language_switch_before_login(browser, db):
    await make_org()
    await browser.get("/login")
    response = await browser.post("/locale", {"locale": "en", "next": "/login"})
    assert response.status_code == 303
    page = await browser.get("/login")
    assert "Log in to Qingkuan" in text_of(page.text)


async def test_demo_accounts_listed_only_with_demo_data(browser, db):
    await make_org()
    page = await browser.get("/login")
    assert "演示账号" not in text_of(page.text)
    await Sequence.create(name=MARKER, value=1)
    for username, _job, _role in DEMO_ACCOUNTS:  # listed while their accounts are open (leavers are not)
        await User.create(username=username, password_hash="x", roles=["EMPLOYEE"])
    text = text_of((await browser.get("/login")).text)
    assert "演示账号" in text and "zhangwei" in text and DEMO_PASSWORD in text
    # The jobs come from the catalog in the reader's language, not as "中文 / English" side by side.
    assert "区域销售经理 (SUPERVISOR)" in text and "Regional" not in text


async def test_pages_vary_on_hx_request(browser, db):
    await make_org()
    await browser.login("sales")
    response = await browser.get("/")
    assert "HX-Request" in response.headers["vary"]


async def test_header_shows_the_unread_notification_count(browser, db):
    await make_org()
    user = await User.get(username="sales")
    await Notification.create(user=user, title="逾期提醒", body="借款已逾期", created_at=utcnow())
    await Notification.create(user=user, title="已读", body="x", created_at=utcnow(), read_at=utcnow())
    home = await browser.login("sales")
    assert re.search(r'通知 <b class="count">1</b>', home.text)
