"""Voucher and attachment downloads with `Authorization: Bearer` as well as the session cookie, same rules."""

from __future__ import annotations

import httpx

from tests.factories import PASSWORD, make_org
from tests.schema.test_reimbursements_api import SUBMIT, claim, colleague, png_bytes, token, upload, with_vouchers
from tests.web.conftest import Browser


async def _voucher(gql, client) -> tuple[str, bytes]:
    await make_org()
    data = png_bytes(7)
    body = await upload(client, SUBMIT, with_vouchers(claim("300.00"), [1]), {
        "variables.input.lines.0.vouchers.0": ("receipt.png", data, "image/png")}, await token("sales"))
    assert not body.get("errors"), body
    return body["data"]["submitReimbursement"]["lines"][0]["vouchers"][0]["url"], data


async def test_owner_downloads_voucher_with_bearer_token(gql, client, db):
    url, data = await _voucher(gql, client)
    response = await client.get(url, headers={"Authorization": f"Bearer {await token('sales')}"})
    assert response.status_code == 200
    assert response.content == data and response.headers["content-type"] == "image/png"
    # The same headers as every other response.
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_bearer_download_has_the_same_authorization_as_the_page(gql, client, app, db):
    url, data = await _voucher(gql, client)
    await colleague()
    # Finance sees every reimbursement, the supervisor their report's; a colleague without a role does not
    # (refused as a missing file, so ids cannot be probed).
    for username, status in [("finance", 200), ("manager", 200), ("sales2", 404)]:
        response = await client.get(url, headers={"Authorization": f"Bearer {await token(username)}"})
        assert response.status_code == status, (username, response.text)
        assert (data in response.content) is (status == 200)
    # The session cookie gives the same answers.
    for username, status in [("manager", 200), ("sales2", 404)]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as c:
            await Browser(c).login(username, PASSWORD)
            assert (await c.get(url)).status_code == status, username


async def test_bad_bearer_token_is_401_not_the_login_page(gql, client, db):
    url, data = await _voucher(gql, client)
    response = await client.get(url, headers={"Authorization": "Bearer qk_not-a-token"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert data not in response.content
    # Without any credentials a browser is sent to the login page.
    client.cookies.clear()
    anonymous = await client.get(url)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")


async def test_wrong_file_name_in_the_url_is_not_found(gql, client, db):
    url, _ = await _voucher(gql, client)
    response = await client.get(url.rsplit("/", 1)[0] + "/other.png",
                                headers={"Authorization": f"Bearer {await token('sales')}"})
    assert response.status_code == 404
