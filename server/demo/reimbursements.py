"""Demo reimbursements against the demo loans: some settle a loan fully, some partly, one waits for approval.

Runs after server/demo/loans.py and goes through the services as the people would: the
employee submits (offsets oldest first, mandatory), the approval chain decides, FINANCE pays.
The seed's story: 10,000.00 claimed against a 5,000.00 loan offsets 5,000.00 and pays 5,000.00;
3,000.00 against 5,000.00 offsets 3,000.00, pays 0.00 and leaves 2,000.00 owed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from server.domain.money import CENT, ZERO
from server.models import ApprovalStep, Employee, Loan, Reimbursement, User
from server.services import reimbursements as svc
from server.services import sessions
from server.services.base import Viewer, local_date, today
from server.services.loans import outstanding_by_loan

from .vouchers import invoice_pdf, receipt_png

# (category, share of the claim, description, voucher kind or None for a line without voucher)
FULL_LINES = [
    ("TRAVEL", Decimal("0.35"), "往返机票及高铁（客户现场调研）", "pdf"),
    ("CLIENT_VISIT", Decimal("0.40"), "客户接待餐费", "png"),
    ("MARKETING", Decimal("0.25"), "项目推介会场地费", "pdf"),
]
PARTIAL_LINES = [
    ("CLIENT_VISIT", Decimal("0.70"), "储能项目客户拜访差旅", "pdf"),
    ("TRAVEL", Decimal("0.30"), "市内交通费（出租车）", None),  # no voucher: allowed, flagged
]
PENDING_LINES = [
    ("PROCUREMENT", Decimal("0.60"), "测试用电表及线材采购", "pdf"),
    ("TRAVEL", Decimal("0.40"), "驻场住宿费", "png"),
]


@dataclass
class _Upload:
    """What store_uploads reads: a name and bytes (the same shape as an uploaded file)."""

    filename: str
    data: bytes
    _at: int = 0

    async def read(self, size: int = -1) -> bytes:
        """A stream, as an UploadFile is: storage reads it in chunks until it returns nothing."""
        end = len(self.data) if size < 0 else self._at + size
        chunk, self._at = self.data[self._at:end], min(end, len(self.data))
        return chunk


async def _viewer_of_employee(employee_id: int) -> Viewer:
    return sessions.viewer_for(await User.get(employee_id=employee_id))


async def _decider(step: ApprovalStep, applicant_id: int) -> Viewer | None:
    if step.role == "SUPERVISOR":
        user = await User.filter(employee_id=step.approver_id).first()  # type: ignore[attr-defined]
        return sessions.viewer_for(user) if user else None
    for user in await User.filter(is_active=True).order_by("id"):
        if step.role in (user.roles or []) and user.employee_id not in (None, applicant_id):  # type: ignore[attr-defined]
            return sessions.viewer_for(user)
    return None


async def _approve(reimbursement: Reimbursement, comments: list[str]) -> Reimbursement:
    row = reimbursement
    while row.status == "PENDING_APPROVAL":
        step = await ApprovalStep.get(reimbursement_id=row.id, is_current=True)
        decider = await _decider(step, row.employee_id)  # type: ignore[attr-defined]
        if decider is None:
            break
        comment = comments[min(step.order - 1, len(comments) - 1)]
        row = await svc.decide_reimbursement(decider, row.id, "APPROVE", comment)
    return row


async def _pay(reimbursement: Reimbursement) -> None:
    for user in await User.filter(is_active=True).order_by("id"):
        if "FINANCE" in (user.roles or []) and user.employee_id not in (None, reimbursement.employee_id):  # type: ignore[attr-defined]
            await svc.pay_reimbursement(sessions.viewer_for(user), reimbursement.id)
            return


def _lines(total: Decimal, spec: list, loan: Loan, tag: str) -> list[svc.ExpenseLineData]:
    start = min(today(), local_date(loan.disbursed_at) + timedelta(days=2)) if loan.disbursed_at else today()
    out, left = [], total
    for i, (category, share, description, voucher) in enumerate(spec):
        amount = left if i == len(spec) - 1 else (total * share).quantize(CENT)
        left -= amount
        invoice = f"{tag}{i + 1:02d}"
        incurred_on = min(today(), start + timedelta(days=i))
        vouchers = []
        if voucher == "pdf":
            vouchers = [_Upload(f"发票-{invoice}.pdf", invoice_pdf(invoice, amount, description, incurred_on))]
        elif voucher == "png":
            vouchers = [_Upload(f"小票-{invoice}.png", receipt_png(invoice, amount, description, incurred_on))]
        out.append(svc.ExpenseLineData(
            category=category, amount=amount, incurred_on=incurred_on,
            invoice_no=invoice if voucher else None, description=description, vouchers=vouchers,
        ))
    return [line for line in out if line.amount > 0]


async def seed() -> None:
    # Overdue loans are left alone: they carry the risk, alert and offboarding stories.
    disbursed = await Loan.filter(status="DISBURSED", expected_settle_date__gte=today()).order_by("disbursed_at", "id")
    if not disbursed:
        return
    balances = await outstanding_by_loan([loan.id for loan in disbursed])
    # One story per employee (their oldest disbursed loan), employees still at work.
    chosen: list[tuple[Loan, Decimal]] = []
    seen: set[int] = set()
    for loan in disbursed:
        employee_id = loan.employee_id  # type: ignore[attr-defined]
        if employee_id in seen or balances[loan.id] <= ZERO:
            continue
        employee = await Employee.get(id=employee_id)
        if employee.status != "ACTIVE" or not await User.filter(employee_id=employee_id).exists():
            continue
        seen.add(employee_id)
        chosen.append((loan, balances[loan.id]))
    # Prefer 5,000.00 loans, so the numbers tell the seed's story when there are such loans.
    chosen.sort(key=lambda pair: pair[1] != Decimal("5000.00"))
    stories = [
        # Claims twice what is owed: every open loan of the employee is settled, the rest is paid out.
        ("full", Decimal("2"), FULL_LINES, ["费用真实，同意", "票据齐全，同意报销"], True),
        # Claims 60 % of the loan: it is offset in part, nothing is paid out, the rest stays owed.
        ("partial", Decimal("0.6"), PARTIAL_LINES, ["同意", "同意，余款请按期报销或归还"], True),
        # Waits for the supervisor: its offset is reserved.
        ("pending", Decimal("0.5"), PENDING_LINES, [], False),
    ]
    for n, ((loan, owed), (kind, factor, spec, comments, approve)) in enumerate(zip(chosen, stories, strict=False)):
        employee_id = loan.employee_id  # type: ignore[attr-defined]
        if kind == "full":
            open_ids = await Loan.filter(employee_id=employee_id, status__in=["DISBURSED", "PARTIALLY_SETTLED"]
                                         ).values_list("id", flat=True)
            owed = sum((await outstanding_by_loan(open_ids)).values(), ZERO)  # type: ignore[arg-type]
        total = (owed * factor).quantize(CENT)
        if total <= ZERO:
            continue
        viewer = await _viewer_of_employee(employee_id)
        row = await svc.submit_reimbursement(viewer, svc.ReimbursementData(
            lines=_lines(total, spec, loan, f"0441{today().year}{n + 1:02d}")))
        if approve:
            row = await _approve(row, comments)
            if row.status == "APPROVED":
                await _pay(row)
