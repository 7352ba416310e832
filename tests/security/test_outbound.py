"""Webhooks and robots cannot be pointed into the server's own network (server-side request forgery).

An ADMIN who saves an address chooses where the server connects: the cloud metadata service, Redis or
PostgreSQL on localhost, an intranet host. Such addresses are refused when saved, and again at send time on
what the name resolves to then; OUTBOUND_ALLOW_PRIVATE lets chosen networks through (the suite's own
receivers on loopback are allowed that way in tests/conftest.py).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from server import outbound
from server.domain.errors import ValidationFailed
from server.models import User, WebhookDelivery
from server.services import channels, sending, sessions, webhooks
from server.settings import override_settings
from tests.factories import make_org

PRIVATE = ["http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:6379/", "http://[::1]:5432/",
           "http://10.1.2.3/hook", "http://192.168.0.10/hook", "http://localhost:8000/graphql",
           "http://redis.internal/x", "http://0.0.0.0/", "http://[::ffff:127.0.0.1]/"]


@pytest.fixture
def strict(settings):
    """The production default: no private network allowed."""
    override_settings(dataclasses.replace(settings, outbound_allow_private=()))
    yield
    override_settings(settings)


class _Hits(ThreadingHTTPServer):
    hits = 0


def _receiver() -> tuple[_Hits, str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.server.hits += 1  # type: ignore[attr-defined]
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"errcode": 0}')

        def log_message(self, *args: object) -> None:
            return None

    server = _Hits(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.mark.parametrize("url", PRIVATE)
def test_private_literal_and_local_names_are_refused_when_saved(strict, url):
    assert outbound.saved_refusal(url), url


@pytest.mark.parametrize("url", ["https://oapi.dingtalk.com/robot/send?access_token=x", "https://8.8.8.8/hook",
                                 "https://erp.example.com/qingkuan"])
def test_public_destinations_may_be_saved(strict, url):
    assert outbound.saved_refusal(url) is None


def test_allowed_networks_let_chosen_private_addresses_through(settings):
    override_settings(dataclasses.replace(settings, outbound_allow_private=("10.1.0.0/16",)))
    try:
        assert outbound.saved_refusal("http://10.1.2.3/hook") is None
        assert outbound.saved_refusal("http://10.2.0.1/hook")
        assert outbound.allowed(ipaddress.ip_address("10.1.200.1"))
    finally:
        override_settings(settings)


async def test_admin_cannot_save_a_webhook_or_robot_into_the_servers_network(db, strict):
    await make_org()
    admin = sessions.viewer_for(await User.get(username="admin"))
    with pytest.raises(ValidationFailed) as caught:
        await webhooks.create_endpoint(admin, "http://169.254.169.254/latest/meta-data/", ["loan.approved"])
    assert caught.value.field == "url"
    with pytest.raises(ValidationFailed) as caught:
        await channels.create_channel(admin, channels.ChannelInput(
            kind="FEISHU", name="内网", target="http://localhost:6379/open-apis/bot/v2/hook/x"))
    assert caught.value.field == "target"


async def test_a_name_resolving_to_loopback_is_refused_at_send_time(db, strict):
    """`localhost.` style tricks and names that resolve privately: the check runs on the resolved addresses."""
    server, base = _receiver()
    try:
        port = server.server_address[1]
        # A name (not a literal) that resolves to 127.0.0.1 on every machine.
        with pytest.raises(outbound.DestinationRefused):
            await outbound.check(f"http://localhost:{port}/hook")
        with pytest.raises(outbound.DestinationRefused):
            await outbound.check(f"{base}/hook")
        assert server.hits == 0
    finally:
        server.shutdown()
        server.server_close()


async def test_saved_before_the_rule_then_refused_when_sending(db, job_settings):
    """An address saved while loopback was allowed (or that now resolves privately) is not sent to: the
    webhook delivery records the refusal and the robot message fails; the receiver sees nothing."""
    await make_org()
    admin = sessions.viewer_for(await User.get(username="admin"))
    server, base = _receiver()
    try:
        endpoint, _secret = await webhooks.create_endpoint(admin, f"{base}/hook", ["loan.submitted"])
        channel = await channels.create_channel(admin, channels.ChannelInput(
            kind="FEISHU", name="群", target=f"{base}/open-apis/bot/v2/hook/x"))
        override_settings(dataclasses.replace(job_settings, outbound_allow_private=()))
        with pytest.raises(sending.SendError) as caught:
            await sending.post_robot(channel, "标题", "正文")
        assert "not a public address" in str(caught.value)

        from server.services import loans

        sales = sessions.viewer_for(await User.get(username="sales"))
        await loans.apply_for_loan(sales, loans.LoanApplication("800.00", "TRAVEL", "出差"))
        assert await webhooks.scan_audit() >= 1
        delivery = await WebhookDelivery.get(endpoint_id=endpoint.id)
        await webhooks.deliver(delivery.id)
        delivery = await WebhookDelivery.get(id=delivery.id)
        assert delivery.status != "DELIVERED" and "DestinationRefused" in (delivery.last_error or "")
        assert server.hits == 0
    finally:
        override_settings(job_settings)
        server.shutdown()
        server.server_close()
