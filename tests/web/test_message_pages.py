"""A page in English shows the API's error in English (the viewer's locale reaches the schema)."""

from __future__ import annotations

from tests.factories import make_org


async def test_a_page_in_english_shows_the_error_in_english(browser, db):
    from server.models import Loan

    await make_org()
    await browser.login("sales")
    await browser.post("/locale", {"locale": "en", "next": "/loans/new"})
    await browser.get("/loans/new")
    response = await browser.post("/loans/new", {"amount": "100.00", "purpose": "CLIENT_VISIT", "description": " "})
    assert response.status_code == 422
    assert "Description is required" in response.text
    assert "请填写借款用途说明" not in response.text
    assert await Loan.all().count() == 0
