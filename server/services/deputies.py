"""Deputies (issue 12): an approver names a deputy for a period; while it runs the approver's SUPERVISOR
steps, new and waiting, go to the deputy (server/services/rerouting.py moves them, audited), never the
deputy's own applications nor a second step of one chain; cleared or run out, they come back."""

from __future__ import annotations

from datetime import date
from typing import Any

from server.domain import approvals
from server.domain.errors import DomainError, Forbidden, NotFound
from server.domain.messages import _m
from server.domain.roles import SUPERVISOR
from server.models import ApproverDeputy, Employee
from server.services import audit, rerouting
from server.services.base import Viewer, atomic, lock_employee, lookup_id, require_login, today, utcnow


def _snapshot(row: ApproverDeputy) -> dict[str, Any]:
    return {"approverId": row.approver_id, "deputyId": row.deputy_id,  # type: ignore[attr-defined]
            "startsOn": row.starts_on, "endsOn": row.ends_on, "clearedAt": row.cleared_at}


def set_refusal(viewer: Viewer) -> DomainError | None:
    """Who may name a deputy at all: an approver of SUPERVISOR steps (the `viewerCan` flag of the page)."""
    if viewer.employee_id is None:
        return Forbidden(_m("该账号没有员工档案，不能指定代理人"))
    if SUPERVISOR not in viewer.roles:
        return Forbidden(_m("只有审批人（直属上级）可以指定代理人"))
    return None


async def current_deputy(viewer: Viewer) -> ApproverDeputy | None:
    """The viewer's deputy now or to come (not cleared, not ended)."""
    require_login(viewer)
    if viewer.employee_id is None:
        return None
    return await ApproverDeputy.filter(approver_id=viewer.employee_id, cleared_at__isnull=True,
                                       ends_on__gte=today()).order_by("-id").first()


async def acting_for(viewer: Viewer) -> list[ApproverDeputy]:
    """Whom the viewer stands in for now (shown on their account page)."""
    require_login(viewer)
    if viewer.employee_id is None:
        return []
    on = today()
    return await ApproverDeputy.filter(deputy_id=viewer.employee_id, cleared_at__isnull=True, starts_on__lte=on,
                                       ends_on__gte=on).order_by("id")


async def _resolve(deputy_id: Any, deputy_no: str | None) -> Employee:
    if deputy_id not in (None, ""):
        found = await Employee.filter(id=lookup_id(deputy_id)).first()
    elif deputy_no:
        found = await Employee.filter(employee_no=deputy_no.strip()).first()
    else:
        found = None
    if found is None:
        raise NotFound(_m("代理人不存在"), field="deputyId")
    return found


async def set_deputy(viewer: Viewer, deputy_id: Any, starts_on: date, ends_on: date,
                     deputy_no: str | None = None) -> ApproverDeputy:
    """Name (or replace) the viewer's deputy for [starts_on, ends_on]; waiting steps move when it runs today."""
    require_login(viewer)
    if (refusal := set_refusal(viewer)) is not None:
        raise refusal
    approver_id: int = viewer.employee_id  # type: ignore[assignment]
    deputy = await _resolve(deputy_id, deputy_no)
    usable = deputy.id in await rerouting.usable_approvers([deputy.id])
    if (refusal := approvals.deputy_refusal(approver_id, deputy.id, usable, starts_on, ends_on, today())) is not None:
        raise refusal
    async with atomic():
        await lock_employee(approver_id)  # one naming at a time per approver
        now = utcnow()
        for old in await ApproverDeputy.filter(approver_id=approver_id, cleared_at__isnull=True, ends_on__gte=today()):
            before = _snapshot(old)
            old.cleared_at = now
            await old.save(update_fields=["cleared_at"])
            await audit.record(viewer, "deputy.clear", "approver_deputy", old.id, before,
                               {**_snapshot(old), "reason": "replaced"})
        row = await ApproverDeputy.create(approver_id=approver_id, deputy_id=deputy.id, starts_on=starts_on,
                                          ends_on=ends_on, created_by_id=viewer.user_id, created_at=now)
        await audit.record(viewer, "deputy.set", "approver_deputy", row.id, None, _snapshot(row))
        await rerouting.sync_deputy(viewer, approver_id)
    return row


async def clear_deputy(viewer: Viewer) -> ApproverDeputy | None:
    """End the viewer's deputy now: the steps it holds for them come back. None when there was none."""
    require_login(viewer)
    if viewer.employee_id is None:
        return None
    async with atomic():
        await lock_employee(viewer.employee_id)
        row = await ApproverDeputy.filter(approver_id=viewer.employee_id, cleared_at__isnull=True,
                                          ends_on__gte=today()).order_by("-id").first()
        if row is None:
            return None
        before = _snapshot(row)
        row.cleared_at = utcnow()
        await row.save(update_fields=["cleared_at"])
        await audit.record(viewer, "deputy.clear", "approver_deputy", row.id, before, _snapshot(row))
        await rerouting.sync_deputy(viewer, viewer.employee_id)
    return row
