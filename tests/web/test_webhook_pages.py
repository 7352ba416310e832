"""公司设置 → Webhook through the real app: add an endpoint (secret shown once, then masked), the log, replay."""

from __future__ import annotations

from server.models import WebhookDelivery, WebhookEndpoint
from server.services import loans, webhooks
from server.services.base import SYSTEM
from tests.factories import make_org
from tests.web.conftest import text_of


async def test_admin_adds_an_endpoint_and_replays_a_delivery(browser, db):
    await make_org()
    await browser.login("admin")
    page = await browser.get("/admin/webhooks")
    assert page.status_code == 200 and "还没有接收地址" in text_of(page.text)
    created = await browser.post("/admin/webhooks", {"url": "https://erp.example.com/qk", "events": [
        "LOAN_SUBMITTED", "LOAN_APPROVED"], "description": "金蝶 OA"})
    assert created.status_code == 200
    endpoint = await WebhookEndpoint.get()
    assert endpoint.secret in created.text  # shown this once
    assert endpoint.events == ["loan.submitted", "loan.approved"]
    again = await browser.get("/admin/webhooks")
    assert endpoint.secret not in again.text and webhooks.rules.mask_secret(endpoint.secret) in again.text

    from server.models import User
    from server.services import sessions
    sales = sessions.viewer_for(await User.get(username="sales"))
    await loans.apply_for_loan(sales, loans.LoanApplication("500.00", "TRAVEL", "出差"))
    await webhooks.scan_audit()
    delivery = await WebhookDelivery.get()
    log = text_of((await browser.get("/admin/webhooks")).text)
    assert "loan.submitted" in log and "待发送" in log
    replay = await browser.post(f"/admin/webhooks/deliveries/{delivery.id}/replay", follow_redirects=False)
    assert replay.status_code == 303
    assert await WebhookDelivery.filter(replay_of_id=delivery.id).count() == 1

    off = await browser.post(f"/admin/webhooks/{endpoint.id}", {"action": "disable"}, follow_redirects=False)
    assert off.status_code == 303 and not (await WebhookEndpoint.get()).enabled


async def test_finance_may_not_open_the_webhook_page(browser, db):
    await make_org()
    await webhooks.create_endpoint(SYSTEM, "https://erp.example.com/qk")
    await browser.login("finance")
    assert (await browser.get("/admin/webhooks")).status_code == 403
