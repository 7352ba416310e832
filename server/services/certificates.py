"""Verifying a 离职清款证明: each certificate gets a random code (128 bits, URL-safe) when it is first
issued; /verify/<code> confirms, for anyone holding the code, that the certificate exists, its date and
the employee with the name partly masked (张*). The sequential certificate number alone reveals nothing.

The QR code printed on the certificate holds the verification link (segno, inline SVG)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

import segno
from tortoise.exceptions import IntegrityError

from server.domain.vocab import OffboardingStatus
from server.models import CertificateCode, Employee, Offboarding
from server.services import audit
from server.services.base import Viewer, atomic, local_date, utcnow
from server.services.company import COMPANY_NAME, get_setting

CODE_BYTES = 16
ISSUED = (OffboardingStatus.CLEARED, OffboardingStatus.COMPLETED)


def new_code() -> str:
    return secrets.token_urlsafe(CODE_BYTES)


def mask_name(name: str) -> str:
    """张伟 -> 张*, 欧阳明月 -> 欧***: the first character and one star for each of the others."""
    name = (name or "").strip()
    return name[:1] + "*" * max(len(name) - 1, 1) if name else "*"


async def code_for(viewer: Viewer, offboarding_id: int) -> str:
    """The certificate's code, issued (and audited) the first time the certificate is produced. The caller
    has already checked that the viewer may read the certificate."""
    existing = await CertificateCode.filter(offboarding_id=offboarding_id).first()
    if existing is not None:
        return existing.code
    try:
        async with atomic():
            row = await CertificateCode.create(offboarding_id=offboarding_id, code=new_code(), created_at=utcnow())
            await audit.record(viewer, "certificate.issue_code", "offboarding", offboarding_id, None,
                               {"codeId": row.id})
    except IntegrityError:  # issued meanwhile by a concurrent request: theirs stands
        row = await CertificateCode.get(offboarding_id=offboarding_id)
    return row.code


async def company_name() -> str:
    return str(await get_setting(COMPANY_NAME) or "")


@dataclass(frozen=True)
class Verification:
    number: str
    status: str
    employee_name_masked: str
    department: str
    cleared_on: date
    completed_on: date | None
    company_name: str


async def verify(code: str) -> Verification | None:
    """No login: whoever holds the code. None for an unknown code (or one whose certificate is void)."""
    code = (code or "").strip()
    if not code or len(code) > 32:
        return None
    row = await CertificateCode.filter(code=code).first()
    if row is None:
        return None
    offboarding = await Offboarding.get(id=row.offboarding_id)  # type: ignore[attr-defined]
    if offboarding.status not in ISSUED or offboarding.cleared_at is None:
        return None
    employee = await Employee.get(id=offboarding.employee_id).prefetch_related("department")  # type: ignore[attr-defined]
    cleared_on = local_date(offboarding.cleared_at)
    return Verification(
        number=f"LZQK-{cleared_on.year}-{offboarding.id:06d}", status=offboarding.status,
        employee_name_masked=mask_name(employee.name), department=employee.department.name,
        cleared_on=cleared_on, completed_on=local_date(offboarding.completed_at) if offboarding.completed_at else None,
        company_name=await company_name(),
    )


def qr_svg(link: str) -> str:
    """The link as an inline SVG QR code (no script, no external file: fine under the CSP)."""
    return str(segno.make(link, error="m").svg_inline(scale=3, border=2, svgclass="qr", title="QR"))
