"""The pages' explicit route table."""

from __future__ import annotations

from typing import Any


def web_routes() -> list[Any]:
    return []
