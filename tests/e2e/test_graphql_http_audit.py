"""The GraphQL-over-HTTP spec audit of other people's tests (the `graphql-http` npm package's auditServer).

Run against a live server (uvicorn via `python main.py`), with introspection on (GRAPHQL_INTROSPECTION=1:
two of the audit's requests query `__type`; production keeps introspection off). Every result must be
ok — the MUSTs and the SHOULDs, which pass since the server honours application/graphql-response+json.
The audit's npm packages are pinned in tests/e2e/graphql_http/package-lock.json and installed on first use.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.npm import ensure_node_modules
from tests.e2e.test_server import ADMIN_PASSWORD, ROOT, Server, clean_env, free_port, wait_until_healthy

AUDIT_DIR = Path(__file__).parent / "graphql_http"


def _node_modules() -> None:
    ensure_node_modules(AUDIT_DIR, "graphql-http")


@pytest.fixture
def introspectable_server(tmp_path: Path) -> Iterator[Server]:
    port = free_port()
    log = tmp_path / "server.log"
    env = clean_env(DATA_DIR=str(tmp_path / "data"), ADMIN_PASSWORD=ADMIN_PASSWORD, GRAPHQL_INTROSPECTION="1")
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "main.py", "--port", str(port), "--no-demo"], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    srv = Server(proc, port, tmp_path / "data", log)
    try:
        wait_until_healthy(proc, srv.url, srv.output, seconds=300)
        yield srv
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_every_audit_item_passes(introspectable_server: Server):
    _node_modules()
    proc = subprocess.run(["node", "audit.mjs", f"{introspectable_server.url}/graphql"], cwd=AUDIT_DIR,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    results = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert len(results) >= 50, proc.stdout
    musts = [r for r in results if r["name"].startswith("MUST")]
    assert musts and all(r["status"] == "ok" for r in musts), [r for r in musts if r["status"] != "ok"]
    failing = [f"{r['id']} {r['name']}: {r['reason']}" for r in results if r["status"] != "ok"]
    assert failing == []


def test_graphql_response_media_type_and_status(introspectable_server: Server):
    url = f"{introspectable_server.url}/graphql"
    new = {"accept": "application/graphql-response+json, application/json", "content-type": "application/json"}
    old = {"accept": "application/json", "content-type": "application/json"}
    # A document that does not parse: 400 and no data entry with the new type; 200 and data null with the old.
    bad = httpx.post(url, headers=new, json={"query": "{"})
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("application/graphql-response+json")
    assert "data" not in bad.json() and bad.json()["errors"]
    legacy = httpx.post(url, headers=old, json={"query": "{"})
    assert legacy.headers["content-type"].startswith("application/json") and legacy.json()["data"] is None
    # A field error after execution started keeps 200 and its data entry under either type.
    forbidden = httpx.post(url, headers=new, json={"query": "{ me { username } }"})
    assert forbidden.status_code == 200 and "data" in forbidden.json()
    assert forbidden.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert forbidden.headers["content-type"].startswith("application/graphql-response+json")
