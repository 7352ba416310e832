"""DataLoaders: a page of 50 loans costs a constant number of SQL queries.

`load(info, "employees", id)` batches every load of one name within a request.
"""

from __future__ import annotations

from typing import Any

from strawberry.types import Info

from server.services import readers

BATCHES = {
    "employees": readers.employees,
    "positions": readers.positions,
    "departments": readers.departments,
    "regions": readers.regions,
    "loans": readers.loans,
    "reimbursements": readers.reimbursements,
    "loan_approvals": readers.loan_approvals,
    "reimbursement_approvals": readers.reimbursement_approvals,
    "loan_ledgers": readers.loan_ledgers,
    "loan_write_off_proposals": readers.loan_write_off_proposals,
    "loan_attachments": readers.loan_attachments,
    "line_vouchers": readers.line_vouchers,
    "reimbursement_lines": readers.reimbursement_lines,
    "loan_offsets": readers.loan_offsets,
    "reimbursement_offsets": readers.reimbursement_offsets,
    "outstanding": readers.outstanding,
    "alerts": readers.alerts,
    "alert_recipients": readers.alert_recipients,
    "clearances": readers.clearances,
    "loan_blocked": readers.loan_blocked,
    "reimbursement_blocked": readers.reimbursement_blocked,
    "position_histories": readers.position_histories,
    "employee_roles": readers.employee_roles,
    "settings": readers.settings,
}


async def load(info: Info, name: str, key: Any) -> Any:
    return await info.context.loader(name, BATCHES[name]).load(key)
