"""Loans: apply (live limit check, auto-reject), approval chain, disbursement, settlements, on one ledger."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from tortoise.expressions import Q
from tortoise.functions import Count, Sum

from server.domain import approvals, duties, validation
from server.domain import corrections as correction_rules
from server.domain import ledger as ledger_rules
from server.domain.errors import Conflict, DomainError, Forbidden, InvalidTransition, ValidationFailed
from server.domain.messages import Message, _m
from server.domain.money import ZERO, from_fen, parse_money, to_fen
from server.domain.quota import LoanSnapshot, Quota, compute_quota, rejection_reason
from server.domain.vocab import (
    CANCELLABLE_LOAN_STATUSES,
    COMMITTING_STATUSES,
    EmployeeStatus,
    LoanPurpose,
    LoanStatus,
    SettlementMethod,
)
from server.models import ApprovalStep, Attachment, Employee, LedgerEntry, Loan, Position
from server.services import audit, sums, workflow
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
    Page,
    Viewer,
    atomic,
    get_locked,
    local_date,
    lock_employee,
    lookup_id,
    next_sequence,
    paginate,
    require_login,
    require_role,
    today,
    utcnow,
)
from server.services.company import FOUR_EYES_PAYOUT, get_setting
from server.services.duties import four_eyes_refusal
from server.services.org import can_see_employee, visible_employees_q, visible_page
from server.storage import DOCUMENT_TYPES, StoredFile, store_uploads

# The audit note of a loan nobody could approve (data, in the source language).
AUTO_APPROVED = "审批链无可用审批人，自动通过"

PURPOSES = tuple(LoanPurpose)
MAX_DESCRIPTION = 2000


# ---------------------------------------------------------------- reading balances


async def outstanding_by_loan(loan_ids: Iterable[int]) -> dict[int, Decimal]:
    """Balance of each loan from its ledger: one grouped query for any number of loans."""
    ids = list(set(loan_ids))
    if not ids:
        return {}
    rows = await (
        LedgerEntry.filter(loan_id__in=ids).group_by("loan_id").annotate(total=Sum("delta_fen"))
        .values("loan_id", "total")
    )
    out = {i: ZERO for i in ids}
    for row in rows:
        out[row["loan_id"]] = from_fen(int(row["total"] or 0))
    return out


# Sums over every loan of a list (its unpaged query, authorization applied), in SQL. Each is asked
# only when a page selects it, so a page without figures pays nothing for them.


async def sum_amount(loans: Any) -> Decimal:
    return await sums.total(loans, "amount_fen")


async def sum_outstanding(loans: Any) -> Decimal:
    """Owed now on the list's loans: their ledger entries summed in one statement (the whole ledger when the
    list is every loan: a viewer who sees them all, with no filter)."""
    return await sums.total(sums.rows_of(LedgerEntry, "loan_id", loans), "delta_fen")


def _overdue(loans: Any, on: date | None) -> Any:
    return loans.filter(status__in=sorted(ledger_rules.OPEN_STATUSES), expected_settle_date__lt=on or today())


async def count_overdue(loans: Any, on: date | None = None) -> int:
    return int(await _overdue(loans, on).count())


async def sum_overdue(loans: Any, on: date | None = None) -> Decimal:
    return await sum_outstanding(_overdue(loans, on))


async def ledger_entries(loan_id: int) -> list[LedgerEntry]:
    return await LedgerEntry.filter(loan_id=loan_id).order_by("recorded_at", "id")


def loan_amount(loan: Loan) -> Decimal:
    return from_fen(loan.amount_fen)


async def loan_outstanding(loan: Loan) -> Decimal:
    return (await outstanding_by_loan([loan.id]))[loan.id]


async def quota_for(employee: Employee, position: Position | None = None, on: date | None = None) -> Quota:
    """The employee's quota now: committed = owed on disbursed loans + pending/approved amounts."""
    return (await quotas_for([employee], {employee.id: position} if position else None, on))[employee.id]


async def quotas_for(
    employees: Sequence[Employee], positions: dict[int, Position] | None = None, on: date | None = None,
) -> dict[int, Quota]:
    """Quotas of many employees in three statements (positions, their loans, those loans' balances),
    whatever their number: the approval inbox asks for every applicant's quota at once."""
    on = on or today()
    month_start = on.replace(day=1)
    known = dict(positions or {})
    missing = {e.position_id for e in employees if e.id not in known}  # type: ignore[attr-defined]
    by_position = {p.id: p for p in await Position.filter(id__in=list(missing))} if missing else {}
    ids = [e.id for e in employees]
    # One statement: the loans that count, each with its ledger balance (a grouped left join).
    loans = await Loan.filter(employee_id__in=ids).filter(
        Q(status__in=sorted(COMMITTING_STATUSES))
        | Q(applied_on__gte=month_start)
    ).annotate(owed=Sum("ledger__delta_fen")).group_by("id", "employee_id", "amount_fen", "status", "applied_on").values(
        "id", "employee_id", "amount_fen", "status", "applied_on", "owed") if ids else []
    snapshots: dict[int, list[LoanSnapshot]] = {i: [] for i in ids}
    for r in loans:
        owed = from_fen(int(r["owed"] or 0)) if r["status"] in ledger_rules.LEDGER_STATUSES else ZERO
        snapshots[r["employee_id"]].append(LoanSnapshot(from_fen(r["amount_fen"]), r["status"], owed, r["applied_on"]))
    out = {}
    for e in employees:
        position = known.get(e.id) or by_position[e.position_id]  # type: ignore[attr-defined]
        monthly = None if position.monthly_limit_fen is None else from_fen(position.monthly_limit_fen)
        out[e.id] = compute_quota(from_fen(position.loan_limit_fen), monthly, snapshots[e.id], on)
    return out


async def employee_outstanding(employee_ids: Sequence[int]) -> dict[int, Decimal]:
    """Owed now per employee on disbursed loans."""
    ids = list(set(employee_ids))
    if not ids:
        return {}
    rows = await (
        LedgerEntry.filter(loan__employee_id__in=ids).group_by("loan__employee_id")
        .annotate(total=Sum("delta_fen")).values("loan__employee_id", "total")
    )
    out = {i: ZERO for i in ids}
    for row in rows:
        out[row["loan__employee_id"]] = from_fen(int(row["total"] or 0))
    return out


@dataclass(frozen=True)
class LoanCounts:
    open: int  # disbursed, something still owed
    overdue: int  # of those, past their expected settle date


async def employee_loan_counts(employee_ids: Sequence[int], on: date | None = None) -> dict[int, LoanCounts]:
    """Open and overdue loans per employee, counted in SQL (two grouped statements for any number)."""
    ids = list(set(employee_ids))
    if not ids:
        return {}
    open_loans = Loan.filter(employee_id__in=ids, status__in=sorted(ledger_rules.OPEN_STATUSES))

    async def grouped(qs: Any) -> dict[int, int]:
        rows = await qs.group_by("employee_id").annotate(n=Count("id")).values("employee_id", "n")
        return {row["employee_id"]: int(row["n"]) for row in rows}

    opened = await grouped(open_loans)
    overdue = await grouped(open_loans.filter(expected_settle_date__lt=on or today()))
    return {i: LoanCounts(opened.get(i, 0), overdue.get(i, 0)) for i in ids}


# ---------------------------------------------------------------- visibility


async def can_see_loan(viewer: Viewer, loan: Loan) -> bool:
    if viewer.sees_all:
        return True
    employee = await Employee.get(id=loan.employee_id)  # type: ignore[attr-defined]
    if await can_see_employee(viewer, employee):
        return True
    # A role-holder (or a deputy) whose decision the loan, or an extension of it, is waiting for sees it.
    step = await ApprovalStep.filter(loan_id=loan.id, is_current=True).first()
    if step is not None and actor_may_decide(viewer, step, loan.employee_id):  # type: ignore[attr-defined]
        return True
    waiting = await ApprovalStep.filter(extension__loan_id=loan.id, extension__status=LoanStatus.PENDING_APPROVAL,
                                        is_current=True).first()
    return waiting is not None and actor_may_decide(viewer, waiting, loan.employee_id)  # type: ignore[attr-defined]


async def get_loan(viewer: Viewer, loan_id: Any) -> Loan | None:
    require_login(viewer)
    loan = await Loan.filter(id=lookup_id(loan_id)).first()
    if loan is None:
        return None
    if not await can_see_loan(viewer, loan):
        raise Forbidden(_m("无权查看该借款"))
    return loan


async def _get_loan_for_update(loan_id: Any) -> Loan:
    return await get_locked(Loan, loan_id, "借款", "loan")


async def list_loans(
    viewer: Viewer, employee_id: Any = None, statuses: list[str] | None = None, first: int = 50, after: list[Any] | None = None,
) -> Page:
    return await visible_page(viewer, Loan, employee_id, statuses, first, after)


async def employee_loans(viewer: Viewer, employee: Employee, statuses: list[str] | None = None) -> list[Loan]:
    if not await can_see_employee(viewer, employee):
        raise Forbidden(_m("无权查看该员工的借款"))
    qs = Loan.filter(employee_id=employee.id)
    if statuses:
        qs = qs.filter(status__in=list(statuses))
    return await qs.order_by("-created_at", "-id")


async def employees_loans(
    viewer: Viewer, keys: Sequence[tuple[Employee, tuple[str, ...]]],
) -> list[list[Loan] | Forbidden]:
    """Batch of `employee_loans`: each (employee, statuses) key's loans, newest first, one statement
    per distinct status filter (the inbox asks the same filter for every applicant)."""
    out: list[list[Loan] | Forbidden] = []
    wanted: dict[tuple[str, ...], set[int]] = {}
    allowed = [await can_see_employee(viewer, e) for e, _ in keys]
    for (employee, statuses), ok in zip(keys, allowed, strict=True):
        if ok:
            wanted.setdefault(statuses, set()).add(employee.id)
    found: dict[tuple[tuple[str, ...], int], list[Loan]] = {}
    for statuses, ids in wanted.items():
        qs = Loan.filter(employee_id__in=list(ids))
        if statuses:
            qs = qs.filter(status__in=list(statuses))
        for row in await qs.order_by("-created_at", "-id"):
            found.setdefault((statuses, row.employee_id), []).append(row)  # type: ignore[attr-defined]
    for (employee, statuses), ok in zip(keys, allowed, strict=True):
        out.append(found.get((statuses, employee.id), []) if ok else
                   Forbidden(_m("无权查看该员工的借款")))
    return out


async def pending_loan_approvals(viewer: Viewer) -> list[Loan]:
    """Loans whose current approval step is the viewer's to decide."""
    return await waiting_for(viewer, Loan, "loan_id")


async def loan_approval_inbox(viewer: Viewer, first: int = 50, after: list[Any] | None = None) -> Page:
    return await waiting_page(viewer, Loan, "loan_id", first, after)


OVERDUE_FIRST = ("expected_settle_date", "id")


async def open_loans_by_overdue(viewer: Viewer, first: int = 50, after: list[Any] | None = None) -> Page:
    """Finance's work queue: every disbursed loan not yet settled, most overdue first, over all open
    loans in SQL. An open loan always owes something (its status derives from its ledger), so days
    overdue grow with the distance to the expected settle date: that date orders the queue."""
    require_login(viewer)
    # The same visibility as `loans` (finance sees all; others their own and their reports').
    qs = Loan.filter(await visible_employees_q(viewer, "employee__"), status__in=sorted(ledger_rules.OPEN_STATUSES))
    return await paginate(qs, first, after, OVERDUE_FIRST)


# ---------------------------------------------------------------- applying


@dataclass(frozen=True)
class LoanApplication:
    amount: Any
    purpose: str
    description: str
    expected_settle_date: date | None = None
    attachments: list[Any] | None = None


async def preview_quota(
    viewer: Viewer, amount: Any | None = None,
) -> tuple[Quota, Decimal | None, Message | None]:
    """For the application form: the viewer's quota, what remains after `amount`, and the reason it
    would be rejected (None when it fits). The server decides again on submit."""
    require_login(viewer)
    if viewer.employee_id is None:
        raise Forbidden(_m("该账号没有员工档案，不能借款"))
    employee = await Employee.get(id=viewer.employee_id)
    quota = await quota_for(employee)
    if amount in (None, ""):
        return quota, None, None
    value = parse_money(amount)
    return quota, quota.available - value, rejection_reason(quota, value)


async def apply_for_loan(viewer: Viewer, application: LoanApplication) -> Loan:
    """The viewer applies for themself. Over the limit is not an error: the loan is stored REJECTED."""
    require_login(viewer)
    if viewer.employee_id is None:
        raise Forbidden(_m("该账号没有员工档案，不能借款"))
    amount = parse_money(application.amount)
    purpose = str(getattr(application.purpose, "value", application.purpose))
    if purpose not in PURPOSES:
        raise ValidationFailed(_m("未知的借款用途 %(purpose)s", purpose=purpose), field="purpose")
    description = validation.clean_text(application.description, "description", validation.TEXT) or ""
    if not description:
        raise ValidationFailed(_m("请填写借款用途说明"), field="description")
    if len(description) > MAX_DESCRIPTION:
        raise ValidationFailed(_m("说明不能超过 %(max)s 个字符", max=MAX_DESCRIPTION), field="description")
    now, on = utcnow(), today()
    if application.expected_settle_date is not None and application.expected_settle_date < on:
        raise ValidationFailed(_m("预计报销日期不能早于今天"),
                               field="expectedSettleDate")
    if application.expected_settle_date is not None and application.expected_settle_date > on + timedelta(days=validation.MAX_SETTLE_DAYS):
        raise ValidationFailed(_m("预计报销日期不能晚于一年之后"), field="expectedSettleDate")
    files: list[StoredFile] = await store_uploads(application.attachments, DOCUMENT_TYPES, "attachments")

    async with atomic():
        await lock_employee(viewer.employee_id)
        employee = await Employee.get(id=viewer.employee_id)
        if (refusal := apply_refusal(employee.status)) is not None:
            raise refusal
        position = await Position.get(id=employee.position_id)  # type: ignore[attr-defined]
        settle_date = application.expected_settle_date or on + timedelta(days=position.settle_days)
        quota = await quota_for(employee, position, on)
        reason = rejection_reason(quota, amount)
        # The loan number's counter row is the one lock every application shares: take it last, after
        # the rows of this loan are written, and hold it for two statements (and the audit entries).
        loan = await Loan.create(
            number=f"tmp-{uuid.uuid4().hex[:24]}", employee_id=employee.id, amount_fen=to_fen(amount),
            purpose=purpose, description=description, expected_settle_date=settle_date,
            status=LoanStatus.REJECTED if reason else LoanStatus.PENDING_APPROVAL, rejection_reason=str(reason) if reason else None,
            rejection_message=reason.to_json() if reason else None,
            applied_on=on, created_at=now, decided_at=now if reason else None,
        )
        for f in files:
            await Attachment.create(sha256=f.sha256, filename=f.filename, content_type=f.content_type,
                                    size=f.size, uploaded_by_id=viewer.user_id, loan=loan)
        steps: list[approvals.Step] = []
        if not reason:
            supervisor_id = employee.supervisor_id  # type: ignore[attr-defined]
            steps = approvals.build_chain(list(position.approval_chain), supervisor_id)
            await save_new_chain(steps, loan=loan)
        auto_approved = not reason and approvals.chain_outcome(steps) == LoanStatus.APPROVED  # every step skipped
        number = f"JK-{on.year}-{await next_sequence(f'loan-{on.year}'):06d}"
        loan.number = number
        if auto_approved:
            loan.status, loan.decided_at = LoanStatus.APPROVED, now
        await Loan.filter(id=loan.id).update(number=number, status=loan.status, decided_at=loan.decided_at)
        after = {
            "number": number, "amount": amount, "purpose": purpose, "expectedSettleDate": settle_date,
            "status": LoanStatus.REJECTED if reason else LoanStatus.PENDING_APPROVAL,
            "quota": {"limit": quota.limit, "committed": quota.committed,
                      "available": quota.available, "monthlyUsed": quota.monthly_used},
            "attachments": [f.sha256 for f in files],
        }
        if reason:
            after["rejectionReason"] = str(reason)
            await audit.record(viewer, "loan.auto_reject", "loan", loan.id, None, after)
            return loan
        await audit.record(viewer, "loan.apply", "loan", loan.id, None, after)
        from server.services.risk import enqueue_large_loan_check  # issue 11: the real-time check, after commit
        await enqueue_large_loan_check(loan.id)
        if auto_approved:  # nobody left to ask
            await audit.record(viewer, "loan.approve", "loan", loan.id, {"status": LoanStatus.PENDING_APPROVAL},
                               {"status": LoanStatus.APPROVED, "note": AUTO_APPROVED})
        await workflow.loan_applied(viewer, loan)
    return loan


async def decide_loan(viewer: Viewer, loan_id: Any, decision: str, comment: str | None = None) -> Loan:
    require_login(viewer)
    decision, comment = str(getattr(decision, "value", decision)), validation.clean_text(comment, "comment", validation.TEXT)
    async with atomic():
        loan = await _get_loan_for_update(loan_id)
        rows = await ApprovalStep.filter(loan_id=loan.id).order_by("order")
        refusal = decide_refusal(viewer, loan, rows)
        if refusal is not None:
            if isinstance(refusal, InvalidTransition) and not await can_see_loan(viewer, loan):
                raise Forbidden(_m("无权审批该借款"))
            raise refusal
        row, outcome = await decide_chain(viewer, rows, loan.employee_id, decision, comment)  # type: ignore[attr-defined]
        before = {"status": loan.status}
        if outcome == LoanStatus.APPROVED:
            loan.status, loan.decided_at = LoanStatus.APPROVED, utcnow()
        elif outcome == LoanStatus.REJECTED:
            loan.status, loan.decided_at = LoanStatus.REJECTED, utcnow()
            rejected = _m("审批驳回（%(role)s）：%(comment)s", role=row.role, comment=row.comment)
            loan.rejection_reason, loan.rejection_message = str(rejected), rejected.to_json()
        await loan.save()
        await audit.record(viewer, f"loan.{decision.lower()}", "loan", loan.id, before, {
            "status": loan.status, "step": row.order, "role": row.role, "comment": row.comment,
        })
        await workflow.loan_decided(viewer, loan)
    return loan


async def cancel_loan(viewer: Viewer, loan_id: Any) -> Loan:
    require_login(viewer)
    async with atomic():
        loan = await _get_loan_for_update(loan_id)
        refusal = cancel_refusal(viewer, loan)
        if refusal is not None:
            if isinstance(refusal, Forbidden) and not await can_see_loan(viewer, loan):
                raise Forbidden(_m("无权查看该借款"))
            raise refusal
        await _cancel(viewer, loan, "loan.cancel")
    return loan


async def _cancel(viewer: Viewer, loan: Loan, action: str, note: str | None = None) -> None:
    refusal = _cancel_state_refusal(loan)
    if refusal is not None:
        raise refusal
    before = {"status": loan.status}
    loan.status, loan.cancelled_at = LoanStatus.CANCELLED, utcnow()
    await loan.save(update_fields=["status", "cancelled_at"])
    await ApprovalStep.filter(loan_id=loan.id, is_current=True).update(is_current=False)
    await audit.record(viewer, action, "loan", loan.id, before, {"status": LoanStatus.CANCELLED, "note": note})


async def cancel_open_applications(viewer: Viewer, employee_id: int, note: str) -> list[str]:
    """Inside the caller's transaction: cancel loans not yet paid out (used when an offboarding starts)."""
    numbers = []
    for loan in await Loan.filter(employee_id=employee_id, status__in=sorted(CANCELLABLE_LOAN_STATUSES)):
        await _cancel(viewer, loan, "loan.cancel_on_offboarding", note)
        numbers.append(loan.number)
    return numbers


async def disburse_loan(viewer: Viewer, loan_id: Any, method: str | None = None, reference: str | None = None,
                        paid_on: date | None = None) -> Loan:
    """Pay an approved loan out, recording how (method, the bank's reference) and when (paid_on,
    default today); see ledger_rules.check_disbursement for the defaults and limits."""
    require_login(viewer)
    duties.require(viewer.roles, duties.DISBURSE)
    method = str(getattr(method, "value", method)) if method is not None else None
    reference = validation.clean_text(reference, "reference", validation.REFERENCE)
    async with atomic():
        loan = await _get_loan_for_update(loan_id)
        employee = await Employee.get(id=loan.employee_id)  # type: ignore[attr-defined]
        four_eyes = bool(await get_setting(FOUR_EYES_PAYOUT))
        steps = await ApprovalStep.filter(loan_id=loan.id) if four_eyes else []
        refusal = disburse_refusal(viewer, loan, employee.status, four_eyes, steps)
        if refusal is not None:
            raise refusal
        now = utcnow()
        approved_on = local_date(loan.decided_at or loan.created_at)
        paid = ledger_rules.check_disbursement(method, reference, paid_on, approved_on=approved_on, today=today())
        await LedgerEntry.create(loan=loan, kind=ledger_rules.DISBURSEMENT, delta_fen=loan.amount_fen,
                                 recorded_by_id=viewer.user_id, recorded_at=now, method=paid.method,
                                 reference=paid.reference, paid_on=paid.paid_on)
        loan.status, loan.disbursed_at = LoanStatus.DISBURSED, now
        await loan.save(update_fields=["status", "disbursed_at"])
        await audit.record(viewer, "loan.disburse", "loan", loan.id, {"status": LoanStatus.APPROVED},
                           {"status": LoanStatus.DISBURSED, "amount": loan_amount(loan), "method": paid.method,
                            "reference": paid.reference, "paidOn": paid.paid_on.isoformat()})
        await workflow.loan_disbursed(viewer, loan)
    return loan


# Who may call settleLoan at all, per method, from the role matrix; the finer rules (own money, the
# write-off's second person) are server/domain/corrections.py's.
SETTLE_ROLES: dict[str, tuple[str, ...]] = {
    ledger_rules.CASH_RETURN: tuple(duties.roles_for(duties.SETTLE_CASH)),
    ledger_rules.SALARY_DEDUCTION: tuple(duties.roles_for(duties.SETTLE_SALARY)),
    ledger_rules.WRITE_OFF: tuple(duties.roles_for(duties.PROPOSE_WRITE_OFF) | duties.roles_for(duties.APPROVE_WRITE_OFF)),
}


def as_domain_entries(entries: Iterable[LedgerEntry]) -> list[ledger_rules.Entry]:
    return [ledger_rules.Entry(e.kind, from_fen(e.delta_fen), e.id, e.reverses_id) for e in entries]  # type: ignore[attr-defined]


async def append_reduction(
    viewer: Viewer, loan: Loan, kind: str, amount: Decimal, *, note: str | None = None,
    reimbursement_id: int | None = None, audit_extra: dict[str, Any] | None = None,
) -> LedgerEntry:
    """Take `amount` off a loan, inside the caller's transaction with the employee locked.

    The one place a balance goes down: settlements here, offsets from reimbursements.
    """
    entries = await ledger_entries(loan.id)
    domain_entries = as_domain_entries(entries)
    outstanding = ledger_rules.balance(domain_entries)
    ledger_rules.check_reduction(kind, amount, outstanding, loan.status)
    now = utcnow()
    entry = await LedgerEntry.create(
        loan=loan, kind=kind, delta_fen=-to_fen(amount), reimbursement_id=reimbursement_id,
        note=note, reference=(note or "")[:100] or None if kind in ledger_rules.SETTLEMENT_KINDS else None,
        recorded_by_id=viewer.user_id, recorded_at=now,
    )
    domain_entries.append(ledger_rules.Entry(kind, -amount))
    before = {"status": loan.status, "outstanding": outstanding}
    loan.status = ledger_rules.status_from_ledger(loan_amount(loan), domain_entries)
    if loan.status in (LoanStatus.SETTLED, LoanStatus.WRITTEN_OFF):
        loan.settled_at = now
    await loan.save(update_fields=["status", "settled_at"])
    await audit.record(viewer, f"loan.{kind.lower()}", "loan", loan.id, before, {
        "status": loan.status, "outstanding": outstanding - amount, "amount": amount, "note": note,
        "reimbursementId": reimbursement_id, "ledgerEntryId": entry.id, **(audit_extra or {}),
    })
    await workflow.loan_reduced(viewer, loan, entry)
    return entry


async def settle_loan(viewer: Viewer, loan_id: Any, method: str, amount: Any, note: str | None = None,
                      attachments: list[Any] | None = None) -> Loan:
    """`attachments`: the receipt's photo, the payslip (uploads, checked by content like the loan's
    documents), linked to the settlement's ledger entry and downloadable by whoever may see the loan."""
    require_login(viewer)
    method = str(getattr(method, "value", method))
    if method not in SETTLE_ROLES:
        raise ValidationFailed(_m("未知的还款方式 %(kind)s", kind=method), field="method")
    require_role(viewer, *SETTLE_ROLES[method])
    value = parse_money(amount)
    note = validation.clean_text(note, "note", validation.NOTE)
    if attachments and method == ledger_rules.WRITE_OFF:
        raise ValidationFailed(_m("核销提议不附文件，请在原因中说明依据"), field="attachments")
    if method == ledger_rules.WRITE_OFF:
        # Two people: FINANCE's call is a proposal, an ADMIN's the approval (services/corrections.py).
        # Lazy: corrections builds on this module (a top-level import would be a circle); it goes
        # when loans.py is split along its seams.
        from server.services import corrections

        return await corrections.write_off_via_settle(viewer, loan_id, value, note)
    # Checked and stored before the transaction, as applyForLoan's documents: no file I/O under the lock.
    files: list[StoredFile] = await store_uploads(attachments, DOCUMENT_TYPES, "attachments")
    async with atomic():
        loan = await _get_loan_for_update(loan_id)
        refusal = settle_refusal(viewer, loan, method)
        if refusal is not None:
            raise refusal
        # The note is the receipt, payroll or approval reference the settlement was made against.
        entry = await append_reduction(viewer, loan, method, value, note=note,
                                       audit_extra={"attachments": [f.sha256 for f in files]} if files else None)
        for f in files:
            await Attachment.create(sha256=f.sha256, filename=f.filename, content_type=f.content_type,
                                    size=f.size, uploaded_by_id=viewer.user_id, ledger_entry=entry)
    return loan


# ---------------------------------------------------------------- what the viewer may do
# Each *_refusal is the check its mutation raises and the `viewerCan` flag the schema shows:
# None (allowed) exactly when the mutation would not be refused for permission or state.


def decide_refusal(viewer: Viewer, loan: Loan, steps: Sequence[ApprovalStep]) -> DomainError | None:
    if loan.status != LoanStatus.PENDING_APPROVAL:
        return InvalidTransition(_m("借款 %(number)s 状态为 %(status)s，不能审批", number=loan.number, status=loan.status))
    return approvals.decide_refusal([to_step(r) for r in steps], actor(viewer), loan.employee_id)  # type: ignore[attr-defined]


def apply_refusal(employee_status: str) -> DomainError | None:
    """Why an employee in `employee_status` may not apply for a loan now (applyForLoan's check)."""
    if employee_status == EmployeeStatus.OFFBOARDING:
        return Conflict(_m("离职办理中，不能申请借款"))
    if employee_status != EmployeeStatus.ACTIVE:
        return Forbidden(_m("员工已离职"))
    return None


async def viewer_apply_refusal(viewer: Viewer) -> DomainError | None:
    """The refusal applyForLoan would raise for the viewer's standing (not for the form's input)."""
    require_login(viewer)
    if viewer.employee_id is None:
        return Forbidden(_m("该账号没有员工档案，不能借款"))
    employee = await Employee.get_or_none(id=viewer.employee_id)
    return apply_refusal(employee.status) if employee is not None else Forbidden(_m("员工已离职"))


def _cancel_state_refusal(loan: Loan) -> DomainError | None:
    if loan.status not in CANCELLABLE_LOAN_STATUSES:
        return InvalidTransition(_m("借款 %(number)s 状态为 %(status)s，不能撤销", number=loan.number, status=loan.status))
    return None


def cancel_refusal(viewer: Viewer, loan: Loan) -> DomainError | None:
    if not duties.own_money(viewer.employee_id, loan.employee_id):  # type: ignore[attr-defined]
        return Forbidden(_m("只有申请人可以撤销借款"))
    return _cancel_state_refusal(loan)


def disburse_refusal(
    viewer: Viewer, loan: Loan, employee_status: str, four_eyes: bool, steps: Sequence[ApprovalStep],
) -> DomainError | None:
    """`four_eyes` is the FOUR_EYES_PAYOUT setting; `steps` the loan's approval steps."""
    if (refusal := duties.role_refusal(viewer.roles, duties.DISBURSE)) is not None:
        return refusal
    if loan.status != LoanStatus.APPROVED:
        return InvalidTransition(_m("借款 %(number)s 状态为 %(status)s，不能放款", number=loan.number, status=loan.status))
    if duties.own_money(viewer.employee_id, loan.employee_id):  # type: ignore[attr-defined]
        return Forbidden(_m("不能给自己放款"))
    if (refusal := four_eyes_refusal(viewer, four_eyes, steps)) is not None:
        return refusal
    if employee_status != EmployeeStatus.ACTIVE:
        return Conflict(_m("员工离职办理中或已离职，不能放款"))
    return None


def settle_refusal(viewer: Viewer, loan: Loan, method: str = SettlementMethod.CASH_RETURN) -> DomainError | None:
    """Recording a cash return or a salary deduction (a write-off is corrections.propose_refusal)."""
    if not viewer.has(*SETTLE_ROLES[method]):
        roles = ", ".join(SETTLE_ROLES[method])
        return Forbidden(_m("需要以下角色之一：%(roles)s", roles=roles))
    refusal = correction_rules.settle_refusal(actor(viewer), loan.employee_id, method)  # type: ignore[attr-defined]
    if refusal is not None:
        return Forbidden(refusal)
    return ledger_rules.reduction_state_refusal(loan.status)


def overdue_days(loan: Loan, outstanding: Decimal, on: date | None = None) -> int:
    return ledger_rules.days_overdue(loan.expected_settle_date, outstanding, on or today())


def describe_quota(quota: Quota) -> Message:
    return _m("额度 %(limit)s，已占用 %(committed)s，可借 %(available)s", limit=quota.limit, committed=quota.committed,
              available=quota.available)
