"""Channels and deliveries over GraphQL: ADMIN only, secrets never returned in full, every change audited."""

from __future__ import annotations

import pytest

from server.models import AuditEntry, Channel, Delivery
from tests.factories import make_org
from tests.querycount import count_queries

DING_URL = "https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef0123456789abcdef"
SECRET = "SEC0123456789abcdef0123456789abcdef"

FIELDS = "id kind name target secret enabled digestMinutes includeDetails"
CREATE = f"""mutation($input: ChannelInput!) {{ createChannel(input: $input) {{ {FIELDS} }} }}"""
UPDATE = f"""mutation($id: ID!, $input: ChannelUpdateInput!) {{ updateChannel(id: $id, input: $input) {{ {FIELDS} }} }}"""
DELETE = "mutation($id: ID!) { deleteChannel(id: $id) }"
TEST_SEND = "mutation($id: ID!) { testSendChannel(id: $id) { id kind status attempts channel { id name } } }"
CHANNELS = f"{{ channels {{ {FIELDS} }} }}"
DELIVERIES = """query($first: Int, $after: String, $status: DeliveryStatus) {
  deliveries(first: $first, after: $after, status: $status) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id kind status attempts lastError createdAt sentAt address channel { id name kind target } } }
  }
}"""


@pytest.fixture
async def admin(gql, db):
    await make_org()
    return await gql.login("admin")


async def create(gql, token, **extra):
    variables = {"input": {"kind": "DINGTALK", "name": "风控群", "target": DING_URL, "secret": SECRET, **extra}}
    return (await gql.ok(CREATE, variables, token))["createChannel"]


async def test_admin_creates_channel_and_never_sees_the_secret_again(gql, admin):
    created = await create(gql, admin)
    assert created["secret"] == "••••cdef"
    assert created["target"] == "https://oapi.dingtalk.com/robot/send?access_token=••••cdef"
    assert (created["enabled"], created["digestMinutes"], created["includeDetails"]) == (True, 15, False)
    listed = (await gql.ok(CHANNELS, token=admin))["channels"]
    assert listed == [created]
    stored = await Channel.get(id=int(created["id"]))
    assert (stored.target, stored.secret) == (DING_URL, SECRET)  # kept in full server-side only

    entry = await AuditEntry.filter(action="channel.create").get()
    text = str(entry.after)
    assert SECRET not in text and "0123456789abcdef0123456789abcdef" not in text
    assert entry.after["secretSet"] is True


async def test_update_and_delete_are_audited_without_secrets(gql, admin):
    created = await create(gql, admin)
    updated = (await gql.ok(UPDATE, {"id": created["id"], "input": {
        "secret": "SECnew-secret-value-9876", "includeDetails": True, "digestMinutes": 60}}, admin))["updateChannel"]
    assert (updated["secret"], updated["includeDetails"], updated["digestMinutes"]) == ("••••9876", True, 60)
    entry = await AuditEntry.filter(action="channel.update").get()
    assert entry.before["includeDetails"] is False and entry.after["includeDetails"] is True
    assert entry.after["secretChanged"] is True and "SECnew" not in str(entry.after)
    # The same values again change nothing and write no entry.
    await gql.ok(UPDATE, {"id": created["id"], "input": {"digestMinutes": 60}}, admin)
    assert await AuditEntry.filter(action="channel.update").count() == 1

    assert (await gql.ok(DELETE, {"id": created["id"]}, admin))["deleteChannel"] is True
    assert await Channel.all().count() == 0
    assert await AuditEntry.filter(action="channel.delete", object_id=created["id"]).count() == 1


@pytest.mark.parametrize("username", ["finance", "hr", "sales", "manager"])
async def test_only_admin_manages_channels(gql, admin, username):
    created = await create(gql, admin)
    token = await gql.login(username)
    for query, variables in [
        (CHANNELS, {}), (DELIVERIES, {}), (CREATE, {"input": {"kind": "WECOM", "name": "x", "target": "k" * 36}}),
        (UPDATE, {"id": created["id"], "input": {"enabled": False}}), (DELETE, {"id": created["id"]}),
        (TEST_SEND, {"id": created["id"]}),
    ]:
        error = await gql.error(query, variables, token)
        assert error["extensions"]["code"] == "FORBIDDEN", (query, error)
    assert await Channel.filter(enabled=True).count() == 1
    assert await Delivery.all().count() == 0


@pytest.mark.parametrize("variables, field", [
    ({"kind": "EMAIL", "target": "not-an-address"}, "target"),
    ({"kind": "DINGTALK", "target": "ftp://example.com/x"}, "target"),
    ({"kind": "WECOM", "target": "bad key with spaces"}, "target"),
    ({"kind": "FEISHU", "target": "https://open.feishu.cn/open-apis/bot/v2/hook/x", "digestMinutes": 0},
     "digestMinutes"),
    ({"kind": "FEISHU", "target": "https://open.feishu.cn/open-apis/bot/v2/hook/x", "digestMinutes": 1441},
     "digestMinutes"),
    ({"kind": "FEISHU", "target": "https://open.feishu.cn/open-apis/bot/v2/hook/x", "name": " "}, "name"),
])
async def test_channel_input_is_validated(gql, admin, variables, field):
    error = await gql.error(CREATE, {"input": {"name": "群", **variables}}, admin)
    assert error["extensions"]["code"] == "VALIDATION"
    assert error["extensions"].get("field") == field
    assert await Channel.all().count() == 0


async def test_limits_of_the_digest_interval_are_accepted(gql, admin):
    for minutes in (1, 1440):
        created = await create(gql, admin, digestMinutes=minutes)
        assert created["digestMinutes"] == minutes


async def test_wecom_key_and_feishu_hook_are_masked(gql, admin):
    wecom = await create(gql, admin, kind="WECOM", target="0a1b2c3d-4e5f-6789-abcd-ef0123456789", secret=None)
    assert wecom["target"] == "••••6789" and wecom["secret"] is None
    feishu = await create(gql, admin, kind="FEISHU", target="https://open.feishu.cn/open-apis/bot/v2/hook/abcdef-0123-4567",
                          secret="short")
    assert feishu["target"] == "https://open.feishu.cn/open-apis/bot/v2/hook/••••4567"
    assert feishu["secret"] == "••••"
    mailbox = await create(gql, admin, kind="EMAIL", target="risk@example.com", secret=None)
    assert mailbox["target"] == "risk@example.com"


async def test_test_send_is_recorded_and_deliveries_page_at_constant_cost(gql, admin):
    created = await create(gql, admin)
    for _ in range(3):
        sent = (await gql.ok(TEST_SEND, {"id": created["id"]}, admin))["testSendChannel"]
        assert (sent["kind"], sent["status"], sent["attempts"]) == ("TEST", "PENDING", 0)
        assert sent["channel"] == {"id": created["id"], "name": "风控群"}
    assert await AuditEntry.filter(action="channel.test").count() == 3

    first = (await gql.ok(DELIVERIES, {"first": 2}, admin))["deliveries"]
    assert first["totalCount"] == 3 and first["pageInfo"]["hasNextPage"] is True
    rest = (await gql.ok(DELIVERIES, {"first": 2, "after": first["pageInfo"]["endCursor"]}, admin))["deliveries"]
    ids = [e["node"]["id"] for e in first["edges"] + rest["edges"]]
    assert len(set(ids)) == 3 and ids == sorted(ids, key=int, reverse=True)
    assert first["edges"][0]["node"]["channel"]["target"].endswith("••••cdef")

    _, one = await count_queries(gql.ok(DELIVERIES, {"first": 1}, admin))
    _, three = await count_queries(gql.ok(DELIVERIES, {"first": 3}, admin))
    assert one == three
