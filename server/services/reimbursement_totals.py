"""Figures over every reimbursement of a list (its unpaged query, authorization applied), in SQL.

A page shows these instead of summing its own rows, so they are right however long the list is.
Each runs only when a client selects it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tortoise.expressions import Subquery

from server.domain import offsets
from server.domain.money import from_fen
from server.domain.vocab import (
    COUNTED_REIMBURSEMENT_STATUSES,
    UNPAID_REIMBURSEMENT_STATUSES,
    OffsetState,
    ReimbursementStatus,
)
from server.models import ReimbursementOffset
from server.services import sums


async def _offset_fen(reimbursements: Any) -> int:
    """Offsets still standing (reserved or applied) on the given reimbursements."""
    standing = ReimbursementOffset.filter(
        reimbursement_id__in=Subquery(reimbursements.values("id")), state__not=OffsetState.RELEASED)
    return await sums.sum_fen(standing, "amount_fen")


def _counted(reimbursements: Any) -> Any:
    return reimbursements.filter(status__in=sorted(COUNTED_REIMBURSEMENT_STATUSES))


async def claimed_total(reimbursements: Any) -> Decimal:
    """Sum of the totals of the list's reimbursements, rejected ones left out."""
    return from_fen(await sums.sum_fen(_counted(reimbursements), "total_fen"))


async def offset_total(reimbursements: Any) -> Decimal:
    """Loan offsets standing on the list's reimbursements, rejected ones left out."""
    return from_fen(await _offset_fen(_counted(reimbursements)))


async def payable_total(reimbursements: Any) -> Decimal:
    """What the company pays (or paid) on the list's reimbursements, rejected ones left out."""
    counted = _counted(reimbursements)
    return offsets.payable_of(from_fen(await sums.sum_fen(counted, "total_fen")),
                              from_fen(await _offset_fen(counted)))


async def unpaid_payable(reimbursements: Any) -> Decimal:
    """What the company still has to pay on the list's pending and approved reimbursements."""
    unpaid = reimbursements.filter(status__in=sorted(UNPAID_REIMBURSEMENT_STATUSES))
    return offsets.payable_of(from_fen(await sums.sum_fen(unpaid, "total_fen")),
                              from_fen(await _offset_fen(unpaid)))


async def pending_approval_count(reimbursements: Any) -> int:
    return int(await reimbursements.filter(status=ReimbursementStatus.PENDING_APPROVAL).count())
