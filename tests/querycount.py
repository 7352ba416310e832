"""Counting the SQL statements a piece of work sends (Tortoise logs each one on `tortoise.db_client`)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Iterator
from typing import TypeVar

T = TypeVar("T")
_VERBS = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")


class Statements(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.sql: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        # Only statements: the client also logs pool creation and the like on this logger.
        message = record.getMessage().lstrip()
        if message.upper().startswith(_VERBS):
            self.sql.append(message)


@contextlib.contextmanager
def recording() -> Iterator[Statements]:
    logger = logging.getLogger("tortoise.db_client")
    handler, level = Statements(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def count_queries(work: Awaitable[T]) -> tuple[T, int]:
    with recording() as handler:
        result = await work
    return result, len(handler.sql)


__all__ = ["Statements", "count_queries", "recording"]
