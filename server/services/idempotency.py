"""Idempotency-Key records: a retried mutation returns its first result instead of running again.

The (user, key) row is inserted before the mutation runs: the unique pair is the lock, so of two racing
requests with one key exactly one runs. The other waits for the stored response (CONFLICT "in progress"
when it does not come in time). The same key with a different request is a VALIDATION error. Keys expire
after 24 hours (`purge_expired`, a cron job).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from tortoise.exceptions import IntegrityError

from server.domain.errors import Conflict, ValidationFailed
from server.domain.messages import _m
from server.models import IdempotencyKey
from server.services.base import utcnow

TTL = timedelta(hours=24)
MAX_KEY = 255
WAIT_S = 10.0
POLL_S = 0.05


@dataclass(frozen=True)
class Stored:
    status_code: int
    body: str


def check_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY or not key.isascii() or not key.isprintable():
        raise ValidationFailed(_m("%(header)s 须为 1–255 个可打印 ASCII 字符", header="Idempotency-Key"), field="Idempotency-Key")
    return key


async def claim(user_id: int, key: str, fingerprint: str, wait_s: float = WAIT_S) -> Stored | int:
    """The id of a new row to complete once the request ran, or the stored first response to replay."""
    deadline = asyncio.get_running_loop().time() + wait_s
    while True:
        now = utcnow()
        await IdempotencyKey.filter(user_id=user_id, key=key, created_at__lt=now - TTL).delete()
        try:
            row = await IdempotencyKey.create(user_id=user_id, key=key, fingerprint=fingerprint, created_at=now)
            return int(row.id)
        except IntegrityError:
            pass
        existing = await IdempotencyKey.filter(user_id=user_id, key=key).first()
        if existing is None:
            continue  # released meanwhile (the first request failed): try to claim it again
        if existing.fingerprint != fingerprint:
            raise ValidationFailed(_m("同一 %(header)s 已用于另一个请求", header="Idempotency-Key"), field="Idempotency-Key")
        if existing.completed_at is not None and existing.status_code is not None:
            return Stored(existing.status_code, existing.response or "")
        if asyncio.get_running_loop().time() >= deadline:
            raise Conflict(_m("使用同一 %(header)s 的请求仍在处理中，请稍后重试", header="Idempotency-Key"), field="Idempotency-Key")
        await asyncio.sleep(POLL_S)


async def complete(row_id: int, status_code: int, body: str) -> None:
    await IdempotencyKey.filter(id=row_id).update(status_code=status_code, response=body, completed_at=utcnow())


async def release(row_id: int) -> None:
    """The request failed without an answer worth replaying (a server error): a retry runs it again."""
    await IdempotencyKey.filter(id=row_id, completed_at__isnull=True).delete()


async def purge_expired() -> int:
    return int(await IdempotencyKey.filter(created_at__lt=utcnow() - TTL).delete())
