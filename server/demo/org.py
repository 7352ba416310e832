"""Departments, regions, positions with their loan policy, and the 30 people of 西安能联科技."""

from __future__ import annotations

from datetime import date

from server.demo import DEMO_PASSWORD
from server.services import org
from server.services.base import SYSTEM

DEPARTMENTS = [("MGMT", "总经办"), ("SALES", "销售部"), ("FIN", "财务部"), ("HR", "人力资源部"), ("ENG", "技术部")]
REGIONS = [("XA", "西安总部"), ("NW", "西北区"), ("NC", "华北区"), ("SW", "西南区")]
CHAIN = ["SUPERVISOR", "FINANCE"]
POSITIONS = [
    # code, name, level, limit, monthly limit, settle days
    ("GM", "总经理", 9, "50000.00", None, 30),
    ("SALES_DIR", "销售部经理", 7, "30000.00", "20000.00", 30),
    ("RSM", "区域销售经理", 6, "20000.00", None, 30),
    ("SALES", "销售", 3, "10000.00", "8000.00", 15),
    ("FIN_MGR", "财务经理", 6, "10000.00", None, 15),
    ("FIN", "财务专员", 3, "5000.00", None, 15),
    ("HR_MGR", "人事经理", 6, "10000.00", None, 15),
    ("HR", "人事专员", 3, "3000.00", None, 15),
    ("CTO", "技术总监", 7, "20000.00", None, 30),
    ("ENG", "工程师", 3, "5000.00", None, 15),
    ("AUDIT", "内审专员", 4, "3000.00", None, 15),
]
# no, name, username, dept, region, position, supervisor, salary, roles
PEOPLE = [
    ("E001", "王建国", "wangjianguo", "MGMT", "XA", "GM", None, "40000.00", ["EMPLOYEE", "SUPERVISOR"]),
    ("E002", "李娜", "lina", "SALES", "XA", "SALES_DIR", "E001", "25000.00", ["EMPLOYEE", "SUPERVISOR"]),
    ("E003", "张伟", "zhangwei", "SALES", "NW", "RSM", "E002", "16000.00", ["EMPLOYEE", "SUPERVISOR"]),
    ("E004", "刘洋", "liuyang", "SALES", "NC", "RSM", "E002", "15000.00", ["EMPLOYEE", "SUPERVISOR"]),
    ("E005", "陈静", "chenjing", "SALES", "SW", "RSM", "E002", "15000.00", ["EMPLOYEE", "SUPERVISOR"]),
    ("E006", "王强", "wangqiang", "SALES", "NW", "SALES", "E003", "8000.00", ["EMPLOYEE"]),
    ("E007", "杨帆", "yangfan", "SALES", "NW", "SALES", "E003", "8000.00", ["EMPLOYEE"]),
    ("E008", "黄磊", "huanglei", "SALES", "NW", "SALES", "E003", "7500.00", ["EMPLOYEE"]),
    ("E009", "周杰", "zhoujie", "SALES", "NC", "SALES", "E004", "7500.00", ["EMPLOYEE"]),
    ("E010", "徐丽", "xuli", "SALES", "NC", "SALES", "E004", "7000.00", ["EMPLOYEE"]),
    ("E011", "孙浩", "sunhao", "SALES", "NC", "SALES", "E004", "7000.00", ["EMPLOYEE"]),
    ("E012", "马超", "machao", "SALES", "SW", "SALES", "E005", "7000.00", ["EMPLOYEE"]),
    ("E013", "朱琳", "zhulin", "SALES", "SW", "SALES", "E005", "6500.00", ["EMPLOYEE"]),
    ("E014", "胡斌", "hubin", "SALES", "SW", "SALES", "E005", "6500.00", ["EMPLOYEE"]),
    ("E015", "郭鹏", "guopeng", "SALES", "NW", "SALES", "E003", "6500.00", ["EMPLOYEE"]),
    ("E016", "赵敏", "zhaomin", "FIN", "XA", "FIN_MGR", "E001", "14000.00", ["EMPLOYEE", "FINANCE", "SUPERVISOR"]),
    ("E017", "孙丽", "sunli", "FIN", "XA", "FIN", "E016", "7000.00", ["EMPLOYEE", "FINANCE"]),
    ("E018", "周婷", "zhouting", "HR", "XA", "HR_MGR", "E001", "13000.00", ["EMPLOYEE", "HR", "SUPERVISOR"]),
    ("E019", "吴芳", "wufang", "HR", "XA", "HR", "E018", "6500.00", ["EMPLOYEE", "HR"]),
    ("E020", "郑强", "zhengqiang", "ENG", "XA", "CTO", "E001", "30000.00", ["EMPLOYEE", "SUPERVISOR"]),
    ("E021", "冯磊", "fenglei", "ENG", "XA", "ENG", "E020", "18000.00", ["EMPLOYEE"]),
    ("E022", "何欣", "hexin", "ENG", "XA", "ENG", "E020", "17000.00", ["EMPLOYEE"]),
    ("E023", "罗杰", "luojie", "ENG", "XA", "ENG", "E020", "16000.00", ["EMPLOYEE"]),
    ("E024", "高远", "gaoyuan", "ENG", "XA", "ENG", "E020", "16000.00", ["EMPLOYEE"]),
    ("E025", "林晓", "linxiao", "ENG", "XA", "ENG", "E020", "15000.00", ["EMPLOYEE"]),
    ("E026", "谢天", "xietian", "ENG", "XA", "ENG", "E020", "15000.00", ["EMPLOYEE"]),
    ("E027", "韩雪", "hanxue", "ENG", "XA", "ENG", "E020", "14000.00", ["EMPLOYEE"]),
    ("E028", "唐宁", "tangning", "ENG", "XA", "ENG", "E020", "14000.00", ["EMPLOYEE"]),
    ("E029", "钱慎", "qianshen", "FIN", "XA", "AUDIT", "E016", "9000.00", ["EMPLOYEE", "AUDITOR"]),
    ("E030", "曹颖", "caoying", "MGMT", "XA", "HR", "E001", "6000.00", ["EMPLOYEE"]),
]


async def seed() -> None:
    for code, name in DEPARTMENTS:
        await org.upsert_department(SYSTEM, code, name)
    for code, name in REGIONS:
        await org.upsert_region(SYSTEM, code, name)
    for code, name, level, limit, monthly, days in POSITIONS:
        await org.upsert_position(SYSTEM, org.PositionData(code, name, level, limit, monthly, days, CHAIN))
    for no, name, username, dept, region, position, sup, salary, roles in PEOPLE:
        await org.create_employee(SYSTEM, org.EmployeeData(
            employee_no=no, name=name, department_code=dept, region_code=region, position_code=position,
            supervisor_no=sup, monthly_salary=salary, hire_date=date(2023, 3, 1), username=username,
            password=DEMO_PASSWORD, roles=roles, email=f"{username}@nenglian.example",
        ))
