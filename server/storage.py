"""Uploaded files: size and type checks (by content, not by name), content-addressed by sha256."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import filetype

from server.domain.errors import ValidationFailed
from server.domain.messages import _m
from server.settings import get_settings

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


async def read_upload(upload: Any) -> tuple[str, bytes]:
    """Starlette's UploadFile (HTTP and pages alike) → (filename, bytes), size-limited."""
    limit = get_settings().max_upload_bytes
    if hasattr(upload, "read"):
        data = await upload.read(limit + 1)
        name = getattr(upload, "filename", None) or "file"
    elif isinstance(upload, bytes | bytearray):
        data, name = bytes(upload), "file"
    else:
        raise ValidationFailed(_m("不是上传的文件"), field="file")
    if len(data) > limit:
        raise ValidationFailed(
            _m("%(name)s 超过 %(mb)s MB", name=_clean_name(name), mb=limit // (1024 * 1024)), field="file"
        )
    return name, data


def store(name: str, data: bytes, allowed: frozenset[str], field: str = "file") -> StoredFile:
    if not data:
        raise ValidationFailed(_m("%(name)s 是空文件", name=_clean_name(name)), field=field)
    mime = sniff(data)
    if mime is None or mime not in allowed:
        raise ValidationFailed(
            _m("%(name)s：不支持的文件类型 %(type)s", name=_clean_name(name), type=mime or "?"), field=field
        )
    digest = hashlib.sha256(data).hexdigest()
    target = path_for(digest)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    return StoredFile(sha256=digest, filename=_clean_name(name), content_type=mime, size=len(data))


async def store_uploads(uploads: list[Any] | None, allowed: frozenset[str], field: str) -> list[StoredFile]:
    uploads = list(uploads or [])
    if len(uploads) > MAX_FILES:
        raise ValidationFailed(_m("最多 %(max)s 个文件", max=MAX_FILES), field=field)
    stored = []
    for upload in uploads:
        name, data = await read_upload(upload)
        stored.append(store(name, data, allowed, field))
    return stored
