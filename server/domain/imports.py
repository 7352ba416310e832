"""Import files (importCsv): columns per kind, header mapping (Chinese or English), row parsing.

Pure rules over plain values (text cells, or what XLSX cells hold: numbers, dates). A row's problems are
`RowError`s naming the row as the spreadsheet shows it (the header is row 1) and the column as the file
spells it. Looking things up (departments, employees, existing records) is the service's part.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from server.domain import validation
from server.domain.business import CleanRecord, clean_record
from server.domain.errors import DomainError
from server.domain.messages import Message, _m
from server.domain.money import parse_money
from server.domain.vocab import (
    PURPOSE_LABELS,
    ROLE_LABELS,
    EmployeeStatus,
    ImportKind,
    LoanPurpose,
    Role,
)

# A file of more rows runs as a background job (importCsv returns at once with its job).
SYNC_MAX_ROWS = 5000
# Rows validated (and written) per batch: each batch costs a few bulk queries.
BATCH_ROWS = 500
# Errors listed in a report (the count covers them all).
MAX_ERRORS = 1000
MAX_ROWS = 200_000


@dataclass(frozen=True)
class Column:
    name: str  # the GraphQL input field name: the English header
    zh: str
    required: bool = True


COLUMNS: dict[str, tuple[Column, ...]] = {
    ImportKind.EMPLOYEES: (
        Column("employeeNo", "工号"), Column("name", "姓名"), Column("departmentCode", "部门编码"),
        Column("regionCode", "区域编码"), Column("positionCode", "岗位编码"),
        Column("supervisorNo", "上级工号", False), Column("monthlySalary", "月薪"), Column("hireDate", "入职日期"),
        Column("username", "用户名", False), Column("roles", "角色", False), Column("email", "邮箱", False),
        Column("phone", "手机", False), Column("status", "状态", False), Column("lastWorkingDay", "最后工作日", False),
    ),
    ImportKind.BUSINESS_RECORDS: (
        Column("employeeNo", "工号"), Column("kind", "类型"), Column("reference", "编号"), Column("amount", "金额"),
        Column("signedOn", "签订日期"),
    ),
    ImportKind.HISTORICAL_LOANS: (
        Column("number", "借款单号"), Column("employeeNo", "工号"), Column("amount", "金额"), Column("purpose", "用途"),
        Column("description", "说明", False), Column("appliedOn", "申请日期"), Column("disbursedOn", "放款日期"),
        Column("expectedSettleDate", "预计报销日期"), Column("settledAmount", "已还金额", False),
    ),
}


@dataclass(frozen=True)
class RowError:
    row: int
    column: str | None
    message: Message

    def to_json(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message.to_json()}


@dataclass(frozen=True)
class HeaderMap:
    """Which field each position of a row holds, and the header as the file spells it."""

    fields: dict[int, str]  # position -> field name
    headers: dict[str, str]  # field name -> header as written

    def values(self, cells: Sequence[Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for index, name in self.fields.items():
            out[name] = cells[index] if index < len(cells) else None
        return out

    def header(self, name: str | None) -> str | None:
        return None if name is None else self.headers.get(name, name)


def _fold(text: str) -> str:
    return re.sub(r"[\s_\-（）()*]", "", text).lower()


def map_headers(kind: str, cells: Sequence[Any]) -> tuple[HeaderMap, list[RowError]]:
    """Header row → HeaderMap; unknown, repeated and missing required columns are errors of row 1."""
    by_key: dict[str, Column] = {}
    for column in COLUMNS[kind]:
        by_key[_fold(column.name)] = column
        by_key[_fold(column.zh)] = column
    fields: dict[int, str] = {}
    headers: dict[str, str] = {}
    errors: list[RowError] = []
    for index, cell in enumerate(cells):
        written = "" if cell is None else str(cell).strip().lstrip("\ufeff")
        if not written:
            continue
        found = by_key.get(_fold(written))
        if found is None:
            errors.append(RowError(1, written, _m("未知的列 %(column)s", column=written)))
        elif found.name in headers:
            errors.append(RowError(1, written, _m("列 %(column)s 重复", column=written)))
        else:
            fields[index] = found.name
            headers[found.name] = written
    for column in COLUMNS[kind]:
        if column.required and column.name not in headers:
            errors.append(RowError(1, column.zh, _m("缺少必填列 %(column)s", column=column.zh + " " + column.name)))
    return HeaderMap(fields, headers), errors


def blank(cells: Iterable[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


# ---------------------------------------------------------------- cell values


class CellError(DomainError):
    """A bad cell: `field` names its column (the field name; the report shows the header as written)."""


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


_DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")


def parse_date(value: Any, name: str, *, required: bool = True) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = text(value)
    if not raw:
        if required:
            raise CellError(_m("%(field)s 不能为空", field=name), field=name)
        return None
    match = _DATE.fullmatch(raw) or (re.fullmatch(r"(\d{4})(\d{2})(\d{2})", raw))
    if match:
        try:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            pass
    raise CellError(_m("%(field)s：%(value)s 不是日期", field=name, value=raw), field=name)


def parse_amount(value: Any, name: str, *, allow_zero: bool = False) -> Decimal:
    if isinstance(value, float):
        value = repr(value)
    raw = text(value).lstrip("¥￥").strip()
    if not raw:
        raise CellError(_m("%(field)s 不能为空", field=name), field=name)
    return parse_money(raw, name, allow_zero=allow_zero)


def required(value: Any, name: str, max_len: int) -> str:
    return validation.required_text(text(value), name, max_len)


def optional(value: Any, name: str, max_len: int) -> str | None:
    return validation.clean_text(text(value), name, max_len)


_ROLE_NAMES = {**{r.value: r.value for r in Role}, **{label: code for code, label in ROLE_LABELS.items()},
               "主管": Role.SUPERVISOR.value}
_STATUS_NAMES = {
    **{s.value: s.value for s in EmployeeStatus}, "在职": EmployeeStatus.ACTIVE.value,
    "离职中": EmployeeStatus.OFFBOARDING.value, "离职办理中": EmployeeStatus.OFFBOARDING.value,
    "已离职": EmployeeStatus.LEFT.value, "离职": EmployeeStatus.LEFT.value,
}
_PURPOSE_NAMES = {**{p.value: p.value for p in LoanPurpose}, **{label: code for code, label in PURPOSE_LABELS.items()},
                  "市场推广": LoanPurpose.MARKETING.value}


def parse_roles(value: Any) -> list[str]:
    raw = text(value)
    if not raw:
        return [Role.EMPLOYEE.value]
    out: list[str] = []
    for part in re.split(r"[、,;，；]", raw):
        part = part.strip()
        if not part:
            continue
        code = _ROLE_NAMES.get(part) or _ROLE_NAMES.get(part.upper())
        if code is None:
            raise CellError(_m("未知的角色 %(role)s", role=part), field="roles")
        if code not in out:
            out.append(code)
    return sorted(out or [Role.EMPLOYEE.value])


def parse_status(value: Any) -> str:
    raw = text(value)
    if not raw:
        return EmployeeStatus.ACTIVE.value
    code = _STATUS_NAMES.get(raw) or _STATUS_NAMES.get(raw.upper())
    if code is None:
        raise CellError(_m("未知的状态 %(status)s", status=raw), field="status")
    return code


def parse_purpose(value: Any) -> str:
    raw = text(value)
    code = _PURPOSE_NAMES.get(raw) or _PURPOSE_NAMES.get(raw.upper())
    if code is None:
        raise CellError(_m("未知的用途 %(purpose)s", purpose=raw or "—"), field="purpose")
    return code


# ---------------------------------------------------------------- rows per kind


@dataclass
class Parsed:
    """A row's clean values (None when a cell was refused) and its errors as (field, message)."""

    values: dict[str, Any] = field(default_factory=dict)
    problems: list[tuple[str | None, Message]] = field(default_factory=list)

    def take(self, name: str, parse: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            value = parse(*args, **kwargs)
        except DomainError as exc:
            self.problems.append((exc.field or name, exc.msg))
            value = None
        self.values[name] = value
        return value

    @property
    def ok(self) -> bool:
        return not self.problems


def parse_employee(cells: dict[str, Any], today: date) -> Parsed:
    p = Parsed()
    p.take("employeeNo", required, cells.get("employeeNo"), "employeeNo", validation.CODE)
    p.take("name", required, cells.get("name"), "name", validation.NAME)
    for name in ("departmentCode", "regionCode", "positionCode"):
        p.take(name, required, cells.get(name), name, validation.CODE)
    p.take("supervisorNo", optional, cells.get("supervisorNo"), "supervisorNo", validation.CODE)
    p.take("monthlySalary", parse_amount, cells.get("monthlySalary"), "monthlySalary", allow_zero=True)
    hire = p.take("hireDate", parse_date, cells.get("hireDate"), "hireDate")
    if hire is not None:
        p.take("hireDate", validation.check_hire_date, hire, today)
    p.take("username", optional, cells.get("username"), "username", validation.USERNAME)
    p.take("roles", parse_roles, cells.get("roles"))
    p.take("email", optional, cells.get("email"), "email", validation.EMAIL)
    p.take("phone", optional, cells.get("phone"), "phone", validation.PHONE)
    status = p.take("status", parse_status, cells.get("status"))
    last = p.take("lastWorkingDay", parse_date, cells.get("lastWorkingDay"), "lastWorkingDay", required=False)
    if status in (EmployeeStatus.OFFBOARDING, EmployeeStatus.LEFT) and last is None and \
            not any(f == "lastWorkingDay" for f, _ in p.problems):
        p.problems.append(("lastWorkingDay", _m("离职中或已离职的员工须填写最后工作日")))
    if last is not None and hire is not None and last < hire:
        p.problems.append(("lastWorkingDay", _m("最后工作日早于入职日期")))
    username = p.values.get("username")
    if status != EmployeeStatus.LEFT and not username and not any(f == "username" for f, _ in p.problems):
        p.problems.append(("username", _m("在职或离职中的员工须填写用户名")))
    if username and not re.fullmatch(r"[A-Za-z0-9_.@-]{2,64}", username):
        p.problems.append(("username", _m("用户名须为 2–64 个字母、数字或 . _ @ -")))
    return p


def parse_business(cells: dict[str, Any], today: date) -> Parsed:
    p = Parsed()
    p.take("employeeNo", required, cells.get("employeeNo"), "employeeNo", validation.CODE)
    signed = p.take("signedOn", parse_date, cells.get("signedOn"), "signedOn")
    amount = p.take("amount", parse_amount, cells.get("amount"), "amount", allow_zero=True)
    record: CleanRecord | None = None
    if signed is not None and amount is not None:
        record = p.take("record", clean_record, text(cells.get("kind")), text(cells.get("reference")), amount,
                        signed, today=today)
    else:
        p.take("kind", required, cells.get("kind"), "kind", 40)
        p.take("reference", required, cells.get("reference"), "reference", validation.REFERENCE)
    p.values["record"] = record
    return p


# Qingkuan's own numbers (JK-2026-000123): an imported number may never look like one.
OWN_NUMBER = re.compile(r"JK-", re.IGNORECASE)
EARLIEST_LOAN_DATE = date(2000, 1, 1)


def parse_loan(cells: dict[str, Any], today: date) -> Parsed:
    p = Parsed()
    number = p.take("number", required, cells.get("number"), "number", validation.CODE)
    if number and OWN_NUMBER.match(number):
        p.problems.append(("number", _m("借款单号 %(number)s 与清款自己的编号格式（JK-…）冲突", number=number)))
    p.take("employeeNo", required, cells.get("employeeNo"), "employeeNo", validation.CODE)
    amount = p.take("amount", parse_amount, cells.get("amount"), "amount")
    p.take("purpose", parse_purpose, cells.get("purpose"))
    p.take("description", optional, cells.get("description"), "description", validation.TEXT)
    applied = p.take("appliedOn", parse_date, cells.get("appliedOn"), "appliedOn")
    disbursed = p.take("disbursedOn", parse_date, cells.get("disbursedOn"), "disbursedOn")
    expected = p.take("expectedSettleDate", parse_date, cells.get("expectedSettleDate"), "expectedSettleDate")
    settled_raw = cells.get("settledAmount")
    settled = p.take("settledAmount", parse_amount, "0" if not text(settled_raw) else settled_raw, "settledAmount",
                     allow_zero=True)
    for name, value in (("appliedOn", applied), ("disbursedOn", disbursed)):
        if value is not None and not EARLIEST_LOAN_DATE <= value <= today:
            p.problems.append((name, _m("%(field)s 须在 %(earliest)s 与今天之间", field=name,
                                        earliest=EARLIEST_LOAN_DATE.isoformat())))
    if applied and disbursed and disbursed < applied:
        p.problems.append(("disbursedOn", _m("放款日期早于申请日期")))
    if expected and applied and expected < applied:
        p.problems.append(("expectedSettleDate", _m("预计报销日期早于申请日期")))
    if amount is not None and settled is not None and settled > amount:
        p.problems.append(("settledAmount", _m("已还金额 %(settled)s 超过借款金额 %(amount)s", settled=settled,
                                               amount=amount)))
    return p


PARSERS = {
    ImportKind.EMPLOYEES: parse_employee,
    ImportKind.BUSINESS_RECORDS: parse_business,
    ImportKind.HISTORICAL_LOANS: parse_loan,
}


def supervisor_cycles(chain: dict[str, str]) -> set[str]:
    """Employee numbers on a loop of supervisors within the file (A reports to B, B to A …)."""
    state: dict[str, int] = {}  # 1: on the current walk, 2: done
    looped: set[str] = set()
    for start in chain:
        path: list[str] = []
        node: str | None = start
        while node is not None and node in chain and state.get(node) != 2:
            if state.get(node) == 1:
                looped.update(path[path.index(node):])
                break
            state[node] = 1
            path.append(node)
            node = chain.get(node)
        for visited in path:
            state[visited] = 2
    return looped


def template_header(kind: str, language: str = "zh") -> list[str]:
    """The header row of the template to download: Chinese headers, or English (field names)."""
    return [c.zh if language == "zh" else c.name for c in COLUMNS[kind]]


TEMPLATE_EXAMPLES: dict[str, list[str]] = {
    ImportKind.EMPLOYEES: ["E1001", "王五", "SALES", "XA", "SALES", "M1", "8000.00", "2024-03-01", "wangwu",
                           "员工", "wangwu@example.com", "13800000000", "在职", ""],
    ImportKind.BUSINESS_RECORDS: ["E1001", "销售合同", "HT-2025-001", "120000.00", "2025-06-01"],
    ImportKind.HISTORICAL_LOANS: ["OLD-2025-0001", "E1001", "5000.00", "差旅", "北京出差", "2025-05-01",
                                  "2025-05-03", "2025-05-20", "2000.00"],
}
