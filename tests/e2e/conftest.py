"""Fixtures every end-to-end module can ask for by name."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e.test_browser import CHROMIUM, _start, _stop


@pytest.fixture(scope="session")
def demo_data_dir(tmp_path_factory) -> Path:
    """The demo company as the first start leaves it (admin, demo people, history, vouchers, keys), built once.

    Loading the demo takes a minute on a loaded machine; every browser module starts its own server on a copy
    of this folder instead, which is the state a first start gives, in a few seconds."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
    data_dir = tmp_path_factory.mktemp("browser-demo-template")
    process, _port, log = _start(data_dir)
    time.sleep(2)  # the job runtime hands the demo's outbox to the queue
    _stop(process, log)
    return data_dir
