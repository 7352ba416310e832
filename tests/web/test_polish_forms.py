"""Polish of issue 12: English buttons say what they do; 我的借款 explains 未结清 beside 已占用."""

from __future__ import annotations

import re

from server.services import loans as loan_service
from tests.factories import make_org
from tests.web.conftest import text_of
from tests.web.test_loans import disbursed_loan, pending_loan, viewer


async def _english(browser, url: str) -> str:
    await browser.get(url)
    await browser.post("/locale", {"locale": "en", "next": url})
    return (await browser.get(url)).text


async def test_my_loans_explains_outstanding_and_committed(browser, db):
    await make_org()
    await disbursed_loan("1000.00")
    await pending_loan("500.00")
    await browser.login("sales")
    text = text_of((await browser.get("/loans")).text)
    assert "未结清 1,000.00" in text and "已占用 1,500.00" in text
    assert "未结清：已放款借款尚未报销冲抵或归还的金额" in text and "已占用：未结清加上审批中" in text
    english = text_of(await _english(browser, "/loans"))
    assert "Outstanding: what is still owed on disbursed loans" in english and "Committed" in english


async def test_english_buttons_are_verbs(browser, db):
    await make_org()
    loan = await pending_loan("300.00")
    await loan_service.decide_loan(await viewer("manager"), loan.id, "APPROVE", None)
    await loan_service.decide_loan(await viewer("finance"), loan.id, "APPROVE", None)
    await browser.login("finance")
    page = await _english(browser, "/finance")
    summaries = re.findall(r'<summary class="button primary">([^<]+)</summary>', page)
    assert summaries == ["Disburse…"]
    assert ">Disburse</button>" in page and ">Disbursement<" not in page
