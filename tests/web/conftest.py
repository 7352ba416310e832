"""Pages through the real app: a browser-like client (cookies kept, HTTPS so the Secure cookie is sent)."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.factories import PASSWORD

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(page: str) -> str:
    found = CSRF_FIELD.search(page)
    assert found, "no CSRF field on the page"
    return html.unescape(found.group(1))


def text_of(page: str) -> str:
    """The page's text with tags dropped and whitespace collapsed, for assertions on what people read."""
    without_tags = re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.S))
    return re.sub(r"\s+", " ", html.unescape(without_tags))


class Browser:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.csrf: str | None = None

    async def get(self, url: str, **kwargs) -> httpx.Response:
        response = await self.client.get(url, **kwargs)
        if response.headers.get("content-type", "").startswith("text/html") and 'name="csrf_token"' in response.text:
            self.csrf = csrf_from(response.text)
        return response

    async def post(self, url: str, data: dict | None = None, files=None, csrf: bool = True,
                   **kwargs) -> httpx.Response:
        data = dict(data or {})
        if csrf:
            if self.csrf is None:
                await self.get("/login")
            data.setdefault("csrf_token", self.csrf)
        return await self.client.post(url, data=data, files=files, **kwargs)

    async def login(self, username: str, password: str = PASSWORD) -> httpx.Response:
        """Through the real login form: fetch it, take its CSRF token, post."""
        page = await self.get("/login")
        assert page.status_code == 200
        response = await self.client.post("/login", data={
            "username": username, "password": password, "csrf_token": csrf_from(page.text), "next": "/",
        })
        assert response.status_code == 303, response.text
        self.csrf = None
        home = await self.get(response.headers["location"])
        assert home.status_code == 200
        return home


@pytest.fixture
async def browser(app, db) -> AsyncIterator[Browser]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        yield Browser(client)


@pytest.fixture
async def second_browser(app, db) -> AsyncIterator[Browser]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        yield Browser(client)
