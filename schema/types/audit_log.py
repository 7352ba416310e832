"""The audit log for AUDITOR and ADMIN (duty VIEW_AUDIT_LOG): entries filtered by object, actor and date,
newest first, each with the page of its object; the last chain verification (verifyAuditChain)."""

from __future__ import annotations

import datetime

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from schema.types.common import Counted, PageInfo, connection, decode_cursor, page_size, tr, viewer
from schema.types.jobs import Job
from server.domain.messages import Message
from server.models import AuditEntry as AuditEntryModel
from server.models import Job as JobModel
from server.services import audit_log as service


@strawberry.type(description="One entry of the hash-chained audit log.")
class AuditEntry:
    model: strawberry.Private[AuditEntryModel]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.model.id))

    @strawberry.field
    def at(self) -> datetime.datetime:
        return self.model.at

    @strawberry.field(description="The username who acted (system for jobs).")
    def actor(self) -> str:
        return self.model.actor

    @strawberry.field
    def action(self) -> str:
        return self.model.action

    @strawberry.field
    def object_type(self) -> str:
        return self.model.object_type

    @strawberry.field
    def object_id(self) -> str:
        return self.model.object_id

    @strawberry.field
    def before(self) -> JSON | None:
        return self.model.before

    @strawberry.field
    def after(self) -> JSON | None:
        return self.model.after

    @strawberry.field
    def request_id(self) -> str | None:
        return self.model.request_id

    @strawberry.field
    def hash(self) -> str:
        return self.model.hash

    @strawberry.field(description="The page of the object (a path), when it has one.")
    def link(self) -> str | None:
        return service.link_for(self.model.object_type, self.model.object_id)


@strawberry.type
class AuditEntryEdge:
    node: AuditEntry
    cursor: str


@strawberry.type
class AuditEntryConnection(Counted):
    edges: list[AuditEntryEdge]
    page_info: PageInfo


@strawberry.type(description="The last finished verification of the whole chain, nightly or on demand.")
class AuditChainVerification:
    model: strawberry.Private[JobModel]

    @strawberry.field
    def job(self) -> Job:
        return Job(model=self.model)

    @strawberry.field
    def finished_at(self) -> datetime.datetime:
        return self.model.updated_at

    @strawberry.field(description="True when every entry re-hashed to its stored hash.")
    def ok(self) -> bool:
        return self.model.state == "DONE" and bool((self.model.result or {}).get("ok"))

    @strawberry.field
    def checked(self) -> int:
        return int((self.model.result or {}).get("checked") or 0)

    @strawberry.field
    def head_id(self) -> strawberry.ID | None:
        head = (self.model.result or {}).get("headId")
        return None if head is None else strawberry.ID(str(head))

    @strawberry.field
    def head_hash(self) -> str | None:
        return (self.model.result or {}).get("headHash")

    @strawberry.field
    def first_bad_id(self) -> strawberry.ID | None:
        bad = (self.model.result or {}).get("firstBadId")
        return None if bad is None else strawberry.ID(str(bad))

    @strawberry.field(description="Why the chain is broken (in the reader's language), or the job's error.")
    def message(self, info: Info) -> str | None:
        result = self.model.result or {}
        if result.get("messageData"):
            return tr(info, Message.from_json(result["messageData"]))
        return result.get("message") or self.model.error


@strawberry.type
class AuditLogQuery:
    @strawberry.field(description="AUDITOR and ADMIN: the audit log, newest first, filtered (dates are company days).")
    async def audit_log(
        self, info: Info, object_type: str | None = None, object_id: str | None = None, actor: str | None = None,
        date_from: datetime.date | None = None, date_to: datetime.date | None = None,
        first: int | None = 50, after: str | None = None,
    ) -> AuditEntryConnection:
        search = service.AuditSearch(object_type or None, object_id or None, actor or None, date_from, date_to)
        page = await service.search_entries(viewer(info), search, page_size(first), decode_cursor(after))
        return connection(page, AuditEntry, AuditEntryEdge, AuditEntryConnection)

    @strawberry.field(description="AUDITOR and ADMIN: the kinds of object the audit log names.")
    async def audit_object_types(self, info: Info) -> list[str]:
        return await service.object_types(viewer(info))

    @strawberry.field(description="AUDITOR and ADMIN: the last finished chain verification, if any.")
    async def last_audit_verification(self, info: Info) -> AuditChainVerification | None:
        job = await service.last_verification(viewer(info))
        return AuditChainVerification(model=job) if job else None

    @strawberry.field(description="AUDITOR and ADMIN: a verification still queued or running, if any.")
    async def running_audit_verification(self, info: Info) -> Job | None:
        job = await service.running_verification(viewer(info))
        return Job(model=job) if job else None
