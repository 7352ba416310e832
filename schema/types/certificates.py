"""Public verification of a clearance certificate (离职清款证明) by its random code, without a login."""

from __future__ import annotations

import datetime

import strawberry

from schema.types.enums import OffboardingStatus
from server.services import certificates as service


@strawberry.type(description="What /verify/<code> confirms: the certificate, its date, the employee partly masked.")
class CertificateVerification:
    number: str
    status: OffboardingStatus
    employee_name_masked: str
    department: str
    cleared_on: datetime.date
    completed_on: datetime.date | None
    company_name: str


@strawberry.type
class CertificateQuery:
    @strawberry.field(description="Anyone holding a certificate's verification code: null when the code is unknown.")
    async def certificate_verification(self, code: str) -> CertificateVerification | None:
        found = await service.verify(code)
        if found is None:
            return None
        return CertificateVerification(
            number=found.number, status=OffboardingStatus(found.status), employee_name_masked=found.employee_name_masked,
            department=found.department, cleared_on=found.cleared_on, completed_on=found.completed_on,
            company_name=found.company_name,
        )
