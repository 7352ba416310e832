"""Payee bank details (changed by the employee or HR, audited, shown masked) and the bank batch file.

The batch file (网银批量付款) lists what waits to be paid out by bank: approved loans not yet disbursed and
approved reimbursements with something left to pay; FINANCE downloads it (DISBURSE or PAY_REIMBURSEMENT).
Rows whose employee has no payee account are not in the file; their documents are named beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tortoise.functions import Sum

from server.domain import duties
from server.domain import payees as rules
from server.domain.errors import Forbidden, NotFound
from server.domain.messages import _m
from server.domain.money import from_fen
from server.domain.vocab import LoanStatus, OffsetState, ReimbursementStatus, label
from server.models import Employee, Loan, PayeeAccount, Reimbursement, ReimbursementOffset
from server.services import audit, workflow
from server.services.base import Viewer, atomic, parse_id, require_login, utcnow
from server.services.org import can_see_employee

CSV, XLSX = "CSV", "XLSX"
FORMATS = (CSV, XLSX)
CONTENT_TYPES = {CSV: "text/csv; charset=utf-8",
                 XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
MAX_ROWS = 5000  # one batch: banks' batch files take a few thousand rows at most


async def _employee(employee_id: Any) -> Employee:
    employee = await Employee.filter(id=parse_id(employee_id, "employee")).first()
    if employee is None:
        raise NotFound(_m("员工不存在"))
    return employee


def may_change(viewer: Viewer, employee: Employee) -> bool:
    return viewer.employee_id == employee.id or viewer.has("HR")


async def get_payee(viewer: Viewer, employee_id: Any) -> PayeeAccount | None:
    """Whoever may see the employee sees the account, masked."""
    require_login(viewer)
    employee = await _employee(employee_id)
    if not await can_see_employee(viewer, employee):
        raise NotFound(_m("员工不存在"))
    return await PayeeAccount.filter(employee_id=employee.id).first()


def _snapshot(row: PayeeAccount | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"accountName": row.account_name, "accountNo": rules.mask_account(row.account_no), "bank": row.bank,
            "branch": row.branch}


async def set_payee(viewer: Viewer, employee_id: Any, *, account_name: Any, account_no: Any, bank: Any,
                    branch: Any = "") -> PayeeAccount:
    """The employee themself or HR; audited (the account number masked in the log)."""
    require_login(viewer)
    employee = await _employee(employee_id)
    if not may_change(viewer, employee):
        raise Forbidden(_m("只有员工本人或人事可以修改收款账户"))
    values: dict[str, Any] = {
        "account_name": rules.clean_name(account_name, "accountName"),
        "account_no": rules.clean_account_no(account_no),
        "bank": rules.clean_name(bank, "bank"),
        "branch": rules.clean_name(branch, "branch", required=False),
    }
    async with atomic():
        row = await PayeeAccount.filter(employee_id=employee.id).select_for_update().first()
        before = _snapshot(row)
        if row is None:
            row = await PayeeAccount.create(employee_id=employee.id, updated_by_id=viewer.user_id, updated_at=utcnow(),
                                            **values)
        else:
            for key, value in values.items():
                setattr(row, key, value)
            row.updated_by_id, row.updated_at = viewer.user_id, utcnow()  # type: ignore[attr-defined]
            await row.save()
        await audit.record(viewer, "payee.update", "employee", employee.id, before, _snapshot(row))
        await workflow.payee_changed(viewer, employee.id, rules.mask_account(row.account_no))
    return row


@dataclass(frozen=True)
class BankBatch:
    format: str
    filename: str
    content_type: str
    content: bytes
    row_count: int
    total: Decimal
    missing_payees: list[str]  # documents left out: their employee has no payee account


_PAYEE = ("employee__payee_account__account_name", "employee__payee_account__account_no",
          "employee__payee_account__bank", "employee__payee_account__branch")


async def bank_batch(viewer: Viewer, file_format: str) -> BankBatch:
    require_login(viewer)
    if not (duties.may(viewer.roles, duties.DISBURSE) or duties.may(viewer.roles, duties.PAY_REIMBURSEMENT)):
        raise Forbidden(_m("只有财务可以下载批量付款文件"))
    file_format = str(getattr(file_format, "value", file_format))
    if file_format not in FORMATS:
        file_format = CSV
    payments: list[rules.Payment] = []
    missing: list[str] = []
    loans = await Loan.filter(status=LoanStatus.APPROVED).order_by("id").limit(MAX_ROWS).values(
        "number", "amount_fen", "purpose", "employee__name", *_PAYEE)
    for row in loans:
        _add(payments, missing, row, from_fen(row["amount_fen"]),
             f"{label('purpose', row['purpose'])}借款")
    claims = await Reimbursement.filter(status=ReimbursementStatus.APPROVED).order_by("id").limit(MAX_ROWS).values(
        "id", "number", "total_fen", "employee__name", *_PAYEE)
    applied: dict[int, int] = {}
    if claims:
        sums = await ReimbursementOffset.filter(
            reimbursement_id__in=[c["id"] for c in claims], state=OffsetState.APPLIED,
        ).annotate(total=Sum("amount_fen")).group_by("reimbursement_id").values("reimbursement_id", "total")
        applied = {int(s["reimbursement_id"]): int(s["total"] or 0) for s in sums}
    for row in claims:
        fen = int(row["total_fen"]) - applied.get(int(row["id"]), 0)
        if fen > 0:
            _add(payments, missing, row, from_fen(fen), "费用报销")
    content = rules.batch_xlsx(payments) if file_format == XLSX else rules.batch_csv(payments)
    total = sum((p.amount for p in payments), Decimal("0.00"))
    async with atomic():
        await audit.record(viewer, "bank_batch.export", "bank_batch", utcnow().strftime("%Y%m%d%H%M%S"), None,
                           {"format": file_format, "rows": len(payments), "total": total, "missing": missing})
    stamp = utcnow().strftime("%Y%m%d-%H%M%S")
    return BankBatch(file_format, f"qingkuan-bank-batch-{stamp}.{file_format.lower()}", CONTENT_TYPES[file_format],
                     content, len(payments), total, missing)


def _add(payments: list[rules.Payment], missing: list[str], row: dict[str, Any], amount: Decimal,
         purpose: str) -> None:
    if not row.get("employee__payee_account__account_no"):
        missing.append(row["number"])
        return
    payments.append(rules.Payment(
        account_name=row["employee__payee_account__account_name"], account_no=row["employee__payee_account__account_no"],
        bank=row["employee__payee_account__bank"], branch=row["employee__payee_account__branch"] or "",
        amount=amount, purpose=f"{purpose} {row['number']}", document=row["number"],
    ))
