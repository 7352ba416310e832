"""importCsv: validate a file of employees, business records or historical loans, then write it all or nothing.

    import_file ──> (≤ SYNC_MAX_ROWS rows) run_import now
                └─> (more) an ARQ job `run_import_job(report_id)`; the client polls the job, then importReport(id)

run_import streams the file twice: a validating pass over every row (in batches, a few bulk queries each),
then, when nothing is wrong and it is not a dry run, a writing pass inside one transaction (the same
checks again: anything wrong now rolls everything back). Memory holds a batch, the file's keys (for
duplicates) and the first MAX_ERRORS errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from server.domain import duties
from server.domain.errors import DomainError, NotFound, ValidationFailed
from server.domain.imports import (
    BATCH_ROWS,
    MAX_ERRORS,
    MAX_ROWS,
    PARSERS,
    SYNC_MAX_ROWS,
    RowError,
    blank,
    map_headers,
    supervisor_cycles,
)
from server.domain.messages import Message, _m
from server.domain.vocab import ImportKind, JobState
from server.models import ImportReport, User
from server.services import audit, jobs, sessions
from server.services.base import Viewer, atomic, lookup_id, require_login, today, utcnow
from server.services.import_files import RowsError, count_rows, detect, rows
from server.services.import_kinds import HANDLERS, EmployeesHandler, Handler, Outcome
from server.settings import get_settings

log = logging.getLogger("qingkuan.imports")

DUTIES = {
    ImportKind.EMPLOYEES: duties.IMPORT_EMPLOYEES,
    ImportKind.BUSINESS_RECORDS: duties.IMPORT_BUSINESS,
    ImportKind.HISTORICAL_LOANS: duties.IMPORT_LOANS,
}
JOB_KIND = "import"
JOB_FUNCTION = "run_import_job"
CHUNK = 1024 * 1024


def may_import(viewer: Viewer, kind: str) -> bool:
    return viewer.authenticated and duties.may(viewer.roles, DUTIES[ImportKind(kind)])


def _import_dir() -> Path:
    return get_settings().upload_dir / ".imports"


def file_path(sha256: str) -> Path:
    return _import_dir() / sha256


async def _store(upload: Any) -> tuple[str, int, str]:
    """The upload into the import store, chunk by chunk (hashing and writing off the event loop)."""
    if isinstance(upload, bytes | bytearray):
        data, name = bytes(upload), "file"

        async def read(size: int = -1, _buffer: list[bytes] = [data]) -> bytes:  # noqa: B006
            chunk, _buffer[0] = _buffer[0][:size], _buffer[0][size:]
            return chunk
    elif hasattr(upload, "read"):
        read, name = upload.read, getattr(upload, "filename", None) or "file"
        if hasattr(upload, "seek"):
            await upload.seek(0)
    else:
        raise ValidationFailed(_m("不是上传的文件"), field="file")
    limit = get_settings().import_max_bytes
    directory = _import_dir()
    await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".incoming-")
    hasher, size = hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "wb") as handle:
            while chunk := await read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise ValidationFailed(_m("导入文件超过 %(mb)s MB", mb=limit // (1024 * 1024)), field="file")
                hasher.update(chunk)
                await asyncio.to_thread(handle.write, chunk)
        if not size:
            raise ValidationFailed(_m("%(name)s 是空文件", name=os.path.basename(name)), field="file")
        digest = hasher.hexdigest()
        await asyncio.to_thread(os.replace, tmp, file_path(digest))
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            await asyncio.to_thread(os.unlink, tmp)
        raise
    return digest, size, os.path.basename(str(name))[:200]


async def import_file(viewer: Viewer, kind: str, upload: Any, dry_run: bool = False,
                      encoding: str | None = None) -> ImportReport:
    """importCsv. Returns the finished report, or (a file over SYNC_MAX_ROWS rows) a QUEUED one with its job."""
    require_login(viewer)
    kind = ImportKind(kind)
    duties.require(viewer.roles, DUTIES[kind])
    digest, size, name = await _store(upload)
    path = file_path(digest)
    fmt = await asyncio.to_thread(detect, path, encoding)
    total = await asyncio.to_thread(count_rows, path, fmt)
    if total > MAX_ROWS:
        raise ValidationFailed(_m("导入文件最多 %(max)s 行", max=MAX_ROWS), field="file")
    report = await ImportReport.create(
        kind=kind, dry_run=bool(dry_run), state=JobState.QUEUED, filename=name, file_sha256=digest, file_size=size,
        encoding=fmt.encoding or fmt.kind, rows=total, created_by_id=viewer.user_id, created_at=utcnow(),
    )
    if total > SYNC_MAX_ROWS:
        async with atomic():
            # Unique beyond this database (ARQ keeps job ids in Redis, shared by deployments and test runs).
            job_id = f"import-{report.id}-{uuid.uuid4().hex[:12]}"
            await jobs.submit(JOB_KIND, JOB_FUNCTION, report.id, job_id=job_id, created_by=viewer.user_id)
            report.job_id = job_id
            await report.save(update_fields=["job_id"])
        return report
    return await run_import(viewer, report.id)


async def run_import_job(report_id: int, job_id: str) -> None:
    """The job's body: the report's own author as the viewer (their roles now, not when they asked)."""
    report = await ImportReport.get(id=report_id)
    user = await User.filter(id=report.created_by_id).first() if report.created_by_id else None  # type: ignore[attr-defined]
    if user is None or not user.is_active:
        await _finish(report, Outcome(errors=[(0, None, _m("导入发起人的账号已停用"))], error_total=1),
                      state=JobState.FAILED)
        return
    viewer = sessions.viewer_for(user, f"job-{job_id}")

    async def progress(fraction: float) -> None:
        await jobs.report_progress(job_id, fraction)

    await run_import(viewer, report_id, progress)


Progress = Callable[[float], Awaitable[None]]


async def _batches(path: Path, fmt: Any, kind: str, handler: Handler, write: bool, total: int,
                   progress: Progress | None, done: list[int], span: int) -> Outcome:
    """One pass over the file: parse each row, hand batches to the handler."""
    result = Outcome()
    parse = PARSERS[ImportKind(kind)]
    on = today()
    batch: list[tuple[int, Any]] = []
    header = None

    async def flush() -> None:
        if not batch:
            return
        outcome = await handler.batch(list(batch), write)
        listed = outcome.errors[: max(0, MAX_ERRORS - len(result.errors))]
        # The column as the file spells its header.
        result.errors.extend((r, header.header(c) if header else c, m) for r, c, m in listed)
        result.created += outcome.created
        result.updated += outcome.updated
        result.error_total += outcome.error_total
        done[0] += len(batch)
        batch.clear()
        if progress is not None and total:
            await progress(min(done[0] / span, 0.99))

    iterator = rows(path, fmt)
    try:
        for number, cells in iterator:
            if header is None:
                header, header_errors = map_headers(kind, cells)
                if header_errors:
                    result.errors.extend((e.row, e.column, e.message) for e in header_errors)
                    result.error_total = len(header_errors)
                    return result
                continue
            if blank(cells):
                continue
            parsed = parse(header.values(cells), on)
            batch.append((number, parsed))
            if len(batch) >= BATCH_ROWS:
                await flush()
        await flush()
    except RowsError as exc:
        result.errors.append((exc.row, None, exc.message))
        result.error_total += 1
    if header is None:
        result.errors.append((1, None, _m("文件没有表头行")))
        result.error_total = 1
    return result


class _Refused(Exception):
    def __init__(self, outcome: Outcome) -> None:
        super().__init__("import refused")
        self.outcome = outcome


async def run_import(viewer: Viewer, report_id: int, progress: Progress | None = None) -> ImportReport:
    report = await ImportReport.get(id=report_id)
    if report.state == JobState.DONE:
        return report
    await ImportReport.filter(id=report.id).update(state=JobState.RUNNING)
    path = file_path(report.file_sha256)
    fmt = await asyncio.to_thread(detect, path, None if report.encoding in ("xlsx", None) else report.encoding)
    handler = HANDLERS[report.kind](viewer, report.id, today())
    await handler.prepare()
    span = max(report.rows, 1) * (1 if report.dry_run else 2)
    done = [0]
    if isinstance(handler, EmployeesHandler):
        await _note_keys(path, fmt, report.kind, handler)
    checked = await _batches(path, fmt, report.kind, handler, False, report.rows, progress, done, span)
    if _count(checked) or report.dry_run:
        return await _finish(report, checked, viewer=viewer)
    handler.reset_pass()
    try:
        async with atomic():
            written = await _batches(path, fmt, report.kind, handler, True, report.rows, progress, done, span)
            if _count(written):
                raise _Refused(written)
            await handler.finish(True)
            report.created, report.updated = written.created, written.updated
            await audit.record(viewer, "import.run", "import_report", report.id, None, _audit(report))
    except _Refused as refused:
        return await _finish(report, refused.outcome, viewer=viewer)
    except DomainError as exc:
        return await _finish(report, Outcome(errors=[(0, exc.field, exc.msg)], error_total=1), viewer=viewer)
    return await _finish(report, written, written=True)


def _count(outcome: Outcome) -> int:
    return max(outcome.error_total, len(outcome.errors))


def _audit(report: ImportReport) -> dict:
    return {"kind": report.kind, "dryRun": report.dry_run, "file": report.filename, "sha256": report.file_sha256,
            "rows": report.rows, "created": report.created, "updated": report.updated,
            "errors": report.error_count}


async def _note_keys(path: Path, fmt: Any, kind: str, handler: EmployeesHandler) -> None:
    from server.domain.imports import map_headers as headers_of

    header = None
    chain: dict[str, str] = {}
    try:
        for _, cells in rows(path, fmt):
            if header is None:
                header, _errors = headers_of(kind, cells)
                continue
            values = header.values(cells)
            number = str(values.get("employeeNo") or "").strip()
            if number:
                handler.file_numbers.add(number)
                supervisor = str(values.get("supervisorNo") or "").strip()
                if supervisor:
                    chain[number] = supervisor
    except RowsError:
        pass
    handler.cyclic = supervisor_cycles(chain)


async def _finish(report: ImportReport, outcome: Outcome, *, written: bool = False, viewer: Viewer | None = None,
                  state: str = JobState.DONE) -> ImportReport:
    failed = _count(outcome) > 0
    report.created = 0 if failed and not report.dry_run else outcome.created
    report.updated = 0 if failed and not report.dry_run else outcome.updated
    report.error_count = _count(outcome)
    report.errors = [RowError(r, c, m).to_json() for r, c, m in outcome.errors[:MAX_ERRORS]]
    report.state = state
    report.finished_at = utcnow()
    await report.save()
    if not written and viewer is not None:
        # Refused or a dry run: nothing was written, but the attempt is on record.
        await audit.record(viewer, "import.dry_run" if report.dry_run else "import.refused", "import_report",
                           report.id, None, _audit(report))
    return report


def report_errors(report: ImportReport) -> list[tuple[int, str | None, Message]]:
    return [(int(e["row"]), e.get("column"), Message.from_json(e["message"])) for e in report.errors or []]


async def get_report(viewer: Viewer, report_id: Any) -> ImportReport:
    """Its author, and whoever may import that kind, read a report."""
    require_login(viewer)
    report = await ImportReport.filter(id=lookup_id(report_id)).first()
    if report is None or not (report.created_by_id == viewer.user_id  # type: ignore[attr-defined]
                              or may_import(viewer, report.kind)):
        raise NotFound(_m("导入记录 %(id)s 不存在", id=report_id))
    return report


async def recent_reports(viewer: Viewer, limit: int = 20) -> list[ImportReport]:
    require_login(viewer)
    kinds = [k.value for k in ImportKind if may_import(viewer, k)]
    return await ImportReport.filter(kind__in=kinds).order_by("-created_at", "-id").limit(limit)


async def report_by_id(report_id: int) -> ImportReport:
    return await ImportReport.get(id=report_id)


async def mark_failed(report_id: int) -> None:
    await ImportReport.filter(id=report_id, state__in=[JobState.QUEUED, JobState.RUNNING]).update(
        state=JobState.FAILED, finished_at=utcnow())
