"""GraphQL hardening: depth, alias and token limits; unexpected errors masked, domain errors coded."""

from __future__ import annotations

import logging

import pytest

from server.services import org
from tests.factories import PASSWORD, make_org


@pytest.fixture
async def token(gql, db):
    await make_org()
    return await gql.login("hr", PASSWORD)


async def test_depth_limit(gql, token):
    nested = "supervisor { " * 14 + "name" + " }" * 14
    err = await gql.error(f"{{ me {{ employee {{ {nested} }} }} }}", token=token)
    assert "exceeds maximum operation depth" in err["message"]


async def test_alias_limit(gql, token):
    aliases = " ".join(f"a{i}: me {{ username }}" for i in range(40))
    err = await gql.error(f"{{ {aliases} }}", token=token)
    assert "aliases" in err["message"].lower()


async def test_token_limit(gql, token):
    fields = " ".join("username" for _ in range(5000))
    err = await gql.error(f"{{ me {{ {fields} }} }}", token=token)
    assert "token" in err["message"].lower()


async def test_unexpected_errors_are_masked_and_logged(gql, token, monkeypatch, caplog):
    async def broken(viewer):
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(org, "list_departments", broken)
    with caplog.at_level(logging.ERROR, logger="qingkuan.graphql"):
        err = await gql.error("{ departments { code } }", token=token)
    assert "hunter2" not in err["message"]
    assert err["extensions"]["code"] == "INTERNAL" and err["extensions"]["requestId"]
    assert any("hunter2" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)


async def test_invalid_input_is_validation(gql, token):
    err = await gql.error('{ loans(status:[NOPE]) { totalCount } }', token=token)
    assert err["extensions"]["code"] == "VALIDATION"
    err = await gql.error('mutation { applyForLoan(input:{amount:"abc", purpose:OTHER, description:"x"}) { id } }',
                          token=token)
    assert err["extensions"]["code"] == "VALIDATION"


def test_published_schema_has_contract_types():
    # Introspection is off without DEBUG (tests/security/test_introspection.py): clients read schema.graphql.
    from graphql import build_schema

    from server.settings import ROOT

    published = build_schema((ROOT / "schema.graphql").read_text(encoding="utf-8"))
    names = set(published.get_type("Loan").fields)  # type: ignore[union-attr]
    assert {"outstanding", "daysOverdue", "approvals", "offsets", "settlements", "attachments"} <= names


async def test_unknown_enum_value_in_variables_is_validation(gql, token):
    err = await gql.error("query($s: [LoanStatus!]) { loans(status:$s) { totalCount } }", {"s": ["FOOD"]}, token)
    assert err["extensions"]["code"] == "VALIDATION"


async def test_invalid_date_variable_is_validation(gql, token):
    err = await gql.error('query($d: Date!) { loans(first: 1) { totalCount } d: loans(first: 2) { totalCount } }',
                          {"d": "2026-13-40"}, token)
    assert err["extensions"]["code"] == "VALIDATION"
    err = await gql.error('mutation($d: Date!) { startOffboarding(employeeId:"1", lastWorkingDay:$d) { id } }',
                          {"d": "2026-13-40"}, token)
    assert err["extensions"]["code"] == "VALIDATION" and "Date" in err["message"]
