"""Faults from outside: PostgreSQL restarting under load.

The database is a private PostgreSQL cluster that the test creates (initdb on a free port, as the
`postgres` user when the suite runs as root), so restarting it disturbs nothing else on the machine.
While it is down every request fails cleanly — a GraphQL error UNAVAILABLE (retry later) or, for a page,
a 503 — never a 500 or INTERNAL; once it is back the same server answers again without a restart.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_server import ADMIN_PASSWORD, ROOT, Server, clean_env, free_port, wait_until_healthy

PG_BIN = Path("/usr/lib/postgresql")


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(PG_BIN.glob("*/bin"), key=lambda p: p.parent.name)
    assert versions, "PostgreSQL's server binaries (initdb, pg_ctl) are needed for the fault tests"
    return str(versions[-1] / name)


class PrivatePostgres:
    def __init__(self, root: Path) -> None:
        self.root, self.port = root, free_port()
        self.data = root / "data"

    def _run(self, *args: str) -> None:
        command = [*args]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        self._run(_pg_tool("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")
        self.start()
        subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-c", "CREATE DATABASE qk"],
                       check=True, capture_output=True)

    def start(self) -> None:
        self._run(_pg_tool("pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"), "-w", "start",
                  "-o", f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1")

    def stop(self) -> None:
        self._run(_pg_tool("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/qk"


@pytest.fixture
def private_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivatePostgres]:
    root = Path(f"/tmp/qk-pg-{os.getpid()}-{free_port()}")  # short: the socket path has a length limit
    pg = PrivatePostgres(root)
    pg.init()
    try:
        yield pg
    finally:
        try:
            pg.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_server(tmp_path: Path, private_postgres: PrivatePostgres) -> Iterator[Server]:
    port = free_port()
    log = tmp_path / "server.log"
    env = clean_env(DATA_DIR=str(tmp_path / "data"), ADMIN_PASSWORD=ADMIN_PASSWORD, DATABASE_URL=private_postgres.url,
                    PASSWORD_HASH_COST="test")
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


ME = {"query": "{ me { username roles } }"}


def _outcome(response: httpx.Response) -> str:
    if response.status_code >= 500 and response.status_code != 503:
        return f"HTTP {response.status_code}"
    body = response.json()
    if response.status_code == 503:  # refused before any resolver ran: retryable, says so
        assert response.headers.get("retry-after")
        return "UNAVAILABLE" if body["errors"][0]["extensions"]["code"] == "UNAVAILABLE" else "WRONG 503"
    if body.get("errors"):
        return body["errors"][0].get("extensions", {}).get("code", "?")
    return "OK" if body["data"]["me"]["username"] == "admin" else "WRONG"


def test_postgres_restart_under_load(pg_server: Server, private_postgres: PrivatePostgres):
    login = httpx.post(f"{pg_server.url}/graphql", json={
        "query": "mutation($p: String!) { login(username: \"admin\", password: $p) { token } }",
        "variables": {"p": ADMIN_PASSWORD}}, timeout=30)
    token = login.json()["data"]["login"]["token"]
    headers = {"Authorization": f"Bearer {token}"}
    outcomes: Counter[str] = Counter()
    pages: Counter[int] = Counter()
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=pg_server.url, headers=headers, timeout=30) as client:
            while not stop.is_set():
                try:
                    outcomes[_outcome(client.post("/graphql", json=ME))] += 1
                    page = client.get("/login")
                    pages[page.status_code] += 1
                except httpx.TransportError as exc:  # the server itself must stay up
                    outcomes[f"transport {type(exc).__name__}"] += 1
                time.sleep(0.02)

    threads = [threading.Thread(target=load) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 60
        while outcomes["OK"] < 10 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert outcomes["OK"] >= 10, outcomes
        private_postgres.stop()
        deadline = time.monotonic() + 60
        while outcomes["UNAVAILABLE"] < 5 and time.monotonic() < deadline:
            time.sleep(0.1)
        during = Counter(outcomes)
        private_postgres.start()
        deadline = time.monotonic() + 60
        before = outcomes["OK"]
        while outcomes["OK"] - before < 10 and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        stop.set()
        for thread in threads:
            thread.join()

    assert set(outcomes) <= {"OK", "UNAVAILABLE"}, outcomes
    assert set(pages) <= {200, 503}, pages
    assert during["UNAVAILABLE"] > 0, f"the outage was never seen: {during}"
    assert outcomes["OK"] - before >= 10, f"the server did not recover after the restart: {outcomes}"
    assert pg_server.proc.poll() is None
    # A fresh login works too: new connections are opened after the restart.
    again = httpx.post(f"{pg_server.url}/graphql", json=ME, headers=headers, timeout=30)
    assert _outcome(again) == "OK"
    log = pg_server.output()
    assert "Traceback" not in log or "INTERNAL" not in log
