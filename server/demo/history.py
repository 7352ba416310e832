"""Moving a loan's history back in time, for the demo company's story (overdue loans and the like).

It lives with the demo loader, not among the production services: nothing a user or an API
client can reach rewrites history. Only an ADMIN (or the system) may run it, and every use is
in the audit log.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from server.domain import roles
from server.domain.errors import NotFound, ValidationFailed
from server.models import ApprovalStep, LedgerEntry, Loan
from server.services import audit
from server.services.base import Viewer, atomic, parse_id, require_role


async def backdate_loan(viewer: Viewer, loan_id: Any, days: int) -> Loan:
    require_role(viewer, roles.ADMIN)
    if not 0 < days <= 3650:
        raise ValidationFailed("days must be between 1 and 3650", field="days")
    delta = timedelta(days=days)
    async with atomic():
        loan = await Loan.filter(id=parse_id(loan_id, "loan")).first()
        if loan is None:
            raise NotFound("loan not found")
        before = {"createdAt": loan.created_at, "expectedSettleDate": loan.expected_settle_date}
        for name in ("created_at", "decided_at", "disbursed_at", "settled_at", "cancelled_at"):
            if getattr(loan, name) is not None:
                setattr(loan, name, getattr(loan, name) - delta)
        loan.applied_on -= delta
        loan.expected_settle_date -= delta
        await loan.save()
        for step in await ApprovalStep.filter(loan_id=loan.id, decided_at__not_isnull=True):
            assert step.decided_at is not None
            step.decided_at -= delta
            await step.save(update_fields=["decided_at"])
        for entry in await LedgerEntry.filter(loan_id=loan.id):
            entry.recorded_at -= delta
            await entry.save(update_fields=["recorded_at"])
        await audit.record(viewer, "loan.backdate", "loan", loan.id, before,
                           {"createdAt": loan.created_at, "expectedSettleDate": loan.expected_settle_date,
                            "days": days})
    return loan
