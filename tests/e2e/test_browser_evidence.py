"""The evidence package pages in headless Chromium on the real server (demo data, embedded Redis and worker).

Finance opens 刘洋's offboarding page, presses 证据包, requests a package, watches the progress poll until
the download appears, downloads it and has the verification page check it. Screenshots at desktop and
phone widths go to test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.test_browser import VIEWPORTS, chromium, server  # noqa: F401 (fixtures)
from tests.e2e.test_browser_offboarding import FINANCE, _login, _open

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", list(VIEWPORTS))
def test_request_download_and_verify_a_package(server, chromium, width, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    context, page, problems, shot = _open(chromium, width)
    _login(page, server, FINANCE)
    page.goto(server + "/offboarding")
    page.get_by_role("link", name=re.compile("刘洋")).first.click()
    button = page.locator("a#evidence-button")
    expect(button).to_be_visible()
    button.click()
    expect(page.get_by_role("heading", name=re.compile("证据包：刘洋"))).to_be_visible()
    page.locator("button#request-evidence").click()

    expect(page.locator("#progress")).to_be_visible()
    shot("evidence-progress")
    download_link = page.locator("a#download")
    expect(download_link).to_be_visible(timeout=240_000)  # the page polls itself (HTMX) until the job is done
    expect(page.locator("#package-sha256")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    shot("evidence-done")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "the hash widens the page"
    with page.expect_download() as info:
        download_link.click()
    saved = tmp_path / "package.zip"
    info.value.save_as(saved)
    assert saved.read_bytes()[:2] == b"PK"

    page.goto(server + "/evidence/verify")
    page.set_input_files("#f-package", str(saved))
    page.locator("button#verify-button").click()
    expect(page.locator("#verdict")).to_contain_text("校验通过")
    shot("evidence-verified")
    width_ok = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert width_ok, "the page scrolls sideways"
    assert not problems, problems
    context.close()
