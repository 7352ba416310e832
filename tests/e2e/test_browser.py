"""The real server in a subprocess, driven by headless Chromium (Debian's /usr/bin/chromium via playwright).

Screenshots at desktop and phone widths go to test-artifacts/ (gitignored) for a person to look at.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.settings import ROOT

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = ROOT / "test-artifacts"
DEMO_USER, DEMO_PASSWORD = "zhouting", "demo1234"  # HR: reads positions (ADMIN edits them), borrows like anyone
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def save_screenshot(page: Any, path: Any, *, full_page: bool = True) -> None:
    """A screenshot for a person to look at. Chromium on a loaded machine now and then answers "Unable to
    capture screenshot" for a tall page; a second try a moment later takes it."""
    from playwright.sync_api import Error

    for attempt in range(3):
        try:
            page.screenshot(path=str(path), full_page=full_page)
            return
        except Error:
            if attempt == 2:
                raise
            time.sleep(0.5)


SERVER_ENV = {"ADMIN_PASSWORD": "admin-pass-123", "DEMO_DATA": "1", "SECRET_KEY": "browser-test-secret-0123456789"}


def _start(data_dir: Path, attempts: int = 3) -> tuple[subprocess.Popen, int, Any]:
    """Start the server on a free port. A start that exits at once is tried again (up to `attempts`): on a
    loaded machine the embedded Redis now and then misses its start-up window, or another suite running side
    by side takes the free port first."""
    for attempt in range(attempts):
        try:
            return _start_once(data_dir)
        except _ExitedEarly:
            if attempt == attempts - 1:
                raise
            time.sleep(1)
    raise AssertionError("unreachable")


class _ExitedEarly(Exception):
    pass


def _start_once(data_dir: Path) -> tuple[subprocess.Popen, int, Any]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DEBUG")}
    env.update({"DATA_DIR": str(data_dir), **SERVER_ENV})
    if (ROOT / "main.py").exists():
        command = [sys.executable, "main.py", "--port", str(port)]
    else:
        command = [sys.executable, "-m", "uvicorn", "--factory", "server.app:create_app", "--port", str(port)]
    log = (data_dir / "server.log").open("ab")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + float(os.environ.get("E2E_START_TIMEOUT", "300"))  # a loaded machine seeds slowly
    while True:
        if process.poll() is not None:
            log.close()
            raise _ExitedEarly(f"server exited: {(data_dir / 'server.log').read_text()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return process, port, log
        if time.monotonic() > deadline:
            _stop(process, log)
            pytest.fail(f"server did not start: {(data_dir / 'server.log').read_text()[-3000:]}")
        time.sleep(0.5)


def _stop(process: subprocess.Popen, log: Any) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()


def _not_a_file(folder: str, names: list[str]) -> list[str]:
    """What a copy of a stopped server's DATA_DIR leaves out: sockets, the log, and the embedded Redis (each
    copy starts its own, empty; see `copy_demo`)."""
    skip = []
    for name in names:
        path = Path(folder) / name
        if name in ("server.log", "redis") or path.is_socket():
            skip.append(name)
    return skip


def copy_demo(template: Path, data_dir: Path) -> None:
    """A copy of the demo company's DATA_DIR whose jobs are all handed to the queue again: a job that already ran
    skips (jobs are idempotent, by deterministic id), one the template's Redis still held runs in the copy. A
    copied Redis data file failed to load now and then on a loaded machine; an empty Redis never does."""
    import sqlite3

    shutil.copytree(template, data_dir, dirs_exist_ok=True, ignore=_not_a_file)
    with contextlib.closing(sqlite3.connect(data_dir / "qingkuan.sqlite3")) as db, db:
        db.execute("UPDATE job_outbox SET sent_at = NULL")


@pytest.fixture(scope="module")
def server(tmp_path_factory, demo_data_dir) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("browser-data")
    copy_demo(demo_data_dir, data_dir)
    process, port, log = _start(data_dir)
    try:
        yield f"http://localhost:{port}"
    finally:
        _stop(process, log)


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _money(text: str) -> Decimal:
    return Decimal(text.strip().replace(",", ""))


def _fmt(amount: Decimal) -> str:
    return f"{amount:,.2f}"


@pytest.mark.parametrize("width", list(VIEWPORTS))
def test_login_positions_and_live_application_preview(server, chromium, width):
    from playwright.sync_api import expect

    context = chromium.new_context(viewport=VIEWPORTS[width], is_mobile=width == "phone", locale="zh-CN")
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text} {msg.location}")
            if msg.type == "error" else None)

    def shot(name: str) -> None:
        page.evaluate("window.scrollTo(0, 0)")  # the sticky header belongs at the top of a full-page shot
        save_screenshot(page, ARTIFACTS / f"{width}-{name}.png")

    # Log in through the form; the demo accounts are listed because the demo data is loaded.
    page.goto(server + "/login")
    expect(page.get_by_text("演示账号")).to_be_visible()
    shot("login")
    page.fill("#f-username", DEMO_USER)
    page.fill("#f-password", DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="您好，周婷")).to_be_visible()
    shot("home")

    # Positions and their loan policy, with the chart of limits.
    page.get_by_role("link", name="组织管理").click()
    expect(page).to_have_url(re.compile(r"/admin/positions$"))
    expect(page.get_by_role("heading", name="借款额度对比")).to_be_visible()
    assert page.locator("ul.bars svg.bar").count() >= 5
    shot("positions")

    # A position's rules are ADMIN's: HR reads the policy and its history, with no form to change it.
    page.locator('a[href="/admin/positions/SALES"]').click()
    expect(page.get_by_text("岗位的额度和审批链只能由管理员修改。")).to_be_visible()
    expect(page.get_by_role("heading", name="变更记录")).to_be_visible()
    assert page.locator("#position-form").count() == 0
    expect(page).to_have_url(re.compile(r"/admin/positions/SALES$"))
    shot("position-history")

    # The application form: the "after this loan" figure follows what is typed.
    page.get_by_role("link", name="申请借款").first.click()
    expect(page).to_have_url(re.compile(r"/loans/new$"))
    available = _money(page.locator("#preview dl.figures div:nth-child(3) dd").inner_text())
    assert available > 100
    page.locator("#f-amount").press_sequentially("100", delay=40)
    expect(page.locator("#after")).to_have_text(_fmt(available - 100))
    expect(page.locator("#preview")).not_to_have_class(re.compile(r"\bover\b"))
    shot("apply-within-limit")

    page.locator("#f-amount").fill("")
    page.locator("#f-amount").press_sequentially(str(int(available) + 1), delay=40)
    expect(page.locator("#after")).to_have_text(_fmt(available - int(available) - 1))
    expect(page.locator("#preview")).to_have_class(re.compile(r"\bover\b"))
    expect(page.get_by_text("超出额度：提交后将被自动驳回。")).to_be_visible()
    shot("apply-over-limit")

    # The server still decides: submitting the over-limit amount stores a rejected loan with its reason.
    page.fill("#f-description", "浏览器测试：超额申请")
    page.get_by_role("button", name="提交申请").click()
    expect(page.get_by_text("申请已被自动驳回")).to_be_visible()
    expect(page.locator("#rejection-reason")).to_contain_text("超出岗位借款额度")
    shot("rejected-loan")

    # English, then back.
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("link", name="My loans")).to_be_visible()
    shot("english")
    page.get_by_role("button", name="中文").click()
    expect(page.get_by_role("link", name="我的借款")).to_be_visible()

    assert not problems, problems
    context.close()
