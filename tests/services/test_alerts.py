"""The general alert mechanism: stored once per dedupe key, recipients, notifications, channels, visibility."""

from __future__ import annotations

import asyncio
import logging

import pytest

from server.domain.errors import DomainError, Forbidden, InvalidTransition, NotFound, ValidationFailed
from server.models import Alert, AlertRecipient, AuditEntry, Employee, Notification, User
from server.services import alerts, sessions
from server.services.base import SYSTEM, atomic
from tests.factories import make_org


async def _viewer(username: str):
    return sessions.viewer_for(await User.get(username=username))


@pytest.fixture
def channel():
    """A delivery channel that records what it receives (a later issue adds e-mail and webhooks)."""
    received: list[alerts.Delivery] = []

    async def record(delivery: alerts.Delivery) -> None:
        received.append(delivery)

    alerts.register_channel(record)
    try:
        yield received
    finally:
        alerts.unregister_channel(record)


async def _raise(people, key: str = "OVERDUE:loan:1:2026-11", **kw):
    args = dict(kind="OVERDUE", severity="WARNING", message="借款已逾期 30 天", dedupe_key=key,
                recipients=alerts.Recipients((people.manager, people.finance)), employee_id=people.sales)
    args.update(kw)
    return await alerts.raise_alert(SYSTEM, **args)


async def test_raise_stores_alert_recipients_notifications_and_audit(db, channel):
    people = await make_org()
    raised = await _raise(people)
    assert raised.created
    alert = await Alert.get(id=raised.alert.id)
    assert (alert.kind, alert.severity, alert.employee_id, alert.resolved_at) == ("OVERDUE", "WARNING", people.sales,
                                                                                  None)
    links = await AlertRecipient.filter(alert_id=alert.id).order_by("id").values_list("employee_id", flat=True)
    assert links == [people.manager, people.finance]
    notes = await Notification.filter(alert_id=alert.id).order_by("user_id").prefetch_related("user")
    assert sorted(n.user.username for n in notes) == ["finance", "manager"]
    assert all(n.read_at is None and n.body == "借款已逾期 30 天" for n in notes)
    assert notes[0].title == "【警告】借款逾期：张三（S1）"
    entry = await AuditEntry.get(action="alert.raise")
    assert entry.object_id == str(alert.id) and entry.after["recipients"] == [people.manager, people.finance]
    # The channel ran once, after commit, with plain data.
    assert len(channel) == 1
    assert channel[0].alert_id == alert.id and channel[0].recipient_employee_ids == (people.manager, people.finance)
    assert sorted(channel[0].notification_ids) == sorted(n.id for n in notes)


async def test_raising_the_same_key_again_changes_nothing(db, channel):
    people = await make_org()
    first = await _raise(people)
    audit_count = await AuditEntry.all().count()
    again = await _raise(people, message="another text", severity="CRITICAL")
    assert not again.created and again.alert.id == first.alert.id
    assert await Alert.all().count() == 1
    assert await Notification.all().count() == 2
    assert await AuditEntry.all().count() == audit_count
    assert len(channel) == 1
    assert (await Alert.get(id=first.alert.id)).message == "借款已逾期 30 天"


async def test_a_resolved_alert_is_not_raised_again_for_the_same_period(db, channel):
    people = await make_org()
    first = await _raise(people)
    await alerts.resolve_alert(await _viewer("finance"), first.alert.id, "已催收")
    again = await _raise(people)
    assert not again.created and await Alert.all().count() == 1
    assert (await _raise(people, key="OVERDUE:loan:1:2026-12")).created  # the next period is a new alert


async def test_concurrent_raises_of_one_key_store_one_alert(db, channel):
    people = await make_org()
    results = await asyncio.gather(*(_raise(people) for _ in range(5)))
    assert sum(r.created for r in results) == 1
    assert len({r.alert.id for r in results}) == 1
    assert await Alert.all().count() == 1
    assert await Notification.all().count() == 2
    assert await AuditEntry.filter(action="alert.raise").count() == 1
    assert len(channel) == 1


async def test_rolled_back_transaction_leaves_no_alert_and_calls_no_channel(db, channel):
    people = await make_org()
    with pytest.raises(RuntimeError):
        async with atomic():
            await _raise(people)
            raise RuntimeError("the caller failed after raising")
    assert await Alert.all().count() == 0
    assert await Notification.all().count() == 0
    assert await AuditEntry.filter(action="alert.raise").count() == 0
    assert channel == []


async def test_a_failing_channel_is_logged_and_does_not_stop_the_others(db, caplog):
    people = await make_org()
    received = []

    async def broken(delivery):
        raise ConnectionError("smtp down")

    async def recorder(delivery):
        received.append(delivery.alert_id)

    alerts.register_channel(broken)
    alerts.register_channel(recorder)
    try:
        with caplog.at_level(logging.ERROR, logger="qingkuan.alerts"):
            raised = await _raise(people)
    finally:
        alerts.unregister_channel(broken)
        alerts.unregister_channel(recorder)
    assert raised.created and await Alert.filter(id=raised.alert.id).exists()
    assert received == [raised.alert.id]
    assert any("alert channel" in r.getMessage() for r in caplog.records)


async def test_invalid_kind_severity_or_key_is_refused(db):
    people = await make_org()
    for kw, field in [({"kind": "NOPE"}, "kind"), ({"severity": "LOUD"}, "severity"), ({"key": ""}, "dedupe_key"),
                      ({"message": "  "}, "message")]:
        with pytest.raises(ValidationFailed) as exc:
            await _raise(people, **kw)
        assert exc.value.field == field
    assert await Alert.all().count() == 0


async def test_role_recipients_include_accounts_without_employee_only_as_users(db):
    people = await make_org()
    integration = await User.create(username="erp-bot", password_hash="x", roles=["FINANCE"])
    await User.create(username="old-finance", password_hash="x", roles=["FINANCE"], is_active=False)
    got = await alerts.role_recipients("FINANCE", "HR")
    assert set(got.employee_ids) == {people.finance, people.hr}
    assert got.user_ids == (integration.id,)  # the bootstrap admin (ADMIN only) is not among them

    raised = await alerts.raise_alert(SYSTEM, kind="OFFBOARDING_OUTSTANDING", severity="CRITICAL", message="m",
                                      dedupe_key="k", recipients=got, employee_id=people.sales)
    assert set(await AlertRecipient.filter(alert_id=raised.alert.id).values_list("employee_id", flat=True)) == {
        people.finance, people.hr}
    notified = await Notification.filter(alert_id=raised.alert.id).values_list("user__username", flat=True)
    assert sorted(notified) == ["erp-bot", "finance", "hr"]


async def test_inactive_accounts_are_not_notified(db):
    people = await make_org()
    await User.filter(username="manager").update(is_active=False)
    raised = await _raise(people)
    assert await AlertRecipient.filter(alert_id=raised.alert.id).count() == 2  # still a recipient on record
    assert await Notification.filter(alert_id=raised.alert.id).values_list("user__username", flat=True) == ["finance"]


async def test_visibility_of_alerts(db):
    people = await make_org()
    raised = await _raise(people, recipients=alerts.Recipients((people.manager,)))
    alert_id = raised.alert.id
    for who in ("finance", "hr", "admin", "manager"):  # roles that see all, and the recipient
        page = await alerts.list_alerts(await _viewer(who))
        assert [a.id for a in page.rows] == [alert_id], who
        assert (await alerts.get_alert(await _viewer(who), alert_id)).id == alert_id
    # The subject is not a recipient: an internal risk signal is not shown to them.
    sales = await _viewer("sales")
    assert await (await alerts.list_alerts(sales)).count() == 0
    with pytest.raises(Forbidden):
        await alerts.get_alert(sales, alert_id)
    assert await alerts.get_alert(sales, 999999) is None
    # Filters.
    fin = await _viewer("finance")
    assert await (await alerts.list_alerts(fin, kind="OFFBOARDING_OUTSTANDING")).count() == 0
    assert await (await alerts.list_alerts(fin, employee_id=people.sales)).count() == 1
    assert await (await alerts.list_alerts(fin, employee_id=people.manager)).count() == 0


async def test_who_may_resolve(db):
    people = await make_org()
    raised = await _raise(people)
    auditor = await User.create(username="auditor", password_hash="x", roles=["AUDITOR"])
    for viewer, error in [(await _viewer("manager"), Forbidden),  # a recipient, informed only
                          (sessions.viewer_for(auditor), Forbidden),  # reads only
                          (await _viewer("sales"), Forbidden)]:
        with pytest.raises(error):
            await alerts.resolve_alert(viewer, raised.alert.id, "x")
    with pytest.raises(NotFound):
        await alerts.resolve_alert(await _viewer("hr"), 424242)
    assert await AuditEntry.filter(action="alert.resolve").count() == 0

    fin = await _viewer("finance")
    resolved = await alerts.resolve_alert(fin, raised.alert.id, "  已电话催收  ")
    assert resolved.resolved_at is not None and resolved.resolution_note == "已电话催收"
    assert resolved.resolved_by_id == fin.user_id
    with pytest.raises(InvalidTransition):
        await alerts.resolve_alert(await _viewer("hr"), raised.alert.id)
    assert await AuditEntry.filter(action="alert.resolve").count() == 1
    assert await (await alerts.list_alerts(fin)).count() == 0
    assert await (await alerts.list_alerts(fin, unresolved_only=False)).count() == 1


async def test_concurrent_resolutions_record_one(db):
    people = await make_org()
    raised = await _raise(people)
    fin, hr = await _viewer("finance"), await _viewer("hr")

    async def resolve(viewer):
        try:
            await alerts.resolve_alert(viewer, raised.alert.id, viewer.username)
            return "ok"
        except DomainError as exc:
            return exc.code

    outcomes = await asyncio.gather(resolve(fin), resolve(hr), resolve(fin))
    assert sorted(outcomes) == ["CONFLICT", "CONFLICT", "ok"]
    assert await AuditEntry.filter(action="alert.resolve").count() == 1


async def test_notifications_are_the_viewers_own(db):
    people = await make_org()
    await _raise(people)
    await _raise(people, key="other", recipients=alerts.Recipients((people.finance,)))
    fin, mgr = await _viewer("finance"), await _viewer("manager")
    assert await (await alerts.list_notifications(fin)).count() == 2
    assert await (await alerts.list_notifications(mgr)).count() == 1
    assert await alerts.unread_count(fin) == 2
    mine = (await alerts.list_notifications(fin)).rows[0]
    with pytest.raises(Forbidden):
        await alerts.mark_notification_read(mgr, mine.id)
    with pytest.raises(NotFound):
        await alerts.mark_notification_read(fin, 987654)
    assert await alerts.unread_count(fin) == 2

    read = await alerts.mark_notification_read(fin, mine.id)
    assert read.read_at is not None
    first_read = read.read_at
    entries = await AuditEntry.filter(action="notification.read").count()
    again = await alerts.mark_notification_read(fin, mine.id)  # idempotent: first read time kept, no new entry
    assert again.read_at == first_read
    assert await AuditEntry.filter(action="notification.read").count() == entries == 1
    assert await alerts.unread_count(fin) == 1
    assert mine.id not in [n.id for n in (await alerts.list_notifications(fin, unread_only=True)).rows]
    assert await (await alerts.list_notifications(fin, unread_only=True)).count() == 1
    assert await alerts.unread_count(mgr) == 1


async def test_recipients_that_do_not_exist_are_skipped(db):
    people = await make_org()
    raised = await _raise(people, recipients=alerts.Recipients((people.manager, 999999)))
    assert await AlertRecipient.filter(alert_id=raised.alert.id).values_list("employee_id", flat=True) == [
        people.manager]
    assert await Employee.filter(id=999999).count() == 0
