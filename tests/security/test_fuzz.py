"""A bounded fuzz of /graphql: schemathesis (GraphQL mode) against the real server, as FINANCE and as ADMIN.

The schema comes from the published schema.graphql (introspection is off). Custom scalars get strategies
that mix valid values (so that resolvers run on real demo records) with hostile ones (numbers for money,
exponents, full-width digits, far dates, malformed ids). Any HTTP 500, or any error with the code INTERNAL,
fails the test. Fixed seed, bounded examples and time: FUZZ_EXAMPLES (per token, default 250), FUZZ_SECONDS
(per token, default 120) and FUZZ_SEED.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.graphql import nodes

from server.settings import ROOT
from tests.conftest import IS_POSTGRES, TEST_DATABASE_URL, _recreate_postgres
from tests.e2e.test_server import clean_env, free_port, wait_until_healthy

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "250"))
SECONDS = float(os.environ.get("FUZZ_SECONDS", "120"))  # per token: examples left after this are not sent
SEED = int(os.environ.get("FUZZ_SEED", "20261201"))
ADMIN_PASSWORD = "fuzz-admin-pass-1"
FINANCE = "sunli"  # the demo company's finance clerk
DEMO_PASSWORD = "demo1234"
# Operations that would end the fuzzing session itself (the token), not the server's robustness.
SESSION_ENDING = ("logout", "revoke", "password")

# ---------------------------------------------------------------- scalar strategies

_digits = st.integers(min_value=0, max_value=10**12 - 1)
_good_amounts = st.one_of(
    st.sampled_from(["0.01", "1.00", "100.00", "500", "2000.50", "9999.99", "10000.00", "0.00", "0"]),
    st.builds(lambda n, c: f"{n}.{c:02d}", _digits, st.integers(0, 99)),
)
_bad_amounts = st.sampled_from([
    "1e9999999", "1E2", "-1.00", "+1", "NaN", "Infinity", "-Infinity", "１２００", "1,000.00", "1.001",
    "", " ", "0x10", "1_000", "9" * 40, "1.", ".5", "\u0661\u0662",
])
DECIMAL = st.one_of(
    _good_amounts.map(nodes.String), _bad_amounts.map(nodes.String),
    st.integers(-(10**20), 10**20).map(nodes.Int), st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float),
)
_dates = st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2100, 12, 31)).map(str)
DATE = st.one_of(
    _dates.map(nodes.String),
    st.sampled_from(["2026-13-40", "0000-00-00", "9999-12-31", "0001-01-01", "yesterday", ""]).map(nodes.String),
)
DATETIME = st.one_of(
    st.datetimes().map(lambda d: d.isoformat() + "Z").map(nodes.String),
    st.sampled_from(["not a time", "2026-01-01T25:00:00Z"]).map(nodes.String),
)
ID = st.one_of(
    st.integers(1, 60).map(str).map(nodes.String),  # the demo's real rows
    st.integers(1, 60).map(nodes.Int),
    st.sampled_from(["0", "-1", "abc", "1.5", "１", "9" * 30, " 1", "1e3", ""]).map(nodes.String),
    st.text(max_size=20).map(nodes.String),
)
JSON = st.one_of(st.text(max_size=20).map(nodes.String), st.integers().map(nodes.Int), st.just(nodes.Null))
UPLOAD = st.just(nodes.Null)  # files only arrive as multipart parts: an inline value is null or refused

for _name, _strategy in {"Decimal": DECIMAL, "Date": DATE, "DateTime": DATETIME, "ID": ID, "JSON": JSON,
                         "Upload": UPLOAD}.items():
    schemathesis.graphql.scalar(_name, _strategy)


# ---------------------------------------------------------------- the server


class Server:
    def __init__(self, url: str, proc: subprocess.Popen, log: Path) -> None:
        self.url, self.proc, self.log = url, proc, log

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("fuzz")
    port, log = free_port(), tmp / "server.log"
    env = clean_env(DATA_DIR=str(tmp / "data"), ADMIN_PASSWORD=ADMIN_PASSWORD, PASSWORD_HASH_COST="test",
                    DEMO_DATA="1")
    if IS_POSTGRES:  # the server gets a fresh database of its own beside the test run's
        url = TEST_DATABASE_URL.split("?")[0] + "_fuzz"
        asyncio.run(_recreate_postgres(url))
        env["DATABASE_URL"] = url
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "main.py", "--port", str(port)], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    srv = Server(f"http://127.0.0.1:{port}", proc, log)
    try:
        wait_until_healthy(proc, srv.url, srv.output, seconds=120)  # the demo company loads first
        yield srv
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _login(url: str, username: str, password: str) -> str:
    response = httpx.post(f"{url}/graphql", json={
        "query": "mutation($u:String!,$p:String!){login(username:$u,password:$p){token}}",
        "variables": {"u": username, "p": password}}, timeout=30)
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]["login"]["token"]


def _operations() -> list[Any]:
    schema = schemathesis.graphql.from_path(ROOT / "schema.graphql")
    operations = [result.ok() for result in schema.get_all_operations()]
    return [op for op in operations if not any(word in op.label.lower() for word in SESSION_ENDING)]


def _internal_errors(body: Any) -> list[dict]:
    errors = body.get("errors") if isinstance(body, dict) else None
    return [e for e in errors or [] if (e.get("extensions") or {}).get("code") == "INTERNAL"]


@pytest.mark.parametrize("who", ["finance", "admin"])
def test_fuzz_graphql_finds_no_500_and_no_internal(server: Server, who: str):
    token = _login(server.url, FINANCE, DEMO_PASSWORD) if who == "finance" else _login(
        server.url, "admin", ADMIN_PASSWORD)
    operations = _operations()
    assert len(operations) >= 40  # the whole contract, not a corner of it
    strategy = st.one_of(*[op.as_strategy(mode) for op in operations
                           for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)])
    failures: list[str] = []
    seen: set[str] = set()
    answered: list[bool] = []
    client = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60)

    @seed(SEED)
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck), report_multiple_bugs=False)
    @given(case=strategy)
    def run(case: Any) -> None:
        if time.monotonic() > stop_at:
            return
        seen.add(case.operation.label)
        response = client.post("/graphql", json={"query": case.body})
        try:
            body = response.json()
        except json.JSONDecodeError:
            body = None
        answered.append(response.status_code == 200 and isinstance(body, dict) and not body.get("errors"))
        if response.status_code >= 500 or _internal_errors(body):
            failures.append(f"{case.operation.label}: HTTP {response.status_code}\n{case.body}\n{response.text[:800]}")

    stop_at = time.monotonic() + SECONDS
    try:
        run()
    finally:
        client.close()
    assert not failures, "\n\n".join(failures[:5]) + f"\n\n({len(failures)} failures)\nserver log:\n{server.output()}"
    assert len(seen) >= 20, seen  # the fuzz reached most of the operations
    assert sum(answered) >= len(answered) // 10, "almost every request was refused: the fuzz tested little"
