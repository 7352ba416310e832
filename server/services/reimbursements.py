"""Reimbursements: submit (offsets reserved against open loans), approval chain, offsets applied, payment.

A reimbursement's offsets are reserved at submission (so a second reimbursement cannot take
the same balance), become OFFSET ledger entries when the chain approves it, and are released
when it is rejected. Every step locks the employee, so concurrent submissions serialize.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from tortoise.expressions import Q
from tortoise.functions import Sum

from server.domain import approvals, duties, validation
from server.domain import ledger as ledger_rules
from server.domain import offsets as offset_rules
from server.domain.errors import Conflict, DomainError, Forbidden, InvalidTransition, ValidationFailed
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
from server.services import audit, duplicates, invoice_qr, workflow
from server.services.approvals import (
    actor,
    actor_may_decide,
    decide_chain,
    save_new_chain,
    to_step,
    waiting_for,
    waiting_page,
)
from server.services.base import (
    SYSTEM,
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
from server.services.duplicates import (  # noqa: F401  (importable from here as before)
    DuplicateUse,
    duplicates_by_line,
    duplicates_visible_to,
    normalize_invoice_no,
)
from server.services.duties import four_eyes_refusal
from server.services.loans import AUTO_APPROVED, PURPOSES, append_reduction, outstanding_by_loan
from server.services.org import can_see_employee, visible_page
from server.storage import MAX_FILES, VOUCHER_TYPES, StoredFile, store_uploads

STATUSES = tuple(ReimbursementStatus)
RESERVED, APPLIED, RELEASED = OffsetState.RESERVED, OffsetState.APPLIED, OffsetState.RELEASED
MAX_LINES = 50
MAX_DESCRIPTION = 2000
MAX_INVOICE_NO = 64
MAX_AGE_DAYS = 366  # an expense older than a year is not reimbursed through this flow


# ---------------------------------------------------------------- input


@dataclass(frozen=True)
class ExpenseLineData:
    category: str
    amount: Any
    incurred_on: date
    invoice_no: str | None = None
    description: str | None = None
    vouchers: list[Any] | None = None
    # Ids of vouchers held for the draft (hold_vouchers) after a refused submission: attached, not re-uploaded.
    held_vouchers: list[Any] | None = None


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
    invoice_no = normalize_invoice_no(validation.clean_text(line.invoice_no, f"{where}.invoiceNo", validation.TEXT))
    if invoice_no is not None and len(invoice_no) > MAX_INVOICE_NO:
        raise ValidationFailed(_m("第 %(line)s 行：发票号超过 %(max)s 个字符", line=index + 1, max=MAX_INVOICE_NO),
                               field=f"{where}.invoiceNo")
    description = validation.clean_text(line.description, f"{where}.description", validation.TEXT)
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise ValidationFailed(_m("第 %(line)s 行：说明超过 %(max)s 个字符", line=index + 1, max=MAX_DESCRIPTION),
                               field=f"{where}.description")
    return _Line(index + 1, category, amount, line.incurred_on, invoice_no, description)


def _parse_offsets(requested: list[OffsetRequest] | None) -> list[offset_rules.Allocation] | None:
    if requested is None:
        return None
    out = []
    for i, item in enumerate(requested):
        try:
            loan_id = int(str(item.loan_id))
        except (TypeError, ValueError):
            raise ValidationFailed(_m("借款 %(loan)s 不存在", loan=item.loan_id),
                                   field="offsets") from None
        out.append(offset_rules.Allocation(loan_id, parse_money(item.amount, f"offsets.{i}.amount")))
    return out


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


async def open_loans(employee_id: int, also: Iterable[int] = ()) -> tuple[dict[int, offset_rules.OpenLoan], dict[int, Loan]]:
    """The employee's open loans (and any other loans named), with what each still leaves to offset."""
    q = Q(employee_id=employee_id, status__in=sorted(ledger_rules.OPEN_STATUSES))
    extra = list(set(also))
    if extra:
        q |= Q(id__in=extra)
    rows = await Loan.filter(q)
    ids = [r.id for r in rows]
    balances = await outstanding_by_loan(ids)
    reserved = await reserved_by_loan(ids)
    loans = {
        r.id: offset_rules.OpenLoan(
            loan_id=r.id, number=r.number, employee_id=r.employee_id, status=r.status,  # type: ignore[attr-defined]
            offsettable=offset_rules.offsettable(balances[r.id], reserved[r.id]),
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
    return step is not None and actor_may_decide(viewer, step, row.employee_id)  # type: ignore[attr-defined]


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
    allocations = offset_rules.plan(value, None, loans, viewer.employee_id) if value > 0 else []
    owed = offset_rules.owed(list(loans.values()), viewer.employee_id)
    # Allocating everything owed lists each open loan with its whole offsettable amount, oldest first.
    everything = offset_rules.allocate_oldest_first(owed, list(loans.values()))
    return OffsetPreview(
        total=value, offsets=[(models[a.loan_id], a.amount) for a in allocations],
        offset_total=offset_rules.offset_total(allocations), payable=offset_rules.payable(value, allocations), owed=owed,
        open_loans=[(models[a.loan_id], a.amount) for a in everything],
    )


# ---------------------------------------------------------------- submitting


async def hold_vouchers(viewer: Viewer, uploads: list[Any] | None) -> list[Attachment]:
    """Keep a draft's vouchers on the server (after a refused submission the form need not ask for them
    again): stored and checked like any voucher, owned by the uploader, attached to nothing until a
    submission names them (`held_vouchers`). Only the uploader may download or use them."""
    require_login(viewer)
    if viewer.employee_id is None:
        raise Forbidden(_m("该账号没有员工档案，不能报销"))
    files = await store_uploads(uploads, VOUCHER_TYPES, "vouchers")
    if not files:
        return []
    async with atomic():
        rows = [await Attachment.create(sha256=f.sha256, filename=f.filename, content_type=f.content_type,
                                        size=f.size, uploaded_by_id=viewer.user_id) for f in files]
        await audit.record(viewer, "attachment.hold", "attachment", rows[0].id, None, {
            "ids": [r.id for r in rows], "files": [f.sha256 for f in files]})
    return rows


async def _held_vouchers(viewer: Viewer, ids: list[Any] | None, field: str) -> list[Attachment]:
    if not ids:
        return []
    wanted = sorted({lookup_id(i) for i in ids})
    rows = await Attachment.filter(id__in=wanted, uploaded_by_id=viewer.user_id, loan_id=None, expense_line_id=None,
                                   ledger_entry_id=None).order_by("id")
    if len(rows) != len(wanted):  # someone else's, already used, or unknown: the same answer
        raise ValidationFailed(_m("保留的凭证已失效，请重新选择文件"), field=field)
    return list(rows)


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
    held: dict[int, list[Attachment]] = {}
    for line, given in zip(lines, data.lines, strict=True):
        where = f"lines.{line.order - 1}.vouchers"
        line.files = await store_uploads(given.vouchers, VOUCHER_TYPES, where)
        held[line.order] = await _held_vouchers(viewer, given.held_vouchers, where)
        line.files += [StoredFile(a.sha256, a.filename, a.content_type, a.size) for a in held[line.order]]
        if len(line.files) > MAX_FILES:
            raise ValidationFailed(_m("最多 %(max)s 个文件", max=MAX_FILES), field=where)
    # Issue 15: an empty invoice number is read from the voucher's QR code, then checked like a typed one.
    await invoice_qr.fill_lines(lines)
    duplicates.check_within(lines)

    async with atomic():
        await lock_employee(viewer.employee_id)
        employee = await Employee.get(id=viewer.employee_id)
        if employee.status == EmployeeStatus.LEFT:
            raise Forbidden(_m("员工已离职"))
        # Taking the number updates one counter row: every submission waits here for the one
        # before it to commit, so the duplicate checks below see all earlier reimbursements.
        number = f"BX-{on.year}-{await next_sequence(f'reimbursement-{on.year}'):06d}"
        await duplicates.check_elsewhere(lines, employee.id)
        loans, _ = await open_loans(employee.id, [a.loan_id for a in requested or []])
        allocations = offset_rules.plan(total, requested, loans, employee.id)
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
            kept = held[line.order]
            for f in line.files[:len(line.files) - len(kept)]:
                await Attachment.create(sha256=f.sha256, filename=f.filename, content_type=f.content_type,
                                        size=f.size, uploaded_by_id=viewer.user_id, expense_line=line_row)
            if kept:
                # Check-and-set: a held voucher joins one line of one reimbursement only.
                linked = await Attachment.filter(id__in=[a.id for a in kept], expense_line_id=None).update(
                    expense_line_id=line_row.id)
                if linked != len(kept):
                    raise Conflict(_m("保留的凭证已被使用，请重新选择文件"), field=f"lines.{line.order - 1}.vouchers")
        for alloc in allocations:
            await ReimbursementOffset.create(reimbursement=row, loan_id=alloc.loan_id,
                                             amount_fen=to_fen(alloc.amount), state=RESERVED)
        await audit.record(viewer, "reimbursement.submit", "reimbursement", row.id, None, {
            "number": number, "status": row.status, "total": total,
            "offsets": [{"loan": loans[a.loan_id].number, "amount": a.amount} for a in allocations],
            "offsetTotal": offset_rules.offset_total(allocations), "payable": offset_rules.payable(total, allocations),
            "allocation": "OLDEST_FIRST" if requested is None else "EXPLICIT",
            "lines": [{"category": ln.category, "amount": ln.amount, "incurredOn": ln.incurred_on,
                       "invoiceNo": ln.invoice_no, "vouchers": [f.sha256 for f in ln.files]} for ln in lines],
            "linesWithoutVouchers": sum(1 for ln in lines if not ln.files),
        })
        position = await Position.get(id=employee.position_id)  # type: ignore[attr-defined]
        steps = approvals.build_chain(list(position.approval_chain), employee.supervisor_id)  # type: ignore[attr-defined]
        await save_new_chain(steps, reimbursement=row)
        if approvals.chain_outcome(steps) == ReimbursementStatus.APPROVED:  # every step skipped: nobody left to ask
            await _approve(viewer, row, note=AUTO_APPROVED)
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
        balance = (await outstanding_by_loan([loan.id]))[loan.id] if loan.status in ledger_rules.OPEN_STATUSES else ZERO
        reserved = from_fen(off.amount_fen)
        amount = offset_rules.applicable(reserved, balance)
        if amount > 0:
            await append_reduction(viewer, loan, ledger_rules.OFFSET, amount, note=f"报销单 {row.number} 冲抵",
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
    decision, comment = str(getattr(decision, "value", decision)), validation.clean_text(comment, "comment", validation.TEXT)
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
            if await _payable_now(row) == ZERO:
                # Fully offset: nothing goes out, so no payment waits for a second person (the four-eyes
                # rule is about money paid out). Approved and paid in one go: both events, both notes.
                await workflow.reimbursement_moved(viewer, row)
                await _close_without_payout(row)
                await workflow.reimbursement_paid(viewer, row, ZERO)
                return row
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


async def _payable_now(row: Reimbursement) -> Decimal:
    """What is left to pay out once the offsets are applied (inside the approving transaction)."""
    applied = await ReimbursementOffset.filter(reimbursement_id=row.id, state=APPLIED)
    return offset_rules.payable_of(from_fen(row.total_fen), from_fen(sum(o.amount_fen for o in applied)))


async def _close_without_payout(row: Reimbursement) -> None:
    """PAID with no payer: the system's audit entry (a `reimbursement.pay`, hence the paid webhook)."""
    row.status, row.paid_at = ReimbursementStatus.PAID, utcnow()
    await row.save(update_fields=["status", "paid_at"])
    await audit.record(SYSTEM, "reimbursement.pay", "reimbursement", row.id, {"status": ReimbursementStatus.APPROVED},
                       {"status": ReimbursementStatus.PAID, "paid": ZERO, "payer": None, "fullyOffset": True})


async def pay_reimbursement(viewer: Viewer, reimbursement_id: Any) -> Reimbursement:
    """FINANCE records that the payable amount was paid out (a fully offset claim is closed at its approval)."""
    require_login(viewer)
    duties.require(viewer.roles, duties.PAY_REIMBURSEMENT)
    async with atomic():
        row = await _get_for_update(reimbursement_id)
        four_eyes = bool(await get_setting(FOUR_EYES_PAYOUT))
        steps = await ApprovalStep.filter(reimbursement_id=row.id) if four_eyes else []
        refusal = pay_refusal(viewer, row, four_eyes, steps)
        if refusal is not None:
            raise refusal
        paid = await _payable_now(row)
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
    return approvals.decide_refusal([to_step(r) for r in steps], actor(viewer), row.employee_id)  # type: ignore[attr-defined]


def pay_refusal(
    viewer: Viewer, row: Reimbursement, four_eyes: bool, steps: Sequence[ApprovalStep],
) -> DomainError | None:
    """`four_eyes` is the FOUR_EYES_PAYOUT setting; `steps` the reimbursement's approval steps."""
    if (refusal := duties.role_refusal(viewer.roles, duties.PAY_REIMBURSEMENT)) is not None:
        return refusal
    if row.status != ReimbursementStatus.APPROVED:
        return InvalidTransition(
            _m("报销单 %(number)s 状态为 %(status)s，不能付款", number=row.number, status=row.status)
        )
    if duties.own_money(viewer.employee_id, row.employee_id):  # type: ignore[attr-defined]
        return Forbidden(_m("不能给自己付款"))
    return four_eyes_refusal(viewer, four_eyes, steps)
