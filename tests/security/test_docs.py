"""The error codes are one table, the same in README.md and docs/api.md, and cover every code the server sends."""

from __future__ import annotations

import re

from schema import errors as schema_errors
from server.domain import errors as domain_errors
from server.settings import ROOT


def _rows(path: str) -> list[str]:
    """The rows of the table headed `| Code | Meaning | …`."""
    text = (ROOT / path).read_text(encoding="utf-8")
    start = text.index("| Code | Meaning |")
    rows = []
    for line in text[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


def _table(path: str) -> list[str]:
    return [re.match(r"\| `([A-Z_]+)` \|", row).group(1) for row in _rows(path)]  # type: ignore[union-attr]


def test_readme_and_api_doc_have_the_same_table():
    assert _rows("README.md") == _rows("docs/api.md")


def test_table_lists_the_contract_codes_and_the_four_more():
    assert _table("docs/api.md") == [
        "UNAUTHENTICATED", "ACCOUNT_CLOSED", "FORBIDDEN", "NOT_FOUND", "VALIDATION", "CONFLICT", "CLEARANCE_BLOCKED",
        "INTERNAL", "RATE_LIMITED", "UNAVAILABLE", "PERSISTED_QUERY_NOT_SUPPORTED",
    ]


def test_every_code_the_server_sends_is_documented():
    documented = set(_table("docs/api.md"))
    domain_codes = {cls.code for cls in vars(domain_errors).values()
                    if isinstance(cls, type) and issubclass(cls, domain_errors.DomainError)}
    source = (ROOT / "schema" / "errors.py").read_text(encoding="utf-8")
    mapped = set(re.findall(r'"code": "([A-Z_]+)"', source))
    assert {"INTERNAL", "UNAVAILABLE"} <= mapped
    assert domain_codes | mapped <= documented
    assert schema_errors.UNAVAILABLE_MESSAGE == "服务暂时不可用，请稍后重试"


def test_docs_carry_the_contract():
    contract = (ROOT / "docs" / "contract.graphql").read_text(encoding="utf-8")
    assert "Qingkuan core GraphQL contract" in contract and "type Mutation" in contract
