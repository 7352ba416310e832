"""Loan pages through the real app: apply with the live preview, the seed's limit rule, documents,
my loans, the timeline, the approval inbox and finance."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

from server.models import ApprovalStep, Attachment, LedgerEntry, Loan, User
from server.services import alerts as alert_service
from server.services import loans as loan_service
from server.services import org, sessions
from server.services.base import SYSTEM, today
from tests.factories import PASSWORD, make_org
from tests.web.conftest import text_of

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
REASON = ("超出岗位借款额度：额度 10,000.00，已占用 8,000.00，可借 2,000.00，本次申请 2,000.01。")


async def viewer(username: str):
    return sessions.viewer_for(await User.get(username=username))


async def disbursed_loan(amount: str = "8000.00") -> Loan:
    """The seed's situation: the salesperson owes `amount` on a disbursed loan."""
    loan = await loan_service.apply_for_loan(await viewer("sales"), loan_service.LoanApplication(
        amount=amount, purpose="CLIENT_VISIT", description="拜访客户"))
    await loan_service.decide_loan(await viewer("manager"), loan.id, "APPROVE", "同意")
    await loan_service.decide_loan(await viewer("finance"), loan.id, "APPROVE", None)
    return await loan_service.disburse_loan(await viewer("finance"), loan.id)


async def pending_loan(amount: str = "2000.00") -> Loan:
    return await loan_service.apply_for_loan(await viewer("sales"), loan_service.LoanApplication(
        amount=amount, purpose="TRAVEL", description="出差西宁"))


def loan_id_from(location: str) -> int:
    found = re.match(r"/loans/(\d+)\?applied=1$", location)
    assert found, location
    return int(found.group(1))


async def test_application_form_shows_the_quota(browser, db):
    await make_org()
    await disbursed_loan()
    await browser.login("sales")
    page = await browser.get("/loans/new")
    text = text_of(page.text)
    assert "额度 10,000.00" in text and "已占用 8,000.00" in text and "可借 2,000.00" in text
    assert 'hx-get="/loans/new"' in page.text and 'enctype="multipart/form-data"' in page.text


async def test_live_preview_flags_over_limit_before_submit(browser, db):
    await make_org()
    await disbursed_loan()
    await browser.login("sales")
    ok = await browser.client.get("/loans/new?amount=2000.00", headers={"HX-Request": "true"})
    assert ok.status_code == 200 and "<html" not in ok.text and 'id="preview"' in ok.text
    assert "HX-Request" in ok.headers["vary"]
    assert re.search(r'id="after">0\.00<', ok.text)
    assert "超出额度" not in text_of(ok.text)
    over = await browser.client.get("/loans/new?amount=2000.01", headers={"HX-Request": "true"})
    assert re.search(r'id="after">-0\.01<', over.text)
    assert "超出额度：提交后将被自动驳回。" in text_of(over.text) and REASON in text_of(over.text)
    assert 'class="preview over"' in over.text
    bad = await browser.client.get("/loans/new?amount=abc", headers={"HX-Request": "true"})
    assert "amount：'abc' 不是金额" in text_of(bad.text)
    # Without HTMX the same address is the whole page with the preview filled in.
    full = await browser.get("/loans/new?amount=2000.01")
    assert "<html" in full.text and REASON in text_of(full.text)


async def test_seed_limit_rule_through_the_pages(browser, db):
    """Limit 10,000 with 8,000 owed: 2,000.01 is stored REJECTED with its reason, 2,000.00 goes to approval."""
    await make_org()
    await disbursed_loan()
    await browser.login("sales")
    await browser.get("/loans/new")
    response = await browser.post("/loans/new", {"amount": "2000.01", "purpose": "TRAVEL", "description": "出差"},
                                  files={"attachments": ("", b"", "application/octet-stream")})
    assert response.status_code == 303
    rejected_id = loan_id_from(response.headers["location"])
    page = await browser.get(response.headers["location"])
    text = text_of(page.text)
    assert "申请已被自动驳回" in text and REASON in text and "已驳回" in text
    assert (await Loan.get(id=rejected_id)).status == "REJECTED"

    response = await browser.post("/loans/new", {"amount": "2000.00", "purpose": "TRAVEL", "description": "出差"})
    assert response.status_code == 303
    accepted_id = loan_id_from(response.headers["location"])
    text = text_of((await browser.get(response.headers["location"])).text)
    assert "申请已提交，等待审批。" in text and "等待直属上级审批" in text and "李经理" in text
    assert (await Loan.get(id=accepted_id)).status == "PENDING_APPROVAL"


async def test_application_errors_are_shown_next_to_the_fields(browser, db):
    await make_org()
    await browser.login("sales")
    await browser.get("/loans/new")
    response = await browser.post("/loans/new", {"amount": "100.00", "purpose": "TRAVEL", "description": " "})
    assert response.status_code == 422
    assert re.search(r'id="e-description">请填写借款用途说明<', response.text)
    response = await browser.post("/loans/new", {"amount": "12.345", "purpose": "TRAVEL", "description": "x"})
    assert re.search(r'id="e-amount">金额最多两位小数<', response.text)
    response = await browser.post("/loans/new", {"amount": "10", "purpose": "TRAVEL", "description": "x",
                                                 "expectedSettleDate": "2001-01-01"})
    assert "预计报销日期不能早于今天" in text_of(response.text)
    assert await Loan.all().count() == 0


async def test_document_upload_and_download_is_authorized(browser, second_browser, db):
    await make_org()
    await org.create_employee(SYSTEM, org.EmployeeData(
        employee_no="S9", name="路人", department_code="SALES", region_code="XA", position_code="STAFF",
        supervisor_no="M1", monthly_salary="6000.00", hire_date=today(), username="other", password=PASSWORD,
        roles=["EMPLOYEE"]))
    await browser.login("sales")
    await browser.get("/loans/new")
    response = await browser.post("/loans/new", {"amount": "500.00", "purpose": "MARKETING", "description": "展会"},
                                  files={"attachments": ("合同 v1.pdf", PDF, "application/pdf")})
    assert response.status_code == 303, response.text
    page = await browser.get(response.headers["location"])
    attachment = await Attachment.get()
    href = f"/files/{attachment.id}/{quote('合同 v1.pdf')}"
    assert f'href="{href}"' in page.text
    download = await browser.get(href)
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"].startswith("inline;")
    assert "filename*=utf-8''%E5%90%88%E5%90%8C%20v1.pdf" in download.headers["content-disposition"]
    assert (await browser.get(f"/files/{attachment.id}/other.pdf")).status_code == 404

    await second_browser.login("other")
    refused = await second_browser.get(href)
    assert refused.status_code == 404 and refused.content != PDF
    await second_browser.post("/logout")
    await second_browser.login("manager")  # the applicant's supervisor
    assert (await second_browser.get(href)).content == PDF


async def test_download_needs_login(browser, db):
    await make_org()
    response = await browser.get("/files/1/x.pdf")
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")


async def test_upload_of_a_wrong_type_is_an_inline_error(browser, db):
    await make_org()
    await browser.login("sales")
    await browser.get("/loans/new")
    response = await browser.post("/loans/new", {"amount": "500.00", "purpose": "MARKETING", "description": "展会"},
                                  files={"attachments": ("notes.txt", b"just text", "text/plain")})
    assert response.status_code == 422
    assert re.search(r'id="e-attachments">notes.txt：不支持的文件类型', response.text)
    assert await Loan.all().count() == 0


async def test_my_loans_lists_status_outstanding_and_overdue(browser, db):
    await make_org()
    loan = await disbursed_loan("3000.00")
    await loan_service.settle_loan(await viewer("finance"), loan.id, "CASH_RETURN", "1000.00")
    await Loan.filter(id=loan.id).update(expected_settle_date=today() - timedelta(days=10))
    await pending_loan("500.00")
    await browser.login("sales")
    page = await browser.get("/loans")
    text = text_of(page.text)
    assert loan.number in text and "部分结清" in text and "2,000.00" in text and "逾期 10 天" in text
    assert "待审批" in text and "500.00" in text
    assert "逾期 1 笔" in text


async def test_loan_page_timeline(browser, db):
    await make_org()
    loan = await disbursed_loan()
    await loan_service.settle_loan(await viewer("finance"), loan.id, "CASH_RETURN", "500.00", "现金归还一部分")
    await browser.login("sales")
    text = text_of((await browser.get(f"/loans/{loan.id}")).text)
    order = ["提交申请 · 8,000.00", "第 1 步 · 直属上级：李经理 同意", "“同意”", "第 2 步 · 财务：赵财务 同意",
             "放款 · 8,000.00", "现金归还 · -500.00", "现金归还一部分"]
    positions = [text.index(part) for part in order]
    assert positions == sorted(positions)
    assert "未结清 7,500.00" in text


async def test_someone_elses_loan_is_refused(browser, db):
    await make_org()
    loan = await pending_loan()
    await browser.login("hr")  # HR sees every loan
    assert (await browser.get(f"/loans/{loan.id}")).status_code == 200
    await browser.post("/logout")
    await org.create_employee(SYSTEM, org.EmployeeData(
        employee_no="S9", name="路人", department_code="SALES", region_code="XA", position_code="STAFF",
        supervisor_no="M1", monthly_salary="6000.00", hire_date=today(), username="other", password=PASSWORD,
        roles=["EMPLOYEE"]))
    await browser.login("other")
    response = await browser.get(f"/loans/{loan.id}")
    assert response.status_code == 403
    assert "无权查看该借款" in text_of(response.text)
    assert (await browser.get("/loans/999999")).status_code == 404


async def test_applicant_cancels_a_pending_loan(browser, db):
    await make_org()
    loan = await pending_loan()
    await browser.login("sales")
    page = await browser.get(f"/loans/{loan.id}")
    assert "撤销申请" in text_of(page.text)
    response = await browser.post(f"/loans/{loan.id}/cancel")
    assert response.status_code == 303
    assert (await Loan.get(id=loan.id)).status == "CANCELLED"
    again = await browser.post(f"/loans/{loan.id}/cancel")
    assert again.status_code == 409 and "不能撤销" in text_of(again.text)


async def test_approval_through_the_inbox(browser, second_browser, db):
    await make_org()
    await disbursed_loan()
    loan = await pending_loan("2000.00")
    await browser.login("manager")
    inbox = await browser.get("/approvals")
    text = text_of(inbox.text)
    assert loan.number in text and "张三" in text and "2,000.00" in text and "出差西宁" in text
    # the applicant's quota, open loans and overdue count beside the item
    assert "额度 10,000.00" in text and "已占用 10,000.00" in text
    assert "未结清借款 1 笔 · 8,000.00" in text and "逾期 0 笔" in text

    rejected = await browser.post(f"/approvals/{loan.id}", {"decision": "REJECT", "comment": ""})
    assert rejected.status_code == 422
    assert "驳回需要填写意见" in text_of(rejected.text)
    response = await browser.post(f"/approvals/{loan.id}", {"decision": "APPROVE", "comment": "可以"})
    assert response.status_code == 303 and response.headers["location"] == f"/approvals?decided={loan.number}"
    step = await ApprovalStep.get(loan_id=loan.id, order=1)
    assert (step.decision, step.comment) == ("APPROVE", "可以")
    assert loan.number not in text_of((await browser.get("/approvals")).text).replace(f"已处理：{loan.number}", "")

    await second_browser.login("finance")
    await second_browser.get("/approvals")
    fragment = await second_browser.client.post(
        f"/approvals/{loan.id}", data={"decision": "APPROVE", "comment": ""},
        headers={"HX-Request": "true", "X-CSRF-Token": second_browser.csrf})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert f'id="loan-{loan.id}"' in fragment.text and "已批准" in text_of(fragment.text)
    assert (await Loan.get(id=loan.id)).status == "APPROVED"


def inbox_item(page: str, loan_id: int) -> str:
    """The text of one loan's article in the inbox."""
    found = re.search(rf'<article class="card inbox-item" id="loan-{loan_id}">(.*?)</article>', page, re.S)
    assert found, f"loan {loan_id} is not in the inbox"
    return text_of(found.group(1))


async def raise_for(employee_id: int, key: str, *, kind: str = "OFFBOARDING_OUTSTANDING",
                    severity: str = "CRITICAL", message: str = "离职仍欠款 8,000.00",
                    recipients: tuple[int, ...] = ()):
    raised = await alert_service.raise_alert(
        SYSTEM, kind=kind, severity=severity, message=message, dedupe_key=key, recipients=recipients,
        employee_id=employee_id)
    return raised.alert


async def test_inbox_shows_the_applicants_unresolved_alerts(browser, second_browser, db):
    people = await make_org()
    await disbursed_loan()
    loan = await pending_loan("2000.00")
    await raise_for(people.sales, "offboarding:S1", recipients=(people.manager,))
    await raise_for(people.sales, "frequent:S1", kind="FREQUENT_BORROWING", severity="WARNING",
                    message="30 天内借款 4 笔")  # no recipients: the supervisor is not told about it
    resolved = await raise_for(people.sales, "overdue:S1", kind="OVERDUE", message="已解决的逾期")
    await alert_service.resolve_alert(await viewer("finance"), resolved.id, "已还款")
    # Another applicant's alert stays beside their own loan.
    other = await loan_service.apply_for_loan(await viewer("hr"), loan_service.LoanApplication(
        amount="300.00", purpose="OTHER", description="办公用品"))
    await raise_for(people.hr, "large:H1", kind="LARGE_LOAN_NO_BUSINESS", severity="INFO",
                    message="大额借款无业务记录", recipients=(people.manager,))

    await browser.login("manager")  # the supervisor sees the alerts they were notified about
    inbox = await browser.get("/approvals")
    mine = inbox_item(inbox.text, loan.id)
    assert "申请人未处理的预警（1 条）" in mine
    assert "严重 离职未清款 离职仍欠款 8,000.00" in mine
    assert "频繁借款" not in mine and "已解决的逾期" not in mine
    theirs = inbox_item(inbox.text, other.id)
    assert "提示 大额借款无业务记录 大额借款无业务记录" in theirs and "离职未清款" not in theirs

    # A refused decision re-renders the item as an HTMX fragment, alerts included.
    fragment = await browser.client.post(
        f"/approvals/{loan.id}", data={"decision": "REJECT", "comment": ""},
        headers={"HX-Request": "true", "X-CSRF-Token": browser.csrf})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert "驳回需要填写意见" in text_of(fragment.text) and "离职仍欠款 8,000.00" in text_of(fragment.text)

    await loan_service.decide_loan(await viewer("manager"), loan.id, "APPROVE", None)
    await second_browser.login("finance")  # finance sees every alert, resolved ones excepted
    item = inbox_item((await second_browser.get("/approvals")).text, loan.id)
    assert "申请人未处理的预警（2 条）" in item
    assert "离职仍欠款 8,000.00" in item and "警告 频繁借款 30 天内借款 4 笔" in item
    assert "已解决的逾期" not in item


async def test_inbox_alerts_for_many_applicants(browser, db):
    """The alerts are batched for every applicant of the page: each applicant's own alert shows."""
    from datetime import date

    people = await make_org()
    loans = []
    for i in range(22):
        e = await org.create_employee(SYSTEM, org.EmployeeData(
            employee_no=f"X{i}", name=f"员工{i}", department_code="SALES", region_code="XA",
            position_code="SALES", supervisor_no="M1", monthly_salary="5000.00", hire_date=date(2024, 1, 1),
            username=f"x{i}", password=PASSWORD, roles=["EMPLOYEE"]))
        loans.append(await loan_service.apply_for_loan(await viewer(f"x{i}"), loan_service.LoanApplication(
            amount="100.00", purpose="OTHER", description="文具")))
        await raise_for(e.id, f"frequent:X{i}", kind="FREQUENT_BORROWING", severity="WARNING",
                        message=f"员工{i} 频繁借款", recipients=(people.manager,))
    await browser.login("manager")
    inbox = await browser.get("/approvals")
    for i, loan in enumerate(loans):
        item = inbox_item(inbox.text, loan.id)
        assert f"员工{i} 频繁借款" in item, i
        assert sum(f"员工{j} 频繁借款" in item for j in range(len(loans))) == 1


async def test_inbox_without_alerts_shows_no_alert_panel(browser, db):
    await make_org()
    loan = await pending_loan()
    await browser.login("manager")
    inbox = await browser.get("/approvals")
    assert loan.number in inbox_item(inbox.text, loan.id)
    assert "applicant-alerts" not in inbox.text and "未处理的预警" not in text_of(inbox.text)


async def test_inbox_refuses_someone_who_may_not_decide(browser, db):
    await make_org()
    loan = await pending_loan()
    await browser.login("finance")  # step 1 is the supervisor's
    assert loan.number not in text_of((await browser.get("/approvals")).text)
    response = await browser.post(f"/approvals/{loan.id}", {"decision": "APPROVE"})
    assert response.status_code == 422
    assert "当前审批步骤需要 SUPERVISOR" in text_of(response.text)
    assert (await ApprovalStep.get(loan_id=loan.id, order=1)).decision is None


async def test_finance_disburses_and_records_repayments(browser, db):
    await make_org()
    loan = await pending_loan("2000.00")
    await loan_service.decide_loan(await viewer("manager"), loan.id, "APPROVE", None)
    await loan_service.decide_loan(await viewer("finance"), loan.id, "APPROVE", None)
    await browser.login("finance")
    page = await browser.get("/finance")
    assert loan.number in text_of(page.text) and "待放款 1 笔" in text_of(page.text)
    response = await browser.post(f"/finance/{loan.id}/disburse")
    assert response.status_code == 303
    assert (await Loan.get(id=loan.id)).status == "DISBURSED"
    assert f"已放款：{loan.number}" in text_of((await browser.get(response.headers["location"])).text)

    too_much = await browser.post(f"/finance/{loan.id}/settle", {"method": "CASH_RETURN", "amount": "2500.00"})
    assert too_much.status_code == 422
    assert re.search(rf'id="e-amount-{loan.id}">金额 2,500.00 超过未结清余额 2,000.00', too_much.text)
    response = await browser.post(f"/finance/{loan.id}/settle",
                                  {"method": "SALARY_DEDUCTION", "amount": "500.00", "note": "11月工资"})
    assert response.status_code == 303
    assert await loan_service.loan_outstanding(await Loan.get(id=loan.id)) == 1500
    write_off = await browser.post(f"/finance/{loan.id}/settle", {"method": "WRITE_OFF", "amount": "1500.00",
                                                                 "note": "无法收回"})
    assert write_off.status_code == 303 and "done=write_off_proposed" in write_off.headers["location"]
    assert await loan_service.loan_outstanding(await Loan.get(id=loan.id)) == 1500  # only proposed


async def test_finance_proposes_a_write_off_and_a_different_admin_approves_it(browser, db):
    await make_org()
    loan = await disbursed_loan("1000.00")
    await browser.login("finance")
    page = await browser.get("/finance")
    assert 'value="WRITE_OFF"' in page.text and "提议核销" in text_of(page.text)
    no_reason = await browser.post(f"/finance/{loan.id}/settle", {"method": "WRITE_OFF", "amount": "1000.00"})
    assert re.search(rf'id="e-note-{loan.id}">核销必须填写原因', no_reason.text)
    fragment = await browser.client.post(
        f"/finance/{loan.id}/settle", data={"method": "WRITE_OFF", "amount": "1000.00"},
        headers={"HX-Request": "true", "X-CSRF-Token": browser.csrf})
    assert fragment.status_code == 200 and "<html" not in fragment.text and f'id="o-{loan.id}"' in fragment.text
    response = await browser.post(f"/finance/{loan.id}/settle",
                                  {"method": "WRITE_OFF", "amount": "1000.00", "note": "员工失联，无法收回"})
    assert response.status_code == 303
    assert (await Loan.get(id=loan.id)).status == "DISBURSED"
    page = await browser.get(f"/loans/{loan.id}")
    assert 'id="pending-write-off"' in page.text and "员工失联，无法收回" in text_of(page.text)
    assert "/write-off/approve" not in page.text  # the proposer does not approve
    await browser.post("/logout")

    await browser.login("admin")
    page = await browser.get("/finance")
    assert f'id="m-{loan.id}"' not in page.text  # no cash-return form for an ADMIN without FINANCE
    assert f'href="/loans/{loan.id}#pending-write-off"' in page.text
    queue = text_of(re.search(r'<section class="card" id="pending-write-offs">(.*?)</section>', page.text, re.S).group(1))
    assert loan.number in queue and "员工失联，无法收回" in queue and "赵财务" in queue
    page = await browser.get(f"/loans/{loan.id}")
    assert f'action="/loans/{loan.id}/write-off/approve"' in page.text
    response = await browser.post(f"/loans/{loan.id}/write-off/approve", {"comment": "同意"})
    assert response.status_code == 303
    page = await browser.get(response.headers["location"])
    assert "已批准，账目已登记。" in text_of(page.text) and 'id="pending-write-off"' not in page.text
    assert (await Loan.get(id=loan.id)).status == "WRITTEN_OFF"


async def test_finance_page_is_for_finance_and_admin(browser, db):
    await make_org()
    await browser.login("sales")
    assert (await browser.get("/finance")).status_code == 403


async def test_voucher_download_follows_the_reimbursement(browser, second_browser, db):
    from server.services import reimbursements

    await make_org()
    await org.create_employee(SYSTEM, org.EmployeeData(
        employee_no="S9", name="路人", department_code="SALES", region_code="XA", position_code="STAFF",
        supervisor_no="M1", monthly_salary="6000.00", hire_date=today(), username="other", password=PASSWORD,
        roles=["EMPLOYEE"]))
    await reimbursements.submit_reimbursement(await viewer("sales"), reimbursements.ReimbursementData(lines=[
        reimbursements.ExpenseLineData(category="TRAVEL", amount="300.00", incurred_on=today(),
                                       invoice_no="INV-1", vouchers=[PDF])]))
    voucher = await Attachment.get()
    assert voucher.expense_line_id is not None
    await browser.login("sales")
    download = await browser.get(f"/files/{voucher.id}/{voucher.filename}")
    assert download.status_code == 200 and download.content == PDF
    await second_browser.login("other")
    assert (await second_browser.get(f"/files/{voucher.id}/{voucher.filename}")).status_code == 404


async def test_finance_reverses_a_settlement_on_the_loan_page_and_the_timeline_shows_it(browser, db):
    await make_org()
    loan = await disbursed_loan("1000.00")
    await loan_service.settle_loan(await viewer("finance"), loan.id, "CASH_RETURN", "1000.00", "收据 SJ-5")
    entry = await LedgerEntry.get(loan_id=loan.id, kind="CASH_RETURN")
    await browser.login("admin")
    page = await browser.get(f"/loans/{loan.id}")
    assert f"/settlements/{entry.id}/reverse" not in page.text  # money is FINANCE's
    refused = await browser.post(f"/loans/{loan.id}/settlements/{entry.id}/reverse", {"reason": "录错"})
    assert refused.status_code == 422 and "需要 FINANCE" in text_of(refused.text)
    await browser.post("/logout")

    await browser.login("finance")
    page = await browser.get(f"/loans/{loan.id}")
    assert f'action="/loans/{loan.id}/settlements/{entry.id}/reverse"' in page.text
    no_reason = await browser.post(f"/loans/{loan.id}/settlements/{entry.id}/reverse", {"reason": ""})
    assert no_reason.status_code == 422
    assert re.search(rf'id="e-reverse-{entry.id}">必须填写原因', no_reason.text)
    assert await LedgerEntry.filter(loan_id=loan.id).count() == 2
    done = await browser.post(f"/loans/{loan.id}/settlements/{entry.id}/reverse", {"reason": "收据作废，款未到账"})
    assert done.status_code == 303 and done.headers["location"] == f"/loans/{loan.id}?done=reversed"
    page = await browser.get(done.headers["location"])
    text = text_of(page.text)
    assert "已冲销，余额和状态已按账目重新计算。" in text and "收据作废，款未到账" in text
    assert f"冲销第 {entry.id} 号记录" in text and "已冲销" in text
    assert f"/settlements/{entry.id}/reverse" not in page.text  # reversed once
    loan = await Loan.get(id=loan.id)
    assert loan.status == "DISBURSED" and await loan_service.loan_outstanding(loan) == 1000


async def test_a_write_off_reversal_is_proposed_on_the_page_and_approved_by_another_admin(browser, db):
    from server.services import corrections

    await make_org()
    loan = await disbursed_loan("600.00")
    await loan_service.settle_loan(await viewer("finance"), loan.id, "WRITE_OFF", "600.00", "员工失联")
    await corrections.approve_write_off(await viewer("admin"), loan.id)
    entry = await LedgerEntry.get(loan_id=loan.id, kind="WRITE_OFF")
    await browser.login("finance")
    page = await browser.get(f"/loans/{loan.id}")
    assert "提议冲销" in text_of(page.text)
    done = await browser.post(f"/loans/{loan.id}/settlements/{entry.id}/reverse", {"reason": "员工已联系上"})
    assert done.headers["location"] == f"/loans/{loan.id}?done=reversal_proposed"
    page = await browser.get(done.headers["location"])
    assert "待审批的核销冲销" in text_of(page.text) and "/write-off/approve" not in page.text
    assert (await Loan.get(id=loan.id)).status == "WRITTEN_OFF"
    await browser.post("/logout")

    await browser.login("admin")
    rejected = await browser.post(f"/loans/{loan.id}/write-off/reject", {"comment": ""})
    assert rejected.status_code == 422 and re.search(r'id="e-reject">驳回须填写理由', rejected.text)
    approved = await browser.post(f"/loans/{loan.id}/write-off/approve", {"comment": ""})
    assert approved.status_code == 303
    loan = await Loan.get(id=loan.id)
    assert loan.status == "DISBURSED" and await loan_service.loan_outstanding(loan) == 600
