"""Reimbursements: submit (offsets reserved against open loans), approval chain, offsets applied, payment.

A reimbursement's offsets are reserved at submission (so a second reimbursement cannot take
the same balance), become OFFSET ledger entries when the chain approves it, and are released
when it is rejected. Every step locks the employee, so concurrent submissions serialize.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from tortoise.expressions import Q
from tortoise.functions import Sum

from server.domain import approvals as A
from server.domain import duties as D
from server.domain import ledger as L
from server.domain import offsets as O
from server.domain import validation as V
from server.domain.errors import DomainError, Forbidden, InvalidTransition, ValidationFailed
from server.domain.messages import _m
from server.domain.money import MAX_AMOUNT, ZERO, from_fen, parse_money, to_fen
from server.domain.vocab import EmployeeStatus, OffsetState, ReimbursementStatus
from server.models import (
    ApprovalStep,
    Attachment,
    Employee,
    ExpenseLine,
    Loan,
    Position,
    Reimbursement,
    ReimbursementOffset,
)
from server.services import audit, workflow
from server.services.base import (
    Page,
    Viewer,
    atomic,
    get_locked,
    lock_employee,
    lookup_id,
    next_sequence,
    require_login,
    today,
    utcnow,
)
from server.services.company import FOUR_EYES_PAYOUT, get_setting
from server.services.duties import four_eyes_refusal
from server.services.loans import (
    PURPOSES,
    _actor,
    _actor_may_decide,
    _save_new_chain,
    _to_step,
    append_reduction,
    decide_chain,
    outstanding_by_loan,
    waiting_for,
    waiting_page,
)
from server.services.org import can_see_employee, visible_page
from server.storage import VOUCHER_TYPES, StoredFile, store_uploads

STATUSES = tuple(ReimbursementStatus)
RESERVED, APPLIED, RELEASED = OffsetState.RESERVED, OffsetState.APPLIED, OffsetState.RELEASED
MAX_LINES = 50
MAX_DESCRIPTION = 2000
MAX_INVOICE_NO = 64
MAX_AGE_DAYS = 366  # an expense older than a year is not reimbursed through this flow
_SPACES = re.compile(r"\s+")


# ---------------------------------------------------------------- input


@dataclass(frozen=True)
class ExpenseLineData:
    category: str
    amount: Any
    incurred_on: date
    invoice_no: str | None = None
    description: str | None = None
    vouchers: list[Any] | None = None


@dataclass(frozen=True)
class OffsetRequest:
    loan_id: Any
    amount: Any


@dataclass(frozen=True)
class ReimbursementData:
    lines: list[ExpenseLineData]
    # None: the server offsets the employee's open loans oldest first.
    offsets: list[OffsetRequest] | None = None


@dataclass
class _Line:
    order: int
    category: str
    amount: Decimal
    incurred_on: date
    invoice_no: str | None
    description: str | None
    files: list[StoredFile] = field(default_factory=list)


def normalize_invoice_no(value: str | None) -> str | None:
    """Invoice numbers compare without spaces and case: '0123 4567' and '01234567' are one invoice."""
    text = _SPACES.sub("", value or "").upper()
    return text or None


def _parse_line(index: int, line: ExpenseLineData, on: date) -> _Line:
    where = f"lines.{index}"
    category = str(getattr(line.category, "value", line.category))
    if category not in PURPOSES:
        raise ValidationFailed(_m("第 %(line)s 行：未知的费用类别 %(category)s", line=index + 1, category=category),
                               field=f"{where}.category")
    amount = parse_money(line.amount, f"{where}.amount")
    if line.incurred_on > on:
        raise ValidationFailed(_m("第 %(line)s 行：发生日期不能晚于今天", line=index + 1),
                               field=f"{where}.incurredOn")
    if line.incurred_on < on - timedelta(days=MAX_AGE_DAYS):
        raise ValidationFailed(_m("第 %(line)s 行：发生日期超过一年", line=index + 1),
                               field=f"{where}.incurredOn")
    invoice_no = normalize_invoice_no(V.clean_text(line.invoice_no, f"{where}.invoiceNo", V.TEXT))
    if invoice_no is not None and len(invoice_no) > MAX_INVOICE_NO:
        raise ValidationFailed(_m("第 %(line)s 行：发票号超过 %(max)s 个字符", line=index + 1, max=MAX_INVOICE_NO),
                               field=f"{where}.invoiceNo")
    description = V.clean_text(line.description, f"{where}.description", V.TEXT)
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise ValidationFailed(_m("第 %(line)s 行：说明超过 %(max)s 个字符", line=index + 1, max=MAX_DESCRIPTION),
                               field=f"{where}.description")
    return _Line(index + 1, category, amount, line.incurred_on, invoice_no, description)


def _parse_offsets(requested: list[OffsetRequest] | None) -> list[O.Allocation] | None:
    if requested is None:
        return None
    out = []
    for i, item in enumerate(requested):
        try:
            loan_id = int(str(item.loan_id))
        except (TypeError, ValueError):
            raise ValidationFailed(_m("借款 %(loan)s 不存在", loan=item.loan_id),
                                   field="offsets") from None
        out.append(O.Allocation(loan_id, parse_money(item.amount, f"offsets.{i}.amount")))
    return out


def _check_duplicates_within(lines: list[_Line]) -> None:
    seen_invoice: dict[str, int] = {}
    seen_file: dict[str, int] = {}
    for line in lines:
        if line.invoice_no is not None:
            if line.invoice_no in seen_invoice:
                raise ValidationFailed(
                    _m("发票号 %(invoice)s 在第 %(first)s 行和第 %(second)s 行重复", invoice=line.invoice_no,
                       first=seen_invoice[line.invoice_no], second=line.order),
                    field=f"lines.{line.order - 1}.invoiceNo",
                )
            seen_invoice[line.invoice_no] = line.order
        for f in line.files:
            if f.sha256 in seen_file:
                raise ValidationFailed(
                    _m("凭证 %(file)s 在本报销单中重复上传", file=f.filename),
                    field=f"lines.{line.order - 1}.vouchers",
                )
            seen_file[f.sha256] = line.order


async def _check_duplicates_elsewhere(lines: list[_Line], employee_id: int | None = None) -> None:
    """An invoice number or a voucher file already on another non-rejected reimbursement is refused.

    The submitter is told which of their own reimbursements it collides with, but never another
    person's document number (finance and the approvers see that on the duplicate warnings)."""
    invoices = [line.invoice_no for line in lines if line.invoice_no]
    if invoices:
        row = await (
            ExpenseLine.filter(invoice_no__in=invoices).exclude(reimbursement__status=ReimbursementStatus.REJECTED)
            .order_by("id").first().values("invoice_no", "reimbursement__number", "reimbursement__employee_id")
        )
        if row is not None:
            number, invoice = row["reimbursement__number"], row["invoice_no"]
            index = next(line.order - 1 for line in lines if line.invoice_no == invoice)
            if not D.own_money(employee_id, row["reimbursement__employee_id"]):
                raise ValidationFailed(
                    _m("发票号 %(invoice)s 已被其他报销单使用", invoice=invoice),
                    field=f"lines.{index}.invoiceNo",
                )
            raise ValidationFailed(
                _m("发票号 %(invoice)s 已在报销单 %(number)s 中使用", invoice=invoice, number=number),
                field=f"lines.{index}.invoiceNo", details={"duplicateOf": number},  # the viewer's own document
            )
    digests = [f.sha256 for line in lines for f in line.files]
    if digests:
        row = await (
            Attachment.filter(sha256__in=digests, expense_line_id__not_isnull=True)
            .exclude(expense_line__reimbursement__status=ReimbursementStatus.REJECTED)
            .order_by("id").first().values("sha256", "expense_line__reimbursement__number",
                                           "expense_line__reimbursement__employee_id")
        )
        if row is not None:
            number = row["expense_line__reimbursement__number"]
            line, f = next((ln, f) for ln in lines for f in ln.files if f.sha256 == row["sha256"])
            if not D.own_money(employee_id, row["expense_line__reimbursement__employee_id"]):
                raise ValidationFailed(
                    _m("凭证 %(file)s 已被其他报销单使用", file=f.filename),
                    field=f"lines.{line.order - 1}.vouchers",
                )
            raise ValidationFailed(
                _m("凭证 %(file)s 已在报销单 %(number)s 中使用", file=f.filename, number=number),
                field=f"lines.{line.order - 1}.vouchers", details={"duplicateOf": number},
            )


# ---------------------------------------------------------------- reading


async def reserved_by_loan(loan_ids: Iterable[int]) -> dict[int, Decimal]:
    """Offsets reserved by pending reimbursements, per loan."""
    ids = list(set(loan_ids))
    if not ids:
        return {}
    rows = await (
        ReimbursementOffset.filter(loan_id__in=ids, state=RESERVED).group_by("loan_id")
        .annotate(total=Sum("amount_fen")).values("loan_id", "total")
    )
    out = {i: ZERO for i in ids}
    for row in rows:
        out[row["loan_id"]] = from_fen(int(row["total"] or 0))
    return out


async def open_loans(employee_id: int, also: Iterable[int] = ()) -> tuple[dict[int, O.OpenLoan], dict[int, Loan]]:
    """The employee's open loans (and any other loans named), with what each still leaves to offset."""
    q = Q(employee_id=employee_id, status__in=sorted(L.OPEN_STATUSES))
    extra = list(set(also))
    if extra:
        q |= Q(id__in=extra)
    rows = await Loan.filter(q)
    ids = [r.id for r in rows]
    balances = await outstanding_by_loan(ids)
    reserved = await reserved_by_loan(ids)
    loans = {
        r.id: O.OpenLoan(
            loan_id=r.id, number=r.number, employee_id=r.employee_id, status=r.status,  # type: ignore[attr-defined]
            offsettable=O.offsettable(balances[r.id], reserved[r.id]),
            disbursed_order=(r.disbursed_at or r.created_at, r.id),
        )
        for r in rows
    }
    return loans, {r.id: r for r in rows}


async def can_see_reimbursement(viewer: Viewer, row: Reimbursement) -> bool:
    if viewer.sees_all:
        return True
    employee = await Employee.get(id=row.employee_id)  # type: ignore[attr-defined]
    if await can_see_employee(viewer, employee):
        return True
    # A role-holder whose decision it is waiting for sees it.
    step = await ApprovalStep.filter(reimbursement_id=row.id, is_current=True).first()
    return step is not None and _actor_may_decide(viewer, step, row.employee_id)  # type: ignore[attr-defined]


async def get_reimbursement(viewer: Viewer, reimbursement_id: Any) -> Reimbursement | None:
    require_login(viewer)
    row = await Reimbursement.filter(id=lookup_id(reimbursement_id)).first()
    if row is None:
        return None
    if not await can_see_reimbursement(viewer, row):
        raise Forbidden(_m("无权查看该报销单"))
    return row


async def list_reimbursements(
    viewer: Viewer, employee_id: Any = None, statuses: list[str] | None = None, first: int = 50, after: list[Any] | None = None,
) -> Page:
    return await visible_page(viewer, Reimbursement, employee_id, statuses, first, after)


async def pending_reimbursement_approvals(viewer: Viewer) -> list[Reimbursement]:
    """Reimbursements whose current approval step is the viewer's to decide."""
    return await waiting_for(viewer, Reimbursement, "reimbursement_id")


async def reimbursement_approval_inbox(viewer: Viewer, first: int = 50, after: list[Any] | None = None) -> Page:
    """The same, paged by keyset, oldest first (the approvers' queue page)."""
    return await waiting_page(viewer, Reimbursement, "reimbursement_id", first, after)


@dataclass(frozen=True)
class OffsetPreview:
    total: Decimal
    offsets: list[tuple[Loan, Decimal]]
    offset_total: Decimal
    payable: Decimal
    owed: Decimal
    # Every open loan with what a new reimbursement may still take off it, oldest first (the form lists
    # them all, so that offsets may be chosen by hand).
    open_loans: list[tuple[Loan, Decimal]] = field(default_factory=list)


async def preview_offsets(viewer: Viewer, total: Any) -> OffsetPreview:
    """For the reimbursement form: how the server would offset `total` now (oldest first).
    The server decides again on submit."""
    require_login(viewer)
    if viewer.employee_id is None:
        raise Forbidden(_m("该账号没有员工档案，不能报销"))
    # 0.00 is what an empty form totals: nothing to offset yet, but the open loans are listed.
    value = parse_money(total, "total", allow_zero=True)
    loans, models = await open_loans(viewer.employee_id)
    allocations = O.plan(value, None, loans, viewer.employee_id) if value > 0 else []
    owed = O.owed(list(loans.values()), viewer.employee_id)
    # Allocating everything owed lists each open loan with its whole offsettable amount, oldest first.
    everything = O.allocate_oldest_first(owed, list(loans.values()))
    return OffsetPreview(
        total=value, offsets=[(models[a.loan_id], a.amount) for a in allocations],
        offset_total=O.offset_total(allocations), payable=O.payable(value, allocations), owed=owed,
        open_loans=[(models[a.loan_id], a.amount) for a in everything],
    )


@dataclass(frozen=True)
class DuplicateUse:
    """Another reimbursement carrying the same invoice number or voucher file as an expense line."""

    kind: str  # INVOICE_NO | VOUCHER_FILE
    reimbursement_id: int
    number: str
    status: str
    same_employee: bool
    owner_employee_id: int  # whose line it is (decides who may be told about other people's claims)
    invoice_no: str | None = None
    filename: str | None = None


async def duplicates_by_line(line_ids: Sequence[int]) -> list[list[DuplicateUse]]:
    """Batch reader (DataLoader) for approvers' warnings: per expense line, the other reimbursements with the
    same invoice number or the same voucher file, oldest first. Submission refuses such duplicates unless the
    other reimbursement was rejected, so on a pending one these are rejected claims shown again.
    Four queries whatever the number of lines; lines are reached from an authorized reimbursement."""
    ids = list(set(line_ids))
    lines = {row["id"]: row for row in await ExpenseLine.filter(id__in=ids).values(
        "id", "invoice_no", "reimbursement_id", "reimbursement__employee_id")}
    found: dict[int, dict[tuple[str, int], DuplicateUse]] = {i: {} for i in ids}

    def add(line_id: int, kind: str, other: dict, prefix: str, **detail: Any) -> None:
        line = lines[line_id]
        if other[f"{prefix}reimbursement_id"] == line["reimbursement_id"]:
            return
        found[line_id].setdefault((kind, other[f"{prefix}reimbursement_id"]), DuplicateUse(
            kind=kind, reimbursement_id=other[f"{prefix}reimbursement_id"],
            number=other[f"{prefix}reimbursement__number"], status=other[f"{prefix}reimbursement__status"],
            same_employee=other[f"{prefix}reimbursement__employee_id"] == line["reimbursement__employee_id"],
            owner_employee_id=line["reimbursement__employee_id"], **detail,
        ))

    by_invoice: dict[str, list[int]] = {}
    for line in lines.values():
        if line["invoice_no"]:
            by_invoice.setdefault(line["invoice_no"], []).append(line["id"])
    if by_invoice:
        for other in await ExpenseLine.filter(invoice_no__in=list(by_invoice)).order_by("id").values(
            "invoice_no", "reimbursement_id", "reimbursement__number", "reimbursement__status",
            "reimbursement__employee_id",
        ):
            for line_id in by_invoice[other["invoice_no"]]:
                add(line_id, "INVOICE_NO", other, "", invoice_no=other["invoice_no"])
    by_digest: dict[str, list[tuple[int, str]]] = {}
    for voucher in await Attachment.filter(expense_line_id__in=ids).values("expense_line_id", "sha256", "filename"):
        by_digest.setdefault(voucher["sha256"], []).append((voucher["expense_line_id"], voucher["filename"]))
    if by_digest:
        prefix = "expense_line__"
        for other in await Attachment.filter(sha256__in=list(by_digest), expense_line_id__not_isnull=True).order_by(
            "id"
        ).values(
            "sha256", f"{prefix}reimbursement_id", f"{prefix}reimbursement__number",
            f"{prefix}reimbursement__status", f"{prefix}reimbursement__employee_id",
        ):
            for line_id, filename in by_digest[other["sha256"]]:
                add(line_id, "VOUCHER_FILE", other, prefix, filename=filename)
    return [list(found.get(i, {}).values()) for i in line_ids]


def duplicates_visible_to(viewer: Viewer, uses: list[DuplicateUse]) -> list[DuplicateUse]:
    """Approvers and finance see every duplicate; the employee is not told about other people's claims."""
    if viewer.sees_all:
        return uses
    return [u for u in uses if u.same_employee or viewer.employee_id != u.owner_employee_id]


# ---------------------------------------------------------------- submitting


async def submit_reimbursement(viewer: Viewer, data: ReimbursementData) -> Reimbursement:
    """The viewer claims expenses for themself; open loans are offset first (mandatory)."""
    require_login(viewer)
    if viewer.employee_id is None:
        raise Forbidden(_m("该账号没有员工档案，不能报销"))
    on = today()
    if not data.lines:
        raise ValidationFailed(_m("至少需要一条费用明细"), field="lines")
    if len(data.lines) > MAX_LINES:
        raise ValidationFailed(_m("费用明细最多 %(max)s 条", max=MAX_LINES), field="lines")
    lines = [_parse_line(i, line, on) for i, line in enumerate(data.lines)]
    total = sum((line.amount for line in lines), ZERO)
    if total > MAX_AMOUNT:
        raise ValidationFailed(_m("报销总额过大"), field="lines")
    requested = _parse_offsets(data.offsets)
    for line, given in zip(lines, data.lines, strict=True):
        line.files = await store_uploads(given.vouchers, VOUCHER_TYPES, f"lines.{line.order - 1}.vouchers")
    _check_duplicates_within(lines)

    async with atomic():
        await lock_employee(viewer.employee_id)
        employee = await Employee.get(id=viewer.employee_id)
        if employee.status == EmployeeStatus.LEFT:
            raise Forbidden(_m("员工已离职"))
        # Taking the number updates one counter row: every submission waits here for the one
        # before it to commit, so the duplicate checks below see all earlier reimbursements.
        number = f"BX-{on.year}-{await next_sequence(f'reimbursement-{on.year}'):06d}"
        await _check_duplicates_elsewhere(lines, employee.id)
        loans, _ = await open_loans(employee.id, [a.loan_id for a in requested or []])
        allocations = O.plan(total, requested, loans, employee.id)
        now = utcnow()
        row = await Reimbursement.create(
            number=number, employee_id=employee.id, status=ReimbursementStatus.PENDING_APPROVAL, total_fen=to_fen(total),
            created_at=now,
        )
        for line in lines:
            line_row = await ExpenseLine.create(
                reimbursement=row, order=line.order, category=line.category, amount_fen=to_fen(line.amount),
                incurred_on=line.incurred_on, invoice_no=line.invoice_no, description=line.description,
            )
            for f in line.files:
                await Attachment.create(sha256=f.sha256, filename=f.filename, content_type=f.content_type,
                                        size=f.size, uploaded_by_id=viewer.user_id, expense_line=line_row)
        for alloc in allocations:
            await ReimbursementOffset.create(reimbursement=row, loan_id=alloc.loan_id,
                                             amount_fen=to_fen(alloc.amount), state=RESERVED)
        await audit.record(viewer, "reimbursement.submit", "reimbursement", row.id, None, {
            "number": number, "status": row.status, "total": total,
            "offsets": [{"loan": loans[a.loan_id].number, "amount": a.amount} for a in allocations],
            "offsetTotal": O.offset_total(allocations), "payable": O.payable(total, allocations),
            "allocation": "OLDEST_FIRST" if requested is None else "EXPLICIT",
            "lines": [{"category": ln.category, "amount": ln.amount, "incurredOn": ln.incurred_on,
                       "invoiceNo": ln.invoice_no, "vouchers": [f.sha256 for f in ln.files]} for ln in lines],
            "linesWithoutVouchers": sum(1 for ln in lines if not ln.files),
        })
        position = await Position.get(id=employee.position_id)  # type: ignore[attr-defined]
        steps = A.build_chain(list(position.approval_chain), employee.supervisor_id)  # type: ignore[attr-defined]
        await _save_new_chain(steps, reimbursement=row)
        if A.chain_outcome(steps) == ReimbursementStatus.APPROVED:  # every step skipped: nobody left to ask
            await _approve(viewer, row, note="审批链无可用审批人，自动通过")
        await workflow.reimbursement_moved(viewer, row)
    return row


# ---------------------------------------------------------------- deciding and paying


async def _get_for_update(reimbursement_id: Any) -> Reimbursement:
    return await get_locked(Reimbursement, reimbursement_id, "报销单", "reimbursement")


async def _apply_offsets(viewer: Viewer, row: Reimbursement) -> list[dict]:
    """Turn the reservations into OFFSET ledger entries (employee locked by the caller)."""
    applied = []
    for off in await ReimbursementOffset.filter(reimbursement_id=row.id, state=RESERVED).order_by("id"):
        loan = await Loan.get(id=off.loan_id)  # type: ignore[attr-defined]
        balance = (await outstanding_by_loan([loan.id]))[loan.id] if loan.status in L.OPEN_STATUSES else ZERO
        reserved = from_fen(off.amount_fen)
        amount = O.applicable(reserved, balance)
        if amount > 0:
            await append_reduction(viewer, loan, L.OFFSET, amount, note=f"报销单 {row.number} 冲抵",
                                   reimbursement_id=row.id)
            off.state, off.amount_fen = APPLIED, to_fen(amount)
        else:
            off.state = RELEASED
        await off.save(update_fields=["state", "amount_fen"])
        applied.append({"loan": loan.number, "reserved": reserved, "applied": amount})
    return applied


async def _approve(viewer: Viewer, row: Reimbursement, **details: Any) -> None:
    before = {"status": row.status}
    row.status, row.decided_at = ReimbursementStatus.APPROVED, utcnow()
    await row.save(update_fields=["status", "decided_at"])
    applied = await _apply_offsets(viewer, row)
    await audit.record(viewer, "reimbursement.approve", "reimbursement", row.id, before, {
        "status": row.status, "offsets": applied, **details,
    })


async def decide_reimbursement(
    viewer: Viewer, reimbursement_id: Any, decision: str, comment: str | None = None,
) -> Reimbursement:
    require_login(viewer)
    decision, comment = str(getattr(decision, "value", decision)), V.clean_text(comment, "comment", V.TEXT)
    async with atomic():
        row = await _get_for_update(reimbursement_id)
        rows = await ApprovalStep.filter(reimbursement_id=row.id).order_by("order")
        refusal = decide_refusal(viewer, row, rows)
        if refusal is not None:
            if isinstance(refusal, InvalidTransition) and not await can_see_reimbursement(viewer, row):
                raise Forbidden(_m("无权审批该报销单"))
            raise refusal
        step, outcome = await decide_chain(viewer, rows, row.employee_id, decision, comment)  # type: ignore[attr-defined]
        decided = {"step": step.order, "role": step.role, "comment": step.comment}
        if outcome == ReimbursementStatus.APPROVED:
            await _approve(viewer, row, **decided)
        elif outcome == ReimbursementStatus.REJECTED:
            before = {"status": row.status}
            row.status, row.decided_at = ReimbursementStatus.REJECTED, utcnow()
            await row.save(update_fields=["status", "decided_at"])
            released = await ReimbursementOffset.filter(reimbursement_id=row.id, state=RESERVED).update(
                state=RELEASED
            )
            await audit.record(viewer, "reimbursement.reject", "reimbursement", row.id, before, {
                "status": row.status, "offsetsReleased": released, **decided,
            })
        else:
            await audit.record(viewer, "reimbursement.approve_step", "reimbursement", row.id,
                               {"status": row.status}, {"status": row.status, **decided})
        await workflow.reimbursement_moved(viewer, row)
    return row


async def pay_reimbursement(viewer: Viewer, reimbursement_id: Any) -> Reimbursement:
    """FINANCE records that the payable amount was paid out (also when it is 0.00: the claim is closed)."""
    require_login(viewer)
    D.require(viewer.roles, D.PAY_REIMBURSEMENT)
    async with atomic():
        row = await _get_for_update(reimbursement_id)
        four_eyes = bool(await get_setting(FOUR_EYES_PAYOUT))
        steps = await ApprovalStep.filter(reimbursement_id=row.id) if four_eyes else []
        refusal = pay_refusal(viewer, row, four_eyes, steps)
        if refusal is not None:
            raise refusal
        applied = await ReimbursementOffset.filter(reimbursement_id=row.id, state=APPLIED)
        paid = from_fen(row.total_fen - sum(o.amount_fen for o in applied))
        row.status, row.paid_at = ReimbursementStatus.PAID, utcnow()
        await row.save(update_fields=["status", "paid_at"])
        await audit.record(viewer, "reimbursement.pay", "reimbursement", row.id, {"status": ReimbursementStatus.APPROVED},
                           {"status": ReimbursementStatus.PAID, "paid": paid})
        await workflow.reimbursement_paid(viewer, row, paid)
    return row


# ---------------------------------------------------------------- what the viewer may do
# Each *_refusal is the check its mutation raises and the `viewerCan` flag the schema shows.


def decide_refusal(viewer: Viewer, row: Reimbursement, steps: Sequence[ApprovalStep]) -> DomainError | None:
    if row.status != ReimbursementStatus.PENDING_APPROVAL:
        return InvalidTransition(_m("报销单 %(number)s 状态为 %(status)s，不能审批", number=row.number, status=row.status))
    return A.decide_refusal([_to_step(r) for r in steps], _actor(viewer), row.employee_id)  # type: ignore[attr-defined]


def pay_refusal(
    viewer: Viewer, row: Reimbursement, four_eyes: bool, steps: Sequence[ApprovalStep],
) -> DomainError | None:
    """`four_eyes` is the FOUR_EYES_PAYOUT setting; `steps` the reimbursement's approval steps."""
    if (refusal := D.role_refusal(viewer.roles, D.PAY_REIMBURSEMENT)) is not None:
        return refusal
    if row.status != ReimbursementStatus.APPROVED:
        return InvalidTransition(
            _m("报销单 %(number)s 状态为 %(status)s，不能付款", number=row.number, status=row.status)
        )
    if D.own_money(viewer.employee_id, row.employee_id):  # type: ignore[attr-defined]
        return Forbidden(_m("不能给自己付款"))
    return four_eyes_refusal(viewer, four_eyes, steps)
