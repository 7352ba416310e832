"""The ARQ pool: REDIS_URL's Redis, or an embedded one when it is unset."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from server.settings import Settings


@contextlib.asynccontextmanager
async def job_runtime(settings: Settings) -> AsyncIterator[None]:
    yield
