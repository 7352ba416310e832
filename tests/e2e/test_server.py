"""The real server as a user starts it: `python main.py` in a subprocess, over real HTTP.

No REDIS_URL, so it also starts its embedded Redis and job worker; SIGTERM must stop all of it
promptly and leave no redis-server behind.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from server.settings import ROOT

ADMIN_PASSWORD = "e2e-admin-pass-1"
# Variables that would make the subprocess use the test harness's services instead of its defaults.
HARNESS_VARS = {"DATABASE_URL", "REDIS_URL", "DATA_DIR", "SECRET_KEY", "ADMIN_USERNAME", "ADMIN_PASSWORD",
                "DEMO_DATA", "TIMEZONE", "DEBUG", "JOB_QUEUE", "MAX_UPLOAD_MB", "SESSION_DAYS"}


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in HARNESS_VARS}
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, proc: subprocess.Popen, port: int, data_dir: Path, log: Path) -> None:
        self.proc, self.port, self.data_dir, self.log = proc, port, data_dir, log
        self.url = f"http://127.0.0.1:{port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def wait_until_healthy(proc: subprocess.Popen, url: str, output: Callable[[], str], seconds: float = 60) -> None:
    """Until the started server answers /healthz; fails with its output if it exits or takes too long."""
    deadline = time.monotonic() + seconds
    while True:
        assert proc.poll() is None, f"server exited with {proc.returncode}:\n{output()}"
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"server did not answer /healthz:\n{output()}"
        time.sleep(0.1)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    port = free_port()
    data_dir = tmp_path / "data"
    log = tmp_path / "server.log"
    env = clean_env(DATA_DIR=str(data_dir), ADMIN_PASSWORD=ADMIN_PASSWORD)
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "main.py", "--port", str(port), "--no-demo"], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    srv = Server(proc, port, data_dir, log)
    try:
        wait_until_healthy(proc, srv.url, srv.output)
        yield srv
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_login_me_and_prompt_sigterm(server: Server):
    registry = server.data_dir / "redis" / "jobs.rdb.settings"
    assert registry.exists(), "the embedded Redis is running"
    redis_pid = int((Path(json.loads(registry.read_text())["pidfile"])).read_text())
    assert psutil.pid_exists(redis_pid)

    with httpx.Client(base_url=server.url, timeout=10) as client:
        login = client.post("/graphql", json={
            "query": "mutation($u:String!,$p:String!){ login(username:$u, password:$p) { token viewer { username } } }",
            "variables": {"u": "admin", "p": ADMIN_PASSWORD},
        })
        assert login.status_code == 200
        assert login.headers["x-request-id"]
        body = login.json()
        assert "errors" not in body, body
        token = body["data"]["login"]["token"]
        assert body["data"]["login"]["viewer"] == {"username": "admin"}

        me = client.post("/graphql", json={"query": "{ me { username roles employee { name } } }"},
                         headers={"Authorization": f"Bearer {token}"}).json()
        assert me == {"data": {"me": {"username": "admin", "roles": ["ADMIN"], "employee": None}}}

        anonymous = client.post("/graphql", json={"query": "{ me { username } }"}).json()
        assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    server.proc.send_signal(signal.SIGTERM)
    started = time.monotonic()
    code = server.proc.wait(timeout=15)
    elapsed = time.monotonic() - started
    output = server.output()
    # uvicorn re-raises the signal after its graceful shutdown, so the exit status is "killed by SIGTERM".
    assert code in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output, output
    assert elapsed < 5, f"took {elapsed:.1f}s to stop:\n{output}"
    assert "Traceback" not in output, output
    # The embedded Redis went with it, its data saved under DATA_DIR/redis.
    assert not psutil.pid_exists(redis_pid) or psutil.Process(redis_pid).status() == psutil.STATUS_ZOMBIE
    assert not registry.exists()
    assert (server.data_dir / "redis" / "jobs.rdb").exists()


def test_bad_setting_stops_with_one_line_and_code_2(tmp_path: Path):
    env = clean_env(DATA_DIR=str(tmp_path), TIMEZONE="Mars/Base")
    proc = subprocess.run([sys.executable, "main.py", "--port", str(free_port())], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "TIMEZONE" in lines[0] and "Mars/Base" in lines[0]


@pytest.mark.parametrize(("var", "value"), [
    ("DATABASE_URL", "mysql://root@localhost/qk"),
    ("REDIS_URL", "localhost:6379"),
    ("MAX_UPLOAD_MB", "lots"),
    ("DEMO_DATA", "maybe"),
])
def test_each_bad_setting_names_its_variable(tmp_path: Path, var: str, value: str):
    env = clean_env(DATA_DIR=str(tmp_path), **{var: value})
    proc = subprocess.run([sys.executable, "main.py", "migrate"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and var in lines[0], proc.stderr
