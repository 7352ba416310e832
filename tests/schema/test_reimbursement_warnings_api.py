"""What the reimbursement pages read beyond the contract: ExpenseLine.duplicates (approvers' warnings about
invoice numbers and voucher files seen on other reimbursements) and OffsetPreview.openLoans (every open loan
with what may still be offset on it, also for an empty form's 0.00 total)."""

from __future__ import annotations

from server.services import reimbursements as svc
from tests.factories import make_org
from tests.schema.test_reimbursements_api import token
from tests.services.test_reimbursements import colleague, disbursed_loan, line, pdf_bytes, viewer_of

DUPES = """query($id: ID!) { reimbursement(id: $id) { number lines { invoiceNo voucherMissing
  duplicates { kind reimbursementId reimbursementNumber reimbursementStatus sameEmployee invoiceNo filename } } } }"""
PENDING = """{ pendingReimbursementApprovals { number lines { invoiceNo voucherMissing
  duplicates { kind reimbursementNumber reimbursementStatus sameEmployee } } } }"""
PREVIEW = """query($t: Decimal!) { offsetPreview(total: $t) { total owed offsetTotal payable
  offsets { amount loan { number } } openLoans { amount loan { id number outstanding } } } }"""


class _Upload:
    def __init__(self, filename: str, data: bytes) -> None:
        self.filename, self.data, self.at = filename, data, 0

    async def read(self, size: int = -1) -> bytes:  # a stream, as an UploadFile is
        end = len(self.data) if size < 0 else self.at + size
        chunk, self.at = self.data[self.at:end], min(end, len(self.data))
        return chunk


async def submit(username: str, *lines: svc.ExpenseLineData):
    return await svc.submit_reimbursement(await viewer_of(username), svc.ReimbursementData(lines=list(lines)))


async def reject(reimbursement_id: int) -> None:
    await svc.decide_reimbursement(await viewer_of("manager"), reimbursement_id, "REJECT", "发票抬头不对")


async def test_approver_sees_an_invoice_and_a_voucher_from_a_rejected_claim(gql, db):
    await make_org()
    invoice = pdf_bytes("invoice 0042")
    first = await submit("sales", line("300.00", "inv 0042", vouchers=[_Upload("发票.pdf", invoice)]))
    await reject(first.id)
    # Allowed again once rejected (the service refuses it only while the first one stands) ...
    second = await submit("sales", line("300.00", "INV0042", vouchers=[_Upload("发票-重传.pdf", invoice)]),
                          line("45.00"))
    # ... and the approver is shown where the invoice and the file were seen before.
    data = await gql.ok(PENDING, token=await token("manager"))
    assert data["pendingReimbursementApprovals"] == [{"number": second.number, "lines": [
        {"invoiceNo": "INV0042", "voucherMissing": False, "duplicates": [
            {"kind": "INVOICE_NO", "reimbursementNumber": first.number, "reimbursementStatus": "REJECTED",
             "sameEmployee": True},
            {"kind": "VOUCHER_FILE", "reimbursementNumber": first.number, "reimbursementStatus": "REJECTED",
             "sameEmployee": True},
        ]},
        {"invoiceNo": None, "voucherMissing": True, "duplicates": []},
    ]}]
    one = (await gql.ok(DUPES, {"id": str(second.id)}, token=await token("finance")))["reimbursement"]
    assert one["lines"][0]["duplicates"][0] == {
        "kind": "INVOICE_NO", "reimbursementId": str(first.id), "reimbursementNumber": first.number,
        "reimbursementStatus": "REJECTED", "sameEmployee": True, "invoiceNo": "INV0042", "filename": None}
    assert one["lines"][0]["duplicates"][1]["filename"] == "发票-重传.pdf"
    # The rejected one points at the new one too; the employee sees their own claims.
    earlier = (await gql.ok(DUPES, {"id": str(first.id)}, token=await token("sales")))["reimbursement"]
    assert [(d["kind"], d["reimbursementNumber"], d["reimbursementStatus"])
            for d in earlier["lines"][0]["duplicates"]] == [("INVOICE_NO", second.number, "PENDING_APPROVAL"),
                                                            ("VOUCHER_FILE", second.number, "PENDING_APPROVAL")]


async def test_other_peoples_claims_are_shown_to_approvers_not_to_the_employee(gql, db):
    await make_org()
    await colleague()
    first = await submit("sales", line("80.00", "A-77"))
    await reject(first.id)
    second = await submit("sales2", line("80.00", "A-77"))
    manager = (await gql.ok(DUPES, {"id": str(second.id)}, token=await token("manager")))["reimbursement"]
    assert [(d["reimbursementNumber"], d["sameEmployee"]) for d in manager["lines"][0]["duplicates"]] == [
        (first.number, False)]
    own = (await gql.ok(DUPES, {"id": str(second.id)}, token=await token("sales2")))["reimbursement"]
    assert own["lines"][0]["duplicates"] == []
    other_side = (await gql.ok(DUPES, {"id": str(first.id)}, token=await token("sales")))["reimbursement"]
    assert other_side["lines"][0]["duplicates"] == []
    hr = (await gql.ok(DUPES, {"id": str(first.id)}, token=await token("hr")))["reimbursement"]
    assert [d["reimbursementNumber"] for d in hr["lines"][0]["duplicates"]] == [second.number]


async def test_offset_preview_lists_every_open_loan_also_for_zero(gql, db):
    await make_org()
    older = await disbursed_loan("3000.00")
    newer = await disbursed_loan("4000.00")
    sales = await token("sales")
    empty = (await gql.ok(PREVIEW, {"t": "0"}, token=sales))["offsetPreview"]
    assert (empty["total"], empty["owed"], empty["offsetTotal"], empty["payable"], empty["offsets"]) == (
        "0.00", "7000.00", "0.00", "0.00", [])
    assert [(o["loan"]["number"], o["amount"]) for o in empty["openLoans"]] == [
        (older.number, "3000.00"), (newer.number, "4000.00")]
    await submit("sales", line("1000.00"))  # reserves 1,000.00 of the older loan
    preview = (await gql.ok(PREVIEW, {"t": "500.00"}, token=sales))["offsetPreview"]
    assert [(o["loan"]["number"], o["amount"]) for o in preview["offsets"]] == [(older.number, "500.00")]
    assert [(o["loan"]["number"], o["amount"], o["loan"]["outstanding"]) for o in preview["openLoans"]] == [
        (older.number, "2000.00", "3000.00"), (newer.number, "4000.00", "4000.00")]
    negative = await gql.error(PREVIEW, {"t": "-1"}, token=sales)
    assert negative["extensions"]["code"] == "VALIDATION"
