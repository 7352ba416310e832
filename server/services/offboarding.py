"""Offboarding clearance (离职清款): start, the clearance gate, completion, cancellation, certificate.

The flow:
  start (HR, or the employee for their own resignation)  -> CLEARANCE_PENDING, employee OFFBOARDING,
      loans not yet paid out are cancelled, and an OFFBOARDING_OUTSTANDING alert goes out at once
      when anything is owed;
  money comes in through loans.settle_loan (cash return, final-pay deduction, a write-off proposed by
      FINANCE and approved by a different ADMIN) and
      through reimbursement offsets; the clearance is recomputed from the ledger on every read;
  confirm (FINANCE)  -> CLEARED, refused with CLEARANCE_BLOCKED while any loan has a balance or a
      pending reimbursement still reserves an offset;
  complete (HR)      -> COMPLETED, refused with CLEARANCE_BLOCKED until cleared; the employee LEFT,
      the account deactivated, its sessions and tokens revoked;
  cancel (HR)        -> CANCELLED, the employee ACTIVE again.
A refused action raises before writing anything, inside the transaction: no row, no audit entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from server.domain import clearance as clearance_rules
from server.domain import duties, validation
from server.domain import roles as role_names
from server.domain.errors import (
    ClearanceBlocked,
    Conflict,
    DomainError,
    Forbidden,
    InvalidTransition,
    NotFound,
    ValidationFailed,
)
from server.domain.ledger import (
    CASH_RETURN,
    LEDGER_STATUSES,
    OFFSET,
    OPEN_STATUSES,
    REVERSAL,
    SALARY_DEDUCTION,
    WRITE_OFF,
)
from server.domain.messages import Message, _m
from server.domain.money import ZERO, from_fen, to_fen
from server.domain.vocab import (
    OPEN_OFFBOARDING_STATUSES,
    EmployeeStatus,
    LoanStatus,
    OffboardingStatus,
    OffsetState,
    ReimbursementStatus,
)
from server.models import (
    Department,
    Employee,
    LedgerEntry,
    Loan,
    Offboarding,
    Position,
    ReimbursementOffset,
    User,
)
from server.services import alerts, audit, rerouting, sessions, workflow
from server.services import risk as risk_service
from server.services.base import (
    Page,
    Viewer,
    atomic,
    get_locked,
    local_date,
    lock_employee,
    lookup_id,
    paginate,
    parse_id,
    require_login,
    require_role,
    today,
    utcnow,
)
from server.services.loans import cancel_open_applications, outstanding_by_loan
from server.services.org import can_see_employee, visible_employees_q
from server.settings import get_settings

STATUSES = tuple(OffboardingStatus)
OPEN = tuple(sorted(OPEN_OFFBOARDING_STATUSES))
MAX_REASON = 1000
ALERT_KIND = "OFFBOARDING_OUTSTANDING"


def alert_key(offboarding_id: int) -> str:
    """One OFFBOARDING_OUTSTANDING alert per offboarding (rule, subject, period)."""
    return f"{ALERT_KIND}:offboarding:{offboarding_id}"


# ---------------------------------------------------------------- the clearance, recomputed on read


@dataclass(frozen=True)
class OpenLoan:
    loan: Loan
    outstanding: Decimal


@dataclass(frozen=True)
class PendingOffset:
    reimbursement_id: int
    number: str
    loan_id: int
    amount: Decimal


@dataclass(frozen=True)
class Clearance:
    employee_id: int
    loans: list[OpenLoan]
    pending: list[PendingOffset]

    @property
    def outstanding(self) -> Decimal:
        return clearance_rules.total_owed([clearance_rules.OwedLoan(x.loan.number, x.outstanding) for x in self.loans])

    @property
    def pending_reimbursements(self) -> list[clearance_rules.PendingReimbursement]:
        totals: dict[str, Decimal] = {}
        for p in self.pending:
            totals[p.number] = totals.get(p.number, ZERO) + p.amount
        return [clearance_rules.PendingReimbursement(n, t) for n, t in totals.items()]

    @property
    def pending_reimbursement_ids(self) -> list[int]:
        return list(dict.fromkeys(p.reimbursement_id for p in self.pending))

    @property
    def blockers(self) -> list[Message]:
        return clearance_rules.blockers([clearance_rules.OwedLoan(x.loan.number, x.outstanding) for x in self.loans],
                          self.pending_reimbursements)

    @property
    def clear(self) -> bool:
        return not self.blockers

    def blocked_message(self) -> Message:
        return clearance_rules.blocked_message(self.blockers, self.outstanding)


async def clearances(employee_ids: Sequence[int]) -> list[Clearance]:
    """Batch: each employee's open loans with balances and pending offsets, in three queries."""
    ids = list(set(employee_ids))
    loans = await Loan.filter(employee_id__in=ids, status__in=sorted(OPEN_STATUSES)).order_by("created_at", "id")
    balances = await outstanding_by_loan([loan.id for loan in loans])
    offsets = await ReimbursementOffset.filter(
        state=OffsetState.RESERVED, reimbursement__status=ReimbursementStatus.PENDING_APPROVAL, reimbursement__employee_id__in=ids,
    ).order_by("reimbursement_id", "id").values(
        "reimbursement_id", "reimbursement__number", "reimbursement__employee_id", "loan_id", "amount_fen")
    by_employee: dict[int, tuple[list[OpenLoan], list[PendingOffset]]] = {i: ([], []) for i in ids}
    for loan in loans:
        if balances[loan.id] > 0:
            by_employee[loan.employee_id][0].append(OpenLoan(loan, balances[loan.id]))  # type: ignore[attr-defined]
    for row in offsets:
        by_employee[row["reimbursement__employee_id"]][1].append(PendingOffset(
            row["reimbursement_id"], row["reimbursement__number"], row["loan_id"], from_fen(row["amount_fen"])))
    return [Clearance(i, *by_employee[i]) for i in employee_ids]


async def clearance_for(employee_id: int) -> Clearance:
    return (await clearances([employee_id]))[0]


# ---------------------------------------------------------------- reading offboardings


async def can_see_offboarding(viewer: Viewer, offboarding: Offboarding) -> bool:
    if viewer.sees_all:
        return True
    employee = await Employee.get(id=offboarding.employee_id)  # type: ignore[attr-defined]
    return await can_see_employee(viewer, employee)


async def my_open_offboarding(viewer: Viewer) -> Offboarding | None:
    """The viewer's own offboarding while it is open (what their home and apply pages tell them)."""
    require_login(viewer)
    if viewer.employee_id is None:
        return None
    return await Offboarding.filter(employee_id=viewer.employee_id,
                                    status__in=sorted(OPEN_OFFBOARDING_STATUSES)).order_by("-id").first()


async def get_offboarding(viewer: Viewer, offboarding_id: Any) -> Offboarding | None:
    require_login(viewer)
    row = await Offboarding.filter(id=lookup_id(offboarding_id)).first()
    if row is None:
        return None
    if not await can_see_offboarding(viewer, row):
        raise Forbidden(_m("无权查看该离职办理"))
    return row


async def list_offboardings(
    viewer: Viewer, statuses: list[str] | None = None, first: int = 50, after: list[Any] | None = None,
) -> Page:
    """Offboardings of employees the viewer may see, newest first; `statuses` narrows the list."""
    require_login(viewer)
    for s in statuses or []:
        if s not in STATUSES:
            raise ValidationFailed(_m("未知的离职办理状态 %(status)s", status=s), field="status")
    qs = Offboarding.filter(await visible_employees_q(viewer, "employee__"))
    if statuses:
        qs = qs.filter(status__in=list(statuses))
    return await paginate(qs, first, after)


async def _for_update(offboarding_id: Any) -> Offboarding:
    return await get_locked(Offboarding, offboarding_id, "离职办理", "offboarding")


def _snapshot(o: Offboarding) -> dict:
    return {"status": o.status, "lastWorkingDay": o.last_working_day, "employeeId": o.employee_id}  # type: ignore[attr-defined]


# ---------------------------------------------------------------- start


def outstanding_message(employee: Employee, position: Position | None, last_day: date, c: Clearance) -> Message:
    who = f"{employee.name}（{employee.employee_no}{'，' + position.name if position else ''}）"
    loans = [_m("%(number)s 未结清 %(amount)s", number=x.loan.number, amount=x.outstanding) for x in c.loans]
    return _m("%(who)s离职办理中，最后工作日 %(day)s，尚欠借款 %(owed)s 元：%(loans)s。请财务、人事与直属上级在离职前完成清款。",
              who=who, day=last_day.isoformat(), owed=c.outstanding, loans=loans)


async def start_offboarding(
    viewer: Viewer, employee_id: Any, last_working_day: date, reason: str | None = None,
) -> Offboarding:
    require_login(viewer)
    eid = parse_id(employee_id, "employee")
    is_self = duties.own_money(viewer.employee_id, eid)
    if (refusal := _starter_refusal(viewer, eid)) is not None:
        raise refusal
    if not isinstance(last_working_day, date) or isinstance(last_working_day, datetime):
        raise ValidationFailed(_m("lastWorkingDay 须为日期"), field="lastWorkingDay")
    reason = validation.clean_text(reason, "reason", validation.REASON)
    if reason and len(reason) > MAX_REASON:
        raise ValidationFailed(_m("原因不能超过 %(max)s 个字符", max=MAX_REASON), field="reason")
    on = today()
    if last_working_day > on + timedelta(days=366):
        raise ValidationFailed(_m("最后工作日不能晚于一年之后"),
                               field="lastWorkingDay")
    # HR may record a departure after the fact; an employee resigns from today on.
    if is_self and not viewer.has(role_names.HR) and last_working_day < on:
        raise ValidationFailed(_m("最后工作日不能早于今天"), field="lastWorkingDay")

    async with atomic():
        employee = await Employee.filter(id=eid).first()
        if employee is None:
            raise NotFound(_m("员工 %(id)s 不存在", id=employee_id))
        await lock_employee(eid)
        await employee.refresh_from_db()
        if last_working_day < employee.hire_date:
            raise ValidationFailed(_m("最后工作日早于入职日期"),
                                   field="lastWorkingDay")
        is_open = await Offboarding.filter(employee_id=eid, status__in=OPEN).exists()
        if (refusal := start_refusal(viewer, employee, is_open)) is not None:
            raise refusal

        now = utcnow()
        offboarding = await Offboarding.create(
            employee_id=eid, status=OffboardingStatus.CLEARANCE_PENDING, last_working_day=last_working_day, reason=reason,
            started_by_id=viewer.user_id, created_at=now,
        )
        cancelled = await cancel_open_applications(
            viewer, eid, f"离职办理 #{offboarding.id} 开始，未放款的借款申请自动撤销")
        employee.status = EmployeeStatus.OFFBOARDING
        await employee.save(update_fields=["status"])
        c = await clearance_for(eid)
        await audit.record(viewer, "offboarding.start", "offboarding", offboarding.id, None, {
            **_snapshot(offboarding), "reason": reason, "selfService": is_self,
            "employeeStatus": {"before": EmployeeStatus.ACTIVE, "after": EmployeeStatus.OFFBOARDING}, "cancelledLoans": cancelled,
            "outstanding": c.outstanding, "openLoans": [x.loan.number for x in c.loans],
        })
        await workflow.offboarding_started(viewer, offboarding, c.outstanding, [x.loan.number for x in c.loans])
        if c.outstanding > 0:
            position = await Position.filter(id=employee.position_id).first()  # type: ignore[attr-defined]
            # Through the risk engine's rule (FINANCE, HR and the supervisor; the leaver is the subject,
            # not someone asked to collect: an HR or finance clerk who resigns is not told about their own debt).
            await risk_service.raise_offboarding_outstanding(
                viewer, offboarding.id, employee, to_fen(c.outstanding),
                outstanding_message(employee, position, last_working_day, c))
    return offboarding


# ---------------------------------------------------------------- the gate


async def confirm_clearance(viewer: Viewer, offboarding_id: Any) -> Offboarding:
    """FINANCE confirms that nothing is owed. CLEARANCE_BLOCKED while anything is."""
    require_role(viewer, role_names.FINANCE)
    async with atomic():
        offboarding = await _for_update(offboarding_id)
        c = await clearance_for(offboarding.employee_id)  # type: ignore[attr-defined]
        refusal = confirm_refusal(viewer, offboarding, c)
        if refusal is not None:
            raise refusal
        before = _snapshot(offboarding)
        offboarding.status, offboarding.cleared_at = OffboardingStatus.CLEARED, utcnow()
        offboarding.cleared_by_id = viewer.employee_id  # type: ignore[attr-defined]
        offboarding.cleared_by_user_id = viewer.user_id  # type: ignore[attr-defined]
        await offboarding.save(update_fields=["status", "cleared_at", "cleared_by_id", "cleared_by_user_id"])
        await audit.record(viewer, "offboarding.confirm_clearance", "offboarding", offboarding.id, before, {
            **_snapshot(offboarding), "outstanding": ZERO, "clearedAt": offboarding.cleared_at,
        })
        await alerts.resolve_by_key(viewer, alert_key(offboarding.id),
                                    _m("财务已确认离职清款，无未结清借款"))
    return offboarding


async def complete_offboarding(viewer: Viewer, offboarding_id: Any) -> Offboarding:
    """HR completes the exit. CLEARANCE_BLOCKED until finance has confirmed the clearance."""
    require_role(viewer, role_names.HR)
    async with atomic():
        offboarding = await _for_update(offboarding_id)
        eid: int = offboarding.employee_id  # type: ignore[attr-defined]
        refusal = complete_refusal(viewer, offboarding, await clearance_for(eid))
        if refusal is not None:
            raise refusal
        now = utcnow()
        before = _snapshot(offboarding)
        offboarding.status, offboarding.completed_at = OffboardingStatus.COMPLETED, now
        await offboarding.save(update_fields=["status", "completed_at"])
        await Employee.filter(id=eid).update(status=EmployeeStatus.LEFT)
        user = await User.filter(employee_id=eid).first()
        await audit.record(viewer, "offboarding.complete", "offboarding", offboarding.id, before, {
            **_snapshot(offboarding), "completedAt": now,
            "employeeStatus": {"before": EmployeeStatus.OFFBOARDING, "after": EmployeeStatus.LEFT},
        })
        await workflow.offboarding_completed(viewer, offboarding)
        if user is not None:
            was_active = user.is_active
            await User.filter(id=user.id).update(is_active=False)
            await sessions.revoke_all(user.id)
            await audit.record(viewer, "user.deactivate", "user", user.id, {"isActive": was_active},
                               {"isActive": False, "sessionsRevoked": True, "tokensRevoked": True,
                                "reason": f"offboarding #{offboarding.id} completed"})
        # A leaving supervisor's waiting steps go to the one above (issue 12).
        await rerouting.approver_left(viewer, eid)
    return offboarding


async def cancel_offboarding(viewer: Viewer, offboarding_id: Any) -> Offboarding:
    """HR cancels an open offboarding: the employee stays and is ACTIVE again."""
    require_role(viewer, role_names.HR)
    async with atomic():
        offboarding = await _for_update(offboarding_id)
        eid: int = offboarding.employee_id  # type: ignore[attr-defined]
        refusal = cancel_refusal(viewer, offboarding)
        if refusal is not None:
            raise refusal
        before = _snapshot(offboarding)
        offboarding.status, offboarding.cancelled_at = OffboardingStatus.CANCELLED, utcnow()
        await offboarding.save(update_fields=["status", "cancelled_at"])
        await Employee.filter(id=eid, status=EmployeeStatus.OFFBOARDING).update(status=EmployeeStatus.ACTIVE)
        await audit.record(viewer, "offboarding.cancel", "offboarding", offboarding.id, before, {
            **_snapshot(offboarding), "employeeStatus": {"before": EmployeeStatus.OFFBOARDING, "after": EmployeeStatus.ACTIVE},
        })
        await alerts.resolve_by_key(viewer, alert_key(offboarding.id),
                                    _m("离职办理已撤销，员工留任"))
    return offboarding


# ---------------------------------------------------------------- what the viewer may do
# Each *_refusal is the check its mutation raises and the `viewerCan` flag the schema shows.


def _starter_refusal(viewer: Viewer, employee_id: int) -> DomainError | None:
    if not duties.own_money(viewer.employee_id, employee_id) and not viewer.has(role_names.HR):
        return Forbidden(_m("只有人事或员工本人可以发起离职"))
    return None


def start_refusal(viewer: Viewer, employee: Employee, is_open: bool | None = None) -> DomainError | None:
    """HR for anyone, an employee for themself, once, while ACTIVE. `is_open`: an open offboarding
    exists (when not given, the employee's OFFBOARDING status, which start/cancel keep in step)."""
    if (refusal := _starter_refusal(viewer, employee.id)) is not None:
        return refusal
    if is_open or employee.status == EmployeeStatus.OFFBOARDING:
        return Conflict(_m("该员工已在离职办理中"))
    if employee.status != EmployeeStatus.ACTIVE:
        return Conflict(_m("员工状态为 %(status)s，不能发起离职", status=employee.status))
    return None


def _role_refusal(viewer: Viewer, role: str) -> DomainError | None:
    if not viewer.has(role):
        return Forbidden(_m("需要以下角色之一：%(roles)s", roles=role))
    return None


def confirm_refusal(viewer: Viewer, offboarding: Offboarding, c: Clearance) -> DomainError | None:
    """FINANCE, not their own, while the clearance is pending and nothing is owed."""
    if (refusal := _role_refusal(viewer, role_names.FINANCE)) is not None:
        return refusal
    if duties.own_money(viewer.employee_id, offboarding.employee_id):  # type: ignore[attr-defined]
        return Forbidden(_m("不能确认自己的离职清款"))
    if offboarding.status != OffboardingStatus.CLEARANCE_PENDING:
        return InvalidTransition(
            _m("离职办理状态为 %(status)s，不能确认清款", status=offboarding.status))
    if not c.clear:
        return ClearanceBlocked(c.blocked_message(), details={
            "outstanding": str(c.outstanding),
            "loans": [{"id": str(x.loan.id), "number": x.loan.number, "outstanding": str(x.outstanding)} for x in c.loans],
            "pendingReimbursements": [{"number": p.number, "offset": str(p.offset_total)}
                                      for p in c.pending_reimbursements],
        })
    return None


def complete_refusal(viewer: Viewer, offboarding: Offboarding, c: Clearance) -> DomainError | None:
    """HR, not their own, once finance has confirmed the clearance."""
    if (refusal := _role_refusal(viewer, role_names.HR)) is not None:
        return refusal
    if duties.own_money(viewer.employee_id, offboarding.employee_id):  # type: ignore[attr-defined]
        return Forbidden(_m("不能办结自己的离职"))
    if offboarding.status == OffboardingStatus.CLEARANCE_PENDING:
        detail = c.blocked_message() if not c.clear else _m("无欠款，待财务确认")
        return ClearanceBlocked(_m("财务尚未确认离职清款，不能办结离职：%(detail)s", detail=detail), details={
            "outstanding": str(c.outstanding),
            "loans": [{"id": str(x.loan.id), "number": x.loan.number, "outstanding": str(x.outstanding)}
                      for x in c.loans],
        })
    if offboarding.status != OffboardingStatus.CLEARED:
        return InvalidTransition(
            _m("离职办理状态为 %(status)s，不能办结", status=offboarding.status))
    if not c.clear:  # cannot happen through the services; refuse rather than lose money
        return ClearanceBlocked(c.blocked_message())
    return None


def cancel_refusal(viewer: Viewer, offboarding: Offboarding) -> DomainError | None:
    """HR, not their own, while the offboarding is open."""
    if (refusal := _role_refusal(viewer, role_names.HR)) is not None:
        return refusal
    if offboarding.status not in OPEN:
        return InvalidTransition(
            _m("离职办理状态为 %(status)s，不能撤销", status=offboarding.status))
    if duties.own_money(viewer.employee_id, offboarding.employee_id):  # type: ignore[attr-defined]
        return Forbidden(_m("不能撤销自己的离职办理"))
    return None


def settle_refusal(viewer: Viewer, offboarding: Offboarding) -> DomainError | None:
    """Recording cash returns and salary deductions on the leaver's loans while the clearance is
    pending (each settlement is then loans.settle_refusal's question for its loan)."""
    if (refusal := duties.role_refusal(viewer.roles, duties.SETTLE_CASH)) is not None:
        return refusal
    if duties.own_money(viewer.employee_id, offboarding.employee_id):  # type: ignore[attr-defined]
        return Forbidden(_m("不能处理自己的款项"))
    if offboarding.status != OffboardingStatus.CLEARANCE_PENDING:
        return InvalidTransition(
            _m("离职办理状态为 %(status)s，不能登记结清", status=offboarding.status))
    return None


# ---------------------------------------------------------------- certificate (离职清款证明)


@dataclass(frozen=True)
class CertificateLoan:
    number: str
    amount: Decimal
    disbursed_on: date | None
    settled_on: date | None
    status: str
    offset: Decimal
    cash_return: Decimal
    salary_deduction: Decimal
    write_off: Decimal
    notes: list[str]


@dataclass(frozen=True)
class Certificate:
    number: str
    offboarding_id: int
    status: str
    employee_no: str
    employee_name: str
    department: str
    position: str
    hire_date: date
    last_working_day: date
    reason: str | None
    loans: list[CertificateLoan]
    total_borrowed: Decimal
    total_offset: Decimal
    total_cash_return: Decimal
    total_salary_deduction: Decimal
    total_write_off: Decimal
    outstanding: Decimal
    cleared_by_name: str
    cleared_by_no: str | None
    cleared_at: datetime  # in the company's time zone
    cleared_on: date
    completed_at: datetime | None
    issued_on: date


SETTLED_LABELS: dict[str, str] = {LoanStatus.SETTLED: "已结清", LoanStatus.WRITTEN_OFF: "已核销", LoanStatus.PARTIALLY_SETTLED: "部分结清", LoanStatus.DISBURSED: "未结清"}


async def clearance_certificate(viewer: Viewer, offboarding_id: Any) -> Certificate:
    """The data of the 离职清款证明: available once finance has confirmed the clearance."""
    offboarding = await get_offboarding(viewer, offboarding_id)
    if offboarding is None:
        raise NotFound(_m("离职办理 %(id)s 不存在", id=offboarding_id))
    if offboarding.status not in (OffboardingStatus.CLEARED, OffboardingStatus.COMPLETED) or offboarding.cleared_at is None:
        raise Conflict(_m("清款尚未经财务确认，不能出具离职清款证明"))
    eid: int = offboarding.employee_id  # type: ignore[attr-defined]
    employee = await Employee.get(id=eid)
    department = await Department.get(id=employee.department_id)  # type: ignore[attr-defined]
    position = await Position.get(id=employee.position_id)  # type: ignore[attr-defined]
    loans = await Loan.filter(employee_id=eid, status__in=sorted(LEDGER_STATUSES)).order_by("created_at", "id")
    entries = await LedgerEntry.filter(loan_id__in=[loan.id for loan in loans]).order_by("recorded_at", "id")
    per_loan: dict[int, list[LedgerEntry]] = {}
    for e in entries:
        per_loan.setdefault(e.loan_id, []).append(e)  # type: ignore[attr-defined]
    rows = []
    for loan in loans:
        mine = per_loan.get(loan.id, [])

        # A reversed settlement is counted with its reversal: the two cancel out.
        kinds = {e.id: e.kind for e in mine}

        def total(kind: str, mine: list[LedgerEntry] = mine, kinds: dict[int, str] = kinds) -> Decimal:
            return sum((from_fen(-e.delta_fen) for e in mine
                        if (e.kind if e.kind != REVERSAL else kinds.get(e.reverses_id)) == kind), ZERO)  # type: ignore[attr-defined]

        rows.append(CertificateLoan(
            number=loan.number, amount=from_fen(loan.amount_fen),
            disbursed_on=local_date(loan.disbursed_at) if loan.disbursed_at else None,
            settled_on=local_date(loan.settled_at) if loan.settled_at else None,
            status=SETTLED_LABELS.get(loan.status, loan.status),
            offset=total(OFFSET), cash_return=total(CASH_RETURN),
            salary_deduction=total(SALARY_DEDUCTION), write_off=total(WRITE_OFF),
            notes=[e.note for e in mine if e.note],
        ))
    c = await clearance_for(eid)
    if not c.clear:  # a certificate must never state something false
        raise ClearanceBlocked(c.blocked_message())
    cleared_by = await Employee.filter(id=offboarding.cleared_by_id).first()  # type: ignore[attr-defined]
    if cleared_by is not None:
        cleared_name, cleared_no = cleared_by.name, cleared_by.employee_no
    else:
        user = await User.filter(id=offboarding.cleared_by_user_id).first()  # type: ignore[attr-defined]
        cleared_name, cleared_no = (user.username if user else "—"), None
    return Certificate(
        number=f"LZQK-{local_date(offboarding.cleared_at).year}-{offboarding.id:06d}",
        offboarding_id=offboarding.id, status=offboarding.status,
        employee_no=employee.employee_no, employee_name=employee.name, department=department.name,
        position=position.name, hire_date=employee.hire_date, last_working_day=offboarding.last_working_day,
        reason=offboarding.reason, loans=rows,
        total_borrowed=sum((r.amount for r in rows), ZERO), total_offset=sum((r.offset for r in rows), ZERO),
        total_cash_return=sum((r.cash_return for r in rows), ZERO),
        total_salary_deduction=sum((r.salary_deduction for r in rows), ZERO),
        total_write_off=sum((r.write_off for r in rows), ZERO), outstanding=c.outstanding,
        cleared_by_name=cleared_name, cleared_by_no=cleared_no, cleared_at=offboarding.cleared_at.astimezone(get_settings().tz),
        cleared_on=local_date(offboarding.cleared_at), completed_at=offboarding.completed_at.astimezone(get_settings().tz) if offboarding.completed_at else None,
        issued_on=today(),
    )


# ---------------------------------------------------------------- corrections


async def reopen_clearance_if_owed(viewer: Viewer, employee_id: int) -> Offboarding | None:
    """Inside the caller's transaction, after a reversal: a CLEARED clearance whose employee owes
    again goes back to CLEARANCE_PENDING, so that finance must confirm it again before HR completes."""
    offboarding = await Offboarding.filter(employee_id=employee_id, status=OffboardingStatus.CLEARED).first()
    if offboarding is None:
        return None
    c = await clearance_for(employee_id)
    if c.clear:
        return None
    before = {**_snapshot(offboarding), "clearedAt": offboarding.cleared_at}
    offboarding.status, offboarding.cleared_at = OffboardingStatus.CLEARANCE_PENDING, None
    offboarding.cleared_by_id = None  # type: ignore[attr-defined]
    offboarding.cleared_by_user_id = None  # type: ignore[attr-defined]
    await offboarding.save(update_fields=["status", "cleared_at", "cleared_by_id", "cleared_by_user_id"])
    await audit.record(viewer, "offboarding.reopen_clearance", "offboarding", offboarding.id, before, {
        **_snapshot(offboarding), "outstanding": c.outstanding,
        "note": "冲销后员工仍有欠款，清款须重新确认",  # audit data, not a message
    })
    return offboarding


def duty_refusal_message(viewer: Viewer, role: str, refusal: DomainError | None) -> Message | None:
    """For a page that shows an action disabled, with its reason, to those whose duty it is:
    the refusal's message when the viewer holds `role`, else None (the action is not theirs)."""
    if refusal is None or not viewer.has(role):
        return None
    return refusal.msg
