"""Evidence packages (证据包): request one for an employee, poll its job, download the ZIP when DONE."""

from __future__ import annotations

import datetime

import strawberry
from strawberry.types import Info

from schema.types.common import viewer
from schema.types.jobs import Job
from schema.types.org import Employee
from server.domain.errors import NotFound
from server.models import EvidencePackage as EvidencePackageModel
from server.services import evidence as evidence_service
from server.services import jobs as job_service
from server.services import readers


@strawberry.type
class EvidencePackage:
    model: strawberry.Private[EvidencePackageModel]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.model.id))

    @strawberry.field
    async def employee(self) -> Employee:
        found = await readers.employees([self.model.employee_id])
        assert found[0] is not None
        return Employee(model=found[0])

    @strawberry.field
    async def job(self) -> Job:
        return Job(model=await evidence_service.package_job(self.model))

    @strawberry.field(description="Download address of the finished ZIP; null until job.state is DONE.")
    async def url(self) -> str | None:
        if self.model.sha256 is None:
            return None
        job = await evidence_service.package_job(self.model)
        return f"/evidence/{self.model.id}/download" if job.state == job_service.DONE else None

    @strawberry.field(description="SHA-256 of the whole ZIP, once built.")
    def sha256(self) -> str | None:
        return self.model.sha256

    @strawberry.field
    def created_at(self) -> datetime.datetime:
        return self.model.created_at


@strawberry.type
class EvidenceQuery:
    @strawberry.field(description="FINANCE, HR, ADMIN or AUDITOR (REQUEST_EVIDENCE).")
    async def evidence_package(self, info: Info, id: strawberry.ID) -> EvidencePackage | None:
        try:
            return EvidencePackage(model=await evidence_service.get_package(viewer(info), id))
        except NotFound:
            return None


@strawberry.type
class EvidenceMutation:
    @strawberry.mutation(description="Queue an evidence package (证据包) for one employee; poll job, then download url.")
    async def request_evidence_package(self, info: Info, employee_id: strawberry.ID) -> EvidencePackage:
        return EvidencePackage(model=await evidence_service.request_package(viewer(info), employee_id))
