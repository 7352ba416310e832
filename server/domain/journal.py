"""Accounting vouchers (会计凭证) from the ledger, as pure rules: one balanced voucher per money movement.

Entries (企业会计准则 numbering; /work/shared/research/wave2-facts.md §2.3, the codes are company settings):

| Movement                        | Debit                                  | Credit                          |
|---------------------------------|----------------------------------------|---------------------------------|
| 放款 DISBURSEMENT               | 1221 其他应收款—员工借款 (职员)        | 1002 银行存款                   |
| 报销冲抵 OFFSET                 | 6601/6602 销售/管理费用 (部门)         | 1221 (职员)                     |
| 报销付款 REIMBURSEMENT_PAYMENT  | 6601/6602 (部门)                       | 1002 银行存款                   |
| 现金归还 CASH_RETURN            | 1001 库存现金                          | 1221 (职员)                     |
| 工资扣款 SALARY_DEDUCTION       | 2211 应付职工薪酬                      | 1221 (职员)                     |
| 核销 WRITE_OFF                  | write-off account (6602 by default)    | 1221 (职员)                     |
| 冲销 REVERSAL                   | the reversed movement's lines in red ink (negative amounts), the same accounts |

An OFFSET and the REIMBURSEMENT_PAYMENT of the same claim together are "Dr expenses (total) / Cr 1221
(offsets) + Cr bank (paid)", the textbook entry for 报销 against an advance.

Each voucher's debits equal its credits (tests/domain/test_journal.py holds it over random histories).
Vouchers are numbered 1, 2, … per accounting period (the calendar month of the company-local date), in
the order (date, document, reference). The Qingkuan document number and the movement's reference are in
摘要, so the ERP's duplicate check (Kingdee "凭证重复") recognises a re-import.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from server.domain.money import CENT, ZERO

DISBURSEMENT = "DISBURSEMENT"
OFFSET = "OFFSET"
CASH_RETURN = "CASH_RETURN"
SALARY_DEDUCTION = "SALARY_DEDUCTION"
WRITE_OFF = "WRITE_OFF"
REVERSAL = "REVERSAL"
REIMBURSEMENT_PAYMENT = "REIMBURSEMENT_PAYMENT"
MOVEMENTS = (DISBURSEMENT, OFFSET, CASH_RETURN, SALARY_DEDUCTION, WRITE_OFF, REVERSAL, REIMBURSEMENT_PAYMENT)

# 摘要 labels (Chinese: the ERP's own language, as court documents and robot messages are).
LABELS = {
    DISBURSEMENT: "借款放款", OFFSET: "报销冲借款", CASH_RETURN: "现金还款", SALARY_DEDUCTION: "工资扣回借款",
    WRITE_OFF: "借款核销", REVERSAL: "冲销", REIMBURSEMENT_PAYMENT: "报销付款",
}
EMPLOYEE_CLASS = "职员"  # Kingdee 核算项目 class of the employee on 1221
DEPARTMENT_CLASS = "部门"
VOUCHER_GROUP = "记"  # 凭证字
SUMMARY_MAX = 60  # U8 allows 60 characters in 摘要, Kingdee 80


@dataclass(frozen=True)
class Accounts:
    advance: str = "1221"
    cash: str = "1001"
    bank: str = "1002"
    sales_expense: str = "6601"
    admin_expense: str = "6602"
    payroll: str = "2211"
    write_off: str = "6602"
    # Departments whose expenses are 销售费用 (6601); every other department's are 管理费用 (6602).
    sales_departments: frozenset[str] = frozenset({"SALES"})

    def expense_for(self, department_code: str) -> str:
        return self.sales_expense if department_code in self.sales_departments else self.admin_expense


@dataclass(frozen=True)
class Movement:
    """One amount that moved, as the ledger (or a reimbursement's payment) recorded it."""

    kind: str
    on: date
    amount: Decimal  # > 0
    document: str  # the Qingkuan number: JK-… for a loan, the claim's number for a reimbursement
    reference: str  # unique per movement: "L17" (ledger entry 17), "P5" (payment of reimbursement 5)
    employee_no: str
    employee_name: str
    department_code: str
    department_name: str
    reverses: str | None = None  # for a REVERSAL, the kind it undoes


@dataclass(frozen=True)
class Line:
    account: str
    debit: Decimal
    credit: Decimal
    aux_class: str  # 核算项目 class: 职员, 部门 or ""
    aux_code: str
    aux_name: str


@dataclass
class Voucher:
    on: date
    period: str  # "2026-12"
    number: int  # per period, from 1
    summary: str
    document: str
    reference: str
    lines: list[Line] = field(default_factory=list)

    @property
    def debit(self) -> Decimal:
        return sum((line.debit for line in self.lines), ZERO)

    @property
    def credit(self) -> Decimal:
        return sum((line.credit for line in self.lines), ZERO)

    @property
    def balanced(self) -> bool:
        return self.debit == self.credit


def _pair(accounts: Accounts, m: Movement, kind: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """(debit account, aux), (credit account, aux) for a movement kind; aux is 'E' employee, 'D' department."""
    expense = accounts.expense_for(m.department_code)
    table = {
        DISBURSEMENT: ((accounts.advance, "E"), (accounts.bank, "")),
        OFFSET: ((expense, "D"), (accounts.advance, "E")),
        REIMBURSEMENT_PAYMENT: ((expense, "D"), (accounts.bank, "")),
        CASH_RETURN: ((accounts.cash, ""), (accounts.advance, "E")),
        SALARY_DEDUCTION: ((accounts.payroll, ""), (accounts.advance, "E")),
        WRITE_OFF: ((accounts.write_off, ""), (accounts.advance, "E")),
    }
    if kind not in table:
        raise ValueError(f"no journal entry for a {kind} movement")
    return table[kind]


def _line(m: Movement, account: str, aux: str, debit: Decimal, credit: Decimal) -> Line:
    if aux == "E":
        return Line(account, debit, credit, EMPLOYEE_CLASS, m.employee_no, m.employee_name)
    if aux == "D":
        return Line(account, debit, credit, DEPARTMENT_CLASS, m.department_code, m.department_name)
    return Line(account, debit, credit, "", "", "")


def summary(m: Movement) -> str:
    label = LABELS[m.kind] + (LABELS[m.reverses] if m.kind == REVERSAL and m.reverses else "")
    text = f"{label} {m.document}/{m.reference} {m.employee_name}"
    return text.replace(",", "，")[:SUMMARY_MAX]


def lines_for(accounts: Accounts, m: Movement) -> list[Line]:
    """Debit line first, credit line second; a reversal repeats the reversed lines in red ink (negative)."""
    amount = m.amount.quantize(CENT)
    if amount <= 0:
        raise ValueError("a movement's amount is positive")
    kind, sign = (m.reverses, Decimal(-1)) if m.kind == REVERSAL else (m.kind, Decimal(1))
    if kind is None:
        raise ValueError("a reversal names the kind it reverses")
    (debit_account, debit_aux), (credit_account, credit_aux) = _pair(accounts, m, kind)
    value = (amount * sign).quantize(CENT)
    return [_line(m, debit_account, debit_aux, value, ZERO), _line(m, credit_account, credit_aux, ZERO, value)]


def period_of(on: date) -> str:
    return f"{on.year:04d}-{on.month:02d}"


def build_vouchers(movements: Iterable[Movement], accounts: Accounts) -> list[Voucher]:
    """One voucher per movement, numbered per period in (date, document, reference) order."""
    ordered = sorted(movements, key=lambda m: (m.on, m.document, _reference_key(m.reference)))
    numbers: dict[str, int] = {}
    out: list[Voucher] = []
    for m in ordered:
        period = period_of(m.on)
        numbers[period] = numbers.get(period, 0) + 1
        out.append(Voucher(on=m.on, period=period, number=numbers[period], summary=summary(m), document=m.document,
                           reference=m.reference, lines=lines_for(accounts, m)))
    return out


def _reference_key(reference: str) -> tuple[str, int]:
    prefix, digits = reference[:1], reference[1:]
    return prefix, int(digits) if digits.isdigit() else 0


def amount_text(value: Decimal) -> str:
    """Amounts in the files: two decimals, no thousands separator ("0.00" when nothing)."""
    return f"{value.quantize(CENT):.2f}"
