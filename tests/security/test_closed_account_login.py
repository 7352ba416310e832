"""A closed account's login says it is closed only after the right password (issue 12): without the
password nobody learns which accounts exist. Leavers are not offered on the demo login page."""

from __future__ import annotations

from server.demo import DEMO_ACCOUNTS, listed_demo_accounts
from server.models import Sequence, User
from tests.factories import PASSWORD, make_org
from tests.web.conftest import csrf_from, text_of

LOGIN = "mutation($u:String!,$p:String!){login(username:$u,password:$p){token}}"


async def _close(username: str) -> None:
    await User.filter(username=username).update(is_active=False)


async def test_right_password_of_a_closed_account_names_it_closed(gql, db):
    await make_org()
    await _close("sales")
    closed = await gql.error(LOGIN, {"u": "sales", "p": PASSWORD})
    assert closed["extensions"]["code"] == "ACCOUNT_CLOSED"
    assert "已关闭" in closed["message"]


async def test_wrong_password_of_a_closed_account_is_the_generic_error(gql, db):
    await make_org()
    await _close("sales")
    wrong = await gql.error(LOGIN, {"u": "sales", "p": "not-the-password"})
    unknown = await gql.error(LOGIN, {"u": "nobody-here", "p": "not-the-password"})
    assert wrong["extensions"]["code"] == unknown["extensions"]["code"] == "UNAUTHENTICATED"
    assert wrong["message"] == unknown["message"] == "用户名或密码错误"


async def test_login_page_says_closed_only_after_the_right_password(client, db):
    await make_org()
    await _close("sales")

    async def attempt(password: str) -> str:
        form = await client.get("https://testserver/login")
        response = await client.post("https://testserver/login", data={
            "username": "sales", "password": password, "csrf_token": csrf_from(form.text), "next": "/"})
        assert response.status_code == 401
        return text_of(response.text)

    assert "用户名或密码错误" in await attempt("wrong-password") and "已关闭" not in await attempt("wrong-2")
    assert "该账号已关闭" in await attempt(PASSWORD)


async def test_leavers_are_not_listed_among_the_demo_accounts(db):
    await Sequence.create(name="demo-loaded", value=1)
    for username, _job, _role in DEMO_ACCOUNTS:
        await User.create(username=username, password_hash="x", roles=["EMPLOYEE"])
    leaver = DEMO_ACCOUNTS[1][0]
    await _close(leaver)
    listed = [a[0] for a in await listed_demo_accounts()]
    assert leaver not in listed and listed == [a[0] for a in DEMO_ACCOUNTS if a[0] != leaver]
