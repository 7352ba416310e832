"""Every message a person reads is a message id with parameters, rendered in the reader's language.

The message ids are collected from the code itself: babel's extractor with the `_m` keyword over
server/, schema/ and jobs/ (the marker of server/domain/messages.py), so a new message cannot escape.

The rule, for every message id rendered with each placeholder filled by "0":
- English: a non-empty catalog entry with the same placeholders, and no CJK character at all
  (ideographs, CJK punctuation such as "，" "：" "（", full-width forms).
- zh-CN: no English word, i.e. no run of three or more ASCII letters, except the tokens the API
  itself spells that way: codes in capitals (roles and statuses such as FINANCE, APPROVED; JSON, NUL,
  SHA, MB) and API identifiers in camelCase or snake_case (userId, lastWorkingDay, dedupe_key), and the
  pagination arguments `after` and `first`.
  Parameter values (loan numbers such as JK-2026-000001, names, amounts) are not part of a message id.
"""

from __future__ import annotations

import ast
import re
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from server import i18n
from server.domain.messages import Message, _m
from server.settings import ROOT
from tests.factories import make_org

PLACEHOLDER = re.compile(r"%\((\w+)\)s")
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
ASCII_WORD = re.compile(r"[A-Za-z][A-Za-z_]{2,}")
SOURCES = ("server", "schema", "jobs")


# Pagination arguments, named as the API spells them.
API_ARGUMENTS = {"after", "first"}


def _allowed_in_chinese(word: str) -> bool:
    return word.isupper() or "_" in word or any(c.isupper() for c in word[1:]) or word in API_ARGUMENTS


def message_ids() -> set[str]:
    keywords = {**DEFAULT_KEYWORDS, "_m": None}
    found: set[str] = set()
    for directory in SOURCES:
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT / directory), method_map=[("**.py", "python")], keywords=keywords,
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def _sample(msgid: str) -> Message:
    return Message(msgid, {name: "0" for name in PLACEHOLDER.findall(msgid)})


def test_the_extraction_finds_the_messages_of_every_layer():
    ids = message_ids()
    assert len(ids) > 150
    # one from each layer: domain, services, schema, the HTTP edge
    for msgid in ("超出岗位借款额度：额度 %(limit)s，已占用 %(committed)s，可借 %(available)s，本次申请 %(amount)s。",
                  "不能给自己放款", "内部错误，请联系管理员", "请求体过大"):
        assert msgid in ids


def test_every_message_id_has_english_with_the_same_placeholders():
    with i18n.po_path("en").open("rb") as handle:
        catalog = read_po(handle, locale="en")
    missing = sorted(m for m in message_ids() if not (catalog.get(m) and catalog.get(m).string))
    assert not missing, f"no English for: {missing}"
    for msgid in message_ids():
        assert set(PLACEHOLDER.findall(msgid)) == set(PLACEHOLDER.findall(catalog.get(msgid).string)), msgid


@pytest.mark.parametrize("msgid", sorted(message_ids()))
def test_english_shows_no_chinese_and_chinese_no_english(msgid):
    english = i18n.render(_sample(msgid), "en")
    assert english and not CJK.search(english), english
    chinese = i18n.render(_sample(msgid), "zh_CN")
    words = [w for w in ASCII_WORD.findall(chinese) if not _allowed_in_chinese(w)]
    assert not words, f"{chinese!r} has English words {words}"


def test_no_house_style_bilingual_strings_are_left():
    """The old "中文 (English)" strings: a Chinese text followed by an English tail in parentheses."""
    bilingual = re.compile(r"""["'][^"'\n]*[\u4e00-\u9fff][^"'\n]* \([a-z][a-z ,;:']{6,}""")
    left = []
    for directory in SOURCES:
        for path in Path(ROOT / directory).rglob("*.py"):
            if "migrations" in path.parts or "demo" in path.parts:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if bilingual.search(line) and not line.lstrip().startswith("#"):
                    left.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not left, "\n".join(left)


def test_every_call_passes_exactly_the_placeholders_of_its_message():
    wrong = []
    for directory in SOURCES:
        for path in Path(ROOT / directory).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_m"):
                    continue
                if not node.args or not isinstance(node.args[0], ast.Constant):
                    continue
                if any(k.arg is None for k in node.keywords):  # **labels: checked by rendering
                    continue
                wanted = set(PLACEHOLDER.findall(node.args[0].value))
                given = {k.arg for k in node.keywords}
                if wanted != given:
                    wrong.append(f"{path.relative_to(ROOT)}:{node.lineno}: {sorted(wanted)} != {sorted(given)}")
    assert not wrong, "\n".join(wrong)


def test_the_renderer_formats_amounts_nests_messages_and_joins_lists():
    reason = _m("离职清款未完成，尚欠 %(owed)s：%(reasons)s", owed=Decimal("12000"), reasons=[
        _m("借款 %(number)s 未结清 %(amount)s", number="JK-2026-000001", amount=Decimal("10000")),
        _m("报销单 %(number)s 待审批，拟冲抵 %(amount)s", number="BX-2026-000002", amount=Decimal("2000.5")),
    ])
    assert i18n.render(reason, "zh_CN") == (
        "离职清款未完成，尚欠 12,000.00：借款 JK-2026-000001 未结清 10,000.00；报销单 BX-2026-000002 待审批，拟冲抵 2,000.50")
    assert i18n.render(reason, "en") == (
        "Clearance blocked: 12,000.00 owed: Loan JK-2026-000001: 10,000.00 outstanding; "
        "Reimbursement BX-2026-000002 awaits approval, offsetting 2,000.50")
    stored = Message.from_json(reason.to_json())
    assert stored == reason and isinstance(stored.params["owed"], Decimal)


# ---------------------------------------------------------------- through the API and the pages

APPLY = """mutation($a: Decimal!, $d: String!) {
  applyForLoan(input:{amount:$a, purpose:CLIENT_VISIT, description:$d}) { id status rejectionReason } }"""
DISBURSE = "mutation($id: ID!) { disburseLoan(loanId: $id) { id status } }"


async def test_an_error_in_chinese_by_default_and_in_english_with_accept_language(gql, db):
    from server.models import AuditEntry, Loan

    await make_org()
    token = await gql.login("sales")
    loans, audits = await Loan.all().count(), await AuditEntry.all().count()
    variables = {"query": APPLY, "variables": {"a": "100.00", "d": "  "}}
    headers = {"Authorization": f"Bearer {token}"}
    chinese = (await gql.client.post("/graphql", json=variables, headers=headers)).json()["errors"][0]
    english = (await gql.client.post("/graphql", json=variables,
                                     headers={**headers, "Accept-Language": "en-US,en;q=0.9"})).json()["errors"][0]
    assert chinese["message"] == "请填写借款用途说明"
    assert english["message"] == "Description is required"
    for error in (chinese, english):
        assert error["extensions"]["code"] == "VALIDATION"
        assert error["extensions"]["field"] == "description"
        assert error["extensions"]["messageId"] == "请填写借款用途说明"
        assert error["extensions"]["params"] == {}
    other = (await gql.client.post("/graphql", json=variables,
                                   headers={**headers, "Accept-Language": "fr"})).json()["errors"][0]
    assert other["message"] == "请填写借款用途说明"  # anything but English: zh-CN
    assert (await Loan.all().count(), await AuditEntry.all().count()) == (loans, audits)


async def test_parameters_are_formatted_per_language_and_given_to_clients(gql, db):
    await make_org(limit="1000.00")
    token = await gql.login("sales")
    loan = (await gql.ok(APPLY, {"a": "5000.00", "d": "拜访客户"}, token=token))["applyForLoan"]
    assert loan["status"] == "REJECTED"
    assert loan["rejectionReason"] == (
        "超出岗位借款额度：额度 1,000.00，已占用 0.00，可借 1,000.00，本次申请 5,000.00。")
    response = await gql.client.post("/graphql", json={
        "query": "query($id: ID!) { loan(id: $id) { rejectionReason } }", "variables": {"id": loan["id"]}},
        headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"})
    assert response.json()["data"]["loan"]["rejectionReason"] == (
        "Over the position's loan limit: limit 1,000.00, committed 0.00, available 1,000.00, requested 5,000.00.")


async def test_the_stored_choice_applies_when_there_is_no_header(gql, db):
    from server.models import User

    await make_org()
    await User.filter(username="sales").update(locale="en")
    token = await gql.login("sales")
    error = await gql.error(DISBURSE, {"id": "999999"}, token=token)
    assert error["extensions"]["code"] in ("FORBIDDEN", "NOT_FOUND")
    assert not CJK.search(error["message"]), error["message"]
    response = await gql.client.post("/graphql", json={"query": DISBURSE, "variables": {"id": "999999"}},
                                     headers={"Authorization": f"Bearer {token}", "Accept-Language": "zh-CN"})
    assert CJK.search(response.json()["errors"][0]["message"])  # the header wins over the stored choice


async def test_a_notification_is_read_in_each_readers_language(gql, db):
    from server.models import Notification, User
    from server.services import alerts
    from server.services.base import SYSTEM

    await make_org()
    await User.filter(username="finance").update(locale="en")
    await alerts.notify_roles(SYSTEM, ("FINANCE", "ADMIN"), _m("角色变更：%(user)s", user="sales"),
                              _m("%(actor)s 修改了 %(user)s 的角色：授予 %(added)s，撤销 %(removed)s",
                                 actor="admin", user="sales", added="FINANCE", removed="-"))
    assert await Notification.all().count() == 2
    query = "{ notifications { edges { node { title body } } } }"
    english = (await gql.ok(query, token=await gql.login("finance")))["notifications"]["edges"][0]["node"]
    chinese = (await gql.ok(query, token=await gql.login("admin")))["notifications"]["edges"][0]["node"]
    assert english == {"title": "Roles changed: sales",
                       "body": "admin changed the roles of sales: granted FINANCE, removed -"}
    assert chinese == {"title": "角色变更：sales", "body": "admin 修改了 sales 的角色：授予 FINANCE，撤销 -"}
    # outside a request (e-mail later): the recipient's stored language
    finance = await User.get(username="finance")
    assert await i18n.render_for_user(finance.id, _m("角色变更：%(user)s", user="x")) == "Roles changed: x"
