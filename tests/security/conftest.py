"""The pages' browser-like client, shared with tests/web; the private job queue, shared with tests/jobs."""

from tests.jobs.conftest import job_settings  # noqa: F401
from tests.web.conftest import browser, second_browser  # noqa: F401
