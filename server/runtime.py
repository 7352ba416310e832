"""What runs beside the web app: the database, first-start bootstrap and the job queue."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from jobs.embedded import job_runtime
from server.bootstrap import bootstrap
from server.db import close_db, init_db
from server.settings import Settings

log = logging.getLogger("qingkuan")


@contextlib.asynccontextmanager
async def runtime(settings: Settings) -> AsyncIterator[None]:
    await init_db(settings)
    try:
        await bootstrap(settings)
        async with job_runtime(settings):
            yield
    finally:
        await close_db()
