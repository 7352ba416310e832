"""Who may move money on a loan's ledger: settle, propose or approve a write-off, reverse an entry.

Plain data in, a refusal out: each `*_refusal` returns None when the actor may act, else the
FORBIDDEN message. The services raise it before writing anything. Rules:
- cash returns and salary deductions (and their reversals) are FINANCE's only; an ADMIN without
  FINANCE does none of it;
- a write-off (and a write-off's reversal) takes two people: FINANCE proposes with a reason, a
  different person holding ADMIN approves or rejects;
- nobody acts on their own money: not on their own loan, not on a proposal they made.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.domain import duties
from server.domain.approvals import Actor
from server.domain.errors import Forbidden
from server.domain.ledger import CASH_RETURN, SALARY_DEDUCTION, WRITE_OFF
from server.domain.messages import Message, _m

OWN_MONEY = _m("不能处理自己的借款")
NEEDS_FINANCE = _m("需要 FINANCE 角色")
NEEDS_ADMIN = _m("需要 ADMIN 角色")
OWN_PROPOSAL = _m("核销须由提议人以外的另一人审批")


@dataclass(frozen=True)
class Proposer:
    user_id: int | None
    employee_id: int | None


def _own(actor: Actor, owner_id: int | None) -> bool:
    return duties.own_money(actor.employee_id, owner_id)


def _same_person(actor: Actor, proposer: Proposer) -> bool:
    same_user = bool(actor.user_id) and actor.user_id == proposer.user_id
    same_employee = actor.employee_id is not None and actor.employee_id == proposer.employee_id
    return same_user or same_employee


# The role each correction needs comes from the one role matrix (server/domain/duties.py).
SETTLE_ACTIONS: dict[str, str] = {CASH_RETURN: duties.SETTLE_CASH, SALARY_DEDUCTION: duties.SETTLE_SALARY}


def settle_refusal(actor: Actor, owner_id: int | None, method: str = CASH_RETURN) -> Message | None:
    """Recording (or reversing) a cash return or a salary deduction."""
    if not duties.may(actor.roles, SETTLE_ACTIONS.get(method, duties.SETTLE_CASH)):
        return NEEDS_FINANCE
    if _own(actor, owner_id):
        return OWN_MONEY
    return None


def propose_refusal(actor: Actor, owner_id: int | None) -> Message | None:
    """Proposing a write-off, or the reversal of one."""
    if not duties.may(actor.roles, duties.PROPOSE_WRITE_OFF):
        return NEEDS_FINANCE
    if _own(actor, owner_id):
        return OWN_MONEY
    return None


def decide_refusal(actor: Actor, owner_id: int | None, proposer: Proposer) -> Message | None:
    """Approving or rejecting a proposal: ADMIN, a second person, not the loan's owner."""
    if not duties.may(actor.roles, duties.APPROVE_WRITE_OFF):
        return NEEDS_ADMIN
    if _own(actor, owner_id):
        return OWN_MONEY
    if _same_person(actor, proposer):
        return OWN_PROPOSAL
    return None


def needs_second_person(kind: str) -> bool:
    """True when undoing an entry of `kind` is a proposal that an ADMIN must approve."""
    return kind == WRITE_OFF


def reverse_refusal(actor: Actor, owner_id: int | None, kind: str) -> Message | None:
    """Reversing (or, for a write-off, proposing to reverse) an entry of `kind`.

    Whether the entry may be reversed at all (offsets, reversals, twice) is ledger.check_reversal's
    question, asked after this one so that a refusal never tells an outsider about the ledger.
    """
    if needs_second_person(kind):
        return propose_refusal(actor, owner_id)
    return settle_refusal(actor, owner_id, kind)


def check(refusal: Message | None) -> None:
    if refusal is not None:
        raise Forbidden(refusal)
