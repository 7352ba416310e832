"""Workflow notifications: who is told what when a loan, a reimbursement or an offboarding moves.

Each function runs inside the caller's transaction (the state change and its notifications commit
together) and writes in-app Notification rows; the delivery lane e-mails every row later. A
notification names its object by a message id and parameters (rendered in the reader's language)
and links to the object itself.

Who gets what:
- the next approver when a loan or reimbursement reaches their step (a SUPERVISOR step: that
  supervisor; a role step: every active account with the role except the applicant and those who
  already decided a step of the chain), with the previous approver's comment;
- the applicant when it is approved, rejected (with the comment), disbursed, offset, settled, paid;
- FINANCE when an approved loan waits for disbursement (never the applicant);
- the employee when HR starts their offboarding (with what they owe) and when it completes;
- the borrower, SETTLE_REMINDER_DAYS days before the expected settle date (a daily job).
The person who acted is never told about their own action.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.functions import Sum

from server.domain import ledger
from server.domain import roles as R
from server.domain.messages import Message, _m
from server.domain.money import ZERO, from_fen
from server.domain.vocab import LoanStatus, OffsetState, ReimbursementStatus, label
from server.models import (
    ApprovalStep,
    Employee,
    LedgerEntry,
    Loan,
    Notification,
    Offboarding,
    Reimbursement,
    ReimbursementOffset,
    SettleReminder,
    User,
)
from server.services.base import SYSTEM, Viewer, atomic, today, utcnow
from server.services.company import SETTLE_REMINDER_DAYS, get_setting

REMINDER_BATCH = 500


def loan_link(loan_id: int) -> str:
    return f"/loans/{loan_id}"


def reimbursement_link(reimbursement_id: int) -> str:
    return f"/reimbursements/{reimbursement_id}"


def offboarding_link(offboarding_id: int) -> str:
    return f"/offboarding/{offboarding_id}"


# ---------------------------------------------------------------- writing


async def _notify(viewer: Viewer, user_ids: Iterable[int], title: Message, body: Message, link: str) -> list[int]:
    """One Notification per user (the acting user excluded). Returns the notified user ids."""
    wanted = [u for u in dict.fromkeys(user_ids) if u != viewer.user_id]
    if not wanted:
        return []
    now = utcnow()
    await Notification.bulk_create([Notification(
        user_id=uid, title=str(title)[:200], body=str(body), title_data=title.to_json(), body_data=body.to_json(),
        link=link, created_at=now,
    ) for uid in wanted])
    return wanted


async def payee_changed(viewer: Viewer, employee_id: int, masked_account: str) -> list[int]:
    """Someone else (HR) changed where the employee's money is paid: the employee is told at once, so a
    payee account redirected to someone else's is noticed before the next transfer."""
    if viewer.employee_id == employee_id:
        return []
    return await _notify(viewer, await _employee_users([employee_id]), _m("您的收款账户已被修改"),
                         _m("%(actor)s 将您的收款账户改为 %(account)s。如非您本人要求，请立即联系财务。",
                            actor=viewer.username, account=masked_account), "/account/payee")


async def _employee_users(employee_ids: Iterable[int], active_only: bool = True) -> list[int]:
    ids = list(dict.fromkeys(employee_ids))
    if not ids:
        return []
    qs = User.filter(employee_id__in=ids)
    if active_only:
        qs = qs.filter(is_active=True)
    return list(await qs.order_by("id").values_list("id", flat=True))


async def _role_users(role: str, exclude_employee_ids: Iterable[int] = (),
                      exclude_user_ids: Iterable[int] = ()) -> list[int]:
    """Active accounts holding `role` (roles are a JSON list: filtered in Python, a few hundred accounts)."""
    skip_e, skip_u = set(exclude_employee_ids), set(exclude_user_ids)
    return [
        row["id"] for row in await User.filter(is_active=True).order_by("id").values("id", "roles", "employee_id")
        if role in (row["roles"] or []) and row["id"] not in skip_u
        and (row["employee_id"] is None or row["employee_id"] not in skip_e)
    ]


async def _step_users(steps: Sequence[ApprovalStep], applicant_id: int) -> tuple[ApprovalStep | None, list[int]]:
    """The current step of a chain and the accounts that may decide it."""
    current = next((s for s in steps if s.is_current), None)
    if current is None:
        return None, []
    if current.role == R.SUPERVISOR:
        approver = current.approver_id  # type: ignore[attr-defined]
        users = [] if approver is None or approver == applicant_id else await _employee_users([approver])
        return current, users
    decided = [s.decided_by_id for s in steps if s.decided_by_id is not None]  # type: ignore[attr-defined]
    return current, await _role_users(current.role, [applicant_id], decided)


def _last_comment(steps: Sequence[ApprovalStep]) -> str | None:
    decided = [s for s in steps if s.decided_at is not None and s.comment]
    return decided[-1].comment if decided else None


async def _employee(employee_id: int) -> Employee:
    return await Employee.get(id=employee_id)


# ---------------------------------------------------------------- loans


async def _loan_to_approver(viewer: Viewer, loan: Loan, steps: Sequence[ApprovalStep]) -> list[int]:
    applicant: int = loan.employee_id  # type: ignore[attr-defined]
    current, users = await _step_users(steps, applicant)
    if current is None:
        return []
    employee = await _employee(applicant)
    params: dict[str, Any] = {
        "name": employee.name, "amount": from_fen(loan.amount_fen), "purpose": _m(label("purpose", loan.purpose)),
        "role": _m(label("role", current.role)),
    }
    comment = _last_comment(steps)
    if comment:
        body = _m("%(name)s 申请借款 %(amount)s 元（%(purpose)s），等待您审批（%(role)s）。上一步审批意见：%(comment)s",
                  comment=comment, **params)
    else:
        body = _m("%(name)s 申请借款 %(amount)s 元（%(purpose)s），等待您审批（%(role)s）。", **params)
    return await _notify(viewer, users, _m("待您审批：借款 %(number)s", number=loan.number), body, loan_link(loan.id))


async def _loan_to_finance(viewer: Viewer, loan: Loan) -> list[int]:
    employee = await _employee(loan.employee_id)  # type: ignore[attr-defined]
    users = await _role_users(R.FINANCE, [employee.id])
    return await _notify(viewer, users, _m("借款 %(number)s 待放款", number=loan.number),
                         _m("%(name)s 的借款 %(amount)s 元已批准，等待放款。", name=employee.name,
                            amount=from_fen(loan.amount_fen)), loan_link(loan.id))


async def loan_applied(viewer: Viewer, loan: Loan) -> list[int]:
    """After an application: its first approver, or FINANCE when nobody was left to ask."""
    if loan.status == LoanStatus.APPROVED:
        return await _loan_to_finance(viewer, loan)
    if loan.status != LoanStatus.PENDING_APPROVAL:
        return []
    return await _loan_to_approver(viewer, loan, await ApprovalStep.filter(loan_id=loan.id).order_by("order"))


async def loan_decided(viewer: Viewer, loan: Loan) -> list[int]:
    """After an approval step: the next approver; or the applicant (approved/rejected) and FINANCE."""
    steps = await ApprovalStep.filter(loan_id=loan.id).order_by("order")
    if loan.status == LoanStatus.PENDING_APPROVAL:
        return await _loan_to_approver(viewer, loan, steps)
    applicant = await _employee_users([loan.employee_id])  # type: ignore[attr-defined]
    link = loan_link(loan.id)
    amount = from_fen(loan.amount_fen)
    if loan.status == LoanStatus.APPROVED:
        told = await _notify(viewer, applicant, _m("借款 %(number)s 已批准", number=loan.number),
                             _m("您的借款 %(amount)s 元已批准，等待财务放款。", amount=amount), link)
        return told + await _loan_to_finance(viewer, loan)
    if loan.status == LoanStatus.REJECTED:
        rejected = next((s for s in steps if s.decision == "REJECT"), None)
        role = _m(label("role", rejected.role)) if rejected else _m(label("role", R.FINANCE))
        comment = rejected.comment if rejected else None
        body = (_m("您的借款 %(amount)s 元被驳回（%(role)s）：%(comment)s", amount=amount, role=role, comment=comment)
                if comment else _m("您的借款 %(amount)s 元被驳回（%(role)s），未填写意见。", amount=amount, role=role))
        return await _notify(viewer, applicant, _m("借款 %(number)s 被驳回", number=loan.number), body, link)
    return []


async def loan_disbursed(viewer: Viewer, loan: Loan) -> list[int]:
    applicant = await _employee_users([loan.employee_id])  # type: ignore[attr-defined]
    return await _notify(
        viewer, applicant, _m("借款 %(number)s 已放款", number=loan.number),
        _m("您的借款 %(amount)s 元已放款，请在 %(day)s 前报销冲抵或归还。", amount=from_fen(loan.amount_fen),
           day=loan.expected_settle_date.isoformat()), loan_link(loan.id))


async def loan_reduced(viewer: Viewer, loan: Loan, entry: LedgerEntry) -> list[int]:
    """After an offset, a repayment or a write-off: the borrower, with what is still owed."""
    applicant = await _employee_users([loan.employee_id])  # type: ignore[attr-defined]
    amount = from_fen(-entry.delta_fen)
    owed = from_fen(int(sum(e.delta_fen for e in await LedgerEntry.filter(loan_id=loan.id))))
    kind = _m(label("entry", entry.kind))
    if entry.kind == ledger.OFFSET and entry.reimbursement_id is not None:  # type: ignore[attr-defined]
        reimbursement = await Reimbursement.get(id=entry.reimbursement_id)  # type: ignore[attr-defined]
        body = _m("报销单 %(reimbursement)s 冲抵借款 %(amount)s 元，尚欠 %(owed)s 元。",
                  reimbursement=reimbursement.number, amount=amount, owed=owed)
    else:
        body = _m("已登记%(kind)s %(amount)s 元，尚欠 %(owed)s 元。", kind=kind, amount=amount, owed=owed)
    if loan.status == LoanStatus.SETTLED:
        title = _m("借款 %(number)s 已结清", number=loan.number)
    elif loan.status == LoanStatus.WRITTEN_OFF:
        title = _m("借款 %(number)s 已核销", number=loan.number)
    elif entry.kind == ledger.OFFSET:
        title = _m("借款 %(number)s 已冲抵 %(amount)s 元", number=loan.number, amount=amount)
    else:
        title = _m("借款 %(number)s 已登记还款 %(amount)s 元", number=loan.number, amount=amount)
    return await _notify(viewer, applicant, title, body, loan_link(loan.id))


async def extension_waiting(viewer: Viewer, extension: Any) -> list[int]:
    """A settle-date extension (延期申请) reached a step: whoever may decide it is told."""
    steps = await ApprovalStep.filter(extension_id=extension.id).order_by("order")
    current, users = await _step_users(steps, extension.employee_id)
    if current is None:
        return []
    loan = await Loan.get(id=extension.loan_id)
    employee = await _employee(extension.employee_id)
    body = _m("%(name)s 申请将借款 %(number)s 的预计报销日期从 %(before)s 延至 %(after)s，等待您审批（%(role)s）。理由：%(reason)s",
              name=employee.name, number=loan.number, before=extension.previous_date.isoformat(),
              after=extension.requested_date.isoformat(), role=_m(label("role", current.role)), reason=extension.reason)
    return await _notify(viewer, users, _m("待您审批：借款 %(number)s 延期", number=loan.number), body, loan_link(loan.id))


async def extension_decided(viewer: Viewer, extension: Any) -> list[int]:
    """After a step of an extension: the next approver, or the borrower (approved: the new date; rejected)."""
    if extension.status == LoanStatus.PENDING_APPROVAL:
        return await extension_waiting(viewer, extension)
    loan = await Loan.get(id=extension.loan_id)
    applicant = await _employee_users([extension.employee_id])
    if extension.status == LoanStatus.APPROVED:
        return await _notify(viewer, applicant, _m("借款 %(number)s 延期已批准", number=loan.number),
                             _m("预计报销日期已改为 %(day)s。", day=extension.requested_date.isoformat()), loan_link(loan.id))
    return await _notify(viewer, applicant, _m("借款 %(number)s 延期被驳回", number=loan.number),
                         _m("预计报销日期仍为 %(day)s。", day=extension.previous_date.isoformat()), loan_link(loan.id))


# ---------------------------------------------------------------- reimbursements


async def _offset_total(row: Reimbursement) -> Decimal:
    states = [OffsetState.RESERVED, OffsetState.APPLIED]
    return from_fen(sum(o.amount_fen for o in await ReimbursementOffset.filter(reimbursement_id=row.id,
                                                                               state__in=states)))


async def reimbursement_moved(viewer: Viewer, row: Reimbursement) -> list[int]:
    """After a submission or an approval step: the next approver; or the applicant (approved/rejected)."""
    applicant_id: int = row.employee_id  # type: ignore[attr-defined]
    steps = await ApprovalStep.filter(reimbursement_id=row.id).order_by("order")
    link = reimbursement_link(row.id)
    total = from_fen(row.total_fen)
    if row.status == ReimbursementStatus.PENDING_APPROVAL:
        current, users = await _step_users(steps, applicant_id)
        if current is None:
            return []
        employee = await _employee(applicant_id)
        params: dict[str, Any] = {"name": employee.name, "amount": total, "offset": await _offset_total(row),
                                  "role": _m(label("role", current.role))}
        comment = _last_comment(steps)
        if comment:
            body = _m("%(name)s 报销 %(amount)s 元（冲抵借款 %(offset)s 元），等待您审批（%(role)s）。"
                      "上一步审批意见：%(comment)s", comment=comment, **params)
        else:
            body = _m("%(name)s 报销 %(amount)s 元（冲抵借款 %(offset)s 元），等待您审批（%(role)s）。", **params)
        return await _notify(viewer, users, _m("待您审批：报销单 %(number)s", number=row.number), body, link)
    applicant = await _employee_users([applicant_id])
    if row.status == ReimbursementStatus.APPROVED:
        offset = await _offset_total(row)
        if total - offset <= ZERO:
            body = _m("报销 %(amount)s 元已批准，全部冲抵借款，无需付款。", amount=total)
        else:
            body = _m("报销 %(amount)s 元已批准，冲抵借款 %(offset)s 元，应付 %(payable)s 元，等待财务付款。",
                      amount=total, offset=offset, payable=total - offset)
        return await _notify(viewer, applicant, _m("报销单 %(number)s 已批准", number=row.number), body, link)
    if row.status == ReimbursementStatus.REJECTED:
        rejected = next((s for s in steps if s.decision == "REJECT"), None)
        role = _m(label("role", rejected.role if rejected else R.FINANCE))
        comment = rejected.comment if rejected else None
        body = (_m("您的报销 %(amount)s 元被驳回（%(role)s）：%(comment)s", amount=total, role=role, comment=comment)
                if comment else _m("您的报销 %(amount)s 元被驳回（%(role)s），未填写意见。", amount=total, role=role))
        return await _notify(viewer, applicant, _m("报销单 %(number)s 被驳回", number=row.number), body, link)
    return []


async def reimbursement_paid(viewer: Viewer, row: Reimbursement, paid: Decimal) -> list[int]:
    applicant = await _employee_users([row.employee_id])  # type: ignore[attr-defined]
    return await _notify(viewer, applicant, _m("报销单 %(number)s 已付款", number=row.number),
                         _m("报销单 %(number)s 已付款 %(amount)s 元。", number=row.number, amount=paid),
                         reimbursement_link(row.id))


# ---------------------------------------------------------------- offboarding


async def offboarding_started(viewer: Viewer, offboarding: Offboarding, owed: Decimal,
                              loan_numbers: Sequence[str]) -> list[int]:
    """The leaver, with what they owe (not when they resigned themselves: they are the actor)."""
    users = await _employee_users([offboarding.employee_id])  # type: ignore[attr-defined]
    day = offboarding.last_working_day.isoformat()
    if owed > ZERO:
        body = _m("最后工作日 %(day)s。您尚欠借款 %(owed)s 元（%(loans)s），请在离职前报销冲抵或归还。",
                  day=day, owed=owed, loans="、".join(loan_numbers))
    else:
        body = _m("最后工作日 %(day)s。您没有未结清的借款。", day=day)
    return await _notify(viewer, users, _m("您的离职办理已开始"), body, offboarding_link(offboarding.id))


async def offboarding_completed(viewer: Viewer, offboarding: Offboarding) -> list[int]:
    """The leaver (their account is closed in the same transaction: the row is for the e-mail)."""
    users = await _employee_users([offboarding.employee_id], active_only=False)  # type: ignore[attr-defined]
    return await _notify(viewer, users, _m("您的离职办理已完成"),
                         _m("离职清款已完成，最后工作日 %(day)s。", day=offboarding.last_working_day.isoformat()),
                         offboarding_link(offboarding.id))


# ---------------------------------------------------------------- reminders (jobs/workflow.py)


async def _owed(loan_ids: list[int]) -> dict[int, Decimal]:
    if not loan_ids:
        return {}
    rows = await (LedgerEntry.filter(loan_id__in=loan_ids).group_by("loan_id").annotate(total=Sum("delta_fen"))
                  .values("loan_id", "total"))
    return {row["loan_id"]: from_fen(int(row["total"] or 0)) for row in rows}


async def send_settle_reminders(on: date | None = None) -> int:
    """Every open loan due within SETTLE_REMINDER_DAYS (0 turns reminders off) is reminded once per
    expected settle date: a missed daily run is caught up by the next, a re-run writes nothing (the
    SettleReminder row, unique per loan and date), and a moved date is reminded again.
    Returns how many loans were reminded."""
    days = int(await get_setting(SETTLE_REMINDER_DAYS))
    if days <= 0:
        return 0
    on = on or today()
    due = Loan.filter(status__in=sorted(ledger.OPEN_STATUSES), expected_settle_date__gte=on,
                      expected_settle_date__lte=on + timedelta(days=days))
    written, last = 0, 0
    while True:
        batch = await due.filter(id__gt=last).order_by("id").limit(REMINDER_BATCH)
        if not batch:
            return written
        last = batch[-1].id
        done = {(r["loan_id"], r["due_on"]) for r in await SettleReminder.filter(
            loan_id__in=[loan.id for loan in batch]).values("loan_id", "due_on")}
        todo = [loan for loan in batch if (loan.id, loan.expected_settle_date) not in done]
        owed = await _owed([loan.id for loan in todo])
        users: dict[int, list[int]] = {}
        for row in await User.filter(employee_id__in=[loan.employee_id for loan in todo],  # type: ignore[attr-defined]
                                     is_active=True).values("id", "employee_id"):
            users.setdefault(row["employee_id"], []).append(row["id"])
        for loan in todo:
            left = (loan.expected_settle_date - on).days
            title = _m("借款 %(number)s 将于 %(day)s 到期", number=loan.number, day=loan.expected_settle_date.isoformat())
            body = _m("尚欠 %(owed)s 元，还有 %(days)s 天到期，请及时报销冲抵或归还，以免逾期。",
                      owed=owed.get(loan.id, ZERO), days=left)
            try:
                async with atomic():
                    await SettleReminder.create(loan_id=loan.id, due_on=loan.expected_settle_date, created_at=utcnow())
                    await _notify(SYSTEM, users.get(loan.employee_id, []), title, body, loan_link(loan.id))  # type: ignore[attr-defined]
            except IntegrityError:  # another run wrote it meanwhile
                continue
            written += 1
