"""Faults in the job machinery, from outside: Redis going away under a live server, and a killed worker.

A private redis-server on a free port (nothing else on the machine uses it, so stopping it disturbs no
one), a live `python main.py` (uvicorn, the demo company, SQLite under its DATA_DIR) with REDIS_URL pointing
at it, and separate `python main.py worker` processes sharing that database and a private queue name.

(a) Redis down: pages and GraphQL reads and writes keep working; a risk scan and an evidence package asked
    for meanwhile are accepted and reported QUEUED (they wait in the outbox, in the database); Redis comes
    back empty, a worker starts, and each job runs exactly once; the evidence package verifies with the CLI.
(b) A worker SIGKILLed mid risk scan and mid evidence build (bench/generate.py's `small` company, 400 people
    and 5,000 loans, on a private PostgreSQL cluster: a first scan there writes for several seconds), then a
    new worker: the scan finishes with each alert once and each reminder sent once, the package completes
    and verifies. arq re-runs a killed worker's job only when its in-progress key expires (job timeout + 10 s,
    here 610 s); the test deletes that key instead of waiting — what the expiry would do, sooner.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.demo import DEMO_PASSWORD
from tests.e2e.test_faults import PrivatePostgres, private_postgres  # noqa: F401 - a fixture
from tests.e2e.test_server import ADMIN_PASSWORD, ROOT, Server, clean_env, free_port, wait_until_healthy


class PrivateRedis:
    def __init__(self, root: Path) -> None:
        self.root, self.port = root, free_port()
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is needed for the job fault tests"
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.root)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True,
                             text=True).stdout.strip() != "PONG":
            assert self.proc.poll() is None, "redis-server exited"
            assert time.monotonic() < deadline, "redis-server did not answer"
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
        self.proc = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


class Stack:
    """The private Redis, the web server, and the workers started on demand."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.redis = PrivateRedis(root)
        self.env = clean_env(DATA_DIR=str(root / "data"), ADMIN_PASSWORD=ADMIN_PASSWORD, REDIS_URL=self.redis.url,
                             JOB_QUEUE=f"qk-faults:{uuid.uuid4().hex}")
        self.server: Server | None = None
        self.workers: list[subprocess.Popen] = []
        self.worker_logs: list[Path] = []

    def start_server(self) -> Server:
        port, log = free_port(), self.root / "server.log"
        with log.open("w") as out:
            proc = subprocess.Popen([sys.executable, "main.py", "--port", str(port)], cwd=ROOT, env=self.env,
                                    stdout=out, stderr=subprocess.STDOUT)
        self.server = Server(proc, port, self.root / "data", log)
        wait_until_healthy(proc, self.server.url, self.server.output, seconds=120)
        return self.server

    def start_worker(self) -> subprocess.Popen:
        log = self.root / f"worker-{len(self.workers)}.log"
        with log.open("w") as out:
            proc = subprocess.Popen([sys.executable, "main.py", "worker"], cwd=ROOT, env=self.env,
                                    stdout=out, stderr=subprocess.STDOUT)
        self.workers.append(proc)
        self.worker_logs.append(log)
        return proc

    def worker_output(self) -> str:
        return "\n".join(log.read_text(errors="replace") for log in self.worker_logs)

    def close(self) -> None:
        procs = [*self.workers, *([self.server.proc] if self.server else [])]
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.redis.stop()


@pytest.fixture
def stack() -> Iterator[Stack]:
    root = Path(f"/tmp/qk-jobfaults-{uuid.uuid4().hex[:8]}")  # short: unix socket paths have a length limit
    root.mkdir()
    s = Stack(root)
    s.redis.start()
    try:
        s.start_server()
        yield s
    finally:
        s.close()
        shutil.rmtree(root, ignore_errors=True)


def gql(server: Server, query: str, variables: dict | None = None, token: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(f"{server.url}/graphql", json={"query": query, "variables": variables or {}},
                          headers=headers, timeout=30)
    assert response.status_code == 200, (response.status_code, response.text)
    body = response.json()
    assert not body.get("errors"), body["errors"]
    return body["data"]


def login(server: Server, username: str) -> str:
    return gql(server, "mutation($u:String!,$p:String!){login(username:$u,password:$p){token}}",
               {"u": username, "p": DEMO_PASSWORD})["login"]["token"]


def wait_for(check: Callable[[], Any], seconds: float, what: str, output: Callable[[], str]) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} within {seconds:g} s:\n{output()[-4000:]}"
        time.sleep(0.3)


JOB = "query($id:ID!){ job(id:$id){ id state progress error result } }"
PACKAGE = "query($id:ID!){ evidencePackage(id:$id){ id url sha256 job { id state error } } }"
APPLY = """mutation { applyForLoan(input:{amount:"200.00", purpose:CLIENT_VISIT, description:"Redis 停机时申请"}) {
  id status } }"""


class Browser:
    """Pages over plain HTTP: the cookies are Secure (outside DEBUG), so they are sent back by hand."""

    def __init__(self, server: Server) -> None:
        self.client = httpx.Client(base_url=server.url, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        header = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = self.client.request(method, url, headers={"Cookie": header} if header else {}, **kwargs)
        self.cookies.update({k: v for k, v in response.cookies.items()})
        return response

    def login(self, username: str) -> None:
        page = self.request("GET", "/login")
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found, page.text[:500]
        response = self.request("POST", "/login", data={"username": username, "password": DEMO_PASSWORD,
                                                        "csrf_token": html.unescape(found.group(1)), "next": "/"})
        assert response.status_code == 303, response.text[:500]


def test_redis_down_requests_keep_working_and_jobs_run_once_when_it_is_back(stack: Stack):
    server = stack.server
    assert server is not None
    finance, employee = login(server, "zhaomin"), login(server, "wangqiang")
    subject = gql(server, "{ me { employee { id } } }", token=employee)["me"]["employee"]["id"]
    alerts_before = gql(server, "{ alerts(unresolvedOnly:false){ totalCount } }", token=finance)["alerts"]["totalCount"]
    stack.redis.stop()

    # Reads, writes and pages while Redis is down.
    started = time.monotonic()
    loans = gql(server, "{ loans(first:5){ totalCount edges { node { id } } } }", token=finance)["loans"]
    assert loans["totalCount"] > 0
    applied = gql(server, APPLY, token=employee)["applyForLoan"]  # its large-loan check is a job too
    assert applied["status"] == "PENDING_APPROVAL"
    browser = Browser(server)
    browser.login("wangqiang")
    page = browser.request("GET", "/loans")
    assert page.status_code == 200, (page.status_code, page.text[-3000:])
    assert "Redis 停机时申请" in page.text or applied["id"] in page.text, page.text[-3000:]
    assert browser.request("GET", f"/loans/{applied['id']}").status_code == 200
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf, "the page carries its CSRF token"
    submitted = browser.request("POST", "/loans/new", data={
        "amount": "150.00", "purpose": "CLIENT_VISIT", "description": "页面申请（Redis 停机）",
        "csrf_token": html.unescape(csrf.group(1))})
    assert submitted.status_code == 303, submitted.text[-2000:]
    assert "页面申请（Redis 停机）" in browser.request("GET", submitted.headers["location"]).text
    # Jobs asked for meanwhile are accepted and say they wait.
    scan = gql(server, "mutation { runRiskScan { id state } }", token=finance)["runRiskScan"]
    package = gql(server, "mutation($e:ID!){ requestEvidencePackage(employeeId:$e){ id job { id state } } }",
                  {"e": subject}, token=finance)["requestEvidencePackage"]
    assert scan["state"] == "QUEUED" and package["job"]["state"] == "QUEUED"
    time.sleep(1)
    assert gql(server, JOB, {"id": scan["id"]}, token=finance)["job"]["state"] == "QUEUED"
    assert time.monotonic() - started < 60, "requests while Redis is down took too long"
    assert "Traceback" not in server.output(), server.output()[-4000:]

    # Redis back (empty: it keeps nothing on disk), then a worker: each job runs, once.
    stack.redis.start()
    stack.start_worker()
    for job_id in (scan["id"], package["job"]["id"]):
        job = wait_for(lambda job_id=job_id: (j := gql(server, JOB, {"id": job_id}, token=finance)["job"])
                       ["state"] in ("DONE", "FAILED") and j, 120, f"job {job_id} finished", stack.worker_output)
        assert job["state"] == "DONE", job
    alerts_after = gql(server, "{ alerts(unresolvedOnly:false){ totalCount } }", token=finance)["alerts"]["totalCount"]
    assert alerts_after > alerts_before, "the demo company's overdue loans raise alerts"

    # The web process reconnected by itself: a scan asked for now runs at once, and changes nothing more.
    again = gql(server, "mutation { runRiskScan { id state } }", token=finance)["runRiskScan"]
    wait_for(lambda: gql(server, JOB, {"id": again["id"]}, token=finance)["job"]["state"] == "DONE", 60,
             "the second scan finished", stack.worker_output)
    assert gql(server, "{ alerts(unresolvedOnly:false){ totalCount } }",
               token=finance)["alerts"]["totalCount"] == alerts_after
    worker_log = stack.worker_output()
    for job_id in (scan["id"], package["job"]["id"]):
        assert worker_log.count(f"→ {job_id}:") == 1, f"job {job_id} ran once:\n{worker_log[-4000:]}"

    # The evidence package is complete and verifies.
    done = gql(server, PACKAGE, {"id": package["id"]}, token=finance)["evidencePackage"]
    assert done["url"], done
    download = httpx.get(f"{server.url}{done['url']}" if done["url"].startswith("/") else done["url"],
                         headers={"Authorization": f"Bearer {finance}"}, timeout=60)
    assert download.status_code == 200, download.text[:500]
    zip_path = stack.root / "package.zip"
    zip_path.write_bytes(download.content)
    verify = subprocess.run([sys.executable, "main.py", "verify-evidence", str(zip_path)], cwd=ROOT, env=stack.env,
                            capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def psql(pg: PrivatePostgres, sql: str) -> str:
    return subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "postgres", "-d", "qk", "-AtX",
                           "-c", sql], check=True, capture_output=True, text=True, timeout=60).stdout.strip()


DUPLICATE_ALERTS = "SELECT count(*) FROM (SELECT dedupe_key FROM alert GROUP BY 1 HAVING count(*) > 1) d"
DUPLICATE_NOTICES = """SELECT count(*) FROM (SELECT alert_id, user_id, title FROM notification
  WHERE alert_id IS NOT NULL GROUP BY 1, 2, 3 HAVING count(*) > 1) d"""


@pytest.fixture
def big_stack(private_postgres: PrivatePostgres) -> Iterator[tuple[Stack, PrivatePostgres]]:  # noqa: F811
    generate = subprocess.run([sys.executable, "bench/generate.py", "--url", private_postgres.url, "--size", "small"],
                              cwd=ROOT, env=clean_env(PASSWORD_HASH_COST="test"), capture_output=True, text=True,
                              timeout=300)
    assert generate.returncode == 0, generate.stdout[-2000:] + generate.stderr[-4000:]
    root = Path(f"/tmp/qk-jobkill-{uuid.uuid4().hex[:8]}")
    root.mkdir()
    s = Stack(root)
    s.env.update(DATABASE_URL=private_postgres.url, DEMO_DATA="0", PASSWORD_HASH_COST="test")
    s.redis.start()
    try:
        s.start_server()
        yield s, private_postgres
    finally:
        s.close()
        shutil.rmtree(root, ignore_errors=True)


def kill_mid_job(stack: Stack, server: Server, token: str, job_id: str, done_between: tuple[float, float]) -> None:
    """SIGKILL the worker while the job is RUNNING with its progress inside `done_between`."""
    worker = stack.workers[-1]
    low, high = done_between

    def running() -> bool:
        job = gql(server, JOB, {"id": job_id}, token=token)["job"]
        assert job["state"] != "DONE", f"the job finished before it could be killed: {job}"
        return job["state"] == "RUNNING" and low <= job["progress"] < high

    wait_for(running, 180, f"job {job_id} running", stack.worker_output)
    worker.kill()
    worker.wait(timeout=10)
    job = gql(server, JOB, {"id": job_id}, token=token)["job"]
    assert job["state"] == "RUNNING" and job["progress"] < 1, job
    assert subprocess.run(["redis-cli", "-p", str(stack.redis.port), "DEL", f"arq:in-progress:{job_id}"],
                          capture_output=True, text=True, timeout=10).stdout.strip() == "1", "arq's in-progress key"


def test_a_killed_worker_leaves_no_duplicates_and_the_jobs_complete(big_stack: tuple[Stack, PrivatePostgres]):
    stack, pg = big_stack
    server = stack.server
    assert server is not None
    admin = login(server, "admin")
    stack.start_worker()

    scan = gql(server, "mutation { runRiskScan { id } }", token=admin)["runRiskScan"]
    kill_mid_job(stack, server, admin, scan["id"], (0.2, 0.99))
    partial = int(psql(pg, "SELECT count(*) FROM notification"))
    stack.start_worker()
    job = wait_for(lambda: (j := gql(server, JOB, {"id": scan["id"]}, token=admin)["job"])["state"]
                   in ("DONE", "FAILED") and j, 240, "the scan finished after the restart", stack.worker_output)
    assert job["state"] == "DONE", job
    assert int(psql(pg, "SELECT count(*) FROM notification")) >= partial
    assert psql(pg, DUPLICATE_ALERTS) == "0" and psql(pg, DUPLICATE_NOTICES) == "0"
    assert stack.worker_output().count(f"→ {scan['id']}:") == 2, "killed once, run again once"
    # Nothing was left half-done: a scan now finds nothing new to raise or remind.
    alerts, notices = psql(pg, "SELECT count(*) FROM alert"), psql(pg, "SELECT count(*) FROM notification")
    again = gql(server, "mutation { runRiskScan { id } }", token=admin)["runRiskScan"]
    done = wait_for(lambda: (j := gql(server, JOB, {"id": again["id"]}, token=admin)["job"])["state"] == "DONE" and j,
                    240, "the second scan finished", stack.worker_output)
    assert done["result"]["raisedTotal"] == 0 and done["result"]["reminders"] == 0, done
    assert (psql(pg, "SELECT count(*) FROM alert"), psql(pg, "SELECT count(*) FROM notification")) == (alerts, notices)

    # The evidence package of the employee with the longest history, killed in the middle of its documents.
    employee = psql(pg, "SELECT employee_id FROM loan GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")
    package = gql(server, "mutation($e:ID!){ requestEvidencePackage(employeeId:$e){ id job { id } } }",
                  {"e": employee}, token=admin)["requestEvidencePackage"]
    kill_mid_job(stack, server, admin, package["job"]["id"], (0.1, 0.9))
    stack.start_worker()
    job = wait_for(lambda: (j := gql(server, JOB, {"id": package["job"]["id"]}, token=admin)["job"])["state"]
                   in ("DONE", "FAILED") and j, 240, "the package finished after the restart", stack.worker_output)
    assert job["state"] == "DONE", job
    done = gql(server, PACKAGE, {"id": package["id"]}, token=admin)["evidencePackage"]
    download = httpx.get(f"{server.url}{done['url']}", headers={"Authorization": f"Bearer {admin}"}, timeout=120)
    assert download.status_code == 200, download.text[:500]
    zip_path = stack.root / "package.zip"
    zip_path.write_bytes(download.content)
    verify = subprocess.run([sys.executable, "main.py", "verify-evidence", str(zip_path)], cwd=ROOT, env=stack.env,
                            capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0, verify.stdout + verify.stderr
