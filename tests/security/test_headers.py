"""Security headers on every response: a page, a 404, an error page, /graphql, and an unhandled 500."""

from __future__ import annotations

import re

import httpx
import pytest

from server.app import CONTENT_SECURITY_POLICY, RequestIdMiddleware
from server.settings import ROOT
from tests.factories import make_org

EXPECTED = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}


def assert_security_headers(response: httpx.Response) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (name, response.status_code)
    csp = response.headers.get("content-security-policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in csp.split("; ") if d}
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert directives["frame-ancestors"] == ["'none'"]
    assert "'unsafe-eval'" not in csp and "'unsafe-inline'" not in " ".join(directives["script-src"])


async def test_headers_on_a_page(browser):
    await make_org()
    home = await browser.login("sales")
    assert home.status_code == 200 and "<html" in home.text
    assert_security_headers(home)


async def test_headers_on_a_404(browser):
    await make_org()
    await browser.login("sales")
    missing = await browser.client.get("/no/such/page")
    assert missing.status_code == 404
    assert_security_headers(missing)
    loan = await browser.client.get("/loans/999999")  # a page's own 404, rendered by the app
    assert loan.status_code == 404
    assert_security_headers(loan)


async def test_headers_on_an_error_page(browser):
    # A form post without its CSRF token: the 403 error page.
    refused = await browser.client.post("/login", data={"username": "x", "password": "y"})
    assert refused.status_code == 403 and "<html" in refused.text
    assert_security_headers(refused)


async def test_headers_on_graphql_and_static(client):
    response = await client.post("/graphql", json={"query": "{ __typename }"})
    assert response.status_code == 200
    assert_security_headers(response)
    assert_security_headers(await client.get("/static/app.js"))


async def test_headers_on_an_unhandled_500():
    async def broken(scope, receive, send):
        raise RuntimeError("boom")

    app = RequestIdMiddleware(broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        response = await c.get("/")
    assert response.status_code == 500
    assert_security_headers(response)


def test_policy_is_the_one_documented():
    assert "default-src 'self'" in CONTENT_SECURITY_POLICY and "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("path", sorted(str(p.relative_to(ROOT)) for p in (ROOT / "templates").rglob("*.html")))
def test_templates_have_no_inline_script(path):
    """The policy allows no inline script: no <script> body, no on* handler, no hx-on, no javascript: URL."""
    text = (ROOT / path).read_text(encoding="utf-8")
    for script in re.finditer(r"<script\b([^>]*)>(.*?)</script>", text, flags=re.S):
        assert "src=" in script.group(1) and not script.group(2).strip(), path
    assert not re.search(r"\son[a-z]+\s*=", text), path
    assert "hx-on" not in text and "javascript:" not in text and "js:" not in text, path
    # htmx trigger filters ("keyup[key=='Enter']") are evaluated with eval, which the policy forbids.
    assert not re.search(r'hx-trigger="[^"]*\[', text), path


def test_htmx_is_configured_for_the_policy():
    base = (ROOT / "templates" / "base.html").read_text(encoding="utf-8")
    assert '"allowEval": false' in base and '"includeIndicatorStyles": false' in base
