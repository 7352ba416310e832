"""Alert and notification pages through the real app: the list by kind with its chart, resolving with a
note (FINANCE/HR/ADMIN only), the viewer's notifications, marking read, and the header's bell."""

from __future__ import annotations

import re
from datetime import timedelta

from server.models import Alert, AuditEntry, Notification, User
from server.services import alerts as alert_service
from server.services import offboarding
from server.services.base import SYSTEM, today, utcnow
from tests.querycount import recording
from tests.services.test_offboarding import make_rsm_with_debt, viewer
from tests.web.conftest import text_of

HTMX = {"HX-Request": "true"}


async def leaver_alert() -> Alert:
    """The seed's case raises the OFFBOARDING_OUTSTANDING alert to finance, HR and the supervisor."""
    people, rsm, *_ = await make_rsm_with_debt()
    # The setup's workflow notifications (approvals, disbursements) are not these tests' subject.
    await Notification.filter(alert_id__isnull=True).delete()
    await offboarding.start_offboarding(await viewer("hr"), rsm, today() + timedelta(days=7), "个人原因")
    return await Alert.get(kind="OFFBOARDING_OUTSTANDING")


def card(page: str, alert_id: int) -> str:
    found = re.search(rf'<article class="card alert-item[^"]*" id="a-{alert_id}">.*?</article>', page, re.S)
    assert found, page
    return found.group(0)


async def test_alerts_list_by_kind_with_chart_and_resolve_form(browser, db):
    alert = await leaver_alert()
    await browser.login("finance")
    page = await browser.get("/alerts")
    assert page.status_code == 200
    item = card(page.text, alert.id)
    text = text_of(item)
    assert "严重" in text and "离职未清款" in text and "张伟" in text and "尚欠借款 30,000.00 元" in text
    assert "通知对象：" in text and "李经理" in text and "周人事" in text
    assert 'href="/offboarding?status=open"' in item
    assert f'action="/alerts/{alert.id}/resolve"' in item  # finance resolves
    # Counts per kind as bars: one unresolved leaver alert, nothing else.
    assert re.search(r'aria-label="离职未清款 1"', page.text) and re.search(r'aria-label="借款逾期 0"', page.text)
    assert 'href="/alerts"' in page.text  # in the main navigation

    overdue_only = await browser.get("/alerts?kind=OVERDUE")
    assert f'id="a-{alert.id}"' not in overdue_only.text and "没有预警。" in text_of(overdue_only.text)
    assert (await browser.get("/alerts?kind=NOPE")).status_code == 400


async def test_resolving_with_a_note_and_again(browser, db):
    alert = await leaver_alert()
    await browser.login("hr")
    await browser.get("/alerts")
    before = await AuditEntry.filter(action="alert.resolve").count()
    response = await browser.client.post(f"/alerts/{alert.id}/resolve", headers=HTMX,
                                         data={"csrf_token": browser.csrf, "note": "已与员工约定离职前现金归还"})
    assert response.status_code == 200 and "<html" not in response.text
    text = text_of(response.text)
    assert "已处理" in text and "已与员工约定离职前现金归还" in text and "/resolve" not in response.text
    await alert.refresh_from_db()
    assert alert.resolved_at is not None and alert.resolution_note == "已与员工约定离职前现金归还"
    assert await AuditEntry.filter(action="alert.resolve").count() == before + 1

    # Twice: the API's refusal under the form (HTMX retargets to the message), nothing written.
    again = await browser.client.post(f"/alerts/{alert.id}/resolve", headers=HTMX,
                                      data={"csrf_token": browser.csrf, "note": "再次处理"})
    assert again.headers["HX-Retarget"] == f"#err-{alert.id}" and "该预警已处理" in again.text
    plain = await browser.post(f"/alerts/{alert.id}/resolve", {"note": "再次处理", "next": "/alerts?show=all"})
    assert plain.status_code == 409 and "该预警已处理" in text_of(plain.text)
    await alert.refresh_from_db()
    assert alert.resolution_note == "已与员工约定离职前现金归还"
    assert await AuditEntry.filter(action="alert.resolve").count() == before + 1

    # Resolved alerts leave the default list and show under "all".
    assert f'id="a-{alert.id}"' not in (await browser.get("/alerts")).text
    everything = await browser.get("/alerts?show=all")
    assert "已与员工约定离职前现金归还" in text_of(card(everything.text, alert.id))


async def test_plain_resolve_redirects_back_to_the_filtered_list(browser, db):
    alert = await leaver_alert()
    await browser.login("finance")
    response = await browser.post(f"/alerts/{alert.id}/resolve", {"note": "", "next": "/alerts?kind=OFFBOARDING_OUTSTANDING"})
    assert response.status_code == 303
    assert response.headers["location"] == f"/alerts?kind=OFFBOARDING_OUTSTANDING&resolved={alert.id}"
    evil = await browser.post(f"/alerts/{alert.id}/resolve", {"note": "", "next": "//evil.example/alerts"})
    assert evil.status_code == 409  # already resolved; and no redirect off the site in any case


async def test_a_supervisor_sees_the_alert_but_may_not_resolve_it(browser, db):
    alert = await leaver_alert()
    await browser.login("manager")
    page = await browser.get("/alerts")
    item = card(page.text, alert.id)
    assert "张伟" in text_of(item) and "/resolve" not in item
    refused = await browser.post(f"/alerts/{alert.id}/resolve", {"note": "我来处理"})
    assert refused.status_code == 403
    await alert.refresh_from_db()
    assert alert.resolved_at is None


async def test_an_employee_sees_no_alerts_about_others(browser, db):
    alert = await leaver_alert()
    home = await browser.login("sales")
    assert 'href="/alerts"' not in home.text  # not in their navigation
    page = await browser.get("/alerts")
    assert page.status_code == 200 and f'id="a-{alert.id}"' not in page.text and "张伟" not in text_of(page.text)


async def test_notifications_list_mark_read_and_the_bell(browser, db):
    alert = await leaver_alert()
    manager = await User.get(username="manager")
    mine = await Notification.get(user_id=manager.id, alert_id=alert.id)
    home = await browser.login("manager")
    assert re.search(r'<a class="bell" id="bell" href="/notifications"[^>]*>通知 <b class="count">1</b></a>', home.text)

    page = await browser.get("/notifications")
    assert page.status_code == 200
    item = re.search(rf'<article class="card note-item unread" id="n-{mine.id}">.*?</article>', page.text, re.S)
    assert item, page.text
    text = text_of(item.group(0))
    assert "离职未清款" in text and "张伟" in text and "标为已读" in text
    assert "1 条未读" in text_of(page.text)

    # HTMX: the item comes back read, and the bell (out of band) without a count.
    response = await browser.client.post(f"/notifications/{mine.id}/read", headers=HTMX,
                                         data={"csrf_token": browser.csrf})
    assert response.status_code == 200 and "<html" not in response.text
    assert re.search(rf'<article class="card note-item" id="n-{mine.id}">', response.text)
    assert "已读" in text_of(response.text) and "标为已读" not in text_of(response.text)
    bell = re.search(r'<a class="bell" id="bell"[^>]*hx-swap-oob="true"[^>]*>(.*?)</a>', response.text, re.S)
    assert bell and "count" not in bell.group(1)
    assert 'id="unread-summary" hx-swap-oob="true">0 条未读' in response.text
    await mine.refresh_from_db()
    assert mine.read_at is not None
    home = await browser.get("/")
    assert re.search(r'<a class="bell" id="bell" href="/notifications"[^>]*>通知</a>', home.text)
    unread_only = await browser.get("/notifications?show=unread")
    assert f'id="n-{mine.id}"' not in unread_only.text and "没有未读通知。" in text_of(unread_only.text)


async def test_marking_read_without_htmx_and_someone_elses(browser, db):
    alert = await leaver_alert()
    hr_note = await Notification.get(user__username="hr", alert_id=alert.id)
    fin_note = await Notification.get(user__username="finance", alert_id=alert.id)
    await browser.login("hr")
    await browser.get("/notifications")
    response = await browser.post(f"/notifications/{hr_note.id}/read", {"next": "/notifications?show=unread"})
    assert response.status_code == 303 and response.headers["location"] == "/notifications?show=unread"
    refused = await browser.post(f"/notifications/{fin_note.id}/read")
    assert refused.status_code == 403
    await fin_note.refresh_from_db()
    assert fin_note.read_at is None
    assert (await browser.post("/notifications/999999/read")).status_code == 404


async def test_the_bell_costs_one_count_query(browser, db):
    await leaver_alert()
    manager = await User.get(username="manager")
    for n in range(5):
        await Notification.create(user=manager, title=f"提醒 {n}", body="x", created_at=utcnow())
    await browser.login("manager")
    with recording() as handler:
        page = await browser.get("/offboarding")
    assert '<b class="count">6</b>' in page.text
    on_notifications = [q for q in handler.sql if re.search(r'\bFROM\s+"?notification"?', q, re.I)]
    assert len(on_notifications) == 1, on_notifications
    assert re.search(r"SELECT\s+COUNT", on_notifications[0], re.I), on_notifications[0]


async def test_an_alert_without_an_employee_reads_fine(browser, db):
    await make_rsm_with_debt()
    finance = await User.get(username="finance")
    await alert_service.raise_alert(SYSTEM, kind="POSITION_OVERDUE_RATE", severity="WARNING",
                                    message="区域销售经理逾期率 25%（岗位预警）", dedupe_key="test:position",
                                    recipients=alert_service.Recipients(user_ids=(finance.id,)))
    await browser.login("finance")
    page = await browser.get("/alerts")
    assert "岗位逾期率过高" in text_of(page.text) and "警告" in text_of(page.text)
    assert re.search(r'aria-label="岗位逾期率过高 1"', page.text)
