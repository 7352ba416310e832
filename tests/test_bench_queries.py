"""The benchmarks' GraphQL operations stay valid against the served schema.

The benchmarks run on demand (and once at CI size after the suites); a schema change that breaks one of their
operations must fail here, in the suite, rather than crash the benchmark run afterwards.
"""

from __future__ import annotations

import importlib.util
import sys

import pytest
from graphql import parse, validate

from schema import schema
from server.settings import ROOT


def _bench(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _operations():
    scale = _bench("bench_scale")
    analytics = _bench("bench_analytics")
    from server.web.loans import INBOX

    return {
        "bench_scale.PAGE": scale.PAGE,
        "bench_scale.PAGE_ALL": scale.PAGE_ALL,
        "bench_scale.TOTALS": scale.TOTALS,
        "bench_scale.inbox_all": scale.inbox_all(),
        "server.web.loans.INBOX": INBOX,
        "bench_analytics.GRAPHQL": analytics.GRAPHQL,
    }


@pytest.mark.parametrize("name", list(_operations()))
def test_benchmark_operation_is_valid(name):
    document = parse(_operations()[name])
    errors = validate(schema._schema, document)
    assert not errors, f"{name}: {[e.message for e in errors]}"
