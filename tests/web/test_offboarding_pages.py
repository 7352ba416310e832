"""Offboarding pages through the real app: HR's list, starting (HR and self-service), the clearance page
with its settle actions and gated buttons, and the printable 离职清款证明 — the seed's case end to end."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from server.models import AuditEntry, Employee, LedgerEntry, Offboarding, User
from server.services import loans, offboarding
from server.services.base import today
from tests.services.test_offboarding import disbursed, make_rsm_with_debt, state, viewer
from tests.web.conftest import text_of

HTMX = {"HX-Request": "true"}


def offboarding_id_from(location: str) -> int:
    found = re.match(r"/offboarding/(\d+)\?done=started$", location)
    assert found, location
    return int(found.group(1))


async def start_through_the_form(browser, employee_id: int, last_day: str | None = None,
                                 reason: str = "个人原因辞职") -> int:
    form = await browser.get(f"/offboarding/new?employee={employee_id}")
    assert form.status_code == 200
    response = await browser.post("/offboarding/new", {
        "employeeId": str(employee_id), "lastWorkingDay": last_day or (today() + timedelta(days=14)).isoformat(),
        "reason": reason,
    })
    assert response.status_code == 303, text_of(response.text)
    return offboarding_id_from(response.headers["location"])


async def test_seed_case_blocked_then_settled_confirmed_completed_and_certified(browser, second_browser, db):
    """张伟 (区域销售经理) leaves owing 30,000.00 on two loans: finance cannot confirm while anything is owed;
    after a cash return, a final-pay deduction and an ADMIN write-off, finance confirms, HR completes, and
    the certificate names the confirmer and the time."""
    people, rsm, first, second = await make_rsm_with_debt()
    hr, fin = browser, second_browser
    await hr.login("hr")
    off_id = await start_through_the_form(hr, rsm)

    # Finance sees the two loans, the blockers, and a disabled confirm button with the reason.
    await fin.login("finance")
    page = await fin.get(f"/offboarding/{off_id}")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "离职清款：张伟" in text and "尚欠金额 30,000.00" in text
    blockers = re.search(r'<ul class="blockers" id="blockers">(.*?)</ul>', page.text, re.S).group(1)
    assert f"借款 {first.number} 未结清 18,000.00" in blockers and f"借款 {second.number} 未结清 12,000.00" in blockers
    assert re.search(r'<button class="primary" id="confirm-button" disabled aria-describedby="why-confirm">', page.text)
    # The reason is the service's refusal, the one confirmClearance raises (viewerCan.confirmRefusedBecause).
    why = re.search(r'<p class="why" id="why-confirm">(.*?)</p>', page.text, re.S).group(1)
    assert "离职清款未完成，尚欠 30,000.00" in why and first.number in why
    assert 'id="complete-button"' not in page.text  # finance does not complete exits
    # Finance registers cash returns and deductions, and proposes write-offs (an ADMIN approves them).
    assert f'id="a-{first.id}-cash_return"' in page.text and f'id="n-{first.id}-salary_deduction"' in page.text
    assert f'id="n-{first.id}-write_off"' in page.text and "提交核销提议" in text_of(page.text)

    # Posting confirm anyway: refused with the blocking loans named, and nothing changes.
    before = await state(off_id, rsm)
    blocked = await fin.post(f"/offboarding/{off_id}/confirm")
    assert blocked.status_code == 409
    message = re.search(r'<div class="alert error" role="alert" id="action-error"><p>(.*?)</p>', blocked.text, re.S)
    assert message, blocked.text
    assert "离职清款未完成，尚欠 30,000.00" in message.group(1)
    assert first.number in message.group(1) and second.number in message.group(1)
    assert await state(off_id, rsm) == before

    # HR cannot complete before finance confirmed: the button is disabled and a post is refused.
    page = await hr.get(f"/offboarding/{off_id}")
    assert re.search(r'id="complete-button" disabled', page.text)
    assert "财务尚未确认离职清款" in re.search(r'<p class="why" id="why-complete">(.*?)</p>', page.text, re.S).group(1)
    refused = await hr.post(f"/offboarding/{off_id}/complete")
    assert refused.status_code == 409 and "财务尚未确认离职清款" in text_of(refused.text)
    assert await state(off_id, rsm) == before

    # Settlements through the page: cash back on the first loan (HTMX: the clearance block comes back).
    response = await fin.client.post(f"/offboarding/{off_id}/loans/{first.id}/settle", headers=HTMX, data={
        "csrf_token": fin.csrf, "method": "CASH_RETURN", "amount": "10,000.00", "note": "收据 SJ-101"})
    assert response.status_code == 200 and "<html" not in response.text and 'id="clearance"' in response.text
    assert "HX-Request" in response.headers["vary"]
    assert "已登记还款。" in text_of(response.text) and "尚欠金额 20,000.00" in text_of(response.text)
    assert f"借款 {first.number} 未结清 8,000.00" in response.text
    # The final-pay deduction with its payroll reference (a plain form post: redirect back).
    response = await fin.post(f"/offboarding/{off_id}/loans/{first.id}/settle", {
        "method": "SALARY_DEDUCTION", "amount": "8000.00", "note": "工资单 PR-2026-11-R1"})
    assert response.status_code == 303 and response.headers["location"] == f"/offboarding/{off_id}?done=salary_deduction"
    # Too much is the API's message beside the amount, in that loan's form.
    response = await fin.post(f"/offboarding/{off_id}/loans/{second.id}/settle", {
        "method": "CASH_RETURN", "amount": "12000.01", "note": ""})
    assert response.status_code in (409, 422)
    assert re.search(rf'id="e-a-{second.id}-cash_return">[^<]+<', response.text), response.text

    # The write-off takes two people: finance proposes it with a reason, a different ADMIN approves.
    no_reason = await fin.post(f"/offboarding/{off_id}/loans/{second.id}/settle", {
        "method": "WRITE_OFF", "amount": "12000.00", "note": ""})
    assert no_reason.status_code == 422
    assert re.search(rf'id="e-n-{second.id}-write_off">核销必须填写原因', no_reason.text)
    proposed = await fin.post(f"/offboarding/{off_id}/loans/{second.id}/settle", {
        "method": "WRITE_OFF", "amount": "12000.00", "note": "经总经理批准核销"})
    assert proposed.status_code == 303 and proposed.headers["location"].endswith("?done=write_off_proposed")
    page = await fin.get(proposed.headers["location"])
    assert "已提交核销提议" in text_of(page.text) and "待审批的核销 12,000.00：经总经理批准核销" in text_of(page.text)
    assert (await loans.loan_outstanding(second)) == 12000  # a proposal writes nothing off
    await fin.post("/logout")
    admin = fin
    await admin.login("admin")
    page = await admin.get(f"/offboarding/{off_id}")
    assert f'id="a-{second.id}-cash_return"' not in page.text  # money is FINANCE's, not ADMIN's
    assert f'href="/loans/{second.id}#pending-write-off"' in page.text
    done = await admin.post(f"/loans/{second.id}/write-off/approve", {"comment": "同意"})
    assert done.status_code == 303 and done.headers["location"] == f"/loans/{second.id}?done=write_off_approved"
    await admin.post("/logout")

    # Nothing owed: finance's button is enabled, the settlements are listed, and confirm works.
    await fin.login("finance")
    page = await fin.get(f"/offboarding/{off_id}")
    text = text_of(page.text)
    assert "尚欠金额 0.00" in text and "没有未结清借款，也没有待审批的报销冲抵。" in text
    assert re.search(r'<button class="primary" id="confirm-button">', page.text)
    settlements = text_of(re.search(r'<section class="card" id="settlements">(.*?)</section>', page.text, re.S).group(1))
    assert "收据 SJ-101" in settlements and "工资单 PR-2026-11-R1" in settlements and "经总经理批准核销" in settlements
    assert "10,000.00" in settlements and "8,000.00" in settlements and "12,000.00" in settlements
    confirmed = await fin.client.post(f"/offboarding/{off_id}/confirm", headers=HTMX, data={"csrf_token": fin.csrf})
    assert confirmed.status_code == 200 and "已确认清款" in text_of(confirmed.text)
    assert re.search(r'id="cleared-by">赵财务 确认于 \d{4}-\d\d-\d\d \d\d:\d\d<', confirmed.text)
    row = await Offboarding.get(id=off_id)
    assert row.status == "CLEARED" and row.cleared_by_id == people.finance

    # HR completes: the employee has left and their account is closed.
    page = await hr.get(f"/offboarding/{off_id}")
    assert re.search(r'<button class="primary" id="complete-button">', page.text)
    completed = await hr.post(f"/offboarding/{off_id}/complete")
    assert completed.status_code == 303
    page = await hr.get(completed.headers["location"])
    assert "离职已办结，员工账号已停用。" in text_of(page.text)
    assert (await Employee.get(id=rsm)).status == "LEFT"
    assert not (await User.get(username="zhangwei")).is_active

    # The certificate: nothing owed, who confirmed it and when (in the company's time zone).
    assert f'href="/offboarding/{off_id}/certificate"' in page.text
    cert = await hr.get(f"/offboarding/{off_id}/certificate")
    assert cert.status_code == 200
    text = text_of(cert.text)
    cleared_at = (await Offboarding.get(id=off_id)).cleared_at.astimezone(ZoneInfo("Asia/Shanghai"))
    assert "离职清款证明" in text and "张伟" in text and "工号 R1" in text
    assert "尚欠金额： 0.00 元 （无欠款）" in text
    assert "清款确认人：赵财务（工号 F1）" in text
    assert f"确认时间：{cleared_at:%Y-%m-%d %H:%M}（UTC+08:00）" in text
    assert first.number in text and second.number in text and "工资单 PR-2026-11-R1" in text
    assert "离职办结时间" in text
    assert "<button type=\"button\" data-print>" in cert.text and "/static/app.js" in cert.text and "打印 / 保存为PDF" in text


async def test_certificate_is_refused_until_finance_confirms(browser, db):
    people, rsm, *_ = await make_rsm_with_debt()
    await browser.login("hr")
    off_id = await start_through_the_form(browser, rsm)
    response = await browser.get(f"/offboarding/{off_id}/certificate")
    assert response.status_code == 409
    assert "清款尚未经财务确认，不能出具离职清款证明" in text_of(response.text)
    page = await browser.get(f"/offboarding/{off_id}")
    assert "/certificate" not in page.text


async def test_hr_list_shows_status_and_owed_amount_and_filters(browser, db):
    people, rsm, *_ = await make_rsm_with_debt()
    hr = await viewer("hr")
    owing = await offboarding.start_offboarding(hr, rsm, today() + timedelta(days=10), "回原籍")
    cleared = await offboarding.start_offboarding(hr, people.sales, today(), "合同到期")
    await offboarding.confirm_clearance(await viewer("finance"), cleared.id)
    await browser.login("hr")

    page = await browser.get("/offboarding")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "张伟" in text and "张三" in text and "30,000.00" in text
    row = re.search(rf'<tr>\s*<td data-label="员工"><a href="/offboarding/{owing.id}">张伟</a>.*?</tr>', page.text, re.S)
    assert row and "待清款" in text_of(row.group(0)) and "30,000.00" in text_of(row.group(0))
    row = re.search(rf'<a href="/offboarding/{cleared.id}">张三</a>.*?</tr>', page.text, re.S)
    assert row and "已确认清款" in text_of(row.group(0)) and "0.00" in text_of(row.group(0))
    # The owed amounts as a chart, and the counts per status.
    assert re.search(r'<svg class="bar"[^>]*aria-label="张伟 30,000.00"', page.text)
    assert re.search(r"<dt>待清款</dt><dd class=\"bad\">1</dd>", page.text)
    assert 'href="/offboarding/new"' in page.text  # HR starts offboardings

    only_cleared = text_of((await browser.get("/offboarding?status=CLEARED")).text)
    assert "张三" in only_cleared and "张伟" not in only_cleared
    assert "没有符合条件的离职办理" in text_of((await browser.get("/offboarding?status=COMPLETED")).text)
    assert (await browser.get("/offboarding?status=nonsense")).status_code == 400


async def test_the_list_shows_an_employee_only_their_own(browser, db):
    people, rsm, *_ = await make_rsm_with_debt()
    await offboarding.start_offboarding(await viewer("hr"), rsm, today() + timedelta(days=10))
    await browser.login("sales")
    page = await browser.get("/offboarding")
    assert page.status_code == 200
    assert "张伟" not in text_of(page.text) and 'href="/offboarding/new"' not in page.text
    assert 'href="/offboarding/resign"' in page.text  # but may resign
    off = await Offboarding.get(employee_id=rsm)
    assert (await browser.get(f"/offboarding/{off.id}")).status_code == 403


async def test_start_form_shows_what_the_employee_owes_and_inline_errors(browser, db):
    people, rsm, first, second = await make_rsm_with_debt()
    await browser.login("hr")
    # Choosing an employee asks for the summary block only (HTMX).
    summary = await browser.client.get(f"/offboarding/new?employeeId={rsm}", headers=HTMX)
    assert summary.status_code == 200 and "<html" not in summary.text and 'id="summary"' in summary.text
    text = text_of(summary.text)
    assert "张伟" in text and "30,000.00" in text and first.number in text and second.number in text

    before = await AuditEntry.all().count()
    bad = await browser.post("/offboarding/new", {"employeeId": str(rsm), "lastWorkingDay": "next week"})
    assert bad.status_code == 422 and re.search(r'id="e-lastWorkingDay">请输入日期', bad.text)
    far = await browser.post("/offboarding/new", {
        "employeeId": str(rsm), "lastWorkingDay": (today() + timedelta(days=400)).isoformat()})
    assert far.status_code == 422 and re.search(r'id="e-lastWorkingDay">最后工作日不能晚于一年之后', far.text)
    nobody = await browser.post("/offboarding/new", {"employeeId": "", "lastWorkingDay": today().isoformat()})
    assert nobody.status_code == 422 and re.search(r'id="e-employeeId">请选择员工', nobody.text)
    assert await AuditEntry.all().count() == before and not await Offboarding.all().exists()

    off_id = await start_through_the_form(browser, rsm)
    again = await browser.post("/offboarding/new", {"employeeId": str(rsm), "lastWorkingDay": today().isoformat()})
    assert again.status_code == 409 and "该员工已在离职办理中" in text_of(again.text)
    page = await browser.get(f"/offboarding/{off_id}?done=started")
    assert "已发起离职办理。" in text_of(page.text)


async def test_only_hr_starts_an_offboarding_for_someone_else(browser, db):
    people, rsm, *_ = await make_rsm_with_debt()
    await browser.login("finance")
    assert (await browser.get("/offboarding/new")).status_code == 403
    refused = await browser.post("/offboarding/new", {"employeeId": str(rsm), "lastWorkingDay": today().isoformat()})
    assert refused.status_code == 403 and not await Offboarding.all().exists()


async def test_employee_resigns_and_follows_their_clearance(browser, db):
    people = (await make_rsm_with_debt())[0]
    loan = await disbursed("sales", "8000.00")
    await browser.login("sales")
    form = await browser.get("/offboarding/resign")
    assert form.status_code == 200
    text = text_of(form.text)
    assert "尚欠金额 8,000.00" in text and loan.number in text
    past = await browser.post("/offboarding/resign", {"lastWorkingDay": (today() - timedelta(days=1)).isoformat()})
    assert past.status_code == 422 and re.search(r'id="e-lastWorkingDay">最后工作日不能早于今天', past.text)
    response = await browser.post("/offboarding/resign", {
        "lastWorkingDay": (today() + timedelta(days=30)).isoformat(), "reason": "回老家发展"})
    assert response.status_code == 303
    off_id = offboarding_id_from(response.headers["location"])
    off = await Offboarding.get(id=off_id)
    assert off.employee_id == people.sales and off.reason == "回老家发展"

    page = await browser.get(f"/offboarding/{off_id}")
    text = text_of(page.text)
    assert f"借款 {loan.number} 未结清 8,000.00" in text and "等待财务确认" in text and "等待人事办结" in text
    assert "confirm-button" not in page.text and "complete-button" not in page.text and "/settle" not in page.text
    assert "撤销离职办理" not in text
    # The resignation page now points to the case instead of offering a second one.
    form = await browser.get("/offboarding/resign")
    assert f'href="/offboarding/{off_id}"' in form.text and re.search(r'<button class="primary" disabled>', form.text)


async def test_hr_cancels_an_offboarding(browser, db):
    people, rsm, *_ = await make_rsm_with_debt()
    await browser.login("hr")
    off_id = await start_through_the_form(browser, rsm)
    response = await browser.client.post(f"/offboarding/{off_id}/cancel", headers=HTMX,
                                         data={"csrf_token": browser.csrf})
    assert response.status_code == 200 and "离职办理已撤销，员工恢复在职。" in text_of(response.text)
    assert (await Offboarding.get(id=off_id)).status == "CANCELLED"
    assert (await Employee.get(id=rsm)).status == "ACTIVE"
    again = await browser.post(f"/offboarding/{off_id}/cancel")
    assert again.status_code == 409 and "不能撤销" in text_of(again.text)


async def test_settle_refusals_change_nothing(browser, db):
    people, rsm, first, _ = await make_rsm_with_debt()
    off = await offboarding.start_offboarding(await viewer("hr"), rsm, today() + timedelta(days=3))
    await browser.login("hr")  # HR may not settle loans
    before = await LedgerEntry.all().count()
    refused = await browser.post(f"/offboarding/{off.id}/loans/{first.id}/settle", {
        "method": "CASH_RETURN", "amount": "100.00", "note": ""})
    assert refused.status_code == 403
    bad = await browser.post(f"/offboarding/{off.id}/loans/{first.id}/settle", {"method": "GIFT", "amount": "1"})
    assert bad.status_code == 400
    assert await LedgerEntry.all().count() == before
    page = await browser.get(f"/offboarding/{off.id}")
    assert "/settle" not in page.text


async def test_the_pages_in_english(browser, db):
    people, rsm, first, _ = await make_rsm_with_debt()
    off = await offboarding.start_offboarding(await viewer("hr"), rsm, today() + timedelta(days=3))
    await browser.login("finance")
    switched = await browser.post("/locale", {"locale": "en", "next": f"/offboarding/{off.id}"})
    assert switched.status_code == 303
    page = await browser.get(f"/offboarding/{off.id}")
    text = text_of(page.text)
    assert "Offboarding: 张伟" in text and "Confirm clearance" in text and "Still open:" in text
    # The reason is the service's refusal (rendered in the reader's language once messages are ids).
    assert "Clearance blocked:" in text and "Payroll reference" in text
    for url, expected in (("/offboarding", "Amounts owed compared"), ("/alerts", "Unresolved alerts by kind"),
                          ("/notifications", "Mark as read"), ("/offboarding/resign", "Loans to settle before leaving")):
        response = await browser.get(url)
        assert response.status_code == 200 and expected in text_of(response.text), url


CERTIFICATE = """
query($id: ID!) { clearanceCertificate(offboardingId: $id) {
  number status employeeName employeeNo outstanding clearedByName clearedByNo clearedAt completedAt
  totalBorrowed totalCashReturn totalWriteOff loans { number amount cashReturn writeOff statusLabel notes }
} }
"""


async def test_clearance_certificate_query_behind_the_page(gql, db):
    """The page's data through /graphql: CONFLICT until confirmed, FORBIDDEN to others, then the facts."""
    people, rsm, first, second = await make_rsm_with_debt()
    hr_token = await gql.login("hr")
    off = await offboarding.start_offboarding(await viewer("hr"), rsm, today() + timedelta(days=3))
    err = await gql.error(CERTIFICATE, {"id": str(off.id)}, hr_token)
    assert err["extensions"]["code"] == "CONFLICT"
    fin = await viewer("finance")
    await loans.settle_loan(fin, first.id, "CASH_RETURN", "18000.00", "收据 SJ-9")
    await loans.settle_loan(fin, second.id, "WRITE_OFF", "12000.00", "总经理批准")
    await loans.settle_loan(await viewer("admin"), second.id, "WRITE_OFF", "12000.00")
    await offboarding.confirm_clearance(fin, off.id)
    err = await gql.error(CERTIFICATE, {"id": str(off.id)}, await gql.login("sales"))
    assert err["extensions"]["code"] == "FORBIDDEN"
    cert = (await gql.ok(CERTIFICATE, {"id": str(off.id)}, hr_token))["clearanceCertificate"]
    assert cert["status"] == "CLEARED" and cert["employeeName"] == "张伟" and cert["employeeNo"] == "R1"
    assert cert["outstanding"] == "0.00" and cert["clearedByName"] == "赵财务" and cert["clearedByNo"] == "F1"
    assert cert["clearedAt"].endswith("+08:00") and cert["completedAt"] is None
    assert (cert["totalBorrowed"], cert["totalCashReturn"], cert["totalWriteOff"]) == ("30000.00", "18000.00", "12000.00")
    assert [(x["number"], x["statusLabel"], x["notes"]) for x in cert["loans"]] == [
        (first.number, "已结清", ["收据 SJ-9"]), (second.number, "已核销", ["总经理批准"])]
    err = await gql.error(CERTIFICATE, {"id": "999999"}, hr_token)
    assert err["extensions"]["code"] == "NOT_FOUND"
