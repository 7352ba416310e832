"""Introspection and "Did you mean …" only with DEBUG; clients use the published schema.graphql."""

from __future__ import annotations

import importlib

import pytest

from schema import show_schema_hints
from tests.factories import PASSWORD, make_org


@pytest.fixture
async def token(gql, db):
    await make_org()
    return await gql.login("finance", PASSWORD)


@pytest.mark.parametrize("query", [
    "{ __schema { queryType { name } } }", '{ __type(name:"Loan") { name } }',
    "query { loans { edges { node { __schema: id } } } __schema { types { name } } }",
])
async def test_introspection_is_refused_without_debug(gql, token, query):
    body = await gql(query, None, token)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION"
    assert "introspection" in body["errors"][0]["message"].lower()


async def test_typename_still_works(gql, token):
    assert (await gql.ok("{ __typename }", token=token)) == {"__typename": "Query"}


@pytest.mark.parametrize("query, variables", [
    ("{ loanz { totalCount } }", None),  # a field
    ("{ loans(firts: 1) { totalCount } }", None),  # an argument
    ("{ loans(status:[PENDING_APPROVA]) { totalCount } }", None),  # an enum literal
    ("query($s: [LoanStatus!]) { loans(status:$s) { totalCount } }", {"s": ["PENDING_APPROVA"]}),  # a variable
    ("query($x: LoanStatu) { loans { totalCount } }", None),  # a type
    ('mutation { applyForLoan(input:{amount:"1.00", purpose:OTHER, descriptio:"x"}) { id } }', None),  # input field
])
async def test_no_suggestions_without_debug(gql, token, query, variables):
    body = await gql(query, variables, token)
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION", body
    assert all("Did you mean" not in e["message"] for e in body["errors"]), body


async def test_suggestions_with_debug(gql, token):
    show_schema_hints(True)
    try:
        body = await gql("{ loans(status:[PENDING_APPROVA]) { totalCount } }", None, token)
        assert "Did you mean" in body["errors"][0]["message"]
    finally:
        show_schema_hints(False)
    assert importlib.import_module("graphql.pyutils.did_you_mean").MAX_LENGTH == 0


def test_introspection_is_on_with_debug():
    """The extension list depends on DEBUG alone."""
    from dataclasses import replace

    from strawberry.extensions import DisableIntrospection

    import schema as schema_module
    from server import settings as settings_module

    current = settings_module.get_settings()
    settings_module.override_settings(replace(current, debug=True))
    try:
        assert schema_module._introspection() == []
    finally:
        settings_module.override_settings(current)
    assert schema_module._introspection() == [DisableIntrospection]
