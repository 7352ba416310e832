"""Org data and accounts: departments, regions, positions (loan policy), employees, users."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from tortoise.expressions import Q

from server import auth
from server.domain import roles as R
from server.domain.approvals import validate_chain
from server.domain.errors import Conflict, Forbidden, NotFound, Unauthenticated, ValidationFailed
from server.domain.money import from_fen, parse_money, to_fen
from server.models import Department, Employee, LoginThrottle, Position, Region, User
from server.services import audit
from server.services.base import Page, Viewer, atomic, paginate, parse_id, require_login, require_role, utcnow

CODE_RE = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
MAX_FAILURES = 5
LOCK_MINUTES = 15


def _code(value: str, field: str = "code") -> str:
    value = (value or "").strip()
    if not CODE_RE.match(value):
        raise ValidationFailed(f"{field} must be 1-32 letters, digits, '-', '_' or '.'", field=field)
    return value


def _name(value: str, field: str = "name", max_len: int = 100) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationFailed(f"{field} is required", field=field)
    if len(value) > max_len:
        raise ValidationFailed(f"{field} is longer than {max_len} characters", field=field)
    return value


def position_snapshot(p: Position) -> dict:
    return {
        "code": p.code, "name": p.name, "level": p.level, "loanLimit": str(from_fen(p.loan_limit_fen)),
        "monthlyLoanLimit": None if p.monthly_limit_fen is None else str(from_fen(p.monthly_limit_fen)),
        "settleDays": p.settle_days, "approvalChain": list(p.approval_chain),
    }


# ---------------------------------------------------------------- visibility


async def can_see_employee(viewer: Viewer, employee: Employee) -> bool:
    if viewer.sees_all:
        return True
    if viewer.employee_id is None:
        return False
    return employee.id == viewer.employee_id or employee.supervisor_id == viewer.employee_id  # type: ignore[attr-defined]


def visible_employees_q(viewer: Viewer, prefix: str = "") -> Q:
    """A filter for rows owned by employees the viewer may see (prefix: 'employee__' etc.)."""
    if viewer.sees_all:
        return Q()
    own: dict[str, Any] = {f"{prefix}id": viewer.employee_id if viewer.employee_id is not None else -1}
    if viewer.employee_id is None:
        return Q(**own)
    reports: dict[str, Any] = {f"{prefix}supervisor_id": viewer.employee_id}
    return Q(**own) | Q(**reports)


async def visible_page(
    viewer: Viewer, model: Any, employee_id: Any = None, statuses: list[str] | None = None,
    first: int = 50, after: list[Any] | None = None,
) -> Page:
    """A page of an employee-owned model (loans, reimbursements …) the viewer may see, newest first."""
    require_login(viewer)
    qs = model.filter(visible_employees_q(viewer, "employee__"))
    if employee_id is not None:
        qs = qs.filter(employee_id=parse_id(employee_id, "employee"))
    if statuses:
        qs = qs.filter(status__in=list(statuses))
    return await paginate(qs, first, after)


async def get_employee(viewer: Viewer, employee_id: object) -> Employee | None:
    require_login(viewer)
    employee = await Employee.filter(id=parse_id(employee_id, "employee")).first()
    if employee is None:
        return None
    if not await can_see_employee(viewer, employee):
        raise Forbidden("无权查看该员工 (you may not see this employee)")
    return employee


async def get_employee_by_no(viewer: Viewer, employee_no: str) -> Employee | None:
    require_login(viewer)
    employee = await Employee.filter(employee_no=(employee_no or "").strip()).first()
    if employee is None:
        return None
    if not await can_see_employee(viewer, employee):
        raise Forbidden("无权查看该员工 (you may not see this employee)")
    return employee


async def list_employees(viewer: Viewer, search: str | None = None, limit: int = 500) -> list[Employee]:
    require_login(viewer)
    qs = Employee.filter(visible_employees_q(viewer))
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(employee_no__icontains=search))
    return await qs.order_by("employee_no").limit(limit)


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
    require_role(viewer, *R.ORG_EDITORS)
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
    require_role(viewer, *R.ORG_EDITORS)
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
    require_role(viewer, *R.ORG_EDITORS)
    code, name = _code(data.code), _name(data.name)
    if not 0 <= data.level <= 99:
        raise ValidationFailed("level must be between 0 and 99", field="level")
    limit = parse_money(data.loan_limit, "loanLimit", allow_zero=True)
    monthly = (
        None if data.monthly_loan_limit in (None, "")
        else parse_money(data.monthly_loan_limit, "monthlyLoanLimit", allow_zero=True)
    )
    if not 1 <= data.settle_days <= 365:
        raise ValidationFailed("settleDays must be between 1 and 365", field="settleDays")
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
        "status": e.status, "hireDate": e.hire_date,
    }


def check_password_strength(password: str) -> None:
    if len(password or "") < 8:
        raise ValidationFailed("密码至少 8 位 (password must be at least 8 characters)", field="password")


async def create_employee(viewer: Viewer, data: EmployeeData) -> Employee:
    require_role(viewer, *R.ORG_EDITORS)
    employee_no = _code(data.employee_no, "employeeNo")
    name = _name(data.name)
    username = (data.username or "").strip()
    if not USERNAME_RE.match(username):
        raise ValidationFailed("username must be 2-64 letters, digits or . _ @ -", field="username")
    check_password_strength(data.password)
    roles = sorted({str(getattr(r, "value", r)) for r in (data.roles or [R.EMPLOYEE])})
    for role in roles:
        if role not in R.ALL_ROLES:
            raise ValidationFailed(f"unknown role {role}", field="roles")
    if R.ADMIN in roles and not viewer.has(R.ADMIN):
        raise Forbidden("只有管理员可以授予 ADMIN 角色 (only an ADMIN may grant ADMIN)")
    salary = parse_money(data.monthly_salary, "monthlySalary", allow_zero=True)
    if data.hire_date > date.today() + timedelta(days=366):
        raise ValidationFailed("hireDate is too far in the future", field="hireDate")
    department = await Department.filter(code=data.department_code).first()
    if department is None:
        raise ValidationFailed(f"unknown department {data.department_code}", field="departmentCode")
    region = await Region.filter(code=data.region_code).first()
    if region is None:
        raise ValidationFailed(f"unknown region {data.region_code}", field="regionCode")
    position = await Position.filter(code=data.position_code).first()
    if position is None:
        raise ValidationFailed(f"unknown position {data.position_code}", field="positionCode")
    supervisor = None
    if data.supervisor_no:
        supervisor = await Employee.filter(employee_no=data.supervisor_no).first()
        if supervisor is None:
            raise ValidationFailed(f"unknown supervisor {data.supervisor_no}", field="supervisorNo")
    password_hash = auth.hash_password(data.password)
    async with atomic():
        if await Employee.filter(employee_no=employee_no).exists():
            raise Conflict(f"工号 {employee_no} 已存在 (employee number already exists)", field="employeeNo")
        if await User.filter(username=username).exists():
            raise Conflict(f"用户名 {username} 已存在 (username already exists)", field="username")
        employee = await Employee.create(
            employee_no=employee_no, name=name, department=department, region=region, position=position,
            supervisor=supervisor, monthly_salary_fen=to_fen(salary), hire_date=data.hire_date,
            email=(data.email or None), phone=(data.phone or None),
        )
        user = await User.create(username=username, password_hash=password_hash, roles=roles, employee=employee)
        await audit.record(viewer, "employee.create", "employee", employee.id, None, employee_snapshot(employee))
        await audit.record(viewer, "user.create", "user", user.id, None, {"username": username, "roles": roles,
                                                                         "employeeId": employee.id})
    return employee


async def create_admin(username: str, password: str, actor: Viewer) -> User:
    """An ADMIN account without an employee record (first start, `main.py create-admin`)."""
    if not USERNAME_RE.match(username):
        raise ValidationFailed("username must be 2-64 letters, digits or . _ @ -", field="username")
    check_password_strength(password)
    async with atomic():
        user = await User.filter(username=username).first()
        if user is not None:
            before = {"roles": list(user.roles), "isActive": user.is_active}
            user.password_hash = auth.hash_password(password)
            user.roles = sorted(set(user.roles) | {R.ADMIN})
            user.is_active = True
            await user.save()
            await audit.record(actor, "user.reset_admin", "user", user.id, before,
                               {"roles": user.roles, "isActive": True})
        else:
            user = await User.create(username=username, password_hash=auth.hash_password(password),
                                     roles=[R.ADMIN])
            await audit.record(actor, "user.create", "user", user.id, None, {"username": username, "roles": [R.ADMIN]})
    return user


# ---------------------------------------------------------------- login


async def _throttle_check(username: str) -> None:
    row = await LoginThrottle.filter(username=username).first()
    if row and row.locked_until and row.locked_until > utcnow():
        raise Unauthenticated(
            f"登录失败次数过多，请 {LOCK_MINUTES} 分钟后再试 (too many failed logins; try again later)"
        )


async def _throttle_fail(username: str) -> None:
    now = utcnow()
    async with atomic():
        row = await LoginThrottle.filter(username=username).first()
        if row is None:
            row = await LoginThrottle.create(username=username, failures=0, window_started_at=now)
        if now - row.window_started_at > timedelta(minutes=LOCK_MINUTES):
            row.failures, row.window_started_at, row.locked_until = 0, now, None
        row.failures += 1
        if row.failures >= MAX_FAILURES:
            row.locked_until = now + timedelta(minutes=LOCK_MINUTES)
        await row.save()


async def authenticate(username: str, password: str) -> User:
    """Check a password, with throttling after repeated failures. Raises UNAUTHENTICATED."""
    username = (username or "").strip()[:64]
    await _throttle_check(username)
    user = await User.filter(username=username).first()
    ok = auth.verify_password(user.password_hash if user else None, password or "")
    if not ok or user is None or not user.is_active:
        await _throttle_fail(username)
        raise Unauthenticated("用户名或密码错误 (wrong username or password)")
    await LoginThrottle.filter(username=username).delete()
    if auth.needs_rehash(user.password_hash):
        user.password_hash = auth.hash_password(password)
        await user.save(update_fields=["password_hash"])
    return user


async def login_for_token(username: str, password: str) -> tuple[str, User]:
    user = await authenticate(username, password)
    async with atomic():
        token = await auth.issue_token(user)
        await audit.record(auth.viewer_for(user), "user.login_token", "user", user.id, None, None)
    return token, user


async def set_locale(viewer: Viewer, locale: str) -> None:
    require_login(viewer)
    if locale not in ("zh_CN", "en"):
        raise ValidationFailed("unknown language", field="locale")
    async with atomic():
        user = await User.get(id=viewer.user_id)
        if user.locale != locale:
            before = {"locale": user.locale}
            user.locale = locale
            await user.save(update_fields=["locale"])
            await audit.record(viewer, "user.set_locale", "user", user.id, before, {"locale": locale})


def salary(employee: Employee) -> Decimal:
    return from_fen(employee.monthly_salary_fen)


async def get_user(viewer: Viewer) -> User:
    require_login(viewer)
    user = await User.filter(id=viewer.user_id).first()
    if user is None:
        raise NotFound("user not found")
    return user
