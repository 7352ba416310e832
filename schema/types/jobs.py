"""Background jobs as clients poll them: the contract's Job; the on-demand audit-chain check."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from schema.types.common import viewer
from schema.types.enums import JobState
from server.domain.errors import NotFound
from server.models import Job as JobModel
from server.services import audit
from server.services import jobs as job_service


@strawberry.type
class Job:
    model: strawberry.Private[JobModel]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.model.id)

    @strawberry.field
    def state(self) -> JobState:
        return JobState(self.model.state)

    @strawberry.field(description="0.0 … 1.0")
    def progress(self) -> float:
        return float(self.model.progress)

    @strawberry.field
    def error(self) -> str | None:
        return self.model.error

    @strawberry.field(description="What the job produced, once DONE (shape depends on the job's kind).")
    def result(self) -> JSON | None:
        return self.model.result

    @strawberry.field
    def kind(self) -> str:
        return self.model.kind


@strawberry.type
class JobQuery:
    @strawberry.field
    async def job(self, info: Info, id: strawberry.ID) -> Job | None:
        try:
            return Job(model=await job_service.get_job(viewer(info), id))
        except NotFound:
            return None


@strawberry.type
class JobMutation:
    @strawberry.mutation(description="ADMIN or AUDITOR: re-hash the whole audit log in a background job.")
    async def verify_audit_chain(self, info: Info) -> Job:
        return Job(model=await audit.request_verification(viewer(info)))
