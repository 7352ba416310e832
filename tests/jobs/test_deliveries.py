"""Delivery end to end: alerts and notifications raised by the services, collected by the minute's job,
sent by real ARQ workers on real Redis to a local SMTP server and a local robot receiver."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from jobs.audit import verify_audit_chain
from jobs.deliveries import collect_deliveries
from server.models import Delivery, DigestItem, Employee, User
from server.services import alerts, channels, org
from server.services.base import SYSTEM
from server.settings import override_settings
from tests.factories import PASSWORD, make_org
from tests.jobs.receivers import DINGTALK_SECRET, FEISHU_SECRET, WECOM_KEY, markdown_of, robot_server, smtp_server

ADMIN = SYSTEM


@pytest.fixture
def smtp(job_settings):
    with smtp_server() as (controller, messages):
        settings = dataclasses.replace(job_settings, smtp_url=f"smtp://{controller.hostname}:{controller.port}",
                                       smtp_from="qingkuan@example.com", public_url="https://qk.example.com",
                                       delivery_retry_s=0.2)
        override_settings(settings)
        yield messages
        override_settings(job_settings)


@pytest.fixture
def fast_retries(job_settings):
    override_settings(dataclasses.replace(job_settings, delivery_retry_s=0.2, public_url="https://qk.example.com"))
    yield
    override_settings(job_settings)


async def _emails(people) -> None:
    await Employee.filter(id=people.sales).update(email="sales@example.com")
    await Employee.filter(id=people.manager).update(email="manager@example.com")
    await User.filter(employee_id=people.manager).update(locale="en")


async def _raise(n: int, **extra) -> None:
    for i in range(n):
        await alerts.raise_alert(SYSTEM, kind=extra.get("kind", "OVERDUE"), severity=extra.get("severity", "WARNING"),
                                 message=extra.get("message", f"张三借款逾期 {i + 1} 天，未还 4,000.00"),
                                 dedupe_key=f"test:{extra.get('kind', 'OVERDUE')}:{i}",
                                 recipients=extra.get("recipients", ()), employee_id=extra.get("employee_id"))


async def test_notification_emailed_once_in_each_users_language(db, run_burst, smtp):
    people = await make_org()
    await _emails(people)
    await _raise(1, recipients=[people.sales, people.manager], employee_id=people.sales)

    summary = await collect_deliveries({})
    assert summary["emails"] == 2
    await run_burst()
    # A second collection (the next minute, a retried cron) sends nothing again.
    await collect_deliveries({})
    await run_burst()

    by_address = {rcpt[0]: msg for rcpt, msg in smtp}
    assert sorted(by_address) == ["manager@example.com", "sales@example.com"]
    assert len(smtp) == 2
    zh, en = by_address["sales@example.com"], by_address["manager@example.com"]
    assert zh["Subject"] == "【警告】借款逾期：张三（S1）"
    assert en["Subject"] == "[Warning] Overdue loan: 张三（S1）"
    assert zh["From"] == "qingkuan@example.com"
    assert "张三借款逾期 1 天" in zh.get_content()
    assert "在清款中查看：https://qk.example.com/notifications" in zh.get_content()
    assert "https://qk.example.com/notifications" in en.get_content() and "在清款中查看" not in en.get_content()
    rows = await Delivery.filter(kind="NOTIFICATION").order_by("id")
    assert [(r.status, r.attempts) for r in rows] == [("SENT", 1), ("SENT", 1)]


async def test_no_smtp_no_email(db, run_burst, job_settings):
    people = await make_org()
    await _emails(people)
    await _raise(1, recipients=[people.sales])
    assert (await collect_deliveries({}))["emails"] == 0
    assert await Delivery.all().count() == 0


async def _robot_channels(robots) -> list:
    out = []
    for kind, target, secret in (("DINGTALK", robots.dingtalk_url, DINGTALK_SECRET), ("WECOM", robots.wecom_url, None),
                                 ("FEISHU", robots.feishu_url, FEISHU_SECRET)):
        out.append(await channels.create_channel(ADMIN, channels.ChannelInput(
            kind=kind, name=f"{kind} 群", target=target, secret=secret, digest_minutes=15)))
    return out


async def test_robots_signed_digest_retried_after_first_failure(db, run_burst, fast_retries):
    people = await make_org()
    async with robot_server() as robots:
        made = await _robot_channels(robots)
        await _raise(3, recipients=[people.finance], employee_id=people.sales)
        await _raise(1, kind="FREQUENT_BORROWING", recipients=[people.finance], employee_id=people.sales)

        summary = await collect_deliveries({})
        assert summary["digests"] == 3
        await run_burst()

    assert robots.rejected == []
    assert robots.requests == {"dingtalk": 2, "wecom": 2, "feishu": 2}  # the first failed, the retry went through
    for name in ("dingtalk", "wecom", "feishu"):
        assert len(robots.received[name]) == 1, name  # four alerts, one digest per channel
        text = markdown_of(name, robots.received[name][0])
        assert "清款风险预警汇总：4 条" in text
        assert "借款逾期：3 条" in text and "频繁借款：1 条" in text
        assert "https://qk.example.com/alerts" in text
        # Without include_details a group chat sees counts, never names or amounts.
        assert "张三" not in text and "4,000.00" not in text
    digests = await Delivery.filter(kind="DIGEST").order_by("id")
    assert [(d.channel_id, d.status, d.attempts) for d in digests] == [(c.id, "SENT", 2) for c in made]
    assert all(d.last_error is None and d.sent_at is not None for d in digests)
    assert await DigestItem.filter(delivery_id__isnull=True).count() == 0


async def test_digest_waits_for_interval_and_details_when_allowed(db, run_burst, fast_retries):
    people = await make_org()
    async with robot_server() as robots:
        robots.fail_first = False
        channel = await channels.create_channel(ADMIN, channels.ChannelInput(
            kind="WECOM", name="财务群", target=WECOM_KEY, digest_minutes=30, include_details=True))
        # The WeCom key alone names the robot's URL; point it at the local receiver instead.
        await channels.update_channel(ADMIN, channel.id, channels.ChannelInput(target=robots.wecom_url))
        await _raise(2, recipients=[people.finance])
        await collect_deliveries({})
        await run_burst()
        # Alerts raised within the interval wait for the next digest.
        await _raise(5, kind="MISSING_VOUCHERS", recipients=[people.finance], message="西安市场活动凭证不足 " + "很长" * 600)
        summary = await collect_deliveries({})
        assert summary["digests"] == 0
        await run_burst()
        assert len(robots.received["wecom"]) == 1
        # Once the interval has passed (the last digest made 31 minutes ago), they go out together.
        from datetime import timedelta

        last = await Delivery.filter(kind="DIGEST").first()
        await Delivery.filter(id=last.id).update(created_at=last.created_at - timedelta(minutes=31))
        assert (await collect_deliveries({}))["digests"] == 1
        await run_burst()

    first, second = (markdown_of("wecom", b) for b in robots.received["wecom"])
    assert "清款风险预警汇总：2 条" in first and "张三借款逾期 1 天，未还 4,000.00" in first
    assert "报销缺少凭证：5 条" in second
    assert len(second.encode("utf-8")) <= 4096 and second.endswith("…")


async def test_nightly_verification_reaches_channels_and_auditors(db, run_burst, smtp):
    people = await make_org()
    await org.create_employee(SYSTEM, org.EmployeeData(
        employee_no="A1", name="钱审计", department_code="FIN", region_code="XA", position_code="STAFF",
        supervisor_no="M1", monthly_salary="8000.00", hire_date=date(2024, 1, 1), username="auditor",
        password=PASSWORD, roles=["EMPLOYEE", "AUDITOR"], email="audit@example.com"))
    async with robot_server() as robots:
        robots.fail_first = False
        await channels.create_channel(ADMIN, channels.ChannelInput(
            kind="DINGTALK", name="管理群", target=robots.dingtalk_url, secret=DINGTALK_SECRET))
        await channels.create_channel(ADMIN, channels.ChannelInput(kind="EMAIL", name="财务邮箱",
                                                                   target="finance-team@example.com"))
        result = await verify_audit_chain({"job_id": "cron:verify:1"})
        await run_burst()

    assert result["ok"] is True
    text = markdown_of("dingtalk", robots.received["dingtalk"][0])
    assert "审计日志校验通过" in text and result["headHash"] in text and str(result["headId"]) in text
    by_address = {rcpt[0]: msg for rcpt, msg in smtp}
    assert sorted(by_address) == ["audit@example.com", "finance-team@example.com"]
    assert result["headHash"] in by_address["audit@example.com"].get_content()
    assert by_address["audit@example.com"]["Subject"] == "清款审计日志校验通过"
    rows = await Delivery.filter(kind="AUDIT")
    assert len(rows) == 3 and all(r.status == "SENT" for r in rows)
    assert people.admin_user  # the bootstrap admin has no e-mail address: nothing for it


async def test_failures_stop_after_max_attempts(db, run_burst, fast_retries):
    from server.services import sending

    channel = await channels.create_channel(ADMIN, channels.ChannelInput(
        kind="FEISHU", name="飞书", target="http://127.0.0.1:9/open-apis/bot/v2/hook/nothing-listens"))
    row = await channels.test_send(ADMIN, channel.id)
    await run_burst()
    await row.refresh_from_db()
    assert (row.status, row.attempts) == ("FAILED", sending.MAX_ATTEMPTS)
    assert "ConnectError" in row.last_error


async def test_a_robot_at_20_messages_a_minute_waits_without_losing_an_attempt(db, fast_retries):
    from datetime import timedelta

    from server.services import sending
    from server.services.base import utcnow

    channel = await channels.create_channel(ADMIN, channels.ChannelInput(
        kind="WECOM", name="群", target="http://127.0.0.1:9/cgi-bin/webhook/send?key=abcdefgh"))
    now = utcnow()
    # 19 messages in the last minute (and one just older): the 20th may go.
    for i in range(20):
        await Delivery.create(kind="TEST", dedupe_key=f"busy-{i}", channel=channel, status="SENT", created_at=now,
                              last_attempt_at=now - timedelta(seconds=61 if i == 0 else 10))
    row = await Delivery.create(kind="TEST", dedupe_key="next", channel=channel, status="PENDING", created_at=now)
    assert await sending._robot_busy(row) is False
    await Delivery.filter(dedupe_key="busy-0").update(last_attempt_at=now - timedelta(seconds=30))
    outcome = await sending.attempt(row.id)
    assert (outcome.status, outcome.retry_in) == ("PENDING", 60.0)
    await row.refresh_from_db()
    assert (row.status, row.attempts, row.last_attempt_at) == ("PENDING", 0, None)


async def test_a_deleted_channels_waiting_message_fails_at_once(db, run_burst, fast_retries):
    channel = await channels.create_channel(ADMIN, channels.ChannelInput(
        kind="DINGTALK", name="旧群", target="http://127.0.0.1:9/robot/send?access_token=x"))
    await Delivery.create(kind="TEST", dedupe_key="orphan", channel=channel, status="PENDING",
                          created_at=channel.created_at)
    await channels.delete_channel(ADMIN, channel.id)
    await collect_deliveries({})
    await run_burst()
    row = await Delivery.get(dedupe_key="orphan")
    assert (row.channel_id, row.status, row.attempts, row.last_error) == (None, "FAILED", 1, "the channel was deleted")


def test_collection_runs_every_minute_and_sends_retry(settings):
    from jobs.worker import CRON_JOBS, FUNCTIONS

    minute = next(c for c in CRON_JOBS if c.name.startswith("minutely_collect_deliveries:"))
    assert (minute.month, minute.day, minute.weekday, minute.hour, minute.minute, minute.second) == (
        None, None, None, None, None, 0)
    assert minute.unique and not minute.run_at_startup
    send = next(f for f in FUNCTIONS if getattr(f, "name", None) == "send_delivery")
    assert send.max_tries > 5  # our own 5 attempts, plus rate-limit postponements
