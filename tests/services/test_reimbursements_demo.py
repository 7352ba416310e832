"""The demo reimbursements: settle some demo loans fully, some partly, leave one pending."""

from __future__ import annotations

from decimal import Decimal

from server.demo import loans as demo_loans
from server.demo import org as demo_org
from server.demo import reimbursements as demo
from server.models import Attachment, ExpenseLine, Loan, Reimbursement, ReimbursementOffset
from server.services import audit
from server.services.base import today
from tests.factories import make_org
from tests.services.test_reimbursements import balance, colleague, disbursed_loan

D = Decimal


async def test_demo_does_nothing_without_disbursed_loans(db):
    await make_org()
    await demo.seed()
    assert await Reimbursement.all().count() == 0


async def test_demo_settles_fully_partly_and_leaves_one_pending(db):
    people = await make_org()
    other = await colleague()
    sales_loan = await disbursed_loan("5000.00", "sales")
    other_loan = await disbursed_loan("5000.00", "sales2")
    hr_loan = await disbursed_loan("3000.00", "hr")
    await demo.seed()

    full = await Reimbursement.get(employee_id=people.sales)
    assert (full.total_fen, full.status) == (1_000_000, "PAID")  # 10,000.00 against 5,000.00, paid 5,000.00
    assert await balance(sales_loan.id) == D("0.00")
    assert (await Loan.get(id=sales_loan.id)).status == "SETTLED"

    partial = await Reimbursement.get(employee_id=other)
    assert (partial.total_fen, partial.status) == (300_000, "PAID")  # 3,000.00 against 5,000.00, pays 0.00
    assert await balance(other_loan.id) == D("2000.00")
    assert (await Loan.get(id=other_loan.id)).status == "PARTIALLY_SETTLED"

    pending = await Reimbursement.get(employee_id=people.hr)
    assert pending.status == "PENDING_APPROVAL"
    assert [(o.amount_fen, o.state) for o in await ReimbursementOffset.filter(reimbursement_id=pending.id)] == [
        (150_000, "RESERVED")]
    assert await balance(hr_loan.id) == D("3000.00")

    # Vouchers are stored and one line is deliberately without one.
    lines = await ExpenseLine.all()
    with_vouchers = {a.expense_line_id for a in await Attachment.filter(expense_line_id__not_isnull=True)}
    assert 0 < len(with_vouchers) < len(lines)
    assert sum(ln.amount_fen for ln in lines if ln.reimbursement_id == full.id) == full.total_fen
    assert (await audit.verify_chain()).ok


async def test_demo_with_the_demo_company(db):
    """On the demo company's own loans: overdue ones keep their stories, three others get a reimbursement."""
    await demo_org.seed()
    await demo_loans.seed()
    overdue = {loan.id: await balance(loan.id)
               for loan in await Loan.filter(status="DISBURSED", expected_settle_date__lt=today())}
    assert overdue  # the demo loans include overdue ones (e.g. 王强's 8,000.00)
    await demo.seed()

    rows = await Reimbursement.all().order_by("id")
    assert [r.status for r in rows] == ["PAID", "PAID", "PENDING_APPROVAL"]
    full, partial, pending = rows
    full_loans = await Loan.filter(employee_id=full.employee_id)
    assert full_loans and all(loan.status == "SETTLED" for loan in full_loans)
    partial_loan = await Loan.get(employee_id=partial.employee_id, status="PARTIALLY_SETTLED")
    assert D(partial.total_fen) / 100 == (D(partial_loan.amount_fen) / 100 * D("0.6")).quantize(D("0.01"))
    assert await balance(partial_loan.id) == D(partial_loan.amount_fen - partial.total_fen) / 100
    assert await ReimbursementOffset.filter(reimbursement_id=pending.id, state="RESERVED").count() == 1
    for loan_id, before in overdue.items():
        assert await balance(loan_id) == before
    assert (await audit.verify_chain()).ok


async def test_demo_vouchers_are_readable_receipts_and_invoices(db):
    """A person opening a demo voucher sees a receipt or an invoice with its number and amount (not a 1x1 pixel)."""
    import asyncio
    import io
    import subprocess

    from PIL import Image

    from server.storage import path_for

    await make_org()
    await colleague()
    await disbursed_loan("5000.00", "sales")
    await disbursed_loan("5000.00", "sales2")
    await demo.seed()

    files = await Attachment.filter(expense_line_id__not_isnull=True).order_by("id")
    kinds = {f.content_type for f in files}
    assert kinds == {"image/png", "application/pdf"}, kinds
    for f in files:
        line = await ExpenseLine.get(id=f.expense_line_id)  # type: ignore[attr-defined]
        data = path_for(f.sha256).read_bytes()
        if f.content_type == "image/png":
            image = Image.open(io.BytesIO(data))
            assert image.width >= 400 and image.height >= 500, image.size
            # Not blank: the printed text and the barcode make a good share of the paper dark.
            dark = image.convert("L").histogram()[:100]
            dark = sum(dark)
            assert dark > 2_000, dark
        else:
            done = await asyncio.to_thread(subprocess.run, ["pdftotext", "-", "-"], input=data, capture_output=True,
                                           check=True)
            text = done.stdout.decode()
            assert line.invoice_no in text and f"{Decimal(line.amount_fen) / 100:,.2f}" in text, text
    # Every voucher is its own file (content-addressed storage would merge identical ones).
    assert len({f.sha256 for f in files}) == len(files)
