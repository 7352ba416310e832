"""Uploaded files: size and type checks (by content, not by name), content-addressed by sha256."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import io
import logging
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import filetype

from server.domain.errors import Unavailable, ValidationFailed
from server.domain.messages import _m
from server.settings import get_settings

log = logging.getLogger("qingkuan.storage")
# The disk or the user's quota is full: the file is dropped and the request refused as UNAVAILABLE.
_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})

IMAGES = {"image/jpeg", "image/png", "image/webp", "image/heic", "image/gif"}
PDF = {"application/pdf"}
OFFICE = {
    "application/msword", "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
# Business documents on a loan: contracts, orders, event plans.
DOCUMENT_TYPES = frozenset(PDF | IMAGES | OFFICE)
# Vouchers on an expense line: invoices, receipts, photos.
VOUCHER_TYPES = frozenset(PDF | IMAGES)
MAX_FILES = 10
_SAFE_NAME = re.compile(r"[^\w.\- ()\u4e00-\u9fff]+")


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    filename: str
    content_type: str
    size: int


def _clean_name(name: str | None) -> str:
    base = os.path.basename((name or "file").replace("\\", "/")).strip() or "file"
    return _SAFE_NAME.sub("_", base)[:200]


def sniff(data: bytes) -> str | None:
    kind = filetype.guess(data[:8192])
    return kind.mime if kind else None


def path_for(sha256: str) -> Path:
    return get_settings().upload_dir / sha256[:2] / sha256


# Uploads are read, hashed and written a chunk at a time; the hashing and the disk work run in a
# worker thread, so a large file never stalls the event loop (and every other request with it).
CHUNK_BYTES = 1024 * 1024
_SNIFF_BYTES = 8192


def _staging_file() -> tuple[BinaryIO, str]:
    """A temporary file beside the store (same file system: the final rename is atomic)."""
    staging = get_settings().upload_dir / ".incoming"
    staging.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=staging)
    return os.fdopen(fd, "wb"), tmp


def _write_chunk(handle: BinaryIO, hasher: Any, chunk: bytes) -> None:
    hasher.update(chunk)
    handle.write(chunk)


def _place(tmp: str, digest: str) -> None:
    """Move the staged file to its content address (or drop it: the same content is already stored)."""
    target = path_for(digest)
    if target.exists():
        os.unlink(tmp)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, target)


def _discard(handle: BinaryIO, tmp: str) -> None:
    handle.close()
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)


class _Bytes:
    def __init__(self, data: bytes) -> None:
        self._stream = io.BytesIO(data)

    async def read(self, size: int = -1) -> bytes:
        return self._stream.read(size)


async def store_upload(upload: Any, allowed: frozenset[str], field: str = "file") -> StoredFile:
    """Starlette's UploadFile (HTTP and pages alike), or bytes → the stored file, checked by size and by
    content type; identical content is stored once."""
    if isinstance(upload, bytes | bytearray):
        upload, name = _Bytes(bytes(upload)), "file"
    elif hasattr(upload, "read"):
        name = getattr(upload, "filename", None) or "file"
        if hasattr(upload, "seek"):
            # One file mapped to several variables (GraphQL multipart spec) is one object read again.
            await upload.seek(0)
    else:
        raise ValidationFailed(_m("不是上传的文件"), field=field)
    limit = get_settings().max_upload_bytes
    hasher = hashlib.sha256()
    size, head = 0, b""
    handle, tmp = await asyncio.to_thread(_staging_file)
    try:
        while chunk := await upload.read(CHUNK_BYTES):
            size += len(chunk)
            if size > limit:
                raise ValidationFailed(
                    _m("%(name)s 超过 %(mb)s MB", name=_clean_name(name), mb=limit // (1024 * 1024)),
                    field=field,
                )
            if len(head) < _SNIFF_BYTES:
                head += chunk[: _SNIFF_BYTES - len(head)]
            await asyncio.to_thread(_write_chunk, handle, hasher, chunk)
        await asyncio.to_thread(handle.close)
        if not size:
            raise ValidationFailed(_m("%(name)s 是空文件", name=_clean_name(name)), field=field)
        mime = sniff(head)
        if mime is None or mime not in allowed:
            raise ValidationFailed(
                _m("%(name)s：不支持的文件类型 %(type)s", name=_clean_name(name), type=mime or "?"), field=field
            )
        digest = hasher.hexdigest()
        await asyncio.to_thread(_place, tmp, digest)
    except OSError as exc:
        await asyncio.to_thread(_discard, handle, tmp)
        if exc.errno in _FULL:
            log.error("upload refused: the upload directory is full (%s)", exc)
            raise Unavailable(_m("存储空间不足，文件未保存，请稍后重试"), field=field) from exc
        raise
    except BaseException:
        await asyncio.to_thread(_discard, handle, tmp)
        raise
    return StoredFile(sha256=digest, filename=_clean_name(name), content_type=mime, size=size)


async def store_uploads(uploads: list[Any] | None, allowed: frozenset[str], field: str) -> list[StoredFile]:
    uploads = list(uploads or [])
    if len(uploads) > MAX_FILES:
        raise ValidationFailed(_m("最多 %(max)s 个文件", max=MAX_FILES), field=field)
    return [await store_upload(upload, allowed, field) for upload in uploads]
