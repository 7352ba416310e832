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


def freeze_startup_objects() -> None:
    """Move everything alive after start-up into the permanent generation (gc.freeze): the collector
    stops re-walking the schema, models and templates on every full collection."""
    import gc

    gc.collect()
    gc.freeze()


@contextlib.asynccontextmanager
async def runtime(settings: Settings) -> AsyncIterator[None]:
    await init_db(settings)
    try:
        await bootstrap(settings)
        async with job_runtime(settings):
            if settings.gc_freeze:
                freeze_startup_objects()
            yield
    finally:
        await close_db()
