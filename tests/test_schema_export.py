"""schema.graphql at the repo root is the exported SDL of `schema.schema`, never edited by hand."""

from __future__ import annotations

import difflib

from strawberry.printer import print_schema

from schema import schema
from server.settings import ROOT

REGENERATE = ".venv/bin/strawberry export-schema schema:schema --output schema.graphql"


def test_schema_graphql_is_up_to_date():
    exported = print_schema(schema) + "\n"  # what `strawberry export-schema --output` writes
    committed = (ROOT / "schema.graphql").read_text(encoding="utf-8")
    if committed != exported:
        diff = "".join(difflib.unified_diff(
            committed.splitlines(keepends=True), exported.splitlines(keepends=True),
            fromfile="schema.graphql (committed)", tofile="schema:schema (exported)", n=2,
        ))
        raise AssertionError(f"schema.graphql is out of date; regenerate it with\n  {REGENERATE}\n\n{diff[:6000]}")
