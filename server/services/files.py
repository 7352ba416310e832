"""Downloading an uploaded file: allowed exactly when the viewer may see the record it belongs to."""

from __future__ import annotations

from typing import Any

from server.domain.errors import NotFound
from server.domain.messages import _m
from server.models import Attachment, ExpenseLine, LedgerEntry, Loan, Reimbursement
from server.services.base import Viewer, parse_id, require_login
from server.services.loans import can_see_loan
from server.services.reimbursements import can_see_reimbursement

NOT_FOUND = _m("文件不存在")


async def attachment_for_download(viewer: Viewer, attachment_id: Any, filename: str | None = None) -> Attachment:
    """The attachment, if the viewer may see its loan or reimbursement.

    Refusals look like a missing file (NotFound), so ids cannot be probed for existence.
    `filename`, when given, must be the stored name (the URL carries it for the browser's sake).
    """
    require_login(viewer)
    row = await Attachment.filter(id=parse_id(attachment_id, "file")).first()
    if row is None or (filename is not None and filename != row.filename):
        raise NotFound(NOT_FOUND)
    if not await _may_see_owner(viewer, row):
        raise NotFound(NOT_FOUND)
    return row


async def _may_see_owner(viewer: Viewer, row: Attachment) -> bool:
    if row.loan_id is not None:  # type: ignore[attr-defined]
        loan = await Loan.get(id=row.loan_id)  # type: ignore[attr-defined]
        return await can_see_loan(viewer, loan)
    if row.ledger_entry_id is not None:  # type: ignore[attr-defined]  # a settlement's receipt: as its loan
        entry = await LedgerEntry.get(id=row.ledger_entry_id)  # type: ignore[attr-defined]
        return await can_see_loan(viewer, await Loan.get(id=entry.loan_id))  # type: ignore[attr-defined]
    if row.expense_line_id is not None:  # type: ignore[attr-defined]
        line = await ExpenseLine.get(id=row.expense_line_id)  # type: ignore[attr-defined]
        reimbursement = await Reimbursement.get(id=line.reimbursement_id)  # type: ignore[attr-defined]
        return await can_see_reimbursement(viewer, reimbursement)
    # Not attached to anything (an upload whose record was never created): its uploader, or an auditor.
    return viewer.sees_all or (viewer.user_id is not None and row.uploaded_by_id == viewer.user_id)  # type: ignore[attr-defined]
