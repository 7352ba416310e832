"""importCsv and its report; set-password links for imported accounts."""

from __future__ import annotations

import datetime

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

from schema.types.common import tr, viewer
from schema.types.enums import ImportKind, JobState
from schema.types.jobs import Job
from server.domain.errors import NotFound
from server.models import ImportReport as ImportReportModel
from server.models import Job as JobModel
from server.services import imports as import_service
from server.services import password_links


@strawberry.type
class ImportError:
    row: int = strawberry.field(description="As the spreadsheet shows it: the header is row 1.")
    column: str | None = strawberry.field(description="The header as written in the file.")
    message: str


@strawberry.type
class ImportReport:
    model: strawberry.Private[ImportReportModel]

    @strawberry.field(description="Read the final report of a job with importReport(id).")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.model.id))

    @strawberry.field
    def kind(self) -> ImportKind:
        return ImportKind(self.model.kind)

    @strawberry.field
    def dry_run(self) -> bool:
        return bool(self.model.dry_run)

    @strawberry.field
    def created(self) -> int:
        return int(self.model.created)

    @strawberry.field
    def updated(self) -> int:
        return int(self.model.updated)

    @strawberry.field(description="The first 1,000 errors; errorCount counts them all.")
    def errors(self, info: Info) -> list[ImportError]:
        return [ImportError(row=r, column=c, message=tr(info, m) or "")
                for r, c, m in import_service.report_errors(self.model)]

    @strawberry.field
    def error_count(self) -> int:
        return int(self.model.error_count)

    @strawberry.field(description="Data rows in the file (the header not counted).")
    def rows(self) -> int:
        return int(self.model.rows)

    @strawberry.field
    def state(self) -> JobState:
        return JobState(self.model.state)

    @strawberry.field(description="The background job of a file over 5,000 rows; null for a synchronous import.")
    async def job(self) -> Job | None:
        if not self.model.job_id:
            return None
        row = await JobModel.filter(id=self.model.job_id).first()
        return Job(model=row) if row else None

    @strawberry.field
    def file_sha256(self) -> str:
        return self.model.file_sha256

    @strawberry.field
    def created_at(self) -> datetime.datetime:
        return self.model.created_at


@strawberry.type
class SetPasswordLink:
    username: str
    employee_no: str | None
    name: str | None
    email: str | None
    url: str
    expires_at: datetime.datetime


def _absolute(info: Info, path: str) -> str:
    from server.settings import get_settings

    base = get_settings().public_url
    request = info.context.request
    if not base and request is not None:
        base = str(request.base_url).rstrip("/")
    return f"{base}{path}"


@strawberry.type
class ImportQuery:
    @strawberry.field(description="The kinds the viewer may import (the upload page's choices).")
    def import_kinds(self, info: Info) -> list[ImportKind]:
        return [ImportKind(k.value) for k in ImportKind if import_service.may_import(viewer(info), k.value)]

    @strawberry.field(description="The latest 20 imports of the kinds the viewer may import.")
    async def import_reports(self, info: Info) -> list[ImportReport]:
        return [ImportReport(model=r) for r in await import_service.recent_reports(viewer(info))]

    @strawberry.field(description="An import's report by id (the final one, once its job is DONE).")
    async def import_report(self, info: Info, id: strawberry.ID) -> ImportReport | None:
        try:
            return ImportReport(model=await import_service.get_report(viewer(info), id))
        except NotFound:
            return None


@strawberry.type
class ImportMutation:
    @strawberry.mutation(description=(
        "Import employees (HR, ADMIN), business records (FINANCE, HR, ADMIN) or historical loans (FINANCE, ADMIN) "
        "from CSV (UTF-8 or GBK/GB18030, detected unless `encoding` is given) or XLSX. All or nothing; dryRun "
        "only validates. A file over 5,000 rows returns at once with `job` set."))
    async def import_csv(self, info: Info, kind: ImportKind, file: Upload, dry_run: bool = False,
                         encoding: str | None = None) -> ImportReport:
        report = await import_service.import_file(viewer(info), kind.value, file, dry_run, encoding)
        return ImportReport(model=report)

    @strawberry.mutation(description=(
        "HR, ADMIN: one-time set-password links (valid 7 days) for the accounts an import created that have "
        "no password yet. Each call replaces the previous links."))
    async def issue_set_password_links(self, info: Info, import_id: strawberry.ID) -> list[SetPasswordLink]:
        links = await password_links.issue_links(viewer(info), import_id)
        return [SetPasswordLink(username=link.username, employee_no=link.employee_no, name=link.name,
                                email=link.email, url=_absolute(info, password_links.path_for(link.token)),
                                expires_at=link.expires_at) for link in links]
