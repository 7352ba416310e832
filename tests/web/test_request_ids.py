"""The pages write the server's request id to the audit log; the client's X-Request-Id only beside it."""

from __future__ import annotations

from server.models import AuditEntry
from tests.factories import PASSWORD, make_org
from tests.web.conftest import csrf_from


async def test_page_login_entry_carries_the_servers_id(browser, db):
    await make_org()
    page = await browser.get("/login")
    response = await browser.client.post("/login", data={
        "username": "admin", "password": PASSWORD, "csrf_token": csrf_from(page.text), "next": "/",
    }, headers={"X-Request-Id": "page-client-id-77"})
    assert response.status_code == 303, response.text
    entry = await AuditEntry.filter(action="user.login").get()
    assert entry.request_id == response.headers["x-request-id"] != "page-client-id-77"
    assert len(entry.request_id) == 32
    assert entry.client_request_id == "page-client-id-77"
