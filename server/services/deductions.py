"""Salary-deduction consent (recorded by FINANCE or HR, or confirmed by the employee) and the 20% check.

Nothing here changes the ledger: a deduction is written by settleLoan as before; this records the consent
beside it (one per ledger entry) and reads which of a loan's deductions have none (the flag on the loan).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.functions import Sum

from server.domain import deductions as rules
from server.domain import duties
from server.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from server.domain.messages import Message, _m
from server.domain.money import from_fen, parse_money
from server.domain.vocab import EntryKind
from server.models import DeductionConsent, Employee, LedgerEntry, Loan
from server.services import audit
from server.services.base import Viewer, atomic, day_start, parse_id, require_login, today, utcnow
from server.services.loans import get_loan


@dataclass(frozen=True)
class DeductionCheck:
    monthly_salary: Decimal
    cap: Decimal
    deducted_this_month: Decimal
    warning: Message | None


async def _loan(viewer: Viewer, loan_id: Any) -> Loan:
    # The loan's own rule (`loan(id)`): FORBIDDEN for a loan the viewer may not see. Answering NOT_FOUND here
    # instead made one page (loan + deductions in one query) a 403 or a 404 by which resolver finished first.
    loan = await get_loan(viewer, parse_id(loan_id, "loan"))
    if loan is None:
        raise NotFound(_m("借款 %(id)s 不存在", id=loan_id))
    return loan


async def check_deduction(viewer: Viewer, loan_id: Any, amount: Any) -> DeductionCheck:
    """What the settle form shows before a salary deduction: this month's deductions of the employee (all
    their loans) with `amount`, against 20% of the monthly salary."""
    require_login(viewer)
    duties.require(viewer.roles, duties.SETTLE_SALARY)
    loan = await _loan(viewer, loan_id)
    value = parse_money(amount)
    employee = await Employee.get(id=loan.employee_id)  # type: ignore[attr-defined]
    salary = from_fen(employee.monthly_salary_fen)
    start = day_start(today().replace(day=1))
    deducted_fen = await _sum(LedgerEntry.filter(loan__employee_id=employee.id, kind=EntryKind.SALARY_DEDUCTION,
                                                 recorded_at__gte=start))
    # Reversed deductions no longer count: their reversal entries give the amount back.
    returned_fen = await _sum(LedgerEntry.filter(loan__employee_id=employee.id, kind=EntryKind.REVERSAL,
                                                 reverses__kind=EntryKind.SALARY_DEDUCTION, recorded_at__gte=start))
    deducted = from_fen(-(deducted_fen + returned_fen))
    return DeductionCheck(salary, rules.monthly_cap(salary), deducted, rules.share_warning(deducted, value, salary))


async def _sum(qs: Any) -> int:
    rows = await qs.annotate(total=Sum("delta_fen")).values_list("total", flat=True)
    return int((rows or [0])[0] or 0)


async def _deduction(entry_id: Any) -> LedgerEntry:
    entry = await LedgerEntry.filter(id=parse_id(entry_id, "ledgerEntry"), kind=EntryKind.SALARY_DEDUCTION).first()
    if entry is None:
        raise NotFound(_m("工资扣款记录 %(id)s 不存在", id=entry_id))
    return entry


def may_record_consent(viewer: Viewer) -> bool:
    """FINANCE (who deducts) or HR (who keeps the signed note) record consent; the pages ask this too."""
    return duties.may(viewer.roles, duties.SETTLE_SALARY) or viewer.has("HR")


async def record_consent(viewer: Viewer, entry_id: Any, note: Any) -> DeductionConsent:
    """FINANCE or HR record the signed note the employee gave (what it is, where it is kept)."""
    require_login(viewer)
    if not may_record_consent(viewer):
        raise Forbidden(_m("只有财务或人事可以登记扣款同意书"))
    text = " ".join(str(note or "").split())
    if not text or len(text) > 500:
        raise ValidationFailed(_m("请说明同意书（最多 500 字）"), field="note")
    entry = await _deduction(entry_id)
    return await _save(viewer, entry, rules.CONSENT_NOTE, text)


async def confirm_deduction(viewer: Viewer, entry_id: Any) -> DeductionConsent:
    """The employee confirms, in Qingkuan, a deduction from their own pay."""
    require_login(viewer)
    entry = await _deduction(entry_id)
    loan = await Loan.get(id=entry.loan_id)  # type: ignore[attr-defined]
    if viewer.employee_id is None or viewer.employee_id != loan.employee_id:  # type: ignore[attr-defined]
        raise Forbidden(_m("只有被扣款的员工本人可以确认"))
    return await _save(viewer, entry, rules.CONSENT_CONFIRMED, None)


async def _save(viewer: Viewer, entry: LedgerEntry, kind: str, note: str | None) -> DeductionConsent:
    try:
        async with atomic():
            row = await DeductionConsent.create(entry_id=entry.id, loan_id=entry.loan_id,  # type: ignore[attr-defined]
                                                kind=kind, note=note, recorded_by_id=viewer.user_id,
                                                recorded_at=utcnow())
            await audit.record(viewer, "loan.deduction_consent", "loan", entry.loan_id,  # type: ignore[attr-defined]
                               None, {"ledgerEntryId": entry.id, "kind": kind, "note": note})
    except IntegrityError:
        raise Conflict(_m("该扣款已登记同意")) from None
    return row


@dataclass(frozen=True)
class DeductionConsentState:
    entry_id: int
    amount: Decimal
    recorded_at: datetime
    consent: DeductionConsent | None


async def loan_deductions(viewer: Viewer, loan_id: Any) -> list[DeductionConsentState]:
    """Each salary deduction of the loan with its consent, or None: the flag on the loan's page."""
    require_login(viewer)
    loan = await _loan(viewer, loan_id)
    entries = await LedgerEntry.filter(loan_id=loan.id, kind=EntryKind.SALARY_DEDUCTION).order_by("id")
    consents = {c.entry_id: c for c in await DeductionConsent.filter(loan_id=loan.id)}  # type: ignore[attr-defined]
    return [DeductionConsentState(e.id, -from_fen(e.delta_fen), e.recorded_at, consents.get(e.id)) for e in entries]
