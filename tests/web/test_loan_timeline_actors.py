"""The loan's timeline names who recorded each ledger line (disbursement, repayments), beside the
approvers' names and comments, and the page asks before cancelling with the number and amount."""

from __future__ import annotations

from server.models import User
from server.services import loans, sessions
from tests.factories import make_org
from tests.web.conftest import text_of


async def viewer(username: str):
    return sessions.viewer_for(await User.get(username=username))


async def test_timeline_names_each_actor(browser, db):
    await make_org()
    loan = await loans.apply_for_loan(await viewer("sales"), loans.LoanApplication("900.00", "TRAVEL", "出差"))
    await loans.decide_loan(await viewer("manager"), loan.id, "APPROVE", "尽快出发")
    await loans.decide_loan(await viewer("finance"), loan.id, "APPROVE")
    await loans.disburse_loan(await viewer("finance"), loan.id)
    await loans.settle_loan(await viewer("finance"), loan.id, "CASH_RETURN", "100.00", "收据 7")
    await browser.login("sales")
    text = text_of((await browser.get(f"/loans/{loan.id}")).text)
    assert "李经理 同意" in text and "“尽快出发”" in text
    assert text.count("经办人 赵财务") == 2  # the disbursement and the repayment


async def test_cancel_asks_with_number_and_amount(browser, db):
    await make_org()
    loan = await loans.apply_for_loan(await viewer("sales"), loans.LoanApplication("321.00", "TRAVEL", "出差"))
    await browser.login("sales")
    page = (await browser.get(f"/loans/{loan.id}")).text
    assert f'data-confirm="确认撤销借款申请 {loan.number}（321.00 元）？撤销后不能恢复。"' in page
