"""Business records (sales contracts, orders): recorded by FINANCE, HR or ADMIN, never for oneself.

The records are the evidence of business activity that LARGE_LOAN_NO_BUSINESS weighs
(server/domain/risk.py). Validation is `server.domain.business.clean_record`, shared with the import.
"""

from __future__ import annotations

from typing import Any

from tortoise.exceptions import IntegrityError

from server.domain import duties
from server.domain.business import clean_record
from server.domain.errors import Conflict, Forbidden, NotFound
from server.domain.messages import _m
from server.domain.money import from_fen, to_fen
from server.models import BusinessRecord, Employee
from server.services import audit
from server.services.base import Viewer, atomic, require_login, today
from server.services.org import can_see_employee

# The employee page lists the newest records; the list is bounded, the count is exact.
LIST_LIMIT = 50


def record_refusal(viewer: Viewer, employee: Employee) -> Forbidden | None:
    """Why the viewer may not record business for `employee` (also the page's flag)."""
    refusal = duties.role_refusal(viewer.roles, duties.RECORD_BUSINESS)
    if refusal is not None:
        return refusal
    if duties.own_money(viewer.employee_id, employee.id):
        return Forbidden(_m("不能为自己登记业务记录"))
    return None


def snapshot(record: BusinessRecord) -> dict[str, Any]:
    return {"employeeId": record.employee_id, "kind": record.kind,  # type: ignore[attr-defined]
            "reference": record.reference, "amount": from_fen(record.amount_fen),
            "signedOn": record.signed_on.isoformat()}


async def record_business(viewer: Viewer, employee_no: str, kind: Any, reference: Any, amount: Any,
                          signed_on: Any) -> BusinessRecord:
    """`recordBusinessRecord`: one record for the employee `employee_no` (CONFLICT when the same kind and
    reference is already recorded for them)."""
    require_login(viewer)
    duties.require(viewer.roles, duties.RECORD_BUSINESS)
    employee = await Employee.filter(employee_no=(employee_no or "").strip()).first()
    if employee is None:
        raise NotFound(_m("员工 %(id)s 不存在", id=employee_no))
    if (refusal := record_refusal(viewer, employee)) is not None:
        raise refusal
    clean = clean_record(kind, reference, amount, signed_on, today=today())
    async with atomic():
        if await BusinessRecord.filter(employee_id=employee.id, kind=clean.kind, reference=clean.reference).exists():
            raise Conflict(_m("该员工已有同类型、同编号的业务记录"))
        try:
            async with atomic():  # a savepoint: a concurrent recorder may win the insert
                record = await BusinessRecord.create(
                    employee_id=employee.id, kind=clean.kind, reference=clean.reference,
                    amount_fen=to_fen(clean.amount), signed_on=clean.signed_on, created_by_id=viewer.user_id)
        except IntegrityError:
            raise Conflict(_m("该员工已有同类型、同编号的业务记录")) from None
        await audit.record(viewer, "business_record.create", "business_record", record.id, None, snapshot(record))
    return record


async def employee_records(viewer: Viewer, employee: Employee, limit: int = LIST_LIMIT) -> list[BusinessRecord]:
    """The employee's newest records (signedOn, then id), for whoever may see the employee."""
    require_login(viewer)
    if not await can_see_employee(viewer, employee):
        raise Forbidden(_m("无权查看该员工"))
    return await BusinessRecord.filter(employee_id=employee.id).order_by("-signed_on", "-id").limit(limit)

