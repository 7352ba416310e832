"""A Decimal the scalar refuses is a VALIDATION error with the catalog message in the viewer's language,
never graphql-core's English "Variable '$x' got invalid value …" wrapper."""

from __future__ import annotations

import pytest

from tests.factories import make_org

PREVIEW = "query($total: Decimal!) { offsetPreview(total: $total) { payable } }"


async def _ask(client, token: str, total: object, language: str) -> dict:
    response = await client.post("/graphql", json={"query": PREVIEW, "variables": {"total": total}},
                                 headers={"Authorization": f"Bearer {token}", "Accept-Language": language})
    return response.json()["errors"][0]


@pytest.mark.parametrize(("total", "zh", "en"), [
    ("1.234", "金额最多两位小数", "more than two decimal places"),
    (12.5, "金额须为字符串", "must be a json string"),
])
async def test_decimal_coercion_error_in_the_viewers_language(client, gql, db, total, zh, en):
    await make_org()
    token = await gql.login("sales")
    chinese = await _ask(client, token, total, "zh-CN")
    english = await _ask(client, token, total, "en")
    assert chinese["extensions"]["code"] == english["extensions"]["code"] == "VALIDATION"
    assert zh in chinese["message"] and "got invalid value" not in chinese["message"]
    assert en in english["message"].lower() and "got invalid value" not in english["message"]
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in english["message"])


async def test_inline_decimal_literal_is_refused_in_the_viewers_language(client, gql, db):
    await make_org()
    token = await gql.login("sales")
    response = await client.post("/graphql", json={"query": '{ offsetPreview(total: "1.234") { payable } }'},
                                 headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"})
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "VALIDATION"
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in error["message"])
