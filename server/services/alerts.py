"""Alerts and in-app notifications: the general mechanism every alert rule goes through.

An alert is a stored fact ("this employee leaves owing 30,000.00"), unique per rule, subject and
period through its `dedupe_key`, so raising it again (a re-run scan, a retried job) changes nothing.
Raising one, in the caller's transaction:
  - stores the Alert and one AlertRecipient per recipient employee (the contract's `recipients`);
  - gives each recipient's active user account one in-app Notification;
  - appends one audit entry;
  - after commit, hands the delivery to every registered channel (e-mail, webhook... added by a
    later issue with `register_channel`). A channel that fails is logged and never undoes the alert.

Who sees what (decided here, used by GraphQL and the pages alike):
  - FINANCE, HR, ADMIN and AUDITOR see every alert (Viewer.sees_all);
  - anyone else sees the alerts they are a recipient of, or were notified about. The subject of an
    alert does not see it merely for being its subject: alerts are internal risk signals; a rule
    that wants to tell the employee (an overdue reminder) names them as a recipient.
  - Notifications are only ever the viewer's own.
  - FINANCE, HR and ADMIN may resolve an alert; AUDITOR reads only; recipients without those
    roles (a supervisor) are informed, not asked to close the case.

Accounts without an employee record (the bootstrap admin, an integration account) cannot be
AlertRecipients (the contract's recipients are Employees). `role_recipients` still notifies such
an account in-app when it holds one of the recipient roles; it sees the alert through that role.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q, Subquery
from tortoise.transactions import in_transaction

from server.domain import duties as D
from server.domain import roles as R
from server.domain import validation as V
from server.domain.errors import DomainError, Forbidden, InvalidTransition, NotFound, ValidationFailed
from server.domain.messages import Message, _m, text
from server.domain.vocab import AlertKind, EmployeeStatus, Severity
from server.models import Alert, AlertRecipient, Employee, Notification, User
from server.services import audit
from server.services.base import (
    Page,
    Viewer,
    after_commit,
    atomic,
    paginate,
    parse_id,
    require_login,
    today,
    utcnow,
)
from server.services.company import get_setting

log = logging.getLogger("qingkuan.alerts")

# The contract's AlertKind and Severity.
KINDS = frozenset(AlertKind)
SEVERITIES = tuple(Severity)
SEVERITY_LABELS = {"INFO": _m("提示").msgid, "WARNING": _m("警告").msgid, "CRITICAL": _m("严重").msgid}
KIND_LABELS = {
    "LARGE_LOAN_NO_BUSINESS": _m("大额借款无业务记录").msgid,
    "OVERDUE": _m("借款逾期").msgid,
    "POSITION_OVERDUE_RATE": _m("岗位逾期率过高").msgid,
    "FREQUENT_BORROWING": _m("频繁借款").msgid,
    "OFFBOARDING_OUTSTANDING": _m("离职未清款").msgid,
    "MISSING_VOUCHERS": _m("报销缺少凭证").msgid,
}
RESOLVERS = (R.FINANCE, R.HR, R.ADMIN)
MAX_NOTE = 1000


# ---------------------------------------------------------------- recipients


@dataclass(frozen=True)
class Recipients:
    """Who an alert goes to: employees (AlertRecipient rows, and their accounts notified) and
    accounts without an employee record (notified only)."""

    employee_ids: tuple[int, ...] = ()
    user_ids: tuple[int, ...] = ()

    def __add__(self, other: Recipients) -> Recipients:
        return Recipients(
            tuple(dict.fromkeys((*self.employee_ids, *other.employee_ids))),
            tuple(dict.fromkeys((*self.user_ids, *other.user_ids))),
        )

    def without_employee(self, employee_id: int | None) -> Recipients:
        return Recipients(tuple(e for e in self.employee_ids if e != employee_id), self.user_ids)


async def role_recipients(*roles: str) -> Recipients:
    """Every active account holding one of `roles`: its employee, or the account itself when it has none."""
    wanted = set(roles)
    employee_ids: list[int] = []
    user_ids: list[int] = []
    # Roles are a JSON list: filtering in Python keeps SQLite and PostgreSQL alike (a few hundred accounts).
    for row in await User.filter(is_active=True).order_by("id").values("id", "roles", "employee_id"):
        if not wanted & set(row["roles"] or []):
            continue
        if row["employee_id"] is not None:
            employee_ids.append(row["employee_id"])
        else:
            user_ids.append(row["id"])
    if employee_ids:
        # An employee who has left keeps no active account in practice; check the record anyway.
        present = set(await Employee.filter(id__in=employee_ids).exclude(status=EmployeeStatus.LEFT).values_list("id", flat=True))
        employee_ids = [e for e in employee_ids if e in present]
    return Recipients(tuple(dict.fromkeys(employee_ids)), tuple(user_ids))


# ---------------------------------------------------------------- channels


@dataclass(frozen=True)
class Delivery:
    """What a channel receives after commit: plain data, so it may be queued as a job."""

    alert_id: int
    kind: str
    severity: str
    title: str  # the zh-CN text: group robots and other channels get Chinese
    message: str
    employee_id: int | None
    recipient_employee_ids: tuple[int, ...]
    notified_user_ids: tuple[int, ...]
    notification_ids: tuple[int, ...] = field(default_factory=tuple)


Channel = Callable[[Delivery], Awaitable[None]]
CHANNELS: list[Channel] = []


def register_channel(channel: Channel) -> None:
    """Add a delivery channel (e-mail, webhook...). Called after the alert's transaction commits."""
    if channel not in CHANNELS:
        CHANNELS.append(channel)


def unregister_channel(channel: Channel) -> None:
    if channel in CHANNELS:
        CHANNELS.remove(channel)


async def _deliver(delivery: Delivery) -> None:
    for channel in list(CHANNELS):
        try:
            await channel(delivery)
        except Exception:  # a failing channel must not affect the committed alert or other channels
            log.exception("alert channel %r failed for alert %s", channel, delivery.alert_id)


# ---------------------------------------------------------------- raising


@dataclass(frozen=True)
class Raised:
    alert: Alert
    created: bool


def notification_title(kind: str, severity: str, subject: str | None) -> Message:
    labels = {"severity": _m(SEVERITY_LABELS.get(severity, severity)), "kind": _m(KIND_LABELS.get(kind, kind))}
    if subject:
        return _m("【%(severity)s】%(kind)s：%(subject)s", subject=subject, **labels)
    return _m("【%(severity)s】%(kind)s", **labels)


def _stored(value: str | Message) -> tuple[str, dict | None]:
    """A text column's zh-CN text and the JSON column's message id and parameters."""
    message = text(value)
    return str(message), (None if message.literal else message.to_json())


async def raise_alert(
    viewer: Viewer, *, kind: str, severity: str, message: str | Message, dedupe_key: str,
    recipients: Recipients | Iterable[int] = (), employee_id: int | None = None, loan_id: int | None = None,
    position_id: int | None = None, title: str | Message | None = None, region_id: int | None = None,
    purpose: str | None = None, score: int | None = None, scorecard_version: str | None = None,
    notify: bool = True,
) -> Raised:
    """Store an alert once per `dedupe_key`, notify its recipients, audit it; channels run after commit.

    `notify=False` stores the recipients without notifying them (the OVERDUE rule notifies by its reminder
    schedule instead). Joins the caller's transaction. Raising an existing key returns the stored alert with
    created=False and changes nothing (not even when the first one was resolved: the key names
    the rule, subject and period, and that period already had its alert).
    """
    if kind not in KINDS:
        raise ValidationFailed(_m("未知的预警类型 %(kind)s", kind=kind), field="kind")
    if severity not in SEVERITIES:
        raise ValidationFailed(_m("未知的严重程度 %(severity)s", severity=severity), field="severity")
    message, message_data = _stored(message.strip() if isinstance(message, str) else message)
    if not message.strip():
        raise ValidationFailed(_m("预警内容不能为空"), field="message")
    dedupe_key = (dedupe_key or "").strip()
    if not dedupe_key or len(dedupe_key) > 200:
        raise ValidationFailed(_m("dedupe_key 须为 1–200 个字符"), field="dedupe_key")
    if not isinstance(recipients, Recipients):
        recipients = Recipients(tuple(dict.fromkeys(recipients)))

    async with atomic():
        existing = await Alert.filter(dedupe_key=dedupe_key).first()
        if existing is not None:
            return Raised(existing, False)
        now = utcnow()
        try:
            async with in_transaction():  # a savepoint: a concurrent raiser may win the insert
                alert = await Alert.create(
                    kind=kind, severity=severity, message=message, message_data=message_data,
                    employee_id=employee_id, loan_id=loan_id,
                    position_id=position_id, dedupe_key=dedupe_key, created_at=now,
                    region_id=region_id, purpose=purpose, score=score, scorecard_version=scorecard_version,
                )
        except IntegrityError:
            existing = await Alert.filter(dedupe_key=dedupe_key).first()
            if existing is None:
                raise
            return Raised(existing, False)

        employee_ids = list(recipients.employee_ids)
        if employee_ids:
            found = set(await Employee.filter(id__in=employee_ids).values_list("id", flat=True))
            employee_ids = [e for e in employee_ids if e in found]
        for eid in employee_ids:
            await AlertRecipient.create(alert=alert, employee_id=eid)

        user_q = Q(id__in=list(recipients.user_ids) or [-1])
        if employee_ids:
            user_q |= Q(employee_id__in=employee_ids)
        user_ids: list[int] = [
            r["id"] for r in await User.filter(user_q, is_active=True).order_by("id").values("id")] if notify else []
        if title is None:
            subject = None
            if employee_id is not None:
                subject_row = await Employee.filter(id=employee_id).first()
                subject = f"{subject_row.name}（{subject_row.employee_no}）" if subject_row else None
            title = notification_title(kind, severity, subject)
        title, title_data = _stored(title)
        title = title[:200]
        notification_ids = []
        for uid in user_ids:
            note = await Notification.create(user_id=uid, title=title, body=message, alert=alert, created_at=now,
                                             title_data=title_data, body_data=message_data)
            notification_ids.append(note.id)

        await audit.record(viewer, "alert.raise", "alert", alert.id, None, {
            "kind": kind, "severity": severity, "message": message, "dedupeKey": dedupe_key,
            "employeeId": employee_id, "loanId": loan_id, "positionId": position_id,
            "recipients": employee_ids, "notifiedUsers": user_ids,
            **({"regionId": region_id, "purpose": purpose} if region_id is not None or purpose else {}),
            **({"score": score, "scorecardVersion": scorecard_version} if score is not None else {}),
        })
        delivery = Delivery(
            alert_id=alert.id, kind=kind, severity=severity, title=title, message=message,
            employee_id=employee_id, recipient_employee_ids=tuple(employee_ids),
            notified_user_ids=tuple(user_ids), notification_ids=tuple(notification_ids),
        )

        async def deliver() -> None:
            await _deliver(delivery)

        after_commit(deliver)
    return Raised(alert, True)


# ---------------------------------------------------------------- reading alerts


def visible_alerts_q(viewer: Viewer) -> Q:
    if viewer.sees_all:
        return Q()
    q = Q(id__in=Subquery(Notification.filter(user_id=viewer.user_id or -1, alert_id__not_isnull=True)
                          .values("alert_id")))
    if viewer.employee_id is not None:
        q |= Q(id__in=Subquery(AlertRecipient.filter(employee_id=viewer.employee_id).values("alert_id")))
    return q


async def can_see_alert(viewer: Viewer, alert: Alert) -> bool:
    if viewer.sees_all:
        return True
    return await Alert.filter(visible_alerts_q(viewer), id=alert.id).exists()


async def get_alert(viewer: Viewer, alert_id: Any) -> Alert | None:
    require_login(viewer)
    alert = await Alert.filter(id=parse_id(alert_id, "alert")).first()
    if alert is None:
        return None
    if not await can_see_alert(viewer, alert):
        raise Forbidden(_m("无权查看该预警"))
    return alert


@dataclass(frozen=True)
class AlertFilter:
    """The 风险预警 page's filters beyond the contract's (severity, department, position, region, resolved)."""

    severity: str | None = None
    department_id: Any = None
    position_id: Any = None
    region_id: Any = None
    resolved: bool | None = None  # True: only resolved; False: only open; None: as unresolved_only says


def _filtered(qs: Any, filters: AlertFilter) -> Any:
    if filters.severity is not None:
        if filters.severity not in SEVERITIES:
            raise ValidationFailed(_m("未知的严重程度 %(severity)s", severity=filters.severity), field="severity")
        qs = qs.filter(severity=filters.severity)
    if filters.department_id is not None:
        qs = qs.filter(employee__department_id=parse_id(filters.department_id, "department"))
    if filters.position_id is not None:
        pid = parse_id(filters.position_id, "position")
        # A position's own alerts (POSITION_OVERDUE_RATE) and those about its employees.
        qs = qs.filter(Q(position_id=pid) | Q(employee__position_id=pid))
    if filters.region_id is not None:
        rid = parse_id(filters.region_id, "region")
        qs = qs.filter(Q(region_id=rid) | Q(employee__region_id=rid))
    if filters.resolved is True:
        qs = qs.filter(resolved_at__not_isnull=True)
    return qs


async def list_alerts(
    viewer: Viewer, kind: str | None = None, employee_id: Any = None, unresolved_only: bool = True,
    first: int = 50, after: list[Any] | None = None, filters: AlertFilter | None = None,
) -> Page:
    require_login(viewer)
    filters = filters or AlertFilter()
    if filters.resolved is not None:
        unresolved_only = filters.resolved is False
    qs = _filtered(Alert.filter(visible_alerts_q(viewer)), filters)
    if kind is not None:
        if kind not in KINDS:
            raise ValidationFailed(_m("未知的预警类型 %(kind)s", kind=kind), field="kind")
        qs = qs.filter(kind=kind)
    if employee_id is not None:
        qs = qs.filter(employee_id=parse_id(employee_id, "employee"))
    if unresolved_only:
        qs = qs.filter(resolved_at__isnull=True)
    return await paginate(qs, first, after)


async def unresolved_by_employee(viewer: Viewer, employee_ids: Sequence[int]) -> list[list[Alert]]:
    """Batch: each employee's unresolved alerts the viewer may see, newest first, in one statement for
    any number of employees (the approval inbox shows them beside every applicant)."""
    require_login(viewer)
    ids = list(set(employee_ids))
    groups: dict[int, list[Alert]] = {i: [] for i in ids}
    if ids:
        rows = await Alert.filter(visible_alerts_q(viewer), employee_id__in=ids, resolved_at__isnull=True).order_by(
            "-created_at", "-id")
        for row in rows:
            groups[row.employee_id].append(row)  # type: ignore[attr-defined]
    return [groups[i] for i in employee_ids]


async def alerts_by_loan(viewer: Viewer, loan_ids: Sequence[int]) -> list[list[Alert]]:
    """Batch: each loan's alerts the viewer may see (open first, newest first), one statement for a page of
    loans (the approval inbox and the loan page show them beside the loan)."""
    require_login(viewer)
    ids = list(set(loan_ids))
    groups: dict[int, list[Alert]] = {i: [] for i in ids}
    if ids:
        for row in await Alert.filter(visible_alerts_q(viewer), loan_id__in=ids).order_by("-created_at", "-id"):
            groups[row.loan_id].append(row)  # type: ignore[attr-defined]
    for rows in groups.values():
        rows.sort(key=lambda a: a.resolved_at is not None)
    return [groups[i] for i in loan_ids]


async def recipients_of(alert_ids: Sequence[int]) -> list[list[Employee]]:
    """Batch reader: each alert's recipient employees, in the order they were added."""
    links = await AlertRecipient.filter(alert_id__in=list(set(alert_ids))).order_by("id").values(
        "alert_id", "employee_id")
    employees = {e.id: e for e in await Employee.filter(id__in=list({r["employee_id"] for r in links}))}
    grouped: dict[int, list[Employee]] = {}
    for link in links:
        grouped.setdefault(link["alert_id"], []).append(employees[link["employee_id"]])
    return [grouped.get(i, []) for i in alert_ids]


# ---------------------------------------------------------------- resolving


def _alert_snapshot(alert: Alert) -> dict:
    snapshot = {"resolvedAt": alert.resolved_at, "resolvedBy": alert.resolved_by_id,  # type: ignore[attr-defined]
                "note": alert.resolution_note}
    if alert.paused_until is not None:
        snapshot["pausedUntil"] = alert.paused_until.isoformat()
    return snapshot


async def resolve_alert(viewer: Viewer, alert_id: Any, note: str | None = None,
                        pause_until: date | None = None) -> Alert:
    """Close an alert by hand. An OVERDUE alert needs a note, and its reminders pause until `pause_until`
    (default: RISK_RESOLVE_PAUSE_DAYS from today); the next scan after that reopens it while the loan is still
    overdue (server/services/risk.py)."""
    require_login(viewer)
    note = V.clean_text(note, "note", V.REASON)
    if note and len(note) > MAX_NOTE:
        raise ValidationFailed(_m("备注不能超过 %(max)s 个字符", max=MAX_NOTE), field="note")
    async with atomic():
        alert = await Alert.filter(id=parse_id(alert_id, "alert")).first()
        if alert is None:
            raise NotFound(_m("预警 %(id)s 不存在", id=alert_id))
        if not await can_see_alert(viewer, alert):
            raise Forbidden(_m("无权查看该预警"))
        if (refusal := resolve_refusal(viewer, alert)) is not None:
            raise refusal
        paused: date | None = None
        if alert.kind == AlertKind.OVERDUE:
            if not note:
                raise ValidationFailed(_m("处理逾期预警须填写备注"), field="note")
            paused = pause_until or today() + timedelta(days=int(await get_setting("RISK_RESOLVE_PAUSE_DAYS")))
            if paused <= today():
                raise ValidationFailed(_m("暂停提醒的日期须晚于今天"), field="pauseUntil")
        # Re-read under a conditional update: two resolvers racing must not both succeed.
        now = utcnow()
        updated = await Alert.filter(id=alert.id, resolved_at__isnull=True).update(
            resolved_at=now, resolved_by_id=viewer.user_id, resolution_note=note, paused_until=paused,
            auto_resolved=False)
        if not updated:
            raise InvalidTransition(_m("该预警已处理"))
        before = _alert_snapshot(alert)
        await alert.refresh_from_db()
        await audit.record(viewer, "alert.resolve", "alert", alert.id, before, _alert_snapshot(alert))
    return alert


async def resolve_by_key(viewer: Viewer, dedupe_key: str, note: str | Message) -> Alert | None:
    """Inside the caller's transaction: close an alert whose cause is gone (no role check: the
    caller's own authorization covers it). Returns None when there is nothing open to close."""
    alert = await Alert.filter(dedupe_key=dedupe_key, resolved_at__isnull=True).first()
    if alert is None:
        return None
    before = _alert_snapshot(alert)
    # A system's note is stored as its zh-CN message id and translated when shown (tr_text).
    alert.resolved_at, alert.resolution_note = utcnow(), text(note).msgid
    alert.resolved_by_id = viewer.user_id  # type: ignore[attr-defined]
    alert.auto_resolved, alert.paused_until = True, None
    await alert.save(update_fields=["resolved_at", "resolved_by_id", "resolution_note", "auto_resolved",
                                    "paused_until"])
    await audit.record(viewer, "alert.resolve", "alert", alert.id, before, _alert_snapshot(alert))
    return alert


# ---------------------------------------------------------------- notifications (the viewer's own)


async def list_notifications(viewer: Viewer, unread_only: bool = False, first: int = 50, after: list[Any] | None = None) -> Page:
    require_login(viewer)
    qs = Notification.filter(user_id=viewer.user_id or -1)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return await paginate(qs, first, after)


async def notify_roles(
    viewer: Viewer, roles: Iterable[str], title: str | Message, body: str | Message,
    exclude_user_ids: Iterable[int] = (),
) -> list[int]:
    """Inside the caller's transaction: an in-app notification (no alert) to every active account holding
    one of `roles`, except the viewer's own (and `exclude_user_ids`). Returns the notified user ids."""
    wanted = set(roles)
    skip = {viewer.user_id, *exclude_user_ids}
    user_ids = [
        r["id"] for r in await User.filter(is_active=True).order_by("id").values("id", "roles")
        if wanted & set(r["roles"] or []) and r["id"] not in skip
    ]
    now = utcnow()
    (title, title_data), (body, body_data) = _stored(title), _stored(body)
    for uid in user_ids:
        await Notification.create(user_id=uid, title=title[:200], body=body, created_at=now,
                                  title_data=title_data, body_data=body_data)
    return user_ids


async def unread_count(viewer: Viewer) -> int:
    """For the page header's badge."""
    require_login(viewer)
    return await Notification.filter(user_id=viewer.user_id or -1, read_at__isnull=True).count()


async def mark_notification_read(viewer: Viewer, notification_id: Any) -> Notification:
    """Idempotent: marking a read notification again keeps the first read time and writes nothing."""
    require_login(viewer)
    async with atomic():
        row = await Notification.filter(id=parse_id(notification_id, "notification")).first()
        if row is None:
            raise NotFound(_m("通知 %(id)s 不存在", id=notification_id))
        if row.user_id != viewer.user_id:  # type: ignore[attr-defined]
            raise Forbidden(_m("只能查看自己的通知"))
        if row.read_at is None:
            now = utcnow()
            if await Notification.filter(id=row.id, read_at__isnull=True).update(read_at=now):
                await audit.record(viewer, "notification.read", "notification", row.id, {"readAt": None},
                                   {"readAt": now})
            await row.refresh_from_db()
    return row


def resolve_refusal(viewer: Viewer, alert: Alert) -> DomainError | None:
    """Why the viewer may not resolve `alert` now (the `viewerCan.resolve` flag and the mutation's check)."""
    if not viewer.has(*RESOLVERS):
        return Forbidden(_m("需要以下角色之一：%(roles)s", roles=", ".join(RESOLVERS)))
    if D.own_money(viewer.employee_id, alert.employee_id):  # type: ignore[attr-defined]
        return Forbidden(_m("不能处理关于自己的预警"))
    if alert.resolved_at is not None:
        return InvalidTransition(_m("该预警已处理"))
    return None
