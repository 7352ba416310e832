"""Org data and accounts: departments, regions, positions (loan policy), employees, users."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from tortoise import Tortoise
from tortoise.expressions import Q

from server import auth
from server.domain import duties, validation
from server.domain import roles as role_names
from server.domain.approvals import validate_chain
from server.domain.errors import (
    AccountClosed,
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    RateLimited,
    Unauthenticated,
    ValidationFailed,
)
from server.domain.messages import _m
from server.domain.money import from_fen, parse_money, to_fen
from server.domain.passwords import check_password
from server.models import AuditEntry, Department, Employee, LoginCounter, Position, Region, User
from server.services import alerts, audit, rerouting, sessions
from server.services.base import (
    Page,
    Viewer,
    atomic,
    lookup_id,
    paginate,
    parse_id,
    require_login,
    require_role,
    utcnow,
)

CODE_RE = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
MAX_FAILURES = 5  # per (username, client address) in THROTTLE_WINDOW: that address is locked for that name
MAX_FAILURES_PER_ADDRESS = 50  # per client address in THROTTLE_WINDOW, whatever the usernames
THROTTLE_WINDOW = 15 * 60  # seconds
LOCK_MINUTES = 15


def _code(value: str, field: str = "code") -> str:
    value = (value or "").strip()
    if not CODE_RE.match(value):
        raise ValidationFailed(_m("%(field)s 须为 1–32 个字母、数字、'-'、'_' 或 '.'", field=field), field=field)
    return value


def _name(value: str, field: str = "name", max_len: int = validation.NAME) -> str:
    return validation.required_text(value, field, max_len)


def position_snapshot(p: Position) -> dict:
    return {
        "code": p.code, "name": p.name, "level": p.level, "loanLimit": str(from_fen(p.loan_limit_fen)),
        "monthlyLoanLimit": None if p.monthly_limit_fen is None else str(from_fen(p.monthly_limit_fen)),
        "settleDays": p.settle_days, "approvalChain": list(p.approval_chain),
    }


# ---------------------------------------------------------------- visibility


MAX_DEPTH = 50  # an org chart deeper than this is a cycle or an error: stop walking


async def subtree_ids(employee_id: int) -> set[int]:
    """Everyone below `employee_id` (reports, their reports …): one query per level, not per person."""
    found: set[int] = set()
    frontier = [employee_id]
    for _ in range(MAX_DEPTH):
        rows: list[Any] = await Employee.filter(supervisor_id__in=frontier).values_list("id", flat=True)
        below = [int(i) for i in rows if i not in found and i != employee_id]
        if not below:
            break
        found.update(below)
        frontier = below
    return found


async def is_above(supervisor_id: int, employee: Employee) -> bool:
    """True when `supervisor_id` is somewhere on `employee`'s chain of supervisors."""
    current = employee.supervisor_id  # type: ignore[attr-defined]
    seen: set[int] = set()
    while current is not None and current not in seen and len(seen) < MAX_DEPTH:
        if current == supervisor_id:
            return True
        seen.add(current)
        above = await Employee.filter(id=current).values_list("supervisor_id", flat=True)
        current = above[0] if above else None
    return False


async def can_see_employee(viewer: Viewer, employee: Employee) -> bool:
    """Finance, HR, admin and auditor see everyone; a supervisor their whole subtree; anyone themself."""
    if viewer.sees_all:
        return True
    if viewer.employee_id is None:
        return False
    if employee.id == viewer.employee_id or employee.supervisor_id == viewer.employee_id:  # type: ignore[attr-defined]
        return True
    return await is_above(viewer.employee_id, employee)


async def visible_employees_q(viewer: Viewer, prefix: str = "") -> Q:
    """A filter for rows owned by employees the viewer may see (prefix: 'employee__' etc.):
    themself and their whole subtree (a director sees their managers' reports)."""
    if viewer.sees_all:
        return Q()
    nobody: dict[str, Any] = {f"{prefix}id": -1}
    if viewer.employee_id is None:
        return Q(**nobody)
    ids = await subtree_ids(viewer.employee_id) | {viewer.employee_id}
    visible: dict[str, Any] = {f"{prefix}id__in": sorted(ids)}
    return Q(**visible)


async def visible_page(
    viewer: Viewer, model: Any, employee_id: Any = None, statuses: list[str] | None = None,
    first: int = 50, after: list[Any] | None = None,
) -> Page:
    """A page of an employee-owned model (loans, reimbursements …) the viewer may see, newest first."""
    require_login(viewer)
    qs = model.filter(await visible_employees_q(viewer, "employee__"))
    if employee_id is not None:
        qs = qs.filter(employee_id=parse_id(employee_id, "employee"))
    if statuses:
        qs = qs.filter(status__in=list(statuses))
    return await paginate(qs, first, after)


async def get_employee(viewer: Viewer, employee_id: object) -> Employee | None:
    require_login(viewer)
    employee = await Employee.filter(id=lookup_id(employee_id)).first()
    if employee is None:
        return None
    if not await can_see_employee(viewer, employee):
        raise Forbidden(_m("无权查看该员工"))
    return employee


async def get_employee_by_no(viewer: Viewer, employee_no: str) -> Employee | None:
    require_login(viewer)
    employee = await Employee.filter(employee_no=(employee_no or "").strip()).first()
    if employee is None:
        return None
    if not await can_see_employee(viewer, employee):
        raise Forbidden(_m("无权查看该员工"))
    return employee


async def _employees_qs(viewer: Viewer, search: str | None) -> Any:
    require_login(viewer)
    qs = Employee.filter(await visible_employees_q(viewer))
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(employee_no__icontains=search))
    return qs


EMPLOYEE_LIST_LIMIT = 500


async def list_employees(viewer: Viewer, search: str | None = None, limit: int | None = None) -> list[Employee]:
    qs = await _employees_qs(viewer, search)
    return await qs.order_by("employee_no").limit(limit or EMPLOYEE_LIST_LIMIT)


async def employee_page(viewer: Viewer, search: str | None = None, first: int = 50,
                        after: list[Any] | None = None) -> Page:
    """The employees `list_employees` finds, paged by keyset in employee-number order."""
    return await paginate(await _employees_qs(viewer, search), first, after, order=("employee_no", "id"))


async def count_employees(viewer: Viewer, search: str | None = None) -> int:
    """How many employees `list_employees` would find without its limit (one COUNT)."""
    return int(await (await _employees_qs(viewer, search)).count())


async def list_departments(viewer: Viewer) -> list[Department]:
    require_login(viewer)
    return await Department.all().order_by("code")


async def list_regions(viewer: Viewer) -> list[Region]:
    require_login(viewer)
    return await Region.all().order_by("code")


async def list_positions(viewer: Viewer) -> list[Position]:
    require_login(viewer)
    return await Position.all().order_by("-level", "code")


# ---------------------------------------------------------------- org changes (ADMIN, HR)


async def upsert_department(viewer: Viewer, code: str, name: str) -> Department:
    require_role(viewer, *role_names.ORG_EDITORS)
    code, name = _code(code), _name(name)
    async with atomic():
        row = await Department.filter(code=code).first()
        if row is None:
            row = await Department.create(code=code, name=name)
            await audit.record(viewer, "department.create", "department", row.id, None, {"code": code, "name": name})
        elif row.name != name:
            before = {"code": code, "name": row.name}
            row.name = name
            await row.save(update_fields=["name"])
            await audit.record(viewer, "department.update", "department", row.id, before, {"code": code, "name": name})
    return row


async def upsert_region(viewer: Viewer, code: str, name: str) -> Region:
    require_role(viewer, *role_names.ORG_EDITORS)
    code, name = _code(code), _name(name)
    async with atomic():
        row = await Region.filter(code=code).first()
        if row is None:
            row = await Region.create(code=code, name=name)
            await audit.record(viewer, "region.create", "region", row.id, None, {"code": code, "name": name})
        elif row.name != name:
            before = {"code": code, "name": row.name}
            row.name = name
            await row.save(update_fields=["name"])
            await audit.record(viewer, "region.update", "region", row.id, before, {"code": code, "name": name})
    return row


@dataclass(frozen=True)
class PositionData:
    code: str
    name: str
    level: int
    loan_limit: object
    monthly_loan_limit: object | None
    settle_days: int
    approval_chain: list[str]


async def upsert_position(viewer: Viewer, data: PositionData) -> Position:
    """Limits and approval chains are money rules: ADMIN only, every change audited (the position's history)."""
    require_login(viewer)
    duties.require(viewer.roles, duties.EDIT_POSITION)
    code, name = _code(data.code), _name(data.name)
    if not 0 <= data.level <= 99:
        raise ValidationFailed(_m("级别须在 0 到 99 之间"), field="level")
    limit = parse_money(data.loan_limit, "loanLimit", allow_zero=True)
    monthly = (
        None if data.monthly_loan_limit in (None, "")
        else parse_money(data.monthly_loan_limit, "monthlyLoanLimit", allow_zero=True)
    )
    validation.check_settle_days(data.settle_days)
    chain = validate_chain([str(getattr(r, "value", r)) for r in data.approval_chain])
    values: dict[str, Any] = {
        "name": name, "level": data.level, "loan_limit_fen": to_fen(limit),
        "monthly_limit_fen": None if monthly is None else to_fen(monthly),
        "settle_days": data.settle_days, "approval_chain": chain,
    }
    async with atomic():
        row = await Position.filter(code=code).first()
        if row is None:
            row = await Position.create(code=code, **values)
            await audit.record(viewer, "position.create", "position", row.id, None, position_snapshot(row))
        else:
            before = position_snapshot(row)
            for key, value in values.items():
                setattr(row, key, value)
            after = position_snapshot(row)
            if after != before:
                await row.save()
                await audit.record(viewer, "position.update", "position", row.id, before, after)
    return row


@dataclass(frozen=True)
class EmployeeData:
    employee_no: str
    name: str
    department_code: str
    region_code: str
    position_code: str
    supervisor_no: str | None
    monthly_salary: object
    hire_date: date
    username: str
    password: str
    roles: list[str]
    email: str | None = None
    phone: str | None = None


def employee_snapshot(e: Employee) -> dict:
    return {
        "employeeNo": e.employee_no, "name": e.name, "departmentId": e.department_id,  # type: ignore[attr-defined]
        "regionId": e.region_id, "positionId": e.position_id,  # type: ignore[attr-defined]
        "supervisorId": e.supervisor_id, "monthlySalary": str(from_fen(e.monthly_salary_fen)),  # type: ignore[attr-defined]
        "status": e.status, "hireDate": e.hire_date, "email": e.email, "phone": e.phone,
    }


def check_password_strength(password: str) -> None:
    if len(password or "") < 8:
        raise ValidationFailed(_m("密码至少 8 位"), field="password")


def _roles(values: Any) -> list[str]:
    roles = sorted({str(getattr(r, "value", r)) for r in values} | {role_names.EMPLOYEE})
    for role in roles:
        if role not in role_names.ALL_ROLES:
            raise ValidationFailed(_m("未知的角色 %(role)s", role=role), field="roles")
    return roles


async def _notify_role_change(viewer: Viewer, user: User, before: list[str], after: list[str]) -> None:
    """Every grant or removal of FINANCE, HR, AUDITOR or ADMIN goes at once to every other ADMIN and AUDITOR."""
    changed = (set(before) ^ set(after)) & duties.PRIVILEGED_ROLES
    if not changed:
        return
    added, removed = sorted(set(after) - set(before)), sorted(set(before) - set(after))
    username = user.username
    body = _m("%(actor)s 修改了 %(user)s 的角色：授予 %(added)s，撤销 %(removed)s", actor=viewer.username, user=username,
              added=", ".join(added) or "-", removed=", ".join(removed) or "-")
    await alerts.notify_roles(viewer, (role_names.ADMIN, role_names.AUDITOR), _m("角色变更：%(user)s", user=username), body,
                              exclude_user_ids=[user.id])


async def create_employee(viewer: Viewer, data: EmployeeData) -> Employee:
    require_login(viewer)
    duties.require(viewer.roles, duties.CREATE_EMPLOYEE)
    employee_no = _code(data.employee_no, "employeeNo")
    name = _name(data.name)
    username = (data.username or "").strip()
    if not USERNAME_RE.match(username):
        raise ValidationFailed(_m("用户名须为 2–64 个字母、数字或 . _ @ -"), field="username")
    check_password_strength(data.password)
    roles = _roles(data.roles or [role_names.EMPLOYEE])
    refused = duties.role_change_violation(viewer.roles, viewer.user_id, None, [], roles)
    if refused:
        raise Forbidden(refused, field="roles")
    salary = parse_money(data.monthly_salary, "monthlySalary", allow_zero=True)
    validation.check_hire_date(data.hire_date, date.today())
    email, phone = validation.clean_text(data.email, "email", validation.EMAIL), validation.clean_text(data.phone, "phone", validation.PHONE)
    department = await Department.filter(code=data.department_code).first()
    if department is None:
        raise ValidationFailed(_m("未知的部门 %(code)s", code=data.department_code), field="departmentCode")
    region = await Region.filter(code=data.region_code).first()
    if region is None:
        raise ValidationFailed(_m("未知的区域 %(code)s", code=data.region_code), field="regionCode")
    position = await Position.filter(code=data.position_code).first()
    if position is None:
        raise ValidationFailed(_m("未知的岗位 %(code)s", code=data.position_code), field="positionCode")
    supervisor = None
    if data.supervisor_no:
        supervisor = await Employee.filter(employee_no=data.supervisor_no).first()
        if supervisor is None:
            raise ValidationFailed(_m("未知的上级 %(number)s", number=data.supervisor_no), field="supervisorNo")
    password_hash = auth.hash_password(data.password)
    async with atomic():
        if await Employee.filter(employee_no=employee_no).exists():
            raise Conflict(_m("工号 %(number)s 已存在", number=employee_no), field="employeeNo")
        if await User.filter(username=username).exists():
            raise Conflict(_m("用户名 %(username)s 已存在", username=username), field="username")
        employee = await Employee.create(
            employee_no=employee_no, name=name, department=department, region=region, position=position,
            supervisor=supervisor, monthly_salary_fen=to_fen(salary), hire_date=data.hire_date,
            email=email, phone=phone,
        )
        user = await User.create(username=username, password_hash=password_hash, roles=roles, employee=employee)
        await audit.record(viewer, "employee.create", "employee", employee.id, None, employee_snapshot(employee))
        await audit.record(viewer, "user.create", "user", user.id, None, {"username": username, "roles": roles,
                                                                         "employeeId": employee.id})
        await _notify_role_change(viewer, user, [], roles)
    return employee


@dataclass(frozen=True)
class EmployeeChange:
    """What an editor may change on an employee; None leaves a field as it is."""

    name: str | None = None
    department_code: str | None = None
    region_code: str | None = None
    position_code: str | None = None
    supervisor_no: str | None = None
    clear_supervisor: bool = False
    monthly_salary: object | None = None
    roles: list[str] | None = None
    email: str | None = None  # contact; "" clears it
    phone: str | None = None


async def update_employee(viewer: Viewer, employee_id: Any, change: EmployeeChange) -> Employee:
    """ADMIN edits anyone, HR people holding EMPLOYEE/SUPERVISOR only; nobody edits themself.
    Position and salary move money rules (the limit, the 50% rule): audited and notified to FINANCE."""
    require_login(viewer)
    duties.require(viewer.roles, duties.EDIT_EMPLOYEE)
    async with atomic():
        employee = await Employee.filter(id=parse_id(employee_id, "employee")).first()
        if employee is None:
            raise NotFound(_m("员工 %(id)s 不存在", id=employee_id))
        user = await User.filter(employee_id=employee.id).first()
        current_roles = list(user.roles) if user else []
        if (refusal := edit_employee_refusal(viewer, employee, current_roles)) is not None:
            raise refusal
        before = employee_snapshot(employee)
        if change.name is not None:
            employee.name = _name(change.name)
        if change.department_code is not None:
            department = await Department.filter(code=change.department_code).first()
            if department is None:
                raise ValidationFailed(_m("未知的部门 %(code)s", code=change.department_code), field="departmentCode")
            employee.department_id = department.id  # type: ignore[attr-defined]
        if change.region_code is not None:
            region = await Region.filter(code=change.region_code).first()
            if region is None:
                raise ValidationFailed(_m("未知的区域 %(code)s", code=change.region_code), field="regionCode")
            employee.region_id = region.id  # type: ignore[attr-defined]
        if change.position_code is not None:
            position = await Position.filter(code=change.position_code).first()
            if position is None:
                raise ValidationFailed(_m("未知的岗位 %(code)s", code=change.position_code), field="positionCode")
            employee.position_id = position.id  # type: ignore[attr-defined]
        if change.clear_supervisor:
            employee.supervisor_id = None  # type: ignore[attr-defined]
        elif change.supervisor_no is not None:
            supervisor = await Employee.filter(employee_no=change.supervisor_no.strip()).first()
            if supervisor is None:
                raise ValidationFailed(_m("未知的上级 %(number)s", number=change.supervisor_no), field="supervisorNo")
            if supervisor.id == employee.id or supervisor.id in await subtree_ids(employee.id):
                raise ValidationFailed(_m("上级不能是本人或其下属"),
                                       field="supervisorNo")
            employee.supervisor_id = supervisor.id  # type: ignore[attr-defined]
        if change.email is not None:
            employee.email = validation.clean_text(change.email, "email", validation.EMAIL)
        if change.phone is not None:
            employee.phone = validation.clean_text(change.phone, "phone", validation.PHONE)
        if change.monthly_salary is not None:
            employee.monthly_salary_fen = to_fen(parse_money(change.monthly_salary, "monthlySalary",
                                                             allow_zero=True))
        new_roles = current_roles
        if change.roles is not None:
            if user is None:
                raise ValidationFailed(_m("该员工没有账号"), field="roles")
            new_roles = _roles(change.roles)
            refused = duties.role_change_violation(viewer.roles, viewer.user_id, user.id, current_roles, new_roles)
            if refused:
                raise Forbidden(refused, field="roles")
        after = employee_snapshot(employee)
        if after != before:
            await employee.save()
            await audit.record(viewer, "employee.update", "employee", employee.id, before, after)
            if before["supervisorId"] != after["supervisorId"]:
                # The employee's waiting SUPERVISOR steps follow the new supervisor (issue 12).
                await rerouting.supervisor_changed(viewer, employee.id, before["supervisorId"], after["supervisorId"])
            moved = [k for k in ("positionId", "monthlySalary") if before[k] != after[k]]
            if moved:
                position_names = {p.id: p.name for p in await Position.filter(
                    id__in=[before["positionId"], after["positionId"]])}
                what = [
                    _m("岗位 %(before)s → %(after)s", before=position_names.get(before["positionId"]),
                       after=position_names.get(after["positionId"]))
                    if k == "positionId" else _m("月薪 %(before)s → %(after)s", before=before[k], after=after[k])
                    for k in moved]
                await alerts.notify_roles(
                    viewer, (role_names.FINANCE,), _m("员工岗位或薪资变更：%(name)s（%(number)s）", name=employee.name,
                                             number=employee.employee_no),
                    _m("%(actor)s 修改了 %(name)s 的%(what)s（影响借款额度与 50%% 规则）", actor=viewer.username,
                       name=employee.name, what=what),
                )
        if user is not None and sorted(new_roles) != sorted(current_roles):
            user.roles = new_roles
            await user.save(update_fields=["roles"])
            await audit.record(viewer, "user.roles_change", "user", user.id, {"roles": sorted(current_roles)},
                               {"roles": new_roles, "employeeId": employee.id})
            await _notify_role_change(viewer, user, current_roles, new_roles)
    return employee


def may_view_position_history(viewer: Viewer) -> bool:
    return duties.may(viewer.roles, duties.VIEW_POSITION_HISTORY)


@dataclass(frozen=True)
class PositionChange:
    at: Any
    actor: str
    action: str
    before: dict | None
    after: dict | None


async def position_histories(position_ids: Sequence[int]) -> list[list[PositionChange]]:
    """Batch reader: each position's changes from the audit log, oldest first (one query)."""
    keys = [str(i) for i in set(position_ids)]
    groups: dict[str, list[PositionChange]] = {k: [] for k in keys}
    for e in await AuditEntry.filter(object_type="position", object_id__in=keys).order_by("id"):
        groups[e.object_id].append(PositionChange(e.at, e.actor, e.action, e.before, e.after))
    return [groups.get(str(i), []) for i in position_ids]


async def create_admin(username: str, password: str, actor: Viewer, *, enforce_policy: bool = True) -> User:
    """An ADMIN account without an employee record (first start, `main.py create-admin`).

    The password follows the password policy (server/domain/passwords.py); `enforce_policy=False`
    only for the test suite's fixtures, whose accounts share one short password. Resetting an
    existing account's password revokes all its sessions and bearer tokens at once.
    """
    if not USERNAME_RE.match(username):
        raise ValidationFailed(_m("用户名须为 2–64 个字母、数字或 . _ @ -"), field="username")
    if enforce_policy:
        problems = check_password(password, username)
        if problems:
            raise ValidationFailed(_m("密码不符合要求：%(problems)s", problems=problems), field="password")
    else:
        check_password_strength(password)
    async with atomic():
        user = await User.filter(username=username).first()
        if user is not None:
            before = {"roles": list(user.roles), "isActive": user.is_active}
            user.password_hash = auth.hash_password(password)
            user.roles = sorted(set(user.roles) | {role_names.ADMIN})
            user.is_active = True
            await user.save()
            revoked = await sessions.revoke_all(user.id)
            await audit.record(actor, "user.reset_admin", "user", user.id, before,
                               {"roles": user.roles, "isActive": True, "revokedSessions": revoked})
        else:
            user = await User.create(username=username, password_hash=auth.hash_password(password),
                                     roles=[role_names.ADMIN])
            await audit.record(actor, "user.create", "user", user.id, None, {"username": username, "roles": [role_names.ADMIN]})
    return user


# ---------------------------------------------------------------- login


def _counter_keys(username: str, address: str) -> tuple[str, str]:
    """(per username and address, per address). Usernames fold case here so that spelling a name
    differently does not buy an attacker a fresh counter."""
    return f"ua:{address} {username.lower()}"[:200], f"a:{address}"[:200]


async def _throttle_check(username: str, address: str) -> None:
    """RATE_LIMITED while this address is locked for this username, or locked altogether."""
    now = int(utcnow().timestamp())
    locks: list[Any] = await LoginCounter.filter(key__in=list(_counter_keys(username, address)),
                                      locked_until__gt=now).values_list("locked_until", flat=True)
    if locks:
        wait = max(int(x) for x in locks) - now
        minutes = max(1, -(-wait // 60))
        raise RateLimited(
            _m("登录失败次数过多，请 %(minutes)s 分钟后再试", minutes=minutes),
            retry_after=wait,
        )


_COUNT_FAILURE_SQL = (
    'INSERT INTO login_counter ("key", failures, window_started, locked_until) VALUES (:key, 1, :now, NULL) '
    'ON CONFLICT ("key") DO UPDATE SET '
    "failures = CASE WHEN login_counter.window_started <= :cutoff THEN 1 ELSE login_counter.failures + 1 END, "
    "window_started = CASE WHEN login_counter.window_started <= :cutoff THEN :now "
    "ELSE login_counter.window_started END, "
    "locked_until = CASE WHEN login_counter.window_started <= :cutoff THEN NULL ELSE login_counter.locked_until END "
    "RETURNING failures"
)


def _bind(sql: str, params: dict[str, Any], postgres: bool) -> tuple[str, list[Any]]:
    """`:name` placeholders to the driver's own: `$n` (asyncpg) or `?` in order of appearance (sqlite)."""
    names = list(params)
    values: list[Any] = []

    def placeholder(match: re.Match) -> str:
        name = match.group(1)
        if postgres:
            return f"${names.index(name) + 1}"
        values.append(params[name])
        return "?"

    bound = re.sub(r":([a-z_]+)\b", placeholder, sql)
    return bound, ([params[n] for n in names] if postgres else values)


async def _throttle_count(key: str, now: int) -> int:
    """One more failure for `key`, counted by a single statement (no read-modify-write): 40 concurrent
    failures count as 40. Returns the failures in the current window; an older window starts over."""
    conn = Tortoise.get_connection("default")
    sql, values = _bind(_COUNT_FAILURE_SQL, {"key": key, "now": now, "cutoff": now - THROTTLE_WINDOW},
                        conn.capabilities.dialect == "postgres")
    rows = await conn.execute_query_dict(sql, values)
    return int(rows[0]["failures"])


async def _throttle_fail(username: str, address: str) -> None:
    now = int(utcnow().timestamp())
    pair, per_address = _counter_keys(username, address)
    for key, limit in ((pair, MAX_FAILURES), (per_address, MAX_FAILURES_PER_ADDRESS)):
        if await _throttle_count(key, now) >= limit:
            await LoginCounter.filter(key=key).update(locked_until=now + LOCK_MINUTES * 60)


async def authenticate(username: str, password: str, address: str = "") -> User:
    """Check a password, throttled per (username, client address) and per client address.

    Raises RATE_LIMITED (with retryAfter) while locked, UNAUTHENTICATED for a wrong password. A success
    clears only its own (username, address) counter: the failures of other addresses, and this
    address's total, still count.
    """
    username = (username or "").strip()[:64]
    address = (address or "")[:64]
    await _throttle_check(username, address)
    user = await User.filter(username=username).first()
    ok = auth.verify_password(user.password_hash if user else None, password or "")
    if not ok or user is None or not user.is_active:
        await _throttle_fail(username, address)
        if ok and user is not None:
            raise AccountClosed(_m("该账号已关闭（已离职），不能登录。如有疑问请联系人事。"))
        raise Unauthenticated(_m("用户名或密码错误"))
    await LoginCounter.filter(key=_counter_keys(username, address)[0]).delete()
    if auth.needs_rehash(user.password_hash):
        user.password_hash = auth.hash_password(password)
        await user.save(update_fields=["password_hash"])
    return user


async def set_locale(viewer: Viewer, locale: str) -> None:
    require_login(viewer)
    if locale not in ("zh_CN", "en"):
        raise ValidationFailed(_m("未知的语言"), field="locale")
    async with atomic():
        user = await User.get(id=viewer.user_id)
        if user.locale != locale:
            before = {"locale": user.locale}
            user.locale = locale
            await user.save(update_fields=["locale"])
            await audit.record(viewer, "user.set_locale", "user", user.id, before, {"locale": locale})


def salary(employee: Employee) -> Decimal:
    return from_fen(employee.monthly_salary_fen)


def may_read_contact(viewer: Viewer, employee: Employee) -> bool:
    """An employee's e-mail and phone: their own, and the roles that see everyone (and HR who edits)."""
    return viewer.sees_all or viewer.employee_id == employee.id or duties.may(viewer.roles, duties.EDIT_EMPLOYEE)


def edit_employee_refusal(viewer: Viewer, employee: Employee, target_roles: Sequence[str]) -> DomainError | None:
    """Why the viewer may not edit `employee` (whose account holds `target_roles`): the `viewerCan.edit`
    flag and updateEmployee's check."""
    if (refusal := duties.role_refusal(viewer.roles, duties.EDIT_EMPLOYEE)) is not None:
        return refusal
    if duties.own_money(viewer.employee_id, employee.id):
        return Forbidden(_m("不能修改自己的档案"))
    if not duties.may_edit_person(viewer.roles, target_roles):
        return Forbidden(_m("人事只能编辑普通员工和主管"))
    return None


async def get_user(viewer: Viewer) -> User:
    require_login(viewer)
    user = await User.filter(id=viewer.user_id).first()
    if user is None:
        raise NotFound(_m("账号不存在"))
    return user
