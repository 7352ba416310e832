"""Login, logout, the language switch and the account's security page (password, sessions, tokens)."""

from __future__ import annotations

from starlette.responses import Response

from server import auth, i18n
from server.demo import DEMO_PASSWORD, demo_loaded, listed_demo_accounts
from server.domain.errors import DomainError, RateLimited
from server.services import accounts as account_service
from server.services import org
from server.settings import get_settings
from server.web.core import ANON_CSRF_COOKIE, LOCALE_COOKIE, YEAR, Page, check_read, refuse_if_forbidden, safe_next


async def _login_form(page: Page, error: str | None = None, status: int = 200) -> Response:
    demo = await demo_loaded()
    return await page.render("login.html", {
        "error": error, "username": page.value("username"),
        "next": safe_next(page.value("next") or page.request.query_params.get("next")),
        "demo_accounts": await listed_demo_accounts() if demo else [], "demo_password": DEMO_PASSWORD if demo else None,
    }, status=status)


async def login_page(page: Page) -> Response:
    if page.viewer.authenticated:
        return page.redirect(safe_next(page.request.query_params.get("next")))
    return await _login_form(page)


async def login_submit(page: Page) -> Response:
    password = page.form.get("password") if page.form is not None else None
    try:
        key, _user = await account_service.login(
            page.value("username"), password if isinstance(password, str) else "",
            address=auth.client_address(page.request), agent=auth.user_agent(page.request),
            replaces_key=page.request.cookies.get(auth.SESSION_COOKIE), request_id=page.viewer.request_id)
    except RateLimited as exc:
        minutes = max(1, -(-exc.retry_after // 60))
        message = page._("登录失败次数过多，请 %(minutes)s 分钟后再试。") % {"minutes": minutes}
        return await _login_form(page, message, status=429)
    except DomainError as exc:
        return await _login_form(page, i18n.render(exc.msg, page.locale), status=401)
    page.set_cookies.append((auth.SESSION_COOKIE, key, get_settings().session_days * 24 * 3600))
    page.delete_cookies.append(ANON_CSRF_COOKIE)
    return page.redirect(safe_next(page.value("next")))


async def logout(page: Page) -> Response:
    if page.session is not None:
        await account_service.logout(page.viewer)
    page.delete_cookies.append(auth.SESSION_COOKIE)
    return page.redirect("/login")


async def switch_locale(page: Page) -> Response:
    locale = i18n.normalize(page.value("locale")) or i18n.DEFAULT_LOCALE
    if page.viewer.authenticated:
        await org.set_locale(page.viewer, locale)
    page.set_cookies.append((LOCALE_COOKIE, locale, YEAR))
    return page.redirect(safe_next(page.value("next")))


# ---------------------------------------------------------------- the account's security page

SECURITY_QUERY = """{
  mySessions { id createdAt lastUsedAt expiresAt userAgent clientAddress current }
  myTokens { id createdAt lastUsedAt expiresAt userAgent clientAddress current }
}"""
PASSWORD_FIELDS = {"currentPassword", "newPassword"}


async def security_page(page: Page, *, errors: dict | None = None, general: list | None = None,
                        status: int = 200) -> Response:
    data = check_read(await page.gql(SECURITY_QUERY))
    notice = {
        "password": page._("密码已修改，其他设备上的登录和所有 API 令牌已失效。"),
        "revoked": page._("已注销。"),
    }.get(page.request.query_params.get("done", ""))
    return await page.render("account/security.html", {
        "sessions": data["mySessions"], "tokens": data["myTokens"], "errors": errors or {},
        "general": general or [], "notice": notice,
    }, status=status)


async def change_password(page: Page) -> Response:
    form = page.form
    current, new, confirm = (form.get(k) if form is not None else None
                             for k in ("currentPassword", "newPassword", "confirmPassword"))
    if not isinstance(new, str) or new != confirm:
        return await security_page(page, errors={"confirmPassword": page._("两次输入的新密码不一致")}, status=400)
    result = await page.gql(
        "mutation($c:String!,$n:String!){ changePassword(currentPassword:$c, newPassword:$n) }",
        {"c": current if isinstance(current, str) else "", "n": new},
    )
    refuse_if_forbidden(result)
    if not result.ok:
        return await security_page(page, errors=result.field_errors(PASSWORD_FIELDS),
                                   general=result.general_errors(PASSWORD_FIELDS), status=400)
    return page.redirect("/account/security?done=password")


async def revoke(page: Page, kind: str, item_id: str) -> Response:
    mutation = {"sessions": "revokeSession", "tokens": "revokeToken"}.get(kind)
    if mutation is None:
        return await security_page(page, status=404)
    result = await page.gql(f"mutation($id:ID!){{ {mutation}(id:$id) }}", {"id": item_id})
    refuse_if_forbidden(result)
    if not result.ok:
        return await security_page(page, general=[e.message for e in result.errors], status=400)
    if kind == "sessions" and str(page.viewer.session_id) == item_id:
        page.delete_cookies.append(auth.SESSION_COOKIE)
        return page.redirect("/login")
    return page.redirect("/account/security?done=revoked")


async def sign_out_everywhere(page: Page) -> Response:
    result = await page.gql("mutation { logoutEverywhere }")
    refuse_if_forbidden(result)
    check_read(result)
    page.delete_cookies.append(auth.SESSION_COOKIE)
    return page.redirect("/login")
