"""The finance page's disburse form records method, reference and date; the loan's timeline shows them."""

from __future__ import annotations

from datetime import timedelta

from server.models import LedgerEntry, Loan
from server.services import loans as loan_service
from server.services.base import today
from tests.factories import make_org
from tests.web.conftest import text_of
from tests.web.test_loans import pending_loan, viewer


async def _approved() -> Loan:
    loan = await pending_loan("2000.00")
    await loan_service.decide_loan(await viewer("manager"), loan.id, "APPROVE", None)
    await loan_service.decide_loan(await viewer("finance"), loan.id, "APPROVE", None)
    return loan


async def test_finance_records_a_bank_transfer_and_the_timeline_shows_it(browser, second_browser, db):
    await make_org()
    loan = await _approved()
    await browser.login("finance")
    page = await browser.get("/finance")
    assert f'id="dr-{loan.id}"' in page.text and 'value="BANK_TRANSFER"' in page.text and 'value="CASH"' in page.text
    assert f'max="{today().isoformat()}"' in page.text

    no_ref = await browser.post(f"/finance/{loan.id}/disburse", {"method": "BANK_TRANSFER", "reference": "",
                                                                "paid_on": today().isoformat()},
                                headers={"HX-Request": "true"})
    assert no_ref.status_code == 200  # htmx swaps the row with its messages
    assert f'id="e-reference-{loan.id}">银行转账须填写转账流水号' in no_ref.text
    assert f'id="d-{loan.id}"' in no_ref.text and "<html" not in no_ref.text  # the row, in place
    future = await browser.post(f"/finance/{loan.id}/disburse", {
        "method": "CASH", "paid_on": (today() + timedelta(days=1)).isoformat()})
    assert future.status_code == 422 and "付款日期不能晚于今天" in text_of(future.text)
    assert await LedgerEntry.filter(loan_id=loan.id).count() == 0

    done = await browser.post(f"/finance/{loan.id}/disburse", {
        "method": "BANK_TRANSFER", "reference": "ICBC-778", "paid_on": today().isoformat()})
    assert done.status_code == 303
    entry = await LedgerEntry.get(loan_id=loan.id, kind="DISBURSEMENT")
    assert (entry.method, entry.reference, entry.paid_on) == ("BANK_TRANSFER", "ICBC-778", today())

    await second_browser.login("sales")
    timeline = text_of((await second_browser.get(f"/loans/{loan.id}")).text)
    assert "银行转账 · 流水号 ICBC-778" in timeline and f"付款日期 {today().isoformat()}" in timeline
    assert "经办人 赵财务" in timeline


async def test_english_labels(browser, db):
    await make_org()
    loan = await _approved()
    await browser.login("finance")
    await browser.get("/finance")
    await browser.post("/locale", {"locale": "en", "next": "/finance"})
    page = text_of((await browser.get("/finance")).text)
    assert "Bank transfer" in page and "Payment date" in page, loan.number


async def test_finance_records_a_cash_return_with_its_receipt_shown_on_the_timeline(browser, second_browser, db):
    from tests.schema.test_loan_attachments import PNG
    from tests.web.test_loans import disbursed_loan

    await make_org()
    loan = await disbursed_loan("800.00")
    await browser.login("finance")
    page = await browser.get("/finance")
    assert f'id="sa-{loan.id}"' in page.text and 'hx-encoding="multipart/form-data"' in page.text
    done = await browser.post(f"/finance/{loan.id}/settle", {"method": "CASH_RETURN", "amount": "300.00",
                                                            "note": "收据 0012"},
                              files=[("attachments", ("收据.png", PNG, "image/png"))])
    assert done.status_code == 303, done.text
    await second_browser.login("sales")
    timeline = (await second_browser.get(f"/loans/{loan.id}")).text
    link = '>收据.png</a>'
    assert link in timeline
    url = timeline.split(link)[0].rsplit('href="', 1)[1].split('"')[0]
    download = await second_browser.get(url)
    assert download.status_code == 200 and download.content == PNG
