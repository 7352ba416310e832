"""importCsv per kind: a batch of parsed rows checked against the database (bulk lookups), then written.

Each handler's `batch(rows, write)` returns the batch's errors and counts; with `write=True` it also
writes (inside the import's one transaction). The same checks run in both passes, so what a dry run
reports is what a real import refuses.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from server.domain import duties, ledger
from server.domain.imports import Parsed, RowError
from server.domain.messages import Message, _m
from server.domain.money import from_fen, to_fen
from server.domain.vocab import EmployeeStatus, EntryKind, Role
from server.models import (
    BusinessRecord,
    Department,
    Employee,
    ImportedLoan,
    LedgerEntry,
    Loan,
    PasswordToken,
    Position,
    Region,
    User,
)
from server.services.base import Viewer, day_start, utcnow

# An imported account's password hash: not an argon2 hash, so no password ever verifies against it.
UNUSABLE_PASSWORD = "!imported"

Row = tuple[int, Parsed]


@dataclass
class Outcome:
    errors: list[tuple[int, str | None, Message]] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    error_total: int = 0  # every error, also those beyond the ones listed

    def error(self, row: int, column: str | None, message: Message) -> None:
        self.errors.append((row, column, message))
        self.error_total += 1


class Handler:
    """What every kind shares: the viewer, the report's id, keys seen so far in the file."""

    def __init__(self, viewer: Viewer, report_id: int, today: date) -> None:
        self.viewer = viewer
        self.report_id = report_id
        self.today = today
        self.seen: set[Any] = set()

    def reset_pass(self) -> None:
        self.seen = set()

    def duplicate(self, key: Any) -> bool:
        if key in self.seen:
            return True
        self.seen.add(key)
        return False

    async def prepare(self) -> None:
        return None

    async def batch(self, rows: list[Row], write: bool) -> Outcome:
        raise NotImplementedError

    async def finish(self, write: bool) -> Outcome:
        return Outcome()


async def employee_ids(numbers: set[str]) -> dict[str, int]:
    if not numbers:
        return {}
    return {no: i for i, no in await Employee.filter(employee_no__in=sorted(numbers)).values_list("id", "employee_no")}


# ---------------------------------------------------------------- employees


class EmployeesHandler(Handler):
    """Keyed by 工号. New accounts get no usable password: a pending set-password link each."""

    async def prepare(self) -> None:
        self.departments = {c: i for i, c in await Department.all().values_list("id", "code")}
        self.regions = {c: i for i, c in await Region.all().values_list("id", "code")}
        self.positions = {c: i for i, c in await Position.all().values_list("id", "code")}
        self.file_numbers: set[str] = set()
        self.cyclic: set[str] = set()
        self.supervisors: list[tuple[str, str]] = []

    def note_keys(self, rows: list[Row]) -> None:
        """The first pass: employee numbers in the file (a supervisor may be a later row)."""
        for _, p in rows:
            if p.values.get("employeeNo"):
                self.file_numbers.add(p.values["employeeNo"])

    async def batch(self, rows: list[Row], write: bool) -> Outcome:
        out = Outcome()
        values = [p.values for _, p in rows]
        numbers = {v["employeeNo"] for v in values if v.get("employeeNo")}
        existing = {e.employee_no: e for e in await Employee.filter(employee_no__in=sorted(numbers))} if numbers else {}
        users = {u.employee_id: u for u in await User.filter(  # type: ignore[attr-defined]
            employee_id__in=[e.id for e in existing.values()])} if existing else {}
        names = {v["username"] for v in values if v.get("username")}
        taken = {u.username: u for u in await User.filter(username__in=sorted(names))} if names else {}
        sup_numbers = {v["supervisorNo"] for v in values if v.get("supervisorNo")} - self.file_numbers
        known_sups = set((await employee_ids(sup_numbers)).keys())
        creating: list[tuple[dict[str, Any], list[str]]] = []
        for number, p in rows:
            v = p.values
            errors: list[tuple[str | None, Message]] = list(p.problems)
            no = v.get("employeeNo")
            if no and self.duplicate(("no", no)):
                errors.append(("employeeNo", _m("工号 %(number)s 在文件中重复", number=no)))
            if v.get("username") and self.duplicate(("user", v["username"].lower())):
                errors.append(("username", _m("用户名 %(username)s 在文件中重复", username=v["username"])))
            for name, table in (("departmentCode", self.departments), ("regionCode", self.regions),
                                ("positionCode", self.positions)):
                if v.get(name) and v[name] not in table:
                    errors.append((name, _m("未知的编码 %(code)s", code=v[name])))
            sup = v.get("supervisorNo")
            if sup and (sup == no or no in self.cyclic):
                errors.append(("supervisorNo", _m("上级不能是本人或其下属")))
            elif sup and sup not in self.file_numbers and sup not in known_sups:
                errors.append(("supervisorNo", _m("未知的上级 %(number)s", number=sup)))
            roles = sorted(set(v.get("roles") or []) | {Role.EMPLOYEE})
            current = existing.get(no) if no else None
            user = users.get(current.id) if current else None
            before_roles = list(user.roles) if user else []
            if current is not None and duties.own_money(self.viewer.employee_id, current.id):
                errors.append(("employeeNo", _m("不能修改自己的档案")))
            if not duties.may_edit_person(self.viewer.roles, set(roles) | set(before_roles)):
                errors.append(("roles", _m("人事只能导入普通员工和主管")))
            elif (refused := duties.role_change_violation(
                    self.viewer.roles, self.viewer.user_id, user.id if user else None,
                    before_roles if user else [], roles)) is not None:
                errors.append(("roles", refused))
            username = v.get("username")
            holder = taken.get(username) if username else None
            if holder is not None and (current is None or holder.employee_id != current.id):  # type: ignore[attr-defined]
                errors.append(("username", _m("用户名 %(username)s 已存在", username=username)))
            if current is not None:
                if user is not None and username and user.username != username:
                    errors.append(("username", _m("用户名不能通过导入修改（现为 %(username)s）", username=user.username)))
                if v.get("status") and v["status"] != current.status:
                    errors.append(("status", _m("已有员工的状态不能通过导入修改，请走离职办理")))
            if errors:
                for column, message in errors:
                    out.error(number, column, message)
                continue
            if current is None:
                out.created += 1
                if write:
                    creating.append((v, roles))
            else:
                out.updated += 1
                if write:
                    await self._update(current, user, v, roles)
            if sup and no and write:
                self.supervisors.append((str(no), str(sup)))
        if write and creating and not out.errors:
            await self._create_many(creating)
        return out

    async def _create_many(self, creating: list[tuple[dict[str, Any], list[str]]]) -> None:
        """A batch of new people in a few statements: employees, then their accounts, then pending links.
        Someone still offboarding goes through the offboarding service one by one (an open clearance)."""
        plain = [(v, roles) for v, roles in creating if v.get("status") != EmployeeStatus.OFFBOARDING]
        for v, roles in creating:
            if v.get("status") == EmployeeStatus.OFFBOARDING:
                await self._create(v, roles)
        if not plain:
            return
        await Employee.bulk_create([self._employee(v) for v, _ in plain], batch_size=500)
        ids = await employee_ids({v["employeeNo"] for v, _ in plain})
        accounts = [(v, roles) for v, roles in plain if v.get("status") != EmployeeStatus.LEFT]
        if not accounts:
            return
        await User.bulk_create([User(username=v["username"], password_hash=UNUSABLE_PASSWORD, roles=roles,
                                     employee_id=ids[v["employeeNo"]]) for v, roles in accounts], batch_size=500)
        user_ids: list[Any] = await User.filter(username__in=[v["username"] for v, _ in accounts]).values_list(
            "id", flat=True)
        now = utcnow()
        await PasswordToken.bulk_create([PasswordToken(user_id=int(u), report_id=self.report_id, created_at=now)
                                         for u in user_ids], batch_size=500)

    def _employee(self, v: dict[str, Any]) -> Employee:
        status = v.get("status") or EmployeeStatus.ACTIVE
        return Employee(
            employee_no=v["employeeNo"], name=v["name"], department_id=self.departments[v["departmentCode"]],
            region_id=self.regions[v["regionCode"]], position_id=self.positions[v["positionCode"]],
            monthly_salary_fen=to_fen(v["monthlySalary"]), hire_date=v["hireDate"], email=v.get("email"),
            phone=v.get("phone"), status=EmployeeStatus.LEFT if status == EmployeeStatus.LEFT else EmployeeStatus.ACTIVE,
        )

    async def _create(self, v: dict[str, Any], roles: list[str]) -> None:
        status = v.get("status") or EmployeeStatus.ACTIVE
        employee = await Employee.create(
            employee_no=v["employeeNo"], name=v["name"], department_id=self.departments[v["departmentCode"]],
            region_id=self.regions[v["regionCode"]], position_id=self.positions[v["positionCode"]],
            monthly_salary_fen=to_fen(v["monthlySalary"]), hire_date=v["hireDate"], email=v.get("email"),
            phone=v.get("phone"), status=EmployeeStatus.LEFT if status == EmployeeStatus.LEFT else EmployeeStatus.ACTIVE,
        )
        if status == EmployeeStatus.LEFT:
            return  # the debt on record, no login
        user = await User.create(username=v["username"], password_hash=UNUSABLE_PASSWORD, roles=roles,
                                 employee=employee)
        await PasswordToken.create(user=user, report_id=self.report_id, created_at=utcnow())
        if status == EmployeeStatus.OFFBOARDING:
            from server.services import offboarding

            # The import duty (HR, ADMIN) records a departure in progress: an open clearance, as HR would.
            starter = replace(self.viewer, roles=self.viewer.roles | {Role.HR})
            await offboarding.start_offboarding(starter, employee.id, v["lastWorkingDay"], "导入：离职办理中")

    async def _update(self, employee: Employee, user: User | None, v: dict[str, Any], roles: list[str]) -> None:
        changes = {
            "name": v["name"], "department_id": self.departments[v["departmentCode"]],
            "region_id": self.regions[v["regionCode"]], "position_id": self.positions[v["positionCode"]],
            "monthly_salary_fen": to_fen(v["monthlySalary"]), "hire_date": v["hireDate"],
            "email": v.get("email"), "phone": v.get("phone"),
        }
        if any(getattr(employee, k) != value for k, value in changes.items()):
            await Employee.filter(id=employee.id).update(**changes)
        if user is not None and sorted(user.roles) != roles:
            await User.filter(id=user.id).update(roles=roles)

    async def finish(self, write: bool) -> Outcome:
        """Supervisors once every employee of the file exists (a supervisor may come later in the file)."""
        if not write:
            return Outcome()
        pending, self.supervisors = self.supervisors, []
        by_supervisor: dict[str, list[str]] = {}
        for no, sup in pending:
            by_supervisor.setdefault(sup, []).append(no)
        ids = await employee_ids(set(by_supervisor))
        # One UPDATE per supervisor (and per 500 reports): a team's rows at once.
        for sup, reports in by_supervisor.items():
            for start in range(0, len(reports), 500):
                await Employee.filter(employee_no__in=reports[start:start + 500]).update(supervisor_id=ids[sup])
        return Outcome()


# ---------------------------------------------------------------- business records


class BusinessHandler(Handler):
    """Keyed by 编号 per employee; never for oneself."""

    async def batch(self, rows: list[Row], write: bool) -> Outcome:
        out = Outcome()
        ids = await employee_ids({p.values["employeeNo"] for _, p in rows if p.values.get("employeeNo")})
        refs = {p.values["record"].reference for _, p in rows if p.values.get("record")}
        existing = {(r.employee_id, r.reference): r for r in await BusinessRecord.filter(  # type: ignore[attr-defined]
            employee_id__in=list(ids.values()), reference__in=sorted(refs))} if ids and refs else {}
        new: list[BusinessRecord] = []
        for number, p in rows:
            errors = list(p.problems)
            no, record = p.values.get("employeeNo"), p.values.get("record")
            employee_id = ids.get(no) if no else None
            if no and employee_id is None:
                errors.append(("employeeNo", _m("未知的工号 %(number)s", number=no)))
            if employee_id is not None and duties.own_money(self.viewer.employee_id, employee_id):
                errors.append(("employeeNo", _m("不能为自己导入业务记录")))
            if record is not None and no and self.duplicate((no, record.reference)):
                errors.append(("reference", _m("编号 %(reference)s 在文件中重复", reference=record.reference)))
            if errors or record is None or employee_id is None:
                for column, message in errors:
                    out.error(number, column, message)
                continue
            current = existing.get((employee_id, record.reference))
            if current is None:
                out.created += 1
                new.append(BusinessRecord(employee_id=employee_id, kind=record.kind, reference=record.reference,
                                          amount_fen=to_fen(record.amount), signed_on=record.signed_on))
            else:
                out.updated += 1
                change = {"kind": record.kind, "amount_fen": to_fen(record.amount), "signed_on": record.signed_on}
                if write and any(getattr(current, k) != value for k, value in change.items()):
                    await BusinessRecord.filter(id=current.id).update(**change)
        if write and new and not out.errors:
            await BusinessRecord.bulk_create(new, batch_size=500)
        return out


# ---------------------------------------------------------------- historical loans


def loan_fingerprint(employee_id: int, v: dict[str, Any]) -> str:
    figures = [employee_id, str(v["amount"]), v["purpose"], v.get("description") or "", v["appliedOn"].isoformat(),
               v["disbursedOn"].isoformat(), v["expectedSettleDate"].isoformat(), str(v["settledAmount"])]
    return hashlib.sha256(json.dumps(figures, ensure_ascii=False).encode()).hexdigest()


def _local_moment(day: date, hour: int = 12) -> datetime:
    return day_start(day, hour)


class LoansHandler(Handler):
    """Keyed by 借款单号; only imported loans match; nobody imports their own loans."""

    async def batch(self, rows: list[Row], write: bool) -> Outcome:
        out = Outcome()
        ids = await employee_ids({p.values["employeeNo"] for _, p in rows if p.values.get("employeeNo")})
        numbers = sorted({p.values["number"] for _, p in rows if p.values.get("number")})
        loans = {n: i for i, n in await Loan.filter(number__in=numbers).values_list("id", "number")} if numbers else {}
        prints = dict(await ImportedLoan.filter(loan_id__in=list(loans.values())).values_list(
            "loan_id", "fingerprint")) if loans else {}
        for number, p in rows:
            v = p.values
            errors = list(p.problems)
            no = v.get("employeeNo")
            employee_id = ids.get(no) if no else None
            if no and employee_id is None:
                errors.append(("employeeNo", _m("未知的工号 %(number)s", number=no)))
            if employee_id is not None and duties.own_money(self.viewer.employee_id, employee_id):
                errors.append(("employeeNo", _m("不能导入自己的借款")))
            loan_no = v.get("number")
            if loan_no and self.duplicate(loan_no):
                errors.append(("number", _m("借款单号 %(number)s 在文件中重复", number=loan_no)))
            existing = loans.get(loan_no) if loan_no else None
            if existing is not None and existing not in prints:
                errors.append(("number", _m("借款单号 %(number)s 已被清款中的借款使用", number=loan_no)))
            if not errors and employee_id is not None and existing is not None \
                    and prints[existing] != loan_fingerprint(employee_id, v):
                errors.append((None, _m("已导入的借款 %(number)s 数字不同：更正请通过冲销与结算，不能重新导入改写",
                                        number=loan_no)))
            if errors or employee_id is None:
                for column, message in errors:
                    out.error(number, column, message)
                continue
            if existing is not None:
                out.updated += 1  # the same figures: nothing changes
                continue
            out.created += 1
            if write:
                await self._create(employee_id, v)
        return out

    async def _create(self, employee_id: int, v: dict[str, Any]) -> None:
        amount: Decimal = v["amount"]
        settled: Decimal = v["settledAmount"]
        entries = [ledger.Entry(EntryKind.DISBURSEMENT, amount)]
        if settled > 0:
            entries.append(ledger.Entry(EntryKind.IMPORTED, -settled))
        status = ledger.status_from_ledger(amount, entries)
        now = utcnow()
        disbursed_at = _local_moment(v["disbursedOn"])
        loan = await Loan.create(
            number=v["number"], employee_id=employee_id, amount_fen=to_fen(amount), purpose=v["purpose"],
            description=v.get("description") or "", expected_settle_date=v["expectedSettleDate"], status=status,
            applied_on=v["appliedOn"], created_at=_local_moment(v["appliedOn"], 9), decided_at=disbursed_at,
            disbursed_at=disbursed_at, settled_at=now if settled == amount else None,
        )
        await LedgerEntry.create(loan=loan, kind=EntryKind.DISBURSEMENT, delta_fen=to_fen(amount),
                                 recorded_by_id=self.viewer.user_id, recorded_at=disbursed_at,
                                 note="导入：历史借款放款")
        if settled > 0:
            await LedgerEntry.create(loan=loan, kind=EntryKind.IMPORTED, delta_fen=-to_fen(settled),
                                     recorded_by_id=self.viewer.user_id, recorded_at=max(now, disbursed_at + timedelta(seconds=1)),
                                     note="导入：原系统已还金额")
        await ImportedLoan.create(loan=loan, report_id=self.report_id, fingerprint=loan_fingerprint(employee_id, v))


HANDLERS: dict[str, type[Handler]] = {
    "EMPLOYEES": EmployeesHandler, "BUSINESS_RECORDS": BusinessHandler, "HISTORICAL_LOANS": LoansHandler,
}

_ = (from_fen, RowError)
