"""Login, logout and the language switch."""

from __future__ import annotations

from starlette.responses import Response

from server import auth, i18n
from server.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, demo_loaded
from server.domain.errors import DomainError
from server.services import audit, org
from server.services.base import atomic
from server.settings import get_settings
from server.web.core import ANON_CSRF_COOKIE, LOCALE_COOKIE, YEAR, Page, safe_next


async def _login_form(page: Page, error: str | None = None, status: int = 200) -> Response:
    demo = await demo_loaded()
    return await page.render("login.html", {
        "error": error, "username": page.value("username"),
        "next": safe_next(page.value("next") or page.request.query_params.get("next")),
        "demo_accounts": DEMO_ACCOUNTS if demo else [], "demo_password": DEMO_PASSWORD if demo else None,
    }, status=status)


async def login_page(page: Page) -> Response:
    if page.viewer.authenticated:
        return page.redirect(safe_next(page.request.query_params.get("next")))
    return await _login_form(page)


async def login_submit(page: Page) -> Response:
    password = page.form.get("password") if page.form is not None else None
    try:
        user = await org.authenticate(page.value("username"), password if isinstance(password, str) else "")
    except DomainError as exc:
        return await _login_form(page, exc.message, status=401)
    settings = get_settings()
    old_key = page.request.cookies.get(auth.SESSION_COOKIE)
    async with atomic():
        if old_key:
            await auth.revoke_session(old_key)  # a new key at every login: no session fixation
        key, _session = await auth.create_session(user, settings.session_days)
        await audit.record(auth.viewer_for(user, page.viewer.request_id), "user.login", "user", user.id,
                           None, {"via": "web"})
    page.set_cookies.append((auth.SESSION_COOKIE, key, settings.session_days * 24 * 3600))
    page.delete_cookies.append(ANON_CSRF_COOKIE)
    return page.redirect(safe_next(page.value("next")))


async def logout(page: Page) -> Response:
    key = page.request.cookies.get(auth.SESSION_COOKIE)
    if key and page.session is not None:
        async with atomic():
            await auth.revoke_session(key)
            await audit.record(page.viewer, "user.logout", "user", page.viewer.user_id, None, {"via": "web"})
    page.delete_cookies.append(auth.SESSION_COOKIE)
    return page.redirect("/login")


async def switch_locale(page: Page) -> Response:
    locale = i18n.normalize(page.value("locale")) or i18n.DEFAULT_LOCALE
    if page.viewer.authenticated:
        await org.set_locale(page.viewer, locale)
    page.set_cookies.append((LOCALE_COOKIE, locale, YEAR))
    return page.redirect(safe_next(page.value("next")))
