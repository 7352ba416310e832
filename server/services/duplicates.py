"""Duplicate invoices and vouchers: refused within a claim and across claims at submission, and shown to
approvers as warnings (a batch reader per expense line)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from server.domain import duties
from server.domain.errors import ValidationFailed
from server.domain.messages import _m
from server.domain.vocab import DuplicateKind, ReimbursementStatus
from server.models import Attachment, ExpenseLine
from server.services.base import Viewer

_SPACES = re.compile(r"\s+")


def normalize_invoice_no(value: str | None) -> str | None:
    """Invoice numbers compare without spaces and case: '0123 4567' and '01234567' are one invoice."""
    text = _SPACES.sub("", value or "").upper()
    return text or None


def check_within(lines: Sequence[Any]) -> None:
    """No invoice number or voucher file twice in one claim (`lines`: parsed lines with order, invoice_no, files)."""
    seen_invoice: dict[str, int] = {}
    seen_file: dict[str, int] = {}
    for line in lines:
        if line.invoice_no is not None:
            if line.invoice_no in seen_invoice:
                raise ValidationFailed(
                    _m("发票号 %(invoice)s 在第 %(first)s 行和第 %(second)s 行重复", invoice=line.invoice_no,
                       first=seen_invoice[line.invoice_no], second=line.order),
                    field=f"lines.{line.order - 1}.invoiceNo",
                )
            seen_invoice[line.invoice_no] = line.order
        for f in line.files:
            if f.sha256 in seen_file:
                raise ValidationFailed(
                    _m("凭证 %(file)s 在本报销单中重复上传", file=f.filename),
                    field=f"lines.{line.order - 1}.vouchers",
                )
            seen_file[f.sha256] = line.order


async def check_elsewhere(lines: Sequence[Any], employee_id: int | None = None) -> None:
    """An invoice number or a voucher file already on another non-rejected reimbursement is refused.

    The submitter is told which of their own reimbursements it collides with, but never another
    person's document number (finance and the approvers see that on the duplicate warnings)."""
    invoices = [line.invoice_no for line in lines if line.invoice_no]
    if invoices:
        row = await (
            ExpenseLine.filter(invoice_no__in=invoices).exclude(reimbursement__status=ReimbursementStatus.REJECTED)
            .order_by("id").first().values("invoice_no", "reimbursement__number", "reimbursement__employee_id")
        )
        if row is not None:
            number, invoice = row["reimbursement__number"], row["invoice_no"]
            index = next(line.order - 1 for line in lines if line.invoice_no == invoice)
            if not duties.own_money(employee_id, row["reimbursement__employee_id"]):
                raise ValidationFailed(
                    _m("发票号 %(invoice)s 已被其他报销单使用", invoice=invoice),
                    field=f"lines.{index}.invoiceNo",
                )
            raise ValidationFailed(
                _m("发票号 %(invoice)s 已在报销单 %(number)s 中使用", invoice=invoice, number=number),
                field=f"lines.{index}.invoiceNo", details={"duplicateOf": number},  # the viewer's own document
            )
    digests = [f.sha256 for line in lines for f in line.files]
    if digests:
        row = await (
            Attachment.filter(sha256__in=digests, expense_line_id__not_isnull=True)
            .exclude(expense_line__reimbursement__status=ReimbursementStatus.REJECTED)
            .order_by("id").first().values("sha256", "expense_line__reimbursement__number",
                                           "expense_line__reimbursement__employee_id")
        )
        if row is not None:
            number = row["expense_line__reimbursement__number"]
            line, f = next((ln, f) for ln in lines for f in ln.files if f.sha256 == row["sha256"])
            if not duties.own_money(employee_id, row["expense_line__reimbursement__employee_id"]):
                raise ValidationFailed(
                    _m("凭证 %(file)s 已被其他报销单使用", file=f.filename),
                    field=f"lines.{line.order - 1}.vouchers",
                )
            raise ValidationFailed(
                _m("凭证 %(file)s 已在报销单 %(number)s 中使用", file=f.filename, number=number),
                field=f"lines.{line.order - 1}.vouchers", details={"duplicateOf": number},
            )


@dataclass(frozen=True)
class DuplicateUse:
    """Another reimbursement carrying the same invoice number or voucher file as an expense line."""

    kind: str  # INVOICE_NO | VOUCHER_FILE
    reimbursement_id: int
    number: str
    status: str
    same_employee: bool
    owner_employee_id: int  # whose line it is (decides who may be told about other people's claims)
    invoice_no: str | None = None
    filename: str | None = None


async def duplicates_by_line(line_ids: Sequence[int]) -> list[list[DuplicateUse]]:
    """Batch reader (DataLoader) for approvers' warnings: per expense line, the other reimbursements with the
    same invoice number or the same voucher file, oldest first. Submission refuses such duplicates unless the
    other reimbursement was rejected, so on a pending one these are rejected claims shown again.
    Four queries whatever the number of lines; lines are reached from an authorized reimbursement."""
    ids = list(set(line_ids))
    lines = {row["id"]: row for row in await ExpenseLine.filter(id__in=ids).values(
        "id", "invoice_no", "reimbursement_id", "reimbursement__employee_id")}
    found: dict[int, dict[tuple[str, int], DuplicateUse]] = {i: {} for i in ids}

    def add(line_id: int, kind: str, other: dict, prefix: str, **detail: Any) -> None:
        line = lines[line_id]
        if other[f"{prefix}reimbursement_id"] == line["reimbursement_id"]:
            return
        found[line_id].setdefault((kind, other[f"{prefix}reimbursement_id"]), DuplicateUse(
            kind=kind, reimbursement_id=other[f"{prefix}reimbursement_id"],
            number=other[f"{prefix}reimbursement__number"], status=other[f"{prefix}reimbursement__status"],
            same_employee=other[f"{prefix}reimbursement__employee_id"] == line["reimbursement__employee_id"],
            owner_employee_id=line["reimbursement__employee_id"], **detail,
        ))

    by_invoice: dict[str, list[int]] = {}
    for line in lines.values():
        if line["invoice_no"]:
            by_invoice.setdefault(line["invoice_no"], []).append(line["id"])
    if by_invoice:
        for other in await ExpenseLine.filter(invoice_no__in=list(by_invoice)).order_by("id").values(
            "invoice_no", "reimbursement_id", "reimbursement__number", "reimbursement__status",
            "reimbursement__employee_id",
        ):
            for line_id in by_invoice[other["invoice_no"]]:
                add(line_id, DuplicateKind.INVOICE_NO, other, "", invoice_no=other["invoice_no"])
    by_digest: dict[str, list[tuple[int, str]]] = {}
    for voucher in await Attachment.filter(expense_line_id__in=ids).values("expense_line_id", "sha256", "filename"):
        by_digest.setdefault(voucher["sha256"], []).append((voucher["expense_line_id"], voucher["filename"]))
    if by_digest:
        prefix = "expense_line__"
        for other in await Attachment.filter(sha256__in=list(by_digest), expense_line_id__not_isnull=True).order_by(
            "id"
        ).values(
            "sha256", f"{prefix}reimbursement_id", f"{prefix}reimbursement__number",
            f"{prefix}reimbursement__status", f"{prefix}reimbursement__employee_id",
        ):
            for line_id, filename in by_digest[other["sha256"]]:
                add(line_id, DuplicateKind.VOUCHER_FILE, other, prefix, filename=filename)
    return [list(found.get(i, {}).values()) for i in line_ids]


def duplicates_visible_to(viewer: Viewer, uses: list[DuplicateUse]) -> list[DuplicateUse]:
    """Approvers and finance see every duplicate; the employee is not told about other people's claims."""
    if viewer.sees_all:
        return uses
    return [u for u in uses if u.same_employee or viewer.employee_id != u.owner_employee_id]
