"""Real GraphQL clients against a live server (`python main.py` with the demo company, over real HTTP).

(a) Python `gql` (HTTPX transport): log in with the contract's `login`, page through loans with cursors, upload
a voucher per the GraphQL multipart request spec, download it with the bearer token, and retry a mutation with
an Idempotency-Key header: the same answer, one effect.
(b) Apollo Client 3 on Node with apollo-upload-client's multipart link (tests/e2e/clients/apollo.mjs, the npm
packages pinned in its package-lock.json and installed with `npm ci` on first use): the same four things.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
from gql import Client, FileVar, gql
from gql.transport.httpx import HTTPXTransport

from server.demo import DEMO_PASSWORD
from tests.e2e.npm import ensure_node_modules
from tests.e2e.test_server import ADMIN_PASSWORD, ROOT, Server, clean_env, free_port, wait_until_healthy
from tests.services.test_reimbursements import png_bytes

LOGIN = gql("mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token viewer { username } } }")
LOANS = gql("""query($after: String) { loans(first: 4, after: $after) {
  totalCount edges { node { id number } } pageInfo { hasNextPage endCursor } } }""")
SUBMIT = gql("""mutation($input: ReimbursementInput!) { submitReimbursement(input: $input) {
  id lines { vouchers { filename sha256 url } } } }""")
APPLY = gql("""mutation($a: Decimal!) { applyForLoan(input: {amount: $a, purpose: CLIENT_VISIT,
  description: "拜访客户（重试）"}) { id number status } }""")
CLIENTS_DIR = ROOT / "tests" / "e2e" / "clients"
MY_LOANS = gql("{ loans(first: 50) { totalCount } }")


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("clients")
    port, data_dir, log = free_port(), tmp / "data", tmp / "server.log"
    env = clean_env(DATA_DIR=str(data_dir), ADMIN_PASSWORD=ADMIN_PASSWORD)
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "main.py", "--port", str(port)], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    srv = Server(proc, port, data_dir, log)
    try:
        wait_until_healthy(proc, srv.url, srv.output, seconds=120)
        yield srv
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def client(server: Server, token: str | None = None, **headers: str) -> Client:
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return Client(transport=HTTPXTransport(url=f"{server.url}/graphql", headers=headers, timeout=30))


def login(server: Server, username: str, password: str = DEMO_PASSWORD) -> str:
    LOGIN.variable_values = {"u": username, "p": password}
    data = client(server).execute(LOGIN)
    assert data["login"]["viewer"]["username"] == username
    return data["login"]["token"]


def test_gql_logs_in_and_pages_through_loans_with_cursors(demo_server: Server):
    token = login(demo_server, "zhaomin")  # finance: every loan of the demo company
    seen: list[str] = []
    after = None
    with client(demo_server, token) as session:
        while True:
            LOANS.variable_values = {"after": after}
            page = session.execute(LOANS)["loans"]
            seen += [edge["node"]["id"] for edge in page["edges"]]
            assert len(page["edges"]) <= 4
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
    assert len(seen) == page["totalCount"] > 4, "several pages"
    assert len(set(seen)) == len(seen), "no loan twice across pages"


def test_gql_uploads_a_voucher_and_downloads_it_with_the_bearer_token(demo_server: Server):
    token = login(demo_server, "wangqiang")
    data = png_bytes(11)
    SUBMIT.variable_values = {"input": {"lines": [{
        "category": "CLIENT_VISIT", "amount": "88.00", "incurredOn": "2026-11-20", "description": "客户拜访停车费",
        "vouchers": [FileVar(io.BytesIO(data), filename="停车票.png", content_type="image/png")]}]}}
    result = client(demo_server, token).execute(SUBMIT, upload_files=True)
    voucher = result["submitReimbursement"]["lines"][0]["vouchers"][0]
    assert voucher["filename"] == "停车票.png"
    with httpx.Client(base_url=demo_server.url, timeout=30) as http:
        download = http.get(voucher["url"], headers={"Authorization": f"Bearer {token}"})
        assert download.status_code == 200, download.text
        assert download.content == data and download.headers["content-type"] == "image/png"
        # Another employee's token gets nothing (a missing file, so ids cannot be probed).
        other = http.get(voucher["url"], headers={"Authorization": f"Bearer {login(demo_server, 'fenglei')}"})
        assert other.status_code == 404 and data not in other.content


def test_gql_retry_with_an_idempotency_key_has_one_effect(demo_server: Server):
    token = login(demo_server, "yangfan")
    before = client(demo_server, token).execute(MY_LOANS)["loans"]["totalCount"]
    APPLY.variable_values = {"a": "321.00"}
    answers = []
    for _ in range(2):  # a client retrying after a lost answer: a new connection, the same key
        transport = HTTPXTransport(url=f"{demo_server.url}/graphql", timeout=30,
                                   headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "gql-retry-1"})
        with Client(transport=transport) as session:
            answers.append(session.execute(APPLY)["applyForLoan"])
            assert transport.response_headers is not None
            replayed = transport.response_headers.get("idempotent-replayed")
        assert (replayed == "true") is (len(answers) == 2)
    assert answers[0] == answers[1] and answers[0]["status"] == "PENDING_APPROVAL"
    assert client(demo_server, token).execute(MY_LOANS)["loans"]["totalCount"] == before + 1
    # A new key is a new application.
    transport = HTTPXTransport(url=f"{demo_server.url}/graphql", timeout=30,
                               headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "gql-retry-2"})
    assert Client(transport=transport).execute(APPLY)["applyForLoan"]["id"] != answers[0]["id"]


def _node_modules() -> None:
    ensure_node_modules(CLIENTS_DIR, "apollo-upload-client")  # fails naming npm's error: is the registry reachable?


def test_apollo_client_on_node(demo_server: Server, tmp_path):
    _node_modules()
    data = png_bytes(12)
    voucher = tmp_path / "voucher.png"
    voucher.write_bytes(data)
    run = subprocess.run(["node", "apollo.mjs", demo_server.url, str(voucher)], cwd=CLIENTS_DIR,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr + run.stdout
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    # Cursors: every loan once, over several pages.
    assert len(seen["loanIds"]) == seen["totalCount"] > 4 and len(set(seen["loanIds"])) == len(seen["loanIds"])
    # The upload arrived whole and downloads with the bearer token.
    assert seen["voucher"]["filename"] == "发票.png"
    assert seen["voucher"]["sha256"] == seen["uploadedSha256"] == hashlib.sha256(data).hexdigest()
    assert seen["downloadStatus"] == 200 and seen["downloadSha256"] == seen["uploadedSha256"]
    # The retried mutation: one answer, one loan.
    first, again = seen["applies"]
    assert first == again and first["status"] == "PENDING_APPROVAL"
    assert seen["countAfter"] == seen["countBefore"] + 1
