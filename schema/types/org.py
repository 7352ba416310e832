"""Org and accounts: Department, Region, Position, Employee, Viewer; login and org mutations."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from schema.loaders import load, now_or_later
from schema.types.common import Counted, PageInfo, connection, decode_cursor, page_size, tr, viewer
from schema.types.enums import EmployeeStatus, LoanStatus, Role
from server import auth
from server.domain.errors import Forbidden
from server.domain.messages import _m
from server.domain.money import from_fen
from server.models import Department as DepartmentModel
from server.models import Employee as EmployeeModel
from server.models import Position as PositionModel
from server.models import Region as RegionModel
from server.services import accounts as account_service
from server.services import duties as duty_service
from server.services import loans as loan_service
from server.services import navigation
from server.services import offboarding as offboarding_service
from server.services import org as org_service
from server.services import sessions as session_service
from server.services.base import require_login

if TYPE_CHECKING:
    from schema.types.alerts import Alert
    from schema.types.loans import Loan
    from schema.types.offboarding import Offboarding
    from schema.types.risk import BusinessRecord, RiskScore


@strawberry.type
class Department:
    model: strawberry.Private[DepartmentModel]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.model.id))

    @strawberry.field
    def code(self) -> str:
        return self.model.code

    @strawberry.field
    def name(self) -> str:
        return self.model.name


@strawberry.type
class Region:
    model: strawberry.Private[RegionModel]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.model.id))

    @strawberry.field
    def code(self) -> str:
        return self.model.code

    @strawberry.field
    def name(self) -> str:
        return self.model.name


@strawberry.type
class Position:
    model: strawberry.Private[PositionModel]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.model.id))

    @strawberry.field
    def code(self) -> str:
        return self.model.code

    @strawberry.field
    def name(self) -> str:
        return self.model.name

    @strawberry.field
    def level(self) -> int:
        return self.model.level

    @strawberry.field(description="Most an employee of this position may owe at once.")
    def loan_limit(self) -> Decimal:
        return from_fen(self.model.loan_limit_fen)

    @strawberry.field(description="Most an employee of this position may borrow in one calendar month; null: no monthly limit.")
    def monthly_loan_limit(self) -> Decimal | None:
        return None if self.model.monthly_limit_fen is None else from_fen(self.model.monthly_limit_fen)

    @strawberry.field(description="Days from application to the default expected settle date.")
    def settle_days(self) -> int:
        return self.model.settle_days

    @strawberry.field(description="Who approves a loan, in order. SUPERVISOR means the applicant's own supervisor.")
    def approval_chain(self) -> list[Role]:
        return [Role(r) for r in self.model.approval_chain]

    @strawberry.field(description="Every change of this position's rules from the audit log, oldest first: who, "
                                  "when, from what to what. ADMIN, FINANCE, HR and AUDITOR only.")
    async def history(self, info: Info) -> list[PositionChange]:
        if not org_service.may_view_position_history(viewer(info)):
            raise Forbidden(_m("无权查看岗位变更记录"))
        rows = await load(info, "position_histories", self.model.id)
        return [PositionChange(at=r.at, actor=r.actor, action=r.action, before=r.before, after=r.after)
                for r in rows]

    @strawberry.field(description="Loans of this position's employees waiting for an approval nobody can give, "
                                  "with the reason. ADMIN, FINANCE, HR and AUDITOR only.")
    async def blocked_loans(
        self, info: Info,
    ) -> list[Annotated[Loan, strawberry.lazy("schema.types.loans")]]:
        from schema.types.loans import Loan

        rows = await duty_service.blocked_loans_of_position(viewer(info), self.model.id)
        return [Loan(model=loan) for loan, _ in rows]


@strawberry.type(description="One change of a position (limits, approval chain), from the audit log.")
class PositionChange:
    at: datetime.datetime
    actor: str = strawberry.field(description="The username who made the change.")
    action: str = strawberry.field(description="position.create or position.update.")
    before: JSON | None
    after: JSON | None


@strawberry.type
class LoanQuota:
    limit: Decimal
    committed: Decimal = strawberry.field(
        description="Owed on disbursed loans plus the amounts of loans pending approval or approved but not yet paid out."
    )
    available: Decimal
    monthly_limit: Decimal | None
    monthly_used: Decimal


async def _guard(info: Info, model: EmployeeModel) -> None:
    if not await org_service.can_see_employee(viewer(info), model):
        raise Forbidden(_m("无权查看该员工的详细信息"))


@strawberry.type(description="What the viewer may do on an employee now: true exactly when the mutation would not "
                              "be refused for permission or state.")
class EmployeeViewerCan:
    model: strawberry.Private[EmployeeModel]

    @strawberry.field(description="updateEmployee")
    async def edit(self, info: Info) -> bool:
        roles = await load(info, "employee_roles", self.model.id)
        return org_service.edit_employee_refusal(viewer(info), self.model, roles) is None

    @strawberry.field(description="startOffboarding")
    def start_offboarding(self, info: Info) -> bool:
        return offboarding_service.start_refusal(viewer(info), self.model) is None

    @strawberry.field(description="requestEvidencePackage")
    def request_evidence(self, info: Info) -> bool:
        from server.services import evidence as evidence_service

        return evidence_service.may_request(viewer(info))
    @strawberry.field(description="recordBusinessRecord for this employee")
    def record_business(self, info: Info) -> bool:
        from server.services import business as business_service

        return business_service.record_refusal(viewer(info), self.model) is None


@strawberry.type
class Employee:
    model: strawberry.Private[EmployeeModel]

    @strawberry.field(description="What the viewer may do on this employee now (from the enforcing services).")
    def viewer_can(self) -> EmployeeViewerCan:
        return EmployeeViewerCan(model=self.model)

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.model.id))

    @strawberry.field
    def employee_no(self) -> str:
        return self.model.employee_no

    @strawberry.field
    def name(self) -> str:
        return self.model.name

    @strawberry.field(description="Contact e-mail: for the employee themself and for HR, admin, finance, auditor.")
    def email(self, info: Info) -> str | None:
        return self.model.email if org_service.may_read_contact(viewer(info), self.model) else None

    @strawberry.field(description="Contact phone: for the employee themself and for HR, admin, finance, auditor.")
    def phone(self, info: Info) -> str | None:
        return self.model.phone if org_service.may_read_contact(viewer(info), self.model) else None

    @strawberry.field
    def department(self, info: Info) -> Department:
        return now_or_later(info, "departments", self.model.department_id, lambda r: Department(model=r))

    @strawberry.field
    async def region(self, info: Info) -> Region:
        return Region(model=await load(info, "regions", self.model.region_id))

    @strawberry.field
    def position(self, info: Info) -> Position:
        return now_or_later(info, "positions", self.model.position_id, lambda r: Position(model=r))

    @strawberry.field
    async def supervisor(self, info: Info) -> Employee | None:
        if self.model.supervisor_id is None:
            return None
        row = await load(info, "employees", self.model.supervisor_id)
        return Employee(model=row) if row else None

    @strawberry.field
    async def monthly_salary(self, info: Info) -> Decimal:
        await _guard(info, self.model)
        return from_fen(self.model.monthly_salary_fen)

    @strawberry.field
    def status(self) -> EmployeeStatus:
        return EmployeeStatus(self.model.status)

    @strawberry.field(description="The roles of the employee's account (empty without one).")
    async def roles(self, info: Info) -> list[Role]:
        await _guard(info, self.model)
        return [Role(r) for r in await load(info, "employee_roles", self.model.id)]

    @strawberry.field
    def hire_date(self) -> datetime.date:
        return self.model.hire_date

    @strawberry.field(description="Owed now on disbursed loans.")
    async def outstanding(self, info: Info) -> Decimal:
        await _guard(info, self.model)
        return await load(info, "employee_outstanding", self.model.id)

    @strawberry.field(description="Disbursed loans with something still owed (counted in SQL over all of them).")
    async def open_loan_count(self, info: Info) -> int:
        await _guard(info, self.model)
        return (await load(info, "employee_loan_counts", self.model.id)).open

    @strawberry.field(description="Open loans past their expected settle date.")
    async def overdue_loan_count(self, info: Info) -> int:
        await _guard(info, self.model)
        return (await load(info, "employee_loan_counts", self.model.id)).overdue

    @strawberry.field
    async def quota(self, info: Info) -> LoanQuota:
        await _guard(info, self.model)
        q = await load(info, "quotas", self.model)
        return LoanQuota(limit=q.limit, committed=q.committed, available=q.available,
                         monthly_limit=q.monthly_limit, monthly_used=q.monthly_used)

    @strawberry.field(description="The employee's unresolved alerts the viewer may see, newest first (batched per page).")
    async def unresolved_alerts(
        self, info: Info, first: int | None = 5,
    ) -> list[Annotated[Alert, strawberry.lazy("schema.types.alerts")]]:
        from schema.types.alerts import Alert

        rows = await load(info, "employee_alerts", self.model.id)
        return [Alert(model=r) for r in rows[: page_size(first)]]

    @strawberry.field(description="How many unresolved alerts the viewer may see on this employee.")
    async def unresolved_alert_count(self, info: Info) -> int:
        return len(await load(info, "employee_alerts", self.model.id))

    @strawberry.field
    async def loans(
        self, info: Info, status: list[LoanStatus] | None = None
    ) -> list[Annotated[Loan, strawberry.lazy("schema.types.loans")]]:
        from schema.types.loans import Loan

        rows = await load(info, "employee_loans", (self.model, tuple(s.value for s in status or [])))
        return [Loan(model=r) for r in rows]

    @strawberry.field(description="The explainable risk score as of today (the employee may see their own).")
    async def risk(self, info: Info) -> Annotated[RiskScore, strawberry.lazy("schema.types.risk")]:
        from schema.types.risk import risk_score

        return risk_score(info, await load(info, "risk_scores", self.model))

    @strawberry.field(description="The employee's newest business records (contracts, orders), at most `first` (50).")
    async def business_records(
        self, info: Info, first: int | None = 20,
    ) -> list[Annotated[BusinessRecord, strawberry.lazy("schema.types.risk")]]:
        from schema.types.risk import BusinessRecord
        from server.services import business as business_service

        rows = await business_service.employee_records(viewer(info), self.model, min(page_size(first), 50))
        return [BusinessRecord(model=r) for r in rows]


@strawberry.type
class Viewer:
    username: str
    roles: list[Role]
    employee: Employee | None
    pages: list[str] = strawberry.field(description=(
        "Keys of the pages the viewer may open (APPROVALS, FINANCE, ALERTS, ORG, SETTINGS, START_OFFBOARDING): "
        "the nav shows these only."))
    duties: list[str] = strawberry.field(description="Actions of the duties matrix the viewer's roles hold.")

    @strawberry.field(description="True when applyForLoan would not be refused for the viewer's standing "
                                  "(an employee record, ACTIVE: not being offboarded).")
    async def can_apply(self, info: Info) -> bool:
        return await loan_service.viewer_apply_refusal(viewer(info)) is None

    @strawberry.field(description="Why applying is refused now (e.g. being offboarded), in the viewer's language.")
    async def apply_blocked_reason(self, info: Info) -> str | None:
        refusal = await loan_service.viewer_apply_refusal(viewer(info))
        return tr(info, refusal.msg) if refusal is not None else None

    @strawberry.field(description="The viewer's own offboarding while it is open (CLEARANCE_PENDING or CLEARED).")
    async def offboarding(self, info: Info) -> Annotated[Offboarding, strawberry.lazy("schema.types.offboarding")] | None:
        from schema.types.offboarding import Offboarding as OffboardingType

        row = await offboarding_service.my_open_offboarding(viewer(info))
        return OffboardingType(model=row) if row is not None else None


@strawberry.type
class AuthPayload:
    token: str
    viewer: Viewer


async def viewer_type(info: Info) -> Viewer:
    v = viewer(info)
    require_login(v)
    employee = await load(info, "employees", v.employee_id) if v.employee_id else None
    return Viewer(username=v.username, roles=[Role(r) for r in sorted(v.roles)],
                  employee=Employee(model=employee) if employee else None,
                  pages=sorted(navigation.navigation(v)), duties=sorted(navigation.duties_of(v)))


@strawberry.input
class PositionInput:
    code: str
    name: str
    level: int
    loan_limit: Decimal
    approval_chain: list[Role]
    monthly_loan_limit: Decimal | None = None
    settle_days: int = 15


@strawberry.input
class EmployeeInput:
    employee_no: str
    name: str
    department_code: str
    region_code: str
    position_code: str
    monthly_salary: Decimal
    hire_date: datetime.date
    username: str
    password: str
    supervisor_no: str | None = None
    roles: list[Role] = strawberry.field(default_factory=lambda: [Role.EMPLOYEE])
    email: str | None = None
    phone: str | None = None


@strawberry.input(description="What to change on an employee; omitted fields stay as they are.")
class EmployeeUpdateInput:
    name: str | None = None
    department_code: str | None = None
    region_code: str | None = None
    position_code: str | None = None
    supervisor_no: str | None = strawberry.field(default=None, description="Empty string: no supervisor.")
    monthly_salary: Decimal | None = None
    roles: list[Role] | None = strawberry.field(
        default=None, description="The complete new list. Only ADMIN grants or removes FINANCE, HR, AUDITOR, ADMIN.")
    email: str | None = strawberry.field(default=None, description="Contact e-mail; empty string clears it.")
    phone: str | None = strawberry.field(default=None, description="Contact phone; empty string clears it.")


@strawberry.type
class EmployeeEdge:
    node: Employee
    cursor: str


@strawberry.type(description="employees(search) paged by keyset, in employee-number order.")
class EmployeeConnection(Counted):
    edges: list[EmployeeEdge]
    page_info: PageInfo


@strawberry.type
class OrgQuery:
    @strawberry.field
    async def me(self, info: Info) -> Viewer:
        return await viewer_type(info)

    @strawberry.field
    async def employee(self, info: Info, id: strawberry.ID) -> Employee | None:
        row = await org_service.get_employee(viewer(info), id)
        return Employee(model=row) if row else None

    @strawberry.field
    async def employee_by_no(self, info: Info, employee_no: str) -> Employee | None:
        row = await org_service.get_employee_by_no(viewer(info), employee_no)
        return Employee(model=row) if row else None

    @strawberry.field(description="Employees the viewer may see (all for finance, HR, admin, auditor).")
    async def employees(
        self, info: Info, search: str | None = None,
        first: Annotated[int | None, strawberry.argument(description="At most this many (a picker's matches).")] = None,
    ) -> list[Employee]:
        limit = page_size(first) if first is not None else None
        return [Employee(model=r) for r in await org_service.list_employees(viewer(info), search, limit)]

    @strawberry.field(description="employees(search) paged by keyset (employee number, then id).")
    async def employees_page(self, info: Info, search: str | None = None, first: int | None = None,
                             after: str | None = None) -> EmployeeConnection:
        page = await org_service.employee_page(viewer(info), search, page_size(first), decode_cursor(after))
        return connection(page, Employee, EmployeeEdge, EmployeeConnection)

    @strawberry.field(description="How many employees `employees(search)` matches, beyond the 500 it lists.")
    async def employee_count(self, info: Info, search: str | None = None) -> int:
        return await org_service.count_employees(viewer(info), search)

    @strawberry.field
    async def departments(self, info: Info) -> list[Department]:
        return [Department(model=r) for r in await org_service.list_departments(viewer(info))]

    @strawberry.field
    async def regions(self, info: Info) -> list[Region]:
        return [Region(model=r) for r in await org_service.list_regions(viewer(info))]

    @strawberry.field
    async def positions(self, info: Info) -> list[Position]:
        return [Position(model=r) for r in await org_service.list_positions(viewer(info))]


@strawberry.type
class OrgMutation:
    @strawberry.mutation
    async def login(self, info: Info, username: str, password: str) -> AuthPayload:
        request = info.context.request
        token, user = await account_service.login_for_token(
            username, password, address=auth.client_address(request), agent=auth.user_agent(request))
        info.context.viewer = session_service.viewer_for(user, info.context.viewer.request_id)
        return AuthPayload(token=token, viewer=await viewer_type(info))

    @strawberry.mutation
    async def upsert_department(self, info: Info, code: str, name: str) -> Department:
        return Department(model=await org_service.upsert_department(viewer(info), code, name))

    @strawberry.mutation
    async def upsert_region(self, info: Info, code: str, name: str) -> Region:
        return Region(model=await org_service.upsert_region(viewer(info), code, name))

    @strawberry.mutation
    async def upsert_position(self, info: Info, input: PositionInput) -> Position:
        data = org_service.PositionData(
            code=input.code, name=input.name, level=input.level, loan_limit=input.loan_limit,
            monthly_loan_limit=input.monthly_loan_limit, settle_days=input.settle_days,
            approval_chain=[r.value for r in input.approval_chain],
        )
        return Position(model=await org_service.upsert_position(viewer(info), data))

    @strawberry.mutation
    async def create_employee(self, info: Info, input: EmployeeInput) -> Employee:
        data = org_service.EmployeeData(
            employee_no=input.employee_no, name=input.name, department_code=input.department_code,
            region_code=input.region_code, position_code=input.position_code, supervisor_no=input.supervisor_no,
            monthly_salary=input.monthly_salary, hire_date=input.hire_date, username=input.username,
            password=input.password, roles=[r.value for r in input.roles], email=input.email, phone=input.phone,
        )
        return Employee(model=await org_service.create_employee(viewer(info), data))

    @strawberry.mutation(description="Edit an employee's org data, salary or roles (ADMIN; HR for employees "
                                     "holding EMPLOYEE and SUPERVISOR only; nobody themself).")
    async def update_employee(self, info: Info, id: strawberry.ID, input: EmployeeUpdateInput) -> Employee:
        change = org_service.EmployeeChange(
            name=input.name, department_code=input.department_code, region_code=input.region_code,
            position_code=input.position_code,
            supervisor_no=input.supervisor_no or None, clear_supervisor=input.supervisor_no == "",
            monthly_salary=input.monthly_salary,
            roles=None if input.roles is None else [r.value for r in input.roles],
            email=input.email, phone=input.phone,
        )
        return Employee(model=await org_service.update_employee(viewer(info), id, change))



