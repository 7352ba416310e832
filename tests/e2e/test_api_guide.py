"""docs/api.md's mobile developer's guide, run as written: its `sh` blocks, in order, as one bash script
against a live server (`python main.py` with the demo company, over real HTTP, with curl and jq)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.settings import ROOT
from tests.e2e.test_server import ADMIN_PASSWORD, Server, clean_env, free_port, wait_until_healthy
from tests.schema.test_idempotency_api import PNG

GUIDE = "## A mobile developer's guide"


def guide_script() -> str:
    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    section = text.split(GUIDE, 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    assert len(blocks) >= 6, "the guide's examples were not found"
    return "set -euo pipefail\n" + "\n".join(blocks)


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[Server]:
    port = free_port()
    data_dir = tmp_path / "data"
    log = tmp_path / "server.log"
    env = clean_env(DATA_DIR=str(data_dir), ADMIN_PASSWORD=ADMIN_PASSWORD, PASSWORD_HASH_COST="test")
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "main.py", "--port", str(port)], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    server = Server(proc, port, data_dir, log)
    try:
        wait_until_healthy(proc, server.url, server.output, seconds=240)
        yield server
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_the_guide_runs_against_a_live_server(demo_server: Server, tmp_path: Path):
    assert shutil.which("curl") and shutil.which("jq"), "the guide uses curl and jq"
    work = tmp_path / "client"
    work.mkdir()
    (work / "photo.png").write_bytes(PNG)
    done = subprocess.run(["bash", "-c", guide_script()], cwd=work, env=clean_env(QK=demo_server.url),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}\n--- server ---\n{demo_server.output()[-4000:]}"
    assert re.search(r"^JK-\d{4}-\d{6} PENDING_APPROVAL$", done.stdout, flags=re.M), done.stdout
    assert (work / "downloaded.png").read_bytes() == PNG
