"""会计凭证导出 (EXPORT_JOURNAL: FINANCE, ADMIN, AUDITOR): Kingdee XLSX or Yonyou U8 text over a date range."""

from __future__ import annotations

import base64
import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

import strawberry
from strawberry.types import Info

from schema.types.common import viewer
from server.services import journal as journal_service


class _Layout(StrEnum):
    KINGDEE = journal_service.KINGDEE
    U8 = journal_service.U8


JournalLayout = strawberry.enum(
    _Layout, name="JournalLayout",
    description="KINGDEE: the Kingdee KIS/K3 凭证引入 layout as XLSX. U8: the Yonyou U8 凭证引入 text, "
                "comma-separated, GBK. Both are described in docs/api.md.",
)


@strawberry.type(description="The vouchers of a date range: totals, and the file when contentBase64 is selected "
                             "(each file read is audited).")
class JournalExport:
    export: strawberry.Private[journal_service.JournalExport]

    @strawberry.field
    def layout(self) -> JournalLayout:  # type: ignore[valid-type]
        return _Layout(self.export.layout)

    @strawberry.field(name="from")
    def start(self) -> datetime.date:
        return self.export.start

    @strawberry.field(name="to")
    def end(self) -> datetime.date:
        return self.export.end

    @strawberry.field
    def voucher_count(self) -> int:
        return self.export.voucher_count

    @strawberry.field
    def line_count(self) -> int:
        return self.export.line_count

    @strawberry.field(description="Equal to creditTotal: every voucher balances.")
    def debit_total(self) -> Decimal:
        return self.export.debit_total

    @strawberry.field
    def credit_total(self) -> Decimal:
        return self.export.credit_total

    @strawberry.field
    def filename(self) -> str:
        return self.export.filename

    @strawberry.field
    def content_type(self) -> str:
        return self.export.content_type

    @strawberry.field(description="The file, base64-encoded.")
    async def content_base64(self, info: Info) -> str:
        return base64.b64encode(await journal_service.journal_file(viewer(info), self.export)).decode("ascii")


@strawberry.type
class JournalQuery:
    @strawberry.field(description="Journal vouchers for disbursements, offsets, cash returns, salary deductions, "
                                  "write-offs, reversals and reimbursement payments recorded between from and to "
                                  "(company-local dates, inclusive, at most 366 days).")
    async def journal_export(
        self, info: Info,
        start: Annotated[datetime.date, strawberry.argument(name="from")],
        end: Annotated[datetime.date, strawberry.argument(name="to")],
        layout: JournalLayout,  # type: ignore[valid-type]
    ) -> JournalExport:
        return JournalExport(export=await journal_service.export_journal(viewer(info), start, end, layout.value))
