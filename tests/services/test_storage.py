"""Uploads are read a chunk at a time and hashed and written in a worker thread: a large file never
stalls the event loop. The size and type checks hold, and a refused file leaves nothing on disk."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from server import storage
from server.domain.errors import ValidationFailed
from server.settings import Settings, get_settings, override_settings

PDF_HEAD = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"


class Stream:
    """Reads like Starlette's UploadFile."""

    def __init__(self, filename: str, data: bytes) -> None:
        self.filename, self.data, self.at, self.reads = filename, data, 0, 0

    async def read(self, size: int = -1) -> bytes:
        self.reads += 1
        end = len(self.data) if size < 0 else self.at + size
        chunk, self.at = self.data[self.at:end], min(end, len(self.data))
        return chunk


def stored_files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


@pytest.fixture
def small_limit(settings: Settings) -> Iterator[Settings]:
    previous = get_settings()
    override_settings(dataclasses.replace(settings, max_upload_bytes=3 * storage.CHUNK_BYTES))
    try:
        yield get_settings()
    finally:
        override_settings(previous)


async def test_a_large_upload_is_hashed_and_written_off_the_event_loop(settings, monkeypatch):
    data = PDF_HEAD + os.urandom(6 * storage.CHUNK_BYTES)
    loop_thread = threading.current_thread()
    writers: list[threading.Thread] = []
    write_chunk = storage._write_chunk

    def spy(handle, hasher, chunk):
        writers.append(threading.current_thread())
        write_chunk(handle, hasher, chunk)

    monkeypatch.setattr(storage, "_write_chunk", spy)
    # A ticker on the event loop: it keeps running while the file is stored.
    ticks: list[float] = []
    stop = asyncio.Event()

    async def tick() -> None:
        while not stop.is_set():
            ticks.append(time.perf_counter())
            await asyncio.sleep(0)

    ticker = asyncio.create_task(tick())
    upload = Stream("合同.pdf", data)
    stored = await storage.store_upload(upload, storage.DOCUMENT_TYPES, "attachments")
    stop.set()
    await ticker

    assert len(writers) == 7 and all(t is not loop_thread for t in writers)  # 6 MB + the header: 7 chunks
    assert upload.reads == 8  # chunk by chunk, never the whole file at once, until the empty read
    assert len(ticks) > len(writers)  # the loop ran other work between the chunks
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert (stored.filename, stored.content_type, stored.size) == ("合同.pdf", "application/pdf", len(data))
    assert storage.path_for(stored.sha256).read_bytes() == data
    assert stored_files(settings.upload_dir / ".incoming") == set()  # nothing left in staging


async def test_the_same_content_is_stored_once(settings):
    data = PDF_HEAD + os.urandom(1000)
    first = await storage.store_upload(Stream("a.pdf", data), storage.VOUCHER_TYPES)
    before = stored_files(settings.upload_dir)
    second = await storage.store_upload(data, storage.VOUCHER_TYPES)
    assert second.sha256 == first.sha256 and second.filename == "file"
    assert stored_files(settings.upload_dir) == before


@pytest.mark.parametrize(("data", "message"), [
    (PDF_HEAD + b"\0" * (3 * 1024 * 1024), "超过 3 MB"),
    (b"", "是空文件"),
    (b"MZ\x90\x00" + b"\0" * 5000, "不支持的文件类型"),
])
async def test_a_refused_upload_leaves_nothing_on_disk(small_limit, data, message):
    before = stored_files(small_limit.upload_dir)
    with pytest.raises(ValidationFailed) as refused:
        await storage.store_upload(Stream("x.pdf", data), storage.VOUCHER_TYPES, "lines.0.vouchers")
    assert refused.value.code == "VALIDATION" and message in refused.value.message
    assert refused.value.field == "lines.0.vouchers"
    assert stored_files(small_limit.upload_dir) == before
