"""The audit log as an auditor reads it (duty VIEW_AUDIT_LOG): entries filtered by object, actor and date,
newest first by keyset on the id, each linked to its object; a streamed CSV export; the last chain
verification's result and head (the verifyAuditChain job, jobs/audit.py).

Judged at millions of entries: every filter is an indexed column (object_type+object_id, actor, at),
pages and the export read by keyset on the primary key, never OFFSET."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from server.domain import duties
from server.domain.errors import ValidationFailed
from server.domain.messages import _m
from server.models import AuditEntry, Job
from server.services.base import Page, Viewer, day_start, paginate, require_login

NEWEST_ID_FIRST = ("-id",)
EXPORT_BATCH = 1000
VERIFY_KIND = "VERIFY_AUDIT_CHAIN"

# Where each kind of object is shown (the entry links to it); kinds without a page link nowhere.
LINKS = {
    "loan": "/loans/{id}", "reimbursement": "/reimbursements/{id}", "offboarding": "/offboarding/{id}",
    "employee": "/admin/employees/{id}", "position": "/admin/positions/{id}", "setting": "/admin/settings",
}


@dataclass(frozen=True)
class AuditSearch:
    object_type: str | None = None
    object_id: str | None = None
    actor: str | None = None
    date_from: date | None = None  # company-local days, inclusive
    date_to: date | None = None


def link_for(object_type: str, object_id: str) -> str | None:
    pattern = LINKS.get(object_type)
    if pattern is None or not object_id:
        return None
    return pattern.format(id=object_id)



def require_audit_log(viewer: Viewer) -> None:
    require_login(viewer)
    duties.require(viewer.roles, duties.VIEW_AUDIT_LOG)


def entry_query(viewer: Viewer, search: AuditSearch) -> Any:
    require_audit_log(viewer)
    if search.date_from and search.date_to and search.date_from > search.date_to:
        raise ValidationFailed(_m("开始日期不能晚于结束日期"), field="dateFrom")
    qs = AuditEntry.all()
    if search.object_type:
        qs = qs.filter(object_type=search.object_type.strip()[:40])
    if search.object_id:
        qs = qs.filter(object_id=search.object_id.strip()[:40])
    if search.actor:
        qs = qs.filter(actor=search.actor.strip()[:64])
    if search.date_from:
        qs = qs.filter(at__gte=day_start(search.date_from))
    if search.date_to:
        qs = qs.filter(at__lt=day_start(search.date_to + timedelta(days=1)))
    return qs


async def search_entries(viewer: Viewer, search: AuditSearch, first: int = 50, after: list[Any] | None = None) -> Page:
    return await paginate(entry_query(viewer, search), first, after, NEWEST_ID_FIRST)


async def object_types(viewer: Viewer) -> list[str]:
    """The kinds of object the log names, for the filter (a handful: one grouped, indexed query)."""
    require_audit_log(viewer)
    rows = await AuditEntry.all().distinct().order_by("object_type").values_list("object_type", flat=True)
    return [str(r) for r in rows]


async def entry_rows(viewer: Viewer, search: AuditSearch) -> AsyncIterator[AuditEntry]:
    """The whole filtered log, newest first, in keyset batches (bounded memory)."""
    qs = entry_query(viewer, search)
    last: int | None = None
    while True:
        batch = await (qs.filter(id__lt=last) if last is not None else qs).order_by("-id").limit(EXPORT_BATCH)
        for row in batch:
            yield row
        if len(batch) < EXPORT_BATCH:
            return
        last = batch[-1].id


async def last_verification(viewer: Viewer) -> Job | None:
    """The latest finished chain verification (DONE or FAILED), whoever ran it (nightly or on demand)."""
    require_audit_log(viewer)
    return await Job.filter(kind=VERIFY_KIND, state__in=["DONE", "FAILED"]).order_by("-updated_at").first()


async def running_verification(viewer: Viewer) -> Job | None:
    require_audit_log(viewer)
    return await Job.filter(kind=VERIFY_KIND, state__in=["QUEUED", "RUNNING"]).order_by("-created_at").first()
