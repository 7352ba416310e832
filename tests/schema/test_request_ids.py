"""Request ids in the audit log are the server's own; a client's X-Request-Id is kept beside it, never instead."""

from __future__ import annotations

from server.models import AuditEntry
from server.services import audit
from tests.factories import PASSWORD, make_org

LOGIN = "mutation($u:String!,$p:String!){login(username:$u,password:$p){token}}"


async def test_client_request_id_is_kept_beside_the_servers(client, db):
    await make_org()
    before = await AuditEntry.all().count()
    response = await client.post("/graphql", json={"query": LOGIN, "variables": {"u": "admin", "p": PASSWORD}},
                                 headers={"X-Request-Id": "client-chosen-0001"})
    assert response.status_code == 200 and not response.json().get("errors")
    token = response.json()["data"]["login"]["token"]
    response = await client.post("/graphql", json={"query": "mutation { verifyAuditChain { id } }"},
                                 headers={"X-Request-Id": "client-chosen-0002", "Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and not response.json().get("errors")

    entry = await AuditEntry.filter(action="audit.verify_requested").get()
    server_id = response.headers["x-request-id"]
    assert entry.request_id == server_id != "client-chosen-0002"
    assert len(server_id) == 32 and int(server_id, 16) >= 0
    assert entry.client_request_id == "client-chosen-0002"
    assert await AuditEntry.all().count() > before
    # Both ids are sealed: changing the client's id is an edit.
    assert (await audit.verify_chain()).ok
    await AuditEntry.filter(id=entry.id).update(client_request_id="client-chosen-9999")
    report = await audit.verify_chain()
    assert (report.ok, report.first_bad_id, report.kind) == (False, entry.id, "EDITED")


async def test_without_or_with_a_junk_header_only_the_servers_id(client, db):
    await make_org()
    for headers in ({}, {"X-Request-Id": "x"}, {"X-Request-Id": "bad id with spaces!"}):
        response = await client.post("/graphql", json={"query": LOGIN, "variables": {"u": "admin", "p": PASSWORD}},
                                     headers=headers)
        assert response.status_code == 200
        assert len(response.headers["x-request-id"]) == 32
    ids = [e.request_id for e in await AuditEntry.filter(action="user.login_token").order_by("id")]
    clients = [e.client_request_id for e in await AuditEntry.filter(action="user.login_token").order_by("id")]
    assert len(ids) == 3 and len(set(ids)) == 3 and all(i and len(i) == 32 for i in ids)
    assert clients == [None, None, None]

