"""A fully offset reimbursement (payable 0.00) is PAID at its final approval, with no payer (issue 12)."""

from __future__ import annotations

from decimal import Decimal

from server.models import AuditEntry, Notification, Reimbursement, User, WebhookEvent
from server.services import reimbursements as svc
from server.services import webhooks
from server.services.base import SYSTEM
from tests.factories import make_org
from tests.services.test_reimbursements import approve_reimbursement_chain, disbursed_loan, line, viewer_of


async def _claim(amount: str) -> Reimbursement:
    return await svc.submit_reimbursement(await viewer_of("sales"), svc.ReimbursementData(lines=[line(amount)]))


async def test_fully_offset_claim_is_paid_at_approval_with_both_events(db):
    await make_org()
    await webhooks.create_endpoint(SYSTEM, "http://127.0.0.1:9/none")
    await disbursed_loan("1000.00")
    claim = await _claim("1000.00")  # exactly the loan: payable 0.00
    row = await approve_reimbursement_chain(claim.id)
    assert row.status == "PAID" and row.paid_at is not None

    approve, pay = (await AuditEntry.filter(object_type="reimbursement", object_id=str(claim.id),
                                            action__in=["reimbursement.approve", "reimbursement.pay"]).order_by("id"))
    assert approve.action == "reimbursement.approve" and approve.actor == "finance"
    # No payer: nothing went out, so the system closes it (never the approver as "payer": no four-eyes breach).
    assert pay.action == "reimbursement.pay" and pay.actor == "system" and pay.actor_user_id is None
    assert pay.after["paid"] == "0.00" and pay.after["payer"] is None and pay.after["fullyOffset"] is True

    sales = await User.get(username="sales")
    titles = [n.title for n in await Notification.filter(user_id=sales.id).order_by("id")]
    assert f"报销单 {claim.number} 已批准" in titles and f"报销单 {claim.number} 已付款" in titles
    approved_note = await Notification.get(user_id=sales.id, title=f"报销单 {claim.number} 已批准")
    assert "全部冲抵借款，无需付款" in approved_note.body

    await webhooks.scan_audit()
    types = [e.type for e in await WebhookEvent.all().order_by("created_at")]
    assert "reimbursement.approved" in types and "reimbursement.paid" in types

    # Not in finance's payment queue.
    queue = await svc.list_reimbursements(await viewer_of("finance"), statuses=["APPROVED"])
    assert claim.id not in [r.id for r in queue.rows]


async def test_one_fen_left_to_pay_waits_for_finance(db):
    await make_org()
    await disbursed_loan("999.99")
    claim = await _claim("1000.00")  # 0.01 to pay out
    row = await approve_reimbursement_chain(claim.id)
    assert row.status == "APPROVED" and row.paid_at is None
    assert not await AuditEntry.filter(action="reimbursement.pay").exists()
    paid = await svc.pay_reimbursement(await viewer_of("finance"), claim.id)
    assert paid.status == "PAID"
    entry = await AuditEntry.get(action="reimbursement.pay")
    assert entry.after["paid"] == "0.01" and entry.actor == "finance"
    assert Decimal(entry.after["paid"]) == Decimal("0.01")
