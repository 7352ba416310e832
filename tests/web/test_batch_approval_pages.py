"""批量同意 in 待我审批: a checkbox only on items the viewer may batch-approve, the outcome per item on the page."""

from __future__ import annotations

import re

from server.models import AuditEntry, Loan, Reimbursement
from server.services import alerts
from server.services.base import SYSTEM
from tests.factories import make_org
from tests.schema.test_batch_approvals_api import apply, finance_step_org
from tests.schema.test_reimbursement_warnings_api import _Upload, submit
from tests.services.test_reimbursements import colleague, line, pdf_bytes
from tests.web.conftest import text_of


def checkbox_ids(page: str, form: str) -> set[str]:
    return set(re.findall(rf'name="ids" value="(\d+)" form="{form}"', page))


async def test_batch_approve_loans_page(browser, db):
    await finance_step_org()
    await colleague()
    mine, a, b, flagged = await apply("finance"), await apply("sales"), await apply("sales2"), await apply("manager")
    await alerts.raise_alert(SYSTEM, kind="LARGE_LOAN_NO_BUSINESS", severity="WARNING", message="大额借款",
                             dedupe_key="t", recipients=[], employee_id=flagged.employee_id, loan_id=flagged.id)
    await browser.login("finance")
    inbox = await browser.get("/approvals")
    assert inbox.status_code == 200
    # The applicant's own loan is not in their queue; the flagged one has no checkbox but says why.
    assert checkbox_ids(inbox.text, "batch-loans") == {str(a.id), str(b.id)}
    assert "批量同意" in inbox.text and "未处理的预警" in text_of(inbox.text)

    # A forged form slips the finance clerk's own loan and the flagged one in: both refused, the others approved.
    response = await browser.post("/approvals/batch", {"ids": [str(a.id), str(mine.id), str(b.id), str(flagged.id)],
                                                       "comment": "同意", "decision": "APPROVE"})
    assert response.status_code == 200
    text = text_of(response.text)
    assert "批量同意：2 项已处理，2 项未通过" in text
    assert a.number in text and b.number in text and "不能审批自己的申请" in text and "逐笔审批" in text
    assert (await Loan.get(id=a.id)).status == "APPROVED" and (await Loan.get(id=mine.id)).status == "PENDING_APPROVAL"
    assert await AuditEntry.filter(action="loan.approve").count() == 2

    nothing = await browser.post("/approvals/batch", {"decision": "APPROVE"})
    assert nothing.status_code == 422 and "请至少选择一项" in text_of(nothing.text)


async def test_batch_approve_reimbursements_page(browser, db):
    await make_org()
    ok = await submit("sales", line("120.00", "INV-9", vouchers=[_Upload("发票.pdf", pdf_bytes("INV-9"))]))
    warned = await submit("sales", line("80.00"))
    await browser.login("manager")
    section = await browser.get("/approvals/reimbursements")
    assert checkbox_ids(section.text, "batch-reimbursements") == {str(ok.id)}
    assert "没有凭证" in text_of(section.text)
    response = await browser.post("/approvals/reimbursements/batch", {"ids": [str(ok.id), str(warned.id)],
                                                                      "decision": "APPROVE"})
    assert response.status_code == 200
    assert "批量同意：1 项已处理，1 项未通过" in text_of(response.text)
    assert await AuditEntry.filter(action="reimbursement.approve_step", object_id=str(ok.id)).count() == 1
    assert (await Reimbursement.get(id=warned.id)).status == "PENDING_APPROVAL"
