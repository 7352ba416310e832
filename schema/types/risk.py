"""The risk engine's part of the contract: business records, the risk scan, the explainable score."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from schema.loaders import load
from schema.types.common import tr, viewer
from schema.types.enums import Severity
from server.domain import risk
from server.domain.money import from_fen
from server.models import BusinessRecord as BusinessRecordModel
from server.services import business as business_service
from server.services import risk as risk_service

if TYPE_CHECKING:
    from schema.types.jobs import Job
    from schema.types.org import Employee


@strawberry.type(description="One reason for a risk score, with the employee's own figures.")
class RiskFactor:
    name: str
    detail: str
    points: int


@strawberry.type(description="The explainable score (0–100): the sum of its factors' points, clamped. It informs "
                              "people and never decides by itself.")
class RiskScore:
    score: int
    severity: Severity
    factors: list[RiskFactor]
    scorecard_version: str


def risk_score(info: Info, score: risk.Score) -> RiskScore:
    return RiskScore(
        score=score.score, severity=Severity(score.severity), scorecard_version=score.version,
        factors=[RiskFactor(name=tr(info, f.name) or "", detail=tr(info, f.detail) or "", points=f.points)
                 for f in score.factors])


@strawberry.type
class BusinessRecord:
    model: strawberry.Private[BusinessRecordModel]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.model.id))

    @strawberry.field
    async def employee(self, info: Info) -> Annotated[Employee, strawberry.lazy("schema.types.org")]:
        from schema.types.org import Employee

        return Employee(model=await load(info, "employees", self.model.employee_id))  # type: ignore[attr-defined]

    @strawberry.field
    def kind(self) -> str:
        return self.model.kind

    @strawberry.field
    def reference(self) -> str:
        return self.model.reference

    @strawberry.field
    def amount(self) -> Decimal:
        return from_fen(self.model.amount_fen)

    @strawberry.field
    def signed_on(self) -> datetime.date:
        return self.model.signed_on


@strawberry.input
class BusinessRecordInput:
    employee_no: str
    kind: str
    reference: str
    amount: Decimal
    signed_on: datetime.date


@strawberry.type
class RiskQuery:
    @strawberry.field(description="Whether the viewer may call runRiskScan (FINANCE or ADMIN).")
    def viewer_can_run_risk_scan(self, info: Info) -> bool:
        return risk_service.scan_refusal(viewer(info)) is None


@strawberry.type
class RiskMutation:
    @strawberry.mutation(description="FINANCE, HR or ADMIN, never for oneself: a sales contract, order or similar.")
    async def record_business_record(self, info: Info, input: BusinessRecordInput) -> BusinessRecord:
        row = await business_service.record_business(viewer(info), input.employee_no, input.kind, input.reference,
                                                     input.amount, input.signed_on)
        return BusinessRecord(model=row)

    @strawberry.mutation(description="Evaluates every risk rule as of the given date (default today) in a background "
                                     "job. FINANCE or ADMIN.")
    async def run_risk_scan(self, info: Info, as_of: datetime.date | None = None) -> Annotated[
            Job, strawberry.lazy("schema.types.jobs")]:
        from schema.types.jobs import Job

        return Job(model=await risk_service.request_scan(viewer(info), as_of))
