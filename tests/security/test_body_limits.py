"""Request bodies beyond their need get 413; a JSON body that is not one operation object gets a GraphQL 400."""

from __future__ import annotations

import json

import pytest

from server.app import FORM_MAX_BODY, GRAPHQL_MAX_BODY
from server.models import Department
from tests.factories import make_org


def _validation_error(response) -> dict:
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION", body
    return body["errors"][0]


async def test_graphql_body_over_1mb_is_413(client, db):
    padding = " " * GRAPHQL_MAX_BODY
    response = await client.post("/graphql", content=json.dumps({"query": "{ __typename }" + padding}),
                                 headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert _validation_error(response)["message"] == "请求体过大"
    response = await client.post("/graphql", content=json.dumps({"query": "{ __typename }" + padding}),
                                 headers={"content-type": "application/json", "accept-language": "en"})
    assert response.status_code == 413 and _validation_error(response)["message"] == "Request body too large"


async def test_graphql_body_just_under_1mb_is_served(client, db):
    query = "{ __typename }"
    body = json.dumps({"query": query + " " * (GRAPHQL_MAX_BODY - 100)})
    response = await client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 200 and response.json()["data"] == {"__typename": "Query"}


async def test_streamed_body_without_content_length_is_counted(client, db):
    async def chunks():
        yield b'{"query": "{ __typename }", "x": "'
        for _ in range(20):
            yield b"a" * 65536
        yield b'"}'

    response = await client.post("/graphql", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in response.request.headers
    assert response.status_code == 413


async def test_form_post_beyond_its_need_is_413(browser):
    await make_org()
    await browser.login("hr")
    before = await Department.all().count()
    response = await browser.post("/admin/departments", {"code": "BIG", "name": "x" * (FORM_MAX_BODY + 1)})
    assert response.status_code == 413
    assert await Department.all().count() == before


@pytest.mark.parametrize("body", ["null", "1", '"x"', "true", "[]", '[{"query": "{ __typename }"}]'])
async def test_json_that_is_not_an_object_is_400_with_a_graphql_error(client, db, body):
    response = await client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    error = _validation_error(response)
    assert error["message"] in ("请求体须为 JSON 对象", "不支持批量请求")  # zh-CN by default
    response = await client.post("/graphql", content=body,
                                 headers={"content-type": "application/json", "accept-language": "en-GB"})
    english = _validation_error(response)["message"]
    assert english in ("The request body must be a JSON object", "Batching is not supported: send one operation")


@pytest.mark.parametrize("body", ["{", '{"query": 1}', '{"query": "{ __typename }", "variables": []}',
                                  '{"query": "{ __typename }", "variables": {"n": ' + "9" * 5000 + "}}",
                                  "[" * 100000 + "]" * 100000])
async def test_malformed_json_is_400_not_500(client, db, body):
    response = await client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert response.status_code in (400, 413)
    _validation_error(response)


async def test_nul_bytes_anywhere_in_the_request_are_refused(client, db):
    await make_org()
    token = await client.post("/graphql", json={
        "query": 'mutation { login(username:"hr", password:"pass-1234") { token } }'})
    bearer = {"Authorization": f"Bearer {token.json()['data']['login']['token']}"}
    before = await Department.all().count()
    response = await client.post("/graphql", headers=bearer, json={
        "query": "mutation($n: String!) { upsertDepartment(code:\"NUL\", name:$n) { code } }",
        "variables": {"n": "a\x00b"}})
    assert response.status_code == 400
    assert "NUL" in _validation_error(response)["message"]
    # Written as a GraphQL escape inside the document: refused by a validation rule.
    response = await client.post("/graphql", headers=bearer, json={"query": '{ job(id:"a\\u0000") { id } }'})
    assert "NUL" in _validation_error(response)["message"] and response.json()["data"] is None
    assert await Department.all().count() == before
