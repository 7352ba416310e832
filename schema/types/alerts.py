"""Alerts and notifications: the contract's Alert, Notification and their connections."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from schema.loaders import load
from schema.types.common import Counted, PageInfo, connection, decode_cursor, page_size, tr_stored, tr_text, viewer
from schema.types.enums import AlertKind, LoanPurpose, Severity
from schema.types.org import Employee, Position, Region
from server.models import Alert as AlertModel
from server.models import Notification as NotificationModel
from server.services import alerts as alert_service

if TYPE_CHECKING:
    from schema.types.loans import Loan


@strawberry.type(description="What the viewer may do on an alert now: true exactly when the mutation would not be "
                              "refused for permission or state.")
class AlertViewerCan:
    model: strawberry.Private[AlertModel]

    @strawberry.field(description="resolveAlert")
    def resolve(self, info: Info) -> bool:
        return alert_service.resolve_refusal(viewer(info), self.model) is None


@strawberry.type
class Alert:
    model: strawberry.Private[AlertModel]

    @strawberry.field(description="What the viewer may do on this alert now (from the enforcing service).")
    def viewer_can(self) -> AlertViewerCan:
        return AlertViewerCan(model=self.model)

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.model.id))

    @strawberry.field
    def kind(self) -> AlertKind:
        return AlertKind(self.model.kind)

    @strawberry.field
    def severity(self) -> Severity:
        return Severity(self.model.severity)

    @strawberry.field(description="What the alert says, in the viewer's language.")
    def message(self, info: Info) -> str:
        return tr_stored(info, self.model.message_data, self.model.message) or ""

    @strawberry.field
    async def employee(self, info: Info) -> Employee | None:
        if self.model.employee_id is None:
            return None
        row = await load(info, "employees", self.model.employee_id)
        return Employee(model=row) if row else None

    @strawberry.field
    async def loan(self, info: Info) -> Annotated[Loan, strawberry.lazy("schema.types.loans")] | None:
        from schema.types.loans import Loan

        if self.model.loan_id is None:
            return None
        row = await load(info, "loans", self.model.loan_id)
        return Loan(model=row) if row else None

    @strawberry.field
    async def position(self, info: Info) -> Position | None:
        if self.model.position_id is None:
            return None
        row = await load(info, "positions", self.model.position_id)
        return Position(model=row) if row else None

    @strawberry.field(description="MISSING_VOUCHERS: the region whose lines lack vouchers.")
    async def region(self, info: Info) -> Region | None:
        if self.model.region_id is None:  # type: ignore[attr-defined]
            return None
        row = await load(info, "regions", self.model.region_id)  # type: ignore[attr-defined]
        return Region(model=row) if row else None

    @strawberry.field(description="MISSING_VOUCHERS: the expense purpose (category) whose lines lack vouchers.")
    def purpose(self) -> LoanPurpose | None:
        return LoanPurpose(self.model.purpose) if self.model.purpose else None

    @strawberry.field(description="The subject's risk score when the alert was raised (see scorecardVersion).")
    def score(self) -> int | None:
        return self.model.score

    @strawberry.field(description="The version of the scorecard that computed `score`.")
    def scorecard_version(self) -> str | None:
        return self.model.scorecard_version

    @strawberry.field(description="OVERDUE resolved by hand: reminders pause until this date.")
    def paused_until(self) -> datetime.date | None:
        return self.model.paused_until

    @strawberry.field
    async def recipients(self, info: Info) -> list[Employee]:
        return [Employee(model=e) for e in await load(info, "alert_recipients", self.model.id)]

    @strawberry.field
    def created_at(self) -> datetime.datetime:
        return self.model.created_at

    @strawberry.field
    def resolved_at(self) -> datetime.datetime | None:
        return self.model.resolved_at

    @strawberry.field(description="Why the alert was closed (given by whoever resolved it, or by the system).")
    def resolution_note(self, info: Info) -> str | None:
        return tr_text(info, self.model.resolution_note)


@strawberry.type
class AlertEdge:
    node: Alert
    cursor: str


@strawberry.type
class AlertConnection(Counted):
    edges: list[AlertEdge]
    page_info: PageInfo


@strawberry.type
class Notification:
    model: strawberry.Private[NotificationModel]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.model.id))

    @strawberry.field(description="In the reader's language.")
    def title(self, info: Info) -> str:
        return tr_stored(info, self.model.title_data, self.model.title) or ""

    @strawberry.field(description="In the reader's language.")
    def body(self, info: Info) -> str:
        return tr_stored(info, self.model.body_data, self.model.body) or ""

    @strawberry.field
    async def alert(self, info: Info) -> Alert | None:
        # The notification is the viewer's own: they were told about this alert, so they may read it.
        if self.model.alert_id is None:
            return None
        row = await load(info, "alerts", self.model.alert_id)
        return Alert(model=row) if row else None

    @strawberry.field
    def created_at(self) -> datetime.datetime:
        return self.model.created_at

    @strawberry.field
    def read_at(self) -> datetime.datetime | None:
        return self.model.read_at

    @strawberry.field(description="The page of the object the notification is about (a path such as /loans/12).")
    def link(self) -> str | None:
        return self.model.link


@strawberry.type
class NotificationEdge:
    node: Notification
    cursor: str


@strawberry.type
class NotificationConnection(Counted):
    edges: list[NotificationEdge]
    page_info: PageInfo


@strawberry.type
class AlertQuery:
    @strawberry.field
    async def alerts(
        self, info: Info, kind: AlertKind | None = None, employee_id: strawberry.ID | None = None,
        unresolved_only: bool | None = True, first: int | None = 50, after: str | None = None,
        severity: Severity | None = None, department_id: strawberry.ID | None = None,
        position_id: strawberry.ID | None = None, region_id: strawberry.ID | None = None,
        resolved: bool | None = None,
    ) -> AlertConnection:
        position = decode_cursor(after)
        filters = alert_service.AlertFilter(severity=severity.value if severity else None, department_id=department_id,
                                            position_id=position_id, region_id=region_id, resolved=resolved)
        page = await alert_service.list_alerts(
            viewer(info), kind.value if kind else None, employee_id, unresolved_only is not False,
            page_size(first), position, filters,
        )
        return connection(page, Alert, AlertEdge, AlertConnection)

    @strawberry.field
    async def notifications(
        self, info: Info, unread_only: bool | None = False, first: int | None = 50, after: str | None = None,
    ) -> NotificationConnection:
        position = decode_cursor(after)
        page = await alert_service.list_notifications(viewer(info), bool(unread_only), page_size(first), position)
        return connection(page, Notification, NotificationEdge, NotificationConnection)

    @strawberry.field(description="The viewer's unread notifications (the badge in the page header).")
    async def unread_notification_count(self, info: Info) -> int:
        return await alert_service.unread_count(viewer(info))


@strawberry.type
class AlertMutation:
    @strawberry.mutation
    async def resolve_alert(self, info: Info, alert_id: strawberry.ID, note: str | None = None,
                            pause_until: datetime.date | None = None) -> Alert:
        return Alert(model=await alert_service.resolve_alert(viewer(info), alert_id, note, pause_until))

    @strawberry.mutation
    async def mark_notification_read(self, info: Info, notification_id: strawberry.ID) -> Notification:
        return Notification(model=await alert_service.mark_notification_read(viewer(info), notification_id))
