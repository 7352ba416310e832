"""会计凭证导出: the ledger's movements over a date range as Kingdee or Yonyou U8 voucher files (EXPORT_JOURNAL).

Two set-based reads whatever the range holds: the ledger entries recorded in it (with their loan,
employee, department and the kind a reversal undoes), and the reimbursements paid in it (with their
applied offsets summed in SQL). Vouchers are built by server/domain/journal.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from tortoise.functions import Sum

from server.domain import duties
from server.domain import journal as rules
from server.domain import journal_layouts as layouts
from server.domain.errors import ValidationFailed
from server.domain.messages import _m
from server.domain.money import from_fen
from server.domain.vocab import OffsetState
from server.models import LedgerEntry, Reimbursement, ReimbursementOffset
from server.services import audit, company
from server.services.base import Viewer, atomic, day_start, require_login
from server.settings import get_settings

KINGDEE, U8 = "KINGDEE", "U8"
LAYOUTS = (KINGDEE, U8)
MAX_DAYS = 366
CONTENT_TYPES = {KINGDEE: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 U8: "text/plain; charset=gbk"}


@dataclass(frozen=True)
class JournalExport:
    layout: str
    start: date
    end: date
    vouchers: list[rules.Voucher]
    filename: str
    content_type: str
    voucher_count: int
    line_count: int
    debit_total: Decimal
    credit_total: Decimal

    def content(self) -> bytes:
        if self.layout == KINGDEE:
            return layouts.kingdee_xlsx(self.vouchers)
        return layouts.u8_text(self.vouchers)


async def accounts() -> rules.Accounts:
    values = {key: str(await company.get_setting(key)).strip() for key in (
        company.JOURNAL_ACCOUNT_ADVANCE, company.JOURNAL_ACCOUNT_CASH, company.JOURNAL_ACCOUNT_BANK,
        company.JOURNAL_ACCOUNT_SALES_EXPENSE, company.JOURNAL_ACCOUNT_ADMIN_EXPENSE, company.JOURNAL_ACCOUNT_PAYROLL,
        company.JOURNAL_ACCOUNT_WRITE_OFF, company.JOURNAL_SALES_DEPARTMENTS)}
    sales = frozenset(c.strip() for c in values[company.JOURNAL_SALES_DEPARTMENTS].replace("，", ",").split(",")
                      if c.strip())
    return rules.Accounts(
        advance=values[company.JOURNAL_ACCOUNT_ADVANCE], cash=values[company.JOURNAL_ACCOUNT_CASH],
        bank=values[company.JOURNAL_ACCOUNT_BANK], sales_expense=values[company.JOURNAL_ACCOUNT_SALES_EXPENSE],
        admin_expense=values[company.JOURNAL_ACCOUNT_ADMIN_EXPENSE], payroll=values[company.JOURNAL_ACCOUNT_PAYROLL],
        write_off=values[company.JOURNAL_ACCOUNT_WRITE_OFF], sales_departments=sales,
    )


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The company-local days [start, end] as UTC instants [from, to)."""
    return day_start(start), day_start(end + timedelta(days=1))


def _check_range(start: date, end: date) -> None:
    if end < start:
        raise ValidationFailed(_m("结束日期不能早于开始日期"), field="to")
    if (end - start).days + 1 > MAX_DAYS:
        raise ValidationFailed(_m("导出区间最长 %(days)s 天", days=MAX_DAYS), field="to")


async def movements(start: date, end: date) -> list[rules.Movement]:
    since, until = _bounds(start, end)
    tz = get_settings().tz
    out: list[rules.Movement] = []
    entries = await LedgerEntry.filter(recorded_at__gte=since, recorded_at__lt=until).values(
        "id", "kind", "delta_fen", "recorded_at", "reverses__kind", "loan__number", "loan__employee__employee_no",
        "loan__employee__name", "loan__employee__department__code", "loan__employee__department__name",
    )
    for e in entries:
        out.append(rules.Movement(
            kind=e["kind"], on=e["recorded_at"].astimezone(tz).date(), amount=abs(from_fen(e["delta_fen"])),
            document=e["loan__number"], reference=f"L{e['id']}", employee_no=e["loan__employee__employee_no"],
            employee_name=e["loan__employee__name"], department_code=e["loan__employee__department__code"],
            department_name=e["loan__employee__department__name"], reverses=e["reverses__kind"],
        ))
    paid = await Reimbursement.filter(paid_at__gte=since, paid_at__lt=until).values(
        "id", "number", "total_fen", "paid_at", "employee__employee_no", "employee__name",
        "employee__department__code", "employee__department__name",
    )
    applied: dict[int, int] = {}
    if paid:
        rows = await ReimbursementOffset.filter(
            reimbursement_id__in=[p["id"] for p in paid], state=OffsetState.APPLIED,
        ).annotate(total=Sum("amount_fen")).group_by("reimbursement_id").values("reimbursement_id", "total")
        applied = {int(r["reimbursement_id"]): int(r["total"] or 0) for r in rows}
    for p in paid:
        fen = int(p["total_fen"]) - applied.get(int(p["id"]), 0)
        if fen <= 0:
            continue  # wholly offset against advances: the OFFSET entries carry it
        out.append(rules.Movement(
            kind=rules.REIMBURSEMENT_PAYMENT, on=p["paid_at"].astimezone(tz).date(), amount=from_fen(fen),
            document=p["number"], reference=f"P{p['id']}", employee_no=p["employee__employee_no"],
            employee_name=p["employee__name"], department_code=p["employee__department__code"],
            department_name=p["employee__department__name"],
        ))
    return out


async def export_journal(viewer: Viewer, start: date, end: date, layout: str) -> JournalExport:
    """FINANCE, ADMIN and AUDITOR (EXPORT_JOURNAL): the vouchers and their totals; the file is `journal_file`."""
    require_login(viewer)
    duties.require(viewer.roles, duties.EXPORT_JOURNAL)
    layout = str(getattr(layout, "value", layout))
    if layout not in LAYOUTS:
        raise ValidationFailed(_m("未知的凭证格式 %(layout)s", layout=layout), field="layout")
    _check_range(start, end)
    vouchers = rules.build_vouchers(await movements(start, end), await accounts())
    count, lines, debit, credit = layouts.totals(vouchers)
    extension = "xlsx" if layout == KINGDEE else "txt"
    export = JournalExport(
        layout=layout, start=start, end=end, vouchers=vouchers,
        filename=f"qingkuan-{layout.lower()}-{start.isoformat()}-{end.isoformat()}.{extension}",
        content_type=CONTENT_TYPES[layout], voucher_count=count, line_count=lines, debit_total=debit,
        credit_total=credit,
    )
    return export


async def journal_file(viewer: Viewer, export: JournalExport) -> bytes:
    """The file's bytes; each download is audited (who took which period's vouchers out)."""
    require_login(viewer)
    duties.require(viewer.roles, duties.EXPORT_JOURNAL)
    content = export.content()
    async with atomic():
        await audit.record(viewer, "journal.export", "journal", f"{export.start.isoformat()}..{export.end.isoformat()}",
                           None, {"layout": export.layout, "vouchers": export.voucher_count, "lines": export.line_count,
                                  "debit": export.debit_total, "bytes": len(content)})
    return content


__all__: list[Any] = ["KINGDEE", "LAYOUTS", "U8", "JournalExport", "export_journal", "journal_file", "movements"]
