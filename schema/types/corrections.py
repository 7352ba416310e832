"""Two-person write-offs and corrections by reversal (server/services/corrections.py)."""

from __future__ import annotations

from decimal import Decimal

import strawberry
from strawberry.types import Info

from schema.types.common import viewer
from schema.types.loans import Loan
from server.services import corrections as correction_service


@strawberry.type
class CorrectionQuery:
    @strawberry.field(description="Loans whose write-off (or write-off reversal) waits for an ADMIN's decision, "
                                  "oldest proposal first (FINANCE and ADMIN).")
    async def pending_write_offs(self, info: Info) -> list[Loan]:
        return [Loan(model=r) for r in await correction_service.loans_with_pending_proposals(viewer(info))]


@strawberry.type
class CorrectionMutation:
    @strawberry.mutation(description="FINANCE proposes a write-off with its reason; the loan is unchanged "
                                     "until a different ADMIN approves (the same as settleLoan(WRITE_OFF)).")
    async def propose_write_off(self, info: Info, loan_id: strawberry.ID, amount: Decimal, reason: str) -> Loan:
        return Loan(model=await correction_service.propose_write_off(viewer(info), loan_id, amount, reason))

    @strawberry.mutation(description="An ADMIN other than the proposer approves the loan's pending write-off "
                                     "(or write-off reversal): the ledger entry is written.")
    async def approve_write_off(self, info: Info, loan_id: strawberry.ID, comment: str | None = None) -> Loan:
        return Loan(model=await correction_service.approve_write_off(viewer(info), loan_id, comment))

    @strawberry.mutation(description="An ADMIN other than the proposer rejects the pending proposal, with a comment.")
    async def reject_write_off(self, info: Info, loan_id: strawberry.ID, comment: str) -> Loan:
        return Loan(model=await correction_service.reject_write_off(viewer(info), loan_id, comment))

    @strawberry.mutation(description="FINANCE reverses a mistaken cash return or salary deduction with a reason "
                                     "(a reversing ledger entry); for a write-off it proposes the reversal, "
                                     "which a different ADMIN approves with approveWriteOff.")
    async def reverse_settlement(self, info: Info, settlement_id: strawberry.ID, reason: str) -> Loan:
        return Loan(model=await correction_service.reverse_settlement(viewer(info), settlement_id, reason))
