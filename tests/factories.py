"""Org fixtures built through the services, as an admin would."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from server.services import org
from server.services.base import SYSTEM

PASSWORD = "pass-1234"


@dataclass
class People:
    sales: int  # employee ids
    manager: int
    finance: int
    hr: int
    admin_user: int


async def make_org(limit: str = "10000.00", monthly: str | None = None, chain: list[str] | None = None) -> People:
    """A small company: a salesperson reporting to a manager, a finance clerk, an HR clerk, an admin."""
    await org.upsert_department(SYSTEM, "SALES", "销售部")
    await org.upsert_department(SYSTEM, "FIN", "财务部")
    await org.upsert_region(SYSTEM, "XA", "西安")
    await org.upsert_position(SYSTEM, org.PositionData("SALES", "销售", 3, limit, monthly, 15,
                                                       chain or ["SUPERVISOR", "FINANCE"]))
    await org.upsert_position(SYSTEM, org.PositionData("MGR", "销售部经理", 6, "30000.00", None, 30,
                                                       ["FINANCE"]))
    await org.upsert_position(SYSTEM, org.PositionData("STAFF", "职员", 3, "5000.00", None, 15, ["SUPERVISOR"]))

    async def person(no: str, name: str, username: str, position: str, sup: str | None, roles: list[str],
                     dept: str = "SALES", salary: str = "8000.00") -> int:
        e = await org.create_employee(SYSTEM, org.EmployeeData(
            employee_no=no, name=name, department_code=dept, region_code="XA", position_code=position,
            supervisor_no=sup, monthly_salary=salary, hire_date=date(2024, 1, 1), username=username,
            password=PASSWORD, roles=roles,
        ))
        return e.id

    manager = await person("M1", "李经理", "manager", "MGR", None, ["EMPLOYEE", "SUPERVISOR"], salary="20000.00")
    sales = await person("S1", "张三", "sales", "SALES", "M1", ["EMPLOYEE"])
    finance = await person("F1", "赵财务", "finance", "STAFF", "M1", ["EMPLOYEE", "FINANCE"], dept="FIN")
    hr = await person("H1", "周人事", "hr", "STAFF", "M1", ["EMPLOYEE", "HR"], dept="FIN")
    admin = await org.create_admin("admin", PASSWORD, SYSTEM, enforce_policy=False)  # one short test password
    return People(sales=sales, manager=manager, finance=finance, hr=hr, admin_user=admin.id)
