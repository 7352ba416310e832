"""Delivery rules without a database: signatures, sizes, digests, masking, backoff."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import unquote_plus

import pytest

from server.domain import delivery as rules


def test_dingtalk_sign_follows_the_published_recipe():
    secret, ts = "SEC000000000000000000000", 1700000000000
    expected = base64.b64encode(hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest())
    sign = rules.dingtalk_sign(secret, ts)
    assert unquote_plus(sign) == expected.decode()
    assert "+" not in sign and "/" not in sign and "=" not in sign  # URL-encoded
    url = rules.dingtalk_url("https://oapi.dingtalk.com/robot/send?access_token=t", secret, ts)
    assert url == f"https://oapi.dingtalk.com/robot/send?access_token=t&timestamp={ts}&sign={sign}"
    assert rules.dingtalk_url("https://x/robot/send?access_token=t", None, ts) == "https://x/robot/send?access_token=t"


def test_feishu_sign_uses_the_string_as_key_over_an_empty_message():
    secret, ts = "abc", 1700000000
    expected = base64.b64encode(hmac.new(f"{ts}\n{secret}".encode(), b"", hashlib.sha256).digest()).decode()
    assert rules.feishu_sign(secret, ts) == expected
    body = rules.robot_body("FEISHU", "t", "md", secret, ts * 1000 + 999)  # seconds, not milliseconds
    assert (body["timestamp"], body["sign"]) == (str(ts), expected)
    assert "timestamp" not in rules.robot_body("FEISHU", "t", "md", None, ts * 1000)


@pytest.mark.parametrize("text, limit, expected", [
    ("清款", 6, "清款"),  # exactly 6 bytes: unchanged
    ("清款a", 6, "清…"),  # 7 bytes: cut, the ellipsis counted
    ("清款", 5, "…"),  # the cut falls inside a character: the partial character goes
    ("abc", 2, "ab"),  # no room for the ellipsis: a plain cut
])
def test_truncate_at_a_utf8_boundary(text, limit, expected):
    out = rules.truncate_utf8(text, limit)
    assert out == expected
    assert len(out.encode("utf-8")) <= limit


def test_wecom_markdown_stays_within_4096_bytes():
    body = rules.robot_body("WECOM", "t", "预" * 2000, None, 0)  # 6,000 bytes
    content = body["markdown"]["content"]
    assert len(content.encode("utf-8")) <= 4096 and content.endswith("…")
    assert len(rules.robot_body("WECOM", "t", "a" * 4096, None, 0)["markdown"]["content"]) == 4096


def test_digest_counts_kinds_and_hides_details_unless_allowed():
    alerts = [rules.DigestAlert("OVERDUE", "CRITICAL", "张三逾期 31 天，未还 4,000.00"),
              rules.DigestAlert("OVERDUE", "WARNING", "李四逾期 3 天"),
              rules.DigestAlert("FREQUENT_BORROWING", "WARNING", "王五 30 天内借款 3 次")]
    title, text = rules.digest_text(alerts, "https://qk/alerts", include_details=False)
    assert title == "清款风险预警汇总：3 条"
    assert "- 借款逾期：2 条" in text and "- 频繁借款：1 条" in text and "其中严重 1 条" in text
    assert "张三" not in text and "4,000.00" not in text and "[在清款中查看](https://qk/alerts)" in text
    _, detailed = rules.digest_text(alerts, "https://qk/alerts", include_details=True)
    assert "> 【严重】张三逾期 31 天，未还 4,000.00" in detailed


def test_masking_keeps_only_the_last_four_characters():
    assert rules.mask_secret(None) is None
    assert rules.mask_secret("short-secret") == "••••cret"  # 12 characters: last 4 shown
    assert rules.mask_secret("11-chars-ab") == "••••"
    assert rules.mask_target("DINGTALK", "https://oapi.dingtalk.com/robot/send?access_token=abcdef0123456789") == (
        "https://oapi.dingtalk.com/robot/send?access_token=••••6789")
    assert rules.mask_target("EMAIL", "a@b.cn") == "a@b.cn"


@pytest.mark.parametrize("answer, status, kind, refusal", [
    ({"errcode": 0, "errmsg": "ok"}, 200, "DINGTALK", None),
    ({"errcode": 310000, "errmsg": "sign not match"}, 200, "DINGTALK", "310000 sign not match"),
    ({"errcode": 0}, 503, "WECOM", "HTTP 503"),
    ({"code": 0, "msg": "success"}, 200, "FEISHU", None),
    ({"code": 19021, "msg": "sign match fail"}, 200, "FEISHU", "19021 sign match fail"),
    (None, 200, "WECOM", "not a JSON answer"),
])
def test_robot_answers(answer, status, kind, refusal):
    assert rules.robot_accepted(kind, status, answer) == refusal


def test_backoff_doubles_and_is_capped():
    assert [rules.backoff_seconds(n, 30) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert rules.backoff_seconds(20, 30) == 3600
