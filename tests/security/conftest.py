"""The pages' browser-like client, shared with tests/web."""

from tests.web.conftest import browser, second_browser  # noqa: F401
