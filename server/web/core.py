"""What every page shares: the session and viewer, CSRF, the language, in-process GraphQL, rendering.

A page never reads models or re-implements a rule: it runs a GraphQL operation through the same
schema and context as /graphql (`await page.gql(...)`) and renders the result. A fragment is a block
of its page: the full template for a normal request, one block for an HTMX request (`Vary: HX-Request`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2_fragments import render_block
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from schema import schema
from schema.context import build_context, new_request_id
from server import auth, i18n
from server.domain import duties, vocab
from server.domain.messages import Message
from server.domain.money import CENT, fmt
from server.domain.pages import PageKey
from server.models import Session
from server.services import navigation
from server.services import sessions as session_service
from server.services.base import Viewer
from server.settings import ROOT, get_settings
from server.storage import MAX_FILES

TEMPLATES_DIR = ROOT / "templates"
LOCALE_COOKIE = "qk_locale"
# Before login there is no session to hold a CSRF token: a signed double-submit cookie instead.
ANON_CSRF_COOKIE = "qk_csrf"
YEAR = 365 * 24 * 3600


# ---------------------------------------------------------------- templates


def _money(value: Any) -> str:
    if value is None or value == "":
        return "—"
    try:
        return fmt(Decimal(str(value)))
    except InvalidOperation:
        return str(value)


def _decimal_or_zero(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value or 0).replace(",", "").strip() or 0)
    except InvalidOperation:
        return Decimal(0)
    return amount if amount.is_finite() else Decimal(0)


def _percent(value: Any, total: Any) -> int:
    """Width of a bar in percent of `total`, 0..100 (Decimal arithmetic; drawing only)."""
    v, t = _decimal_or_zero(value), _decimal_or_zero(total)
    if t <= 0:
        return 0
    return int(max(Decimal(0), min(Decimal(100), v * 100 / t)).quantize(Decimal(1)))


def _datetime(value: Any) -> str:
    if not value:
        return "—"
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.astimezone(get_settings().tz).strftime("%Y-%m-%d %H:%M")


def _dec(value: Any) -> Decimal:
    return _decimal_or_zero(value).quantize(CENT)


@cache
def environment(locale: str) -> Environment:
    """One environment per language, each with its gettext catalog installed."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(money=_money, percent=_percent, datetime=_datetime, dec=_dec)
    env.globals["lang"] = i18n.LOCALES[locale]
    env.globals["locale"] = locale
    env.globals["pages"] = PageKey
    env.globals["duties"] = duties
    env.globals["vocab"] = vocab  # the one vocabulary: enums, derived sets and labels (translated with _)
    env.globals["upload_limit_bytes"] = lambda: get_settings().max_upload_bytes  # read per render (MAX_UPLOAD_MB)
    return env


def render_template(locale: str, name: str, context: dict[str, Any], block: str | None = None) -> str:
    env = environment(locale)
    template = env.get_template(name)
    context = {"m": env.get_template("macros.html").module, **context}
    if block is None:
        return template.render(context)
    # One block of the page (HTMX fragment), by jinja2-fragments: its core `render_block`, not its
    # Starlette `Jinja2Blocks`, which wraps one environment (we keep one per language). Blocks are
    # `scoped` where they sit in a loop.
    return render_block(env, name, block, context)


# ---------------------------------------------------------------- GraphQL in-process


@dataclass(frozen=True)
class GqlError:
    message: str
    code: str
    field: str | None


# "... got invalid value 'x' at 'input.level'; ..." and "... has invalid value at .level: ..."
_COERCION_FIELD = re.compile(r"invalid value (?:'[^']*' )?at '?(?:[A-Za-z]+)?\.([A-Za-z]+)")
_VARIABLE = re.compile(r"Variable '\$([A-Za-z]+)'")


def _error(raw: Any) -> GqlError:
    extensions = getattr(raw, "extensions", None) or {}
    message = getattr(raw, "message", str(raw))
    name = extensions.get("field")
    if not name:
        # Coercion errors ("Variable '$input' got invalid value 'x' at 'input.level'; ...") name the
        # field only in the message.
        found = _COERCION_FIELD.search(message) or _VARIABLE.search(message)
        name = found.group(1) if found else None
    return GqlError(message=message, code=str(extensions.get("code") or "INTERNAL"), field=name)


@dataclass
class GqlResult:
    data: dict[str, Any]
    errors: list[GqlError]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def codes(self) -> set[str]:
        return {e.code for e in self.errors}

    def field_errors(self, fields: set[str] | None = None) -> dict[str, str]:
        """Messages keyed by the input field they belong to (fields: the ones the form shows)."""
        out: dict[str, str] = {}
        for e in self.errors:
            if e.field and (fields is None or e.field in fields):
                out.setdefault(e.field, e.message)
        return out

    def general_errors(self, fields: set[str] | None = None) -> list[str]:
        """Messages not shown next to a field of the form."""
        return [e.message for e in self.errors if not e.field or (fields is not None and e.field not in fields)]


class LoginRequired(Exception):
    pass


class PageError(Exception):
    """Stops a page: rendered as the error page with this status and message."""

    def __init__(self, status: int, message: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


_STATUS_FOR = {"FORBIDDEN": 403, "NOT_FOUND": 404, "UNAUTHENTICATED": 401, "UNAVAILABLE": 503}


def check_read(result: GqlResult) -> dict[str, Any]:
    """The data of a query the page cannot do without; its errors stop the page."""
    if result.ok:
        return result.data
    if "UNAUTHENTICATED" in result.codes:
        raise LoginRequired()
    first = result.errors[0]
    raise PageError(_STATUS_FOR.get(first.code, 400 if first.code == "VALIDATION" else 500), first.message)


def refuse_if_forbidden(result: GqlResult) -> None:
    """A write the viewer may not do at all: the 403 page with the API's message, not a form error."""
    for error in result.errors:
        if error.code in ("FORBIDDEN", "UNAUTHENTICATED"):
            if error.code == "UNAUTHENTICATED":
                raise LoginRequired()
            raise PageError(403, error.message)


# ---------------------------------------------------------------- CSRF


def _sign(nonce: str) -> str:
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"csrf:{nonce}".encode(), hashlib.sha256).hexdigest()


def new_anon_token() -> str:
    nonce = secrets.token_urlsafe(18)
    return f"{nonce}.{_sign(nonce)}"


def anon_token_valid(token: str | None) -> bool:
    if not token or token.count(".") != 1:
        return False
    nonce, signature = token.split(".")
    return hmac.compare_digest(signature, _sign(nonce))


# ---------------------------------------------------------------- the page


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a path on this site: never `//host` or a scheme (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


@dataclass
class Page:
    request: Request
    viewer: Viewer
    session: Session | None
    locale: str
    anon_csrf: str | None = None
    anon_csrf_is_new: bool = False
    form: FormData | None = None
    set_cookies: list[tuple[str, str, int | None]] = field(default_factory=list)
    delete_cookies: list[str] = field(default_factory=list)

    @property
    def htmx(self) -> bool:
        return self.request.headers.get("hx-request") == "true"

    @property
    def csrf_token(self) -> str:
        if self.session is not None:
            return self.session.csrf_token
        if self.anon_csrf is None:
            self.anon_csrf, self.anon_csrf_is_new = new_anon_token(), True
        return self.anon_csrf

    def csrf_ok(self, token: str | None) -> bool:
        if not token:
            return False
        if self.session is not None:
            return hmac.compare_digest(token, self.session.csrf_token)
        cookie = self.request.cookies.get(ANON_CSRF_COOKIE)
        return bool(cookie) and hmac.compare_digest(token, cookie or "") and anon_token_valid(cookie)

    def _(self, message: str) -> str:
        """Translate a message the page itself produces (extracted from server/web by babel.cfg)."""
        return i18n.translations(self.locale).gettext(message)

    def sees(self, key: str) -> bool:
        """True when the viewer may open the page `key` (server.domain.pages.PageKey), from the service."""
        return navigation.may_open(self.viewer, PageKey(key))

    def may(self, duty: str) -> bool:
        """True when the viewer's roles hold the action `duty` of the duties matrix, from the service."""
        return duty in navigation.duties_of(self.viewer)

    def value(self, name: str, default: str = "") -> str:
        if self.form is None:
            return default
        raw = self.form.get(name)
        return raw.strip() if isinstance(raw, str) else default

    async def gql(self, query: str, variables: dict[str, Any] | None = None) -> GqlResult:
        context = await build_context(viewer=self.viewer, request=self.request)
        result = await schema.execute(query, variable_values=variables, context_value=context)
        return GqlResult(data=result.data or {}, errors=[_error(e) for e in result.errors or []])

    async def layout(self) -> dict[str, Any]:
        """What the header shows: the viewer's name, and the unread notifications (one COUNT query)."""
        if not self.viewer.authenticated:
            return {"me": None, "unread": None}
        result = await self.gql("{ me { username roles employee { id name employeeNo } } unreadNotificationCount }")
        if not result.data.get("me"):
            check_read(result)
        return {"me": result.data["me"], "unread": result.data.get("unreadNotificationCount")}

    async def render(
        self, name: str, context: dict[str, Any] | None = None, *, block: str | None = None, status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> HTMLResponse:
        """The whole page, or only `block` when HTMX asked."""
        values = {
            "page": self, "viewer": self.viewer, "csrf_token": self.csrf_token,
            "path": self.request.url.path, "full_path": _full_path(self.request), **(context or {}),
        }
        fragment = block if self.htmx else None
        if fragment is None:
            values.update(await self.layout())
        html = render_template(self.locale, name, values, fragment)
        return HTMLResponse(html, status_code=status, headers=headers)

    def redirect(self, url: str) -> Response:
        if self.htmx:
            return Response(status_code=200, headers={"HX-Redirect": url})
        return RedirectResponse(url, status_code=303)

    def finish(self, response: Response) -> Response:
        secure = not get_settings().debug
        if self.anon_csrf_is_new and self.anon_csrf:
            response.set_cookie(ANON_CSRF_COOKIE, self.anon_csrf, httponly=True, samesite="lax", secure=secure,
                                path="/")
        for name, value, max_age in self.set_cookies:
            response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax", secure=secure,
                                path="/")
        for name in self.delete_cookies:
            response.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=secure)
        vary = response.headers.get("vary")
        if not vary or "hx-request" not in vary.lower():
            response.headers["Vary"] = f"{vary}, HX-Request" if vary else "HX-Request"
        response.headers.setdefault("Cache-Control", "no-store")
        return response


def _full_path(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


async def load_page(request: Request) -> Page:
    request_id = getattr(request.state, "request_id", None) or new_request_id(request)
    session = None
    key = request.cookies.get(auth.SESSION_COOKIE)
    if key:
        session = await session_service.session_for_key(key)
    if session is not None:
        viewer = session_service.viewer_for(session.user, request_id, session_id=session.id)
    else:
        viewer = Viewer(user_id=None, username="anonymous", request_id=request_id)
    locale = (
        i18n.normalize(request.cookies.get(LOCALE_COOKIE))
        or (i18n.normalize(viewer.locale) if session is not None else None)
        or i18n.DEFAULT_LOCALE
    )
    if viewer.locale != locale:  # what the schema renders (error messages, stored texts) for this page
        viewer = replace(viewer, locale=locale)
    page = Page(request=request, viewer=viewer, session=session, locale=locale,
                anon_csrf=request.cookies.get(ANON_CSRF_COOKIE) if session is None else None)
    if page.anon_csrf is not None and not anon_token_valid(page.anon_csrf):
        page.anon_csrf = None
    if key and session is None:
        page.delete_cookies.append(auth.SESSION_COOKIE)  # expired or revoked
    return page


Handler = Callable[..., Awaitable[Response]]


def _max_body(max_files: int) -> int:
    settings = get_settings()
    return settings.max_upload_bytes * max_files + 1024 * 1024


async def error_page(page: Page, status: int, message: str | Message | None = None) -> Response:
    if isinstance(message, Message):  # the page's own refusal, in the page's language
        message = i18n.render(message, page.locale)
    if page.htmx:
        return await page.render("error.html", {"status": status, "message": message}, block="error",
                                 status=200 if status < 500 else status)
    return await page.render("error.html", {"status": status, "message": message}, status=status)


def view(handler: Handler, *, login: bool = True, max_files: int = MAX_FILES) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a page handler: load the viewer, check CSRF on every POST, map errors to pages.

    `max_files` caps the file parts of a POSTed form (empty file inputs count too); a form with
    several file inputs (vouchers per expense line) declares a larger cap, and its service still
    enforces its own per-field limit.
    """

    async def endpoint(request: Request) -> Response:
        page = await load_page(request)
        try:
            response = await _run(page, request, handler, login, max_files)
        finally:
            if page.form is not None:
                await page.form.close()
        return page.finish(response)

    endpoint.__name__ = getattr(handler, "__name__", "page")
    return endpoint


async def _run(page: Page, request: Request, handler: Handler, login: bool, max_files: int) -> Response:
    try:
        if request.method == "POST":
            length = request.headers.get("content-length")
            if length and length.isdigit() and int(length) > _max_body(max_files):
                return await error_page(page, 413)
            try:
                page.form = await request.form(max_files=max_files, max_part_size=1024 * 1024)
            except (MultiPartException, HTTPException):
                return await error_page(page, 400)
            token = request.headers.get("x-csrf-token") or page.value("csrf_token")
            if not page.csrf_ok(token):
                return await error_page(page, 403, None)
        if login and not page.viewer.authenticated:
            raise LoginRequired()
        return await handler(page, **request.path_params)
    except LoginRequired:
        target = "/login"
        if request.method == "GET" and _full_path(request) != "/":
            target += "?next=" + quote(_full_path(request), safe="/")
        if page.session is not None or request.cookies.get(auth.SESSION_COOKIE):
            page.delete_cookies.append(auth.SESSION_COOKIE)
        return page.redirect(target)
    except PageError as exc:
        return await error_page(page, exc.status, exc.message)
