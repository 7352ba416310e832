"""Two-person write-offs and corrections by reversal, on the loan's append-only ledger.

- A write-off is proposed by FINANCE with its reason (`settleLoan(WRITE_OFF)` or `propose_write_off`);
  the loan is unchanged until a different person holding ADMIN approves it (the same call for the
  proposed amount, or `approve_write_off`), or rejects it. One pending proposal per loan.
- A mistaken cash return or salary deduction is reversed by FINANCE with a reason: a REVERSAL entry
  pointing at the original, the balance and status recomputed from the ledger. A write-off's reversal
  takes the same two people as a write-off. Offsets are corrected through their reimbursement.
- Nobody acts on their own money. Ledger rows are only ever inserted.
Every refusal is raised inside the transaction before anything is written.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from server.domain import ledger as ledger_rules
from server.domain import roles
from server.domain.corrections import (
    NEEDS_ADMIN,
    NEEDS_FINANCE,
    OWN_MONEY,
    Proposer,
    decide_refusal,
    needs_second_person,
    propose_refusal,
    reverse_refusal,
)
from server.domain.errors import Conflict, DomainError, Forbidden, InvalidTransition, NotFound, ValidationFailed
from server.domain.messages import Message, _m
from server.domain.money import from_fen, parse_money, to_fen
from server.domain.vocab import EmployeeStatus, WriteOffProposalStatus
from server.models import Employee, LedgerEntry, Loan, WriteOffProposal
from server.services import audit
from server.services.approvals import actor
from server.services.base import Viewer, atomic, parse_id, require_login, utcnow
from server.services.loans import (
    _get_loan_for_update,
    append_reduction,
    as_domain_entries,
    can_see_loan,
    ledger_entries,
    loan_amount,
)

PENDING, APPROVED, REJECTED = WriteOffProposalStatus
MAX_REASON = 500


def _reason(text: str | None, field: str, missing: Message = _m("必须填写原因")) -> str:
    value = (text or "").strip()
    if not value:
        raise ValidationFailed(missing, field=field)
    if len(value) > MAX_REASON:
        raise ValidationFailed(_m("%(field)s 不能超过 %(max)s 个字符", field=field, max=MAX_REASON), field=field)
    return value


def _proposer(p: WriteOffProposal) -> Proposer:
    return Proposer(p.proposed_by_id, p.proposer_employee_id)  # type: ignore[attr-defined]


async def pending_proposal(loan_id: int) -> WriteOffProposal | None:
    return await WriteOffProposal.filter(loan_id=loan_id, status=PENDING).order_by("-id").first()


async def _forbid_outsiders(viewer: Viewer, loan: Loan, refusal: Message | None) -> None:
    """Raise the refusal; someone who may not even see the loan learns nothing more about it."""
    if refusal is None:
        return
    if not await can_see_loan(viewer, loan):
        raise Forbidden(_m("无权查看该借款"))
    raise Forbidden(refusal)


async def _check_not_left(loan: Loan) -> None:
    employee = await Employee.get(id=loan.employee_id)  # type: ignore[attr-defined]
    if employee.status == EmployeeStatus.LEFT:
        raise Conflict(_m("员工已办结离职，清款证明已出具，不能冲销"))


# ---------------------------------------------------------------- write-offs


async def _propose(viewer: Viewer, loan: Loan, kind: str, amount: Decimal, reason: str,
                   reverses: LedgerEntry | None = None) -> WriteOffProposal:
    if await pending_proposal(loan.id) is not None:
        raise Conflict(_m("该借款已有待审批的核销提议"))
    if kind == ledger_rules.WRITE_OFF:
        entries = as_domain_entries(await ledger_entries(loan.id))
        ledger_rules.check_reduction(ledger_rules.WRITE_OFF, amount, ledger_rules.balance(entries), loan.status)
    proposal = await WriteOffProposal.create(
        loan=loan, kind=kind, reverses=reverses, amount_fen=to_fen(amount), reason=reason, status=PENDING,
        proposed_by_id=viewer.user_id, proposer_employee_id=viewer.employee_id, proposed_at=utcnow(),
    )
    action = "loan.write_off_propose" if kind == ledger_rules.WRITE_OFF else "loan.write_off_reversal_propose"
    await audit.record(viewer, action, "loan", loan.id, None, {
        "proposalId": proposal.id, "amount": amount, "reason": reason, "status": loan.status,
        "reversesEntryId": reverses.id if reverses else None,
    })
    return proposal


async def _approve(viewer: Viewer, loan: Loan, proposal: WriteOffProposal, comment: str | None) -> None:
    """Write the proposal's ledger entry (re-checking it against the ledger as it is now)."""
    amount = from_fen(proposal.amount_fen)
    extra = {"proposalId": proposal.id, "proposedBy": proposal.proposed_by_id,  # type: ignore[attr-defined]
             "approvedBy": viewer.user_id, "comment": comment}
    if proposal.kind == ledger_rules.WRITE_OFF:
        entry = await append_reduction(viewer, loan, ledger_rules.WRITE_OFF, amount, note=proposal.reason, audit_extra=extra)
    else:
        entries = await ledger_entries(loan.id)
        original = next(e for e in entries if e.id == proposal.reverses_id)  # type: ignore[attr-defined]
        entry = await _reverse(viewer, loan, original, entries, proposal.reason, extra)
    proposal.status, proposal.decided_at, proposal.comment = APPROVED, utcnow(), comment  # type: ignore[assignment]
    proposal.decided_by_id = viewer.user_id  # type: ignore[attr-defined]
    proposal.entry_id = entry.id  # type: ignore[attr-defined]
    await proposal.save(update_fields=["status", "decided_at", "comment", "decided_by_id", "entry_id"])


async def write_off_via_settle(viewer: Viewer, loan_id: Any, amount: Decimal, note: str | None) -> Loan:
    """`settleLoan(method: WRITE_OFF)`: FINANCE proposes (note = the reason); a different ADMIN, calling
    it for the proposed amount, approves. An ADMIN with nothing proposed gets CONFLICT."""
    require_login(viewer)
    if not viewer.has(roles.FINANCE, roles.ADMIN):
        raise Forbidden(NEEDS_FINANCE)
    approver = actor(viewer)
    async with atomic():
        loan = await _get_loan_for_update(loan_id)
        owner: int = loan.employee_id  # type: ignore[attr-defined]
        pending = await pending_proposal(loan.id)
        if pending is not None and viewer.has(roles.ADMIN):
            await _forbid_outsiders(viewer, loan, decide_refusal(approver, owner, _proposer(pending)))
            if pending.kind != ledger_rules.WRITE_OFF:
                raise Conflict(_m("待审批的是核销冲销提议，请在借款页审批"))
            if to_fen(amount) != pending.amount_fen:
                raise ValidationFailed(
                    _m("金额须与核销提议一致：%(amount)s", amount=from_fen(pending.amount_fen)), field="amount")
            await _approve(viewer, loan, pending, note)
        elif viewer.has(roles.FINANCE):
            await _forbid_outsiders(viewer, loan, propose_refusal(approver, owner))
            await _propose(viewer, loan, ledger_rules.WRITE_OFF, amount,
                          _reason(note, "note", _m("核销必须填写原因")))
        else:
            await _forbid_outsiders(viewer, loan, OWN_MONEY if approver.employee_id == owner else None)
            raise Conflict(_m("没有待审批的核销提议：核销须先由财务提出"))
    return loan


async def propose_write_off(viewer: Viewer, loan_id: Any, amount: Any, reason: str | None) -> Loan:
    require_login(viewer)
    if not viewer.has(roles.FINANCE):
        raise Forbidden(NEEDS_FINANCE)
    value = parse_money(amount)
    text = _reason(reason, "reason")
    async with atomic():
        loan = await _get_loan_for_update(loan_id)
        await _forbid_outsiders(viewer, loan, propose_refusal(actor(viewer), loan.employee_id))  # type: ignore[attr-defined]
        await _propose(viewer, loan, ledger_rules.WRITE_OFF, value, text)
    return loan


async def _decide(viewer: Viewer, loan_id: Any, approve: bool, comment: str | None) -> Loan:
    require_login(viewer)
    if not viewer.has(roles.ADMIN):
        raise Forbidden(NEEDS_ADMIN)
    text = (comment or "").strip() or None
    if not approve:
        text = _reason(comment, "comment", _m("驳回须填写理由"))
    elif text and len(text) > MAX_REASON:
        raise ValidationFailed(_m("%(field)s 不能超过 %(max)s 个字符", field="comment", max=MAX_REASON), field="comment")
    async with atomic():
        loan = await _get_loan_for_update(loan_id)
        pending = await pending_proposal(loan.id)
        if pending is None:
            await _forbid_outsiders(viewer, loan, None)
            raise Conflict(_m("没有待审批的核销提议"))
        await _forbid_outsiders(viewer, loan, decide_refusal(actor(viewer), loan.employee_id,  # type: ignore[attr-defined]
                                                               _proposer(pending)))
        if approve:
            await _approve(viewer, loan, pending, text)
        else:
            pending.status, pending.decided_at, pending.comment = REJECTED, utcnow(), text  # type: ignore[assignment]
            pending.decided_by_id = viewer.user_id  # type: ignore[attr-defined]
            await pending.save(update_fields=["status", "decided_at", "comment", "decided_by_id"])
            await audit.record(viewer, "loan.write_off_reject", "loan", loan.id, {"proposal": PENDING}, {
                "proposalId": pending.id, "proposal": REJECTED, "kind": pending.kind,
                "amount": from_fen(pending.amount_fen), "comment": text, "status": loan.status,
            })
    return loan


async def approve_write_off(viewer: Viewer, loan_id: Any, comment: str | None = None) -> Loan:
    return await _decide(viewer, loan_id, True, comment)


async def reject_write_off(viewer: Viewer, loan_id: Any, comment: str | None) -> Loan:
    return await _decide(viewer, loan_id, False, comment)


# ---------------------------------------------------------------- reversals


async def _reverse(viewer: Viewer, loan: Loan, original: LedgerEntry, entries: list[LedgerEntry], reason: str,
                   audit_extra: dict[str, Any] | None = None) -> LedgerEntry:
    """Insert the REVERSAL of `original`, recompute the loan's status from the ledger, audit it."""
    domain = as_domain_entries(entries)
    ledger_rules.check_reversal(next(e for e in domain if e.id == original.id), domain)
    await _check_not_left(loan)
    outstanding = ledger_rules.balance(domain)
    now = utcnow()
    entry = await LedgerEntry.create(
        loan=loan, kind=ledger_rules.REVERSAL, delta_fen=-original.delta_fen, reverses_id=original.id, note=reason,
        reference=reason[:100], recorded_by_id=viewer.user_id, recorded_at=now,
    )
    domain.append(ledger_rules.Entry(ledger_rules.REVERSAL, from_fen(entry.delta_fen), entry.id, original.id))
    before = {"status": loan.status, "outstanding": outstanding}
    loan.status = ledger_rules.status_from_ledger(loan_amount(loan), domain)
    if loan.status in ledger_rules.OPEN_STATUSES:
        loan.settled_at = None
    await loan.save(update_fields=["status", "settled_at"])
    await audit.record(viewer, "loan.reversal", "loan", loan.id, before, {
        "status": loan.status, "outstanding": ledger_rules.balance(domain), "amount": from_fen(-original.delta_fen),
        "reason": reason, "reversesEntryId": original.id, "reversedKind": original.kind,
        "ledgerEntryId": entry.id, **(audit_extra or {}),
    })
    from server.services.offboarding import reopen_clearance_if_owed

    await reopen_clearance_if_owed(viewer, loan.employee_id)  # type: ignore[attr-defined]
    return entry


async def reverse_settlement(viewer: Viewer, settlement_id: Any, reason: str | None) -> Loan:
    """FINANCE reverses a cash return or salary deduction at once; for a write-off this records the
    proposal to reverse it, which a different ADMIN approves (approve_write_off)."""
    require_login(viewer)
    if not viewer.has(roles.FINANCE):
        raise Forbidden(NEEDS_FINANCE)
    text = _reason(reason, "reason")
    found = await LedgerEntry.filter(id=parse_id(settlement_id, "settlement")).first()
    if found is None:
        raise NotFound(_m("还款记录 %(id)s 不存在", id=settlement_id))
    async with atomic():
        loan = await _get_loan_for_update(found.loan_id)  # type: ignore[attr-defined]
        entries = await ledger_entries(loan.id)
        original = next(e for e in entries if e.id == found.id)
        await _forbid_outsiders(viewer, loan, reverse_refusal(actor(viewer), loan.employee_id,  # type: ignore[attr-defined]
                                                                original.kind))
        if needs_second_person(original.kind):
            domain = as_domain_entries(entries)
            ledger_rules.check_reversal(next(e for e in domain if e.id == original.id), domain)
            await _check_not_left(loan)
            await _propose(viewer, loan, ledger_rules.REVERSAL, from_fen(-original.delta_fen), text, reverses=original)
        else:
            await _reverse(viewer, loan, original, entries, text)
    return loan


# ---------------------------------------------------------------- reading


async def loans_with_pending_proposals(viewer: Viewer) -> list[Loan]:
    """For finance and admins: every loan whose write-off (or write-off reversal) waits for a decision,
    oldest proposal first."""
    require_login(viewer)
    if not viewer.has(roles.FINANCE, roles.ADMIN):
        raise Forbidden(NEEDS_FINANCE)
    pending = await WriteOffProposal.filter(status=PENDING).order_by("proposed_at", "id").values("loan_id")
    ids: list[int] = [r["loan_id"] for r in pending]
    rows = {loan.id: loan for loan in await Loan.filter(id__in=ids)}
    return [rows[i] for i in ids if i in rows]


# ---------------------------------------------------------------- what the viewer may do (for the schema)


def may_reverse(viewer: Viewer, loan: Loan, entry: LedgerEntry, entries: list[LedgerEntry]) -> bool:
    if reverse_refusal(actor(viewer), loan.employee_id, entry.kind) is not None:  # type: ignore[attr-defined]
        return False
    domain = as_domain_entries(entries)
    try:
        ledger_rules.check_reversal(next(e for e in domain if e.id == entry.id), domain)
    except InvalidTransition:
        return False
    return True


def may_decide(viewer: Viewer, loan: Loan, proposal: WriteOffProposal) -> bool:
    return decide_refusal(actor(viewer), loan.employee_id, _proposer(proposal)) is None  # type: ignore[attr-defined]


def may_propose(viewer: Viewer, loan: Loan) -> bool:
    return propose_refusal(actor(viewer), loan.employee_id) is None  # type: ignore[attr-defined]


async def username_of(user_id: int) -> str:
    from server.models import User

    user = await User.filter(id=user_id).first()
    return user.username if user else "—"


def propose_write_off_refusal(
    viewer: Viewer, loan: Loan, proposals: list[WriteOffProposal],
) -> DomainError | None:
    """proposeWriteOff's refusals before the amount: FINANCE, not their own, an open loan, none pending."""
    if not viewer.has(roles.FINANCE):
        return Forbidden(NEEDS_FINANCE)
    refusal = propose_refusal(actor(viewer), loan.employee_id)  # type: ignore[attr-defined]
    if refusal is not None:
        return Forbidden(refusal)
    if (state := ledger_rules.reduction_state_refusal(loan.status)) is not None:
        return state
    if any(p.status == PENDING for p in proposals):
        return Conflict(_m("该借款已有待审批的核销提议"))
    return None


def approve_write_off_refusal(viewer: Viewer, loan: Loan, proposals: list[WriteOffProposal]) -> DomainError | None:
    """approveWriteOff / rejectWriteOff: ADMIN, a second person, not the owner, a proposal pending."""
    if not viewer.has(roles.ADMIN):
        return Forbidden(NEEDS_ADMIN)
    pending = [p for p in proposals if p.status == PENDING]
    if not pending:
        return Conflict(_m("没有待审批的核销提议"))
    refusal = decide_refusal(actor(viewer), loan.employee_id, _proposer(pending[-1]))  # type: ignore[attr-defined]
    return Forbidden(refusal) if refusal is not None else None
