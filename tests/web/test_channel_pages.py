"""The channels page (ADMIN): add a robot, its secret never shown again, test-send recorded; the bell polls."""

from __future__ import annotations

from server.models import AuditEntry, Channel, Delivery, Notification
from server.services import alerts
from server.services.base import SYSTEM
from tests.factories import make_org
from tests.web.conftest import text_of

URL = "https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef0123456789abcdef"
SECRET = "SEC-page-secret-0123456789abcdef"


async def test_admin_adds_a_robot_and_sees_it_masked(browser, db):
    await make_org()
    await browser.login("admin")
    page = await browser.get("/admin/channels")
    assert page.status_code == 200
    assert 'href="/admin/channels"' in page.text and "还没有渠道。" in text_of(page.text)

    response = await browser.post("/admin/channels", {"kind": "DINGTALK", "name": "风控群", "target": URL,
                                                      "secret": SECRET, "digestMinutes": "30", "includeDetails": "1"})
    assert response.status_code == 303 and response.headers["location"] == "/admin/channels?done=created"
    channel = await Channel.get()
    assert (channel.secret, channel.digest_minutes, channel.include_details) == (SECRET, 30, True)

    page = await browser.get("/admin/channels?done=created")
    assert SECRET not in page.text and "0123456789abcdef0123456789abcdef" not in page.text
    assert "••••cdef" in page.text
    text = text_of(page.text)
    assert "风控群" in text and "钉钉机器人" in text

    response = await browser.post(f"/admin/channels/{channel.id}", {"action": "test"})
    assert response.status_code == 303
    delivery = await Delivery.get()
    assert (delivery.kind, delivery.channel_id, delivery.status) == ("TEST", channel.id, "PENDING")
    page = await browser.get("/admin/channels?done=test")
    assert f'id="delivery-{delivery.id}"' in page.text and "测试消息" in text_of(page.text)

    await browser.post(f"/admin/channels/{channel.id}", {"action": "disable"})
    assert (await Channel.get()).enabled is False
    assert await AuditEntry.filter(action__startswith="channel.").count() == 3  # create, test, update


async def test_invalid_channel_form_keeps_values_but_not_the_secret(browser, db):
    await make_org()
    await browser.login("admin")
    await browser.get("/admin/channels")
    response = await browser.post("/admin/channels", {"kind": "EMAIL", "name": "财务邮箱", "target": "nope",
                                                      "secret": "typed-secret-value", "digestMinutes": "15"})
    assert response.status_code == 422
    assert "请输入有效的电子邮件地址" in response.text and 'value="财务邮箱"' in response.text
    assert "typed-secret-value" not in response.text
    assert await Channel.all().count() == 0


async def test_only_admin_opens_the_channels_page(browser, db):
    await make_org()
    await browser.login("hr")
    assert (await browser.get("/admin/channels")).status_code == 403
    page = await browser.get("/admin/positions")
    assert 'href="/admin/channels"' not in page.text
    assert (await browser.post("/admin/channels", {"kind": "WECOM", "name": "x", "target": "k" * 36})).status_code == 403


async def test_the_bell_polls_its_count(browser, db):
    people = await make_org()
    await browser.login("sales")
    home = await browser.get("/")
    assert 'hx-get="/notifications/bell"' in home.text and 'hx-trigger="every 30s"' in home.text
    fragment = await browser.get("/notifications/bell", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text and '<b class="count">' not in fragment.text

    await alerts.raise_alert(SYSTEM, kind="OVERDUE", severity="WARNING", message="逾期", dedupe_key="bell-1",
                             recipients=[people.sales])
    fragment = await browser.get("/notifications/bell", headers={"HX-Request": "true",
                                                                 "HX-Current-URL": "http://testserver/notifications"})
    assert '<b class="count">1</b>' in fragment.text and 'aria-current="page"' in fragment.text
    assert 'hx-trigger="every 30s"' in fragment.text  # the swapped-in bell keeps polling
    assert fragment.headers["cache-control"] == "no-store"
    # Marking it read sends the bell back out of band, still polling.
    note = await Notification.get()
    page = await browser.get("/notifications")
    assert page.status_code == 200
    response = await browser.post(f"/notifications/{note.id}/read", headers={"HX-Request": "true"})
    assert 'hx-swap-oob="true"' in response.text and 'hx-get="/notifications/bell"' in response.text
