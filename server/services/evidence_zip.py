"""Writing and reading evidence ZIPs, one file at a time (streamed: never a whole package in memory).

Entries carry a fixed date and mode, so the same files give the same ZIP bytes; each entry's size
and sha256 are measured while it is written (the manifest lists them)."""

from __future__ import annotations

import contextlib
import hashlib
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from server.domain import evidence as evidence_rules

CHUNK = 1024 * 1024
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def _info(path: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(path, date_time=FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3
    info.external_attr = 0o100644 << 16
    return info


class PackageWriter:
    """`with PackageWriter(path) as w: w.add_bytes(...); w.add_file(...)`; `w.entries` lists what was written."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.entries: list[evidence_rules.FileEntry] = []
        self._zip = zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6)

    def __enter__(self) -> PackageWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self._zip.close()

    def add_bytes(self, path: str, data: bytes, *, listed: bool = True) -> evidence_rules.FileEntry:
        with self._zip.open(_info(path), "w", force_zip64=True) as out:
            out.write(data)
        entry = evidence_rules.FileEntry(path, len(data), hashlib.sha256(data).hexdigest())
        if listed:
            self.entries.append(entry)
        return entry

    def add_lines(self, path: str, lines: Iterable[bytes]) -> evidence_rules.FileEntry:
        hasher, size = hashlib.sha256(), 0
        with self._zip.open(_info(path), "w", force_zip64=True) as out:
            for line in lines:
                out.write(line)
                hasher.update(line)
                size += len(line)
        entry = evidence_rules.FileEntry(path, size, hasher.hexdigest())
        self.entries.append(entry)
        return entry

    @contextlib.contextmanager
    def stream(self, path: str) -> Iterator[IO[bytes]]:
        """An entry written piece by piece (e.g. between awaits); listed with its measured size and hash."""
        hasher, size = hashlib.sha256(), 0
        with self._zip.open(_info(path), "w", force_zip64=True) as out:

            class _Out:
                def write(self, data: bytes) -> int:
                    nonlocal size
                    hasher.update(data)
                    size += len(data)
                    return out.write(data)

            yield _Out()  # type: ignore[misc]
        self.entries.append(evidence_rules.FileEntry(path, size, hasher.hexdigest()))

    def add_file(self, path: str, source: Path) -> evidence_rules.FileEntry:
        """Copy a stored original, chunk by chunk; its hash is measured on the bytes written."""
        hasher, size = hashlib.sha256(), 0
        with source.open("rb") as handle, self._zip.open(_info(path), "w", force_zip64=True) as out:
            while chunk := handle.read(CHUNK):
                out.write(chunk)
                hasher.update(chunk)
                size += len(chunk)
        entry = evidence_rules.FileEntry(path, size, hasher.hexdigest())
        self.entries.append(entry)
        return entry


def file_sha256(path: Path) -> tuple[str, int]:
    hasher, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            hasher.update(chunk)
            size += len(chunk)
    return hasher.hexdigest(), size


# The small files read whole for verification; everything else is only hashed.
SMALL = (evidence_rules.MANIFEST, evidence_rules.TIMESTAMP, evidence_rules.AUDIT, evidence_rules.LINKS)
MAX_SMALL_BYTES = 512 * 1024 * 1024


class NotAPackage(ValueError):
    pass


def read_package(source: str | Path | IO[bytes]) -> tuple[dict[str, bytes | None], dict[str, evidence_rules.FileEntry]]:
    """The small files' bytes and every entry's measured size and sha256, reading entries one at a time."""
    small: dict[str, bytes | None] = dict.fromkeys(SMALL)
    actual: dict[str, evidence_rules.FileEntry] = {}
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise NotAPackage(str(exc)) from None
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            hasher, size = hashlib.sha256(), 0
            keep = info.filename in small and info.file_size <= MAX_SMALL_BYTES
            parts: list[bytes] = []
            try:
                with archive.open(info) as handle:
                    while chunk := handle.read(CHUNK):
                        hasher.update(chunk)
                        size += len(chunk)
                        if keep:
                            parts.append(chunk)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:  # a damaged entry: its hash cannot match
                hasher.update(repr(exc).encode())
            actual[info.filename] = evidence_rules.FileEntry(info.filename, size, hasher.hexdigest())
            if keep:
                small[info.filename] = b"".join(parts)
    return small, actual
