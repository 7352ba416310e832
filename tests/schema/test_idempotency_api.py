"""Idempotency-Key on mutations, Apollo's persisted-query answer, and one upload mapped to several variables:
over HTTP through the real app, on SQLite and PostgreSQL (TEST_DATABASE_URL)."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from server.models import Attachment, IdempotencyKey, LedgerEntry, Loan
from server.services import idempotency
from server.services.base import utcnow
from tests.factories import make_org
from tests.schema.test_loans_api import APPLY, DECIDE, DISBURSE, SETTLE

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


async def post(client, token: str, query: str, variables: dict, key: str | None = None):
    headers = {"Authorization": f"Bearer {token}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)


async def test_a_retried_apply_for_loan_has_one_effect_also_when_racing(gql, client):
    await make_org()
    sales = await gql.login("sales")
    variables = {"amount": "1000.00"}
    first = await post(client, sales, APPLY, variables, key="apply-1")
    again = await post(client, sales, APPLY, variables, key="apply-1")
    assert first.json()["data"]["applyForLoan"]["id"] == again.json()["data"]["applyForLoan"]["id"]
    assert again.headers.get("idempotent-replayed") == "true" and "idempotent-replayed" not in first.headers
    assert await Loan.all().count() == 1

    racing = await asyncio.gather(*(post(client, sales, APPLY, {"amount": "500.00"}, key="apply-race")
                                    for _ in range(4)))
    bodies = [r.json() for r in racing]
    ids = {b["data"]["applyForLoan"]["id"] for b in bodies if b.get("data")}
    assert len(ids) == 1, bodies
    assert await Loan.all().count() == 2
    # Without a key, a second application is a second application.
    await post(client, sales, APPLY, {"amount": "100.00"})
    assert await Loan.all().count() == 3


async def test_a_retried_settle_loan_has_one_effect_also_when_racing(gql, client):
    await make_org()
    sales, manager, finance = await gql.login("sales"), await gql.login("manager"), await gql.login("finance")
    loan = (await gql.ok(APPLY, {"amount": "3000.00"}, sales))["applyForLoan"]
    await gql.ok(DECIDE, {"id": loan["id"], "d": "APPROVE"}, manager)
    await gql.ok(DECIDE, {"id": loan["id"], "d": "APPROVE"}, finance)
    await gql.ok(DISBURSE, {"id": loan["id"]}, finance)
    settle = {"id": loan["id"], "m": "CASH_RETURN", "a": "500.00", "n": "收据 1"}
    first = (await post(client, finance, SETTLE, settle, key="settle-1")).json()
    again = (await post(client, finance, SETTLE, settle, key="settle-1")).json()
    assert first == again and first["data"]["settleLoan"]["outstanding"] == "2500.00"
    racing = await asyncio.gather(*(post(client, finance, SETTLE, {**settle, "n": "收据 2"}, key="settle-race")
                                    for _ in range(4)))
    outstanding = {r.json()["data"]["settleLoan"]["outstanding"] for r in racing if r.json().get("data")}
    assert outstanding == {"2000.00"}, [r.json() for r in racing]
    assert await LedgerEntry.filter(loan_id=int(loan["id"]), kind="CASH_RETURN").count() == 2


async def test_same_key_other_input_is_refused_and_keys_are_per_user(gql, client):
    await make_org()
    sales, manager = await gql.login("sales"), await gql.login("manager")
    await post(client, sales, APPLY, {"amount": "100.00"}, key="k")
    other = (await post(client, sales, APPLY, {"amount": "200.00"}, key="k")).json()
    assert other["errors"][0]["extensions"]["code"] == "VALIDATION"
    # Another user's identical key is their own.
    mine = (await post(client, manager, APPLY, {"amount": "100.00"}, key="k")).json()
    assert mine["data"]["applyForLoan"]["id"]
    assert await Loan.all().count() == 2
    # A query with a key is not recorded.
    await post(client, sales, "{ me { username } }", {}, key="q")
    assert not await IdempotencyKey.filter(key="q").exists()


async def test_keys_expire_after_24_hours(gql, client):
    await make_org()
    sales = await gql.login("sales")
    await post(client, sales, APPLY, {"amount": "100.00"}, key="old")
    await IdempotencyKey.filter(key="old").update(created_at=utcnow() - timedelta(hours=25))
    assert await idempotency.purge_expired() == 1
    await post(client, sales, APPLY, {"amount": "100.00"}, key="old")
    assert await Loan.all().count() == 2


async def test_a_second_request_while_the_first_runs_waits_or_gets_conflict(gql, client):
    await make_org()
    sales = await gql.login("sales")
    from server.models import User

    user = await User.get(username="sales")
    row_id = await idempotency.claim(user.id, "busy", "f" * 64)
    assert isinstance(row_id, int)
    try:
        await idempotency.claim(user.id, "busy", "f" * 64, wait_s=0.2)
        raise AssertionError("expected CONFLICT")
    except Exception as exc:  # noqa: BLE001
        assert getattr(exc, "code", None) == "CONFLICT"
    await idempotency.complete(row_id, 200, '{"data": {}}')
    replay = await idempotency.claim(user.id, "busy", "f" * 64)
    assert isinstance(replay, idempotency.Stored) and replay.status_code == 200
    assert sales


async def test_persisted_query_without_its_query_gets_the_standard_answer(client):
    response = await client.post("/graphql", json={
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "ab" * 32}}, "variables": {}})
    body = response.json()
    assert body["errors"][0]["message"] == "PersistedQueryNotSupported"
    assert body["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_SUPPORTED"
    got = await client.get("/graphql", params={
        "extensions": json.dumps({"persistedQuery": {"version": 1, "sha256Hash": "ab" * 32}})},
        headers={"Accept": "application/json"})
    assert got.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_SUPPORTED"
    # The fallback (hash and full query) is simply executed.
    full = await client.post("/graphql", json={
        "query": "{ __typename }", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "ab" * 32}}})
    assert full.json()["data"] == {"__typename": "Query"}


async def test_one_file_mapped_to_several_variables(gql, client):
    await make_org()
    sales = await gql.login("sales")
    query = """mutation($a: Upload!, $b: Upload!) { applyForLoan(input: {amount: "100.00", purpose: TRAVEL,
      description: "出差", attachments: [$a, $b]}) { id } }"""
    operations = {"query": query, "variables": {"a": None, "b": None}}
    response = await client.post(
        "/graphql", headers={"Authorization": f"Bearer {sales}"},
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.a", "variables.b"]})},
        files={"0": ("photo.png", PNG, "image/png")},
    )
    body = response.json()
    assert not body.get("errors"), body
    loan_id = int(body["data"]["applyForLoan"]["id"])
    attachments = await Attachment.filter(loan_id=loan_id)
    assert len(attachments) == 2 and len({a.sha256 for a in attachments}) == 1
