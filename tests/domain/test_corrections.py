"""Who may settle, propose or decide a write-off, and reverse an entry: table-driven over plain data."""

from __future__ import annotations

import pytest

from server import i18n
from server.domain import corrections, ledger
from server.domain.approvals import Actor
from server.domain.errors import Forbidden

OWNER = 7
FIN = Actor(user_id=1, employee_id=1, roles=frozenset({"EMPLOYEE", "FINANCE"}))
FIN2 = Actor(user_id=2, employee_id=2, roles=frozenset({"EMPLOYEE", "FINANCE"}))
ADMIN_ONLY = Actor(user_id=3, employee_id=None, roles=frozenset({"ADMIN"}))
ADMIN_EMP = Actor(user_id=4, employee_id=4, roles=frozenset({"EMPLOYEE", "ADMIN"}))
FIN_ADMIN = Actor(user_id=5, employee_id=5, roles=frozenset({"EMPLOYEE", "FINANCE", "ADMIN"}))
OWNER_FIN = Actor(user_id=6, employee_id=OWNER, roles=frozenset({"EMPLOYEE", "FINANCE"}))
OWNER_ADMIN = Actor(user_id=8, employee_id=OWNER, roles=frozenset({"EMPLOYEE", "ADMIN"}))
EMPLOYEE = Actor(user_id=9, employee_id=9, roles=frozenset({"EMPLOYEE", "SUPERVISOR", "HR", "AUDITOR"}))


@pytest.mark.parametrize(("actor", "refusal"), [
    (FIN, None), (FIN2, None), (FIN_ADMIN, None),
    (ADMIN_ONLY, corrections.NEEDS_FINANCE), (ADMIN_EMP, corrections.NEEDS_FINANCE), (EMPLOYEE, corrections.NEEDS_FINANCE),
    (OWNER_FIN, corrections.OWN_MONEY), (OWNER_ADMIN, corrections.NEEDS_FINANCE),
])
def test_settling_cash_and_salary_is_finance_only_and_never_ones_own(actor, refusal):
    assert corrections.settle_refusal(actor, OWNER) == refusal
    assert corrections.propose_refusal(actor, OWNER) == refusal  # proposing a write-off: the same people


PROPOSED_BY_FIN = corrections.Proposer(user_id=FIN.user_id, employee_id=FIN.employee_id)
PROPOSED_BY_FIN_ADMIN = corrections.Proposer(user_id=FIN_ADMIN.user_id, employee_id=FIN_ADMIN.employee_id)


@pytest.mark.parametrize(("actor", "proposer", "refusal"), [
    (ADMIN_ONLY, PROPOSED_BY_FIN, None),
    (ADMIN_EMP, PROPOSED_BY_FIN, None),
    (FIN_ADMIN, PROPOSED_BY_FIN, None),
    (FIN_ADMIN, PROPOSED_BY_FIN_ADMIN, corrections.OWN_PROPOSAL),  # one person, one step
    # Another account of the same employee is the same person.
    (Actor(user_id=99, employee_id=FIN_ADMIN.employee_id, roles=frozenset({"ADMIN"})), PROPOSED_BY_FIN_ADMIN,
     corrections.OWN_PROPOSAL),
    (OWNER_ADMIN, PROPOSED_BY_FIN, corrections.OWN_MONEY),
    (FIN, PROPOSED_BY_FIN_ADMIN, corrections.NEEDS_ADMIN),
    (FIN2, PROPOSED_BY_FIN, corrections.NEEDS_ADMIN),
    (EMPLOYEE, PROPOSED_BY_FIN, corrections.NEEDS_ADMIN),
])
def test_a_write_off_is_decided_by_a_second_person_holding_admin(actor, proposer, refusal):
    assert corrections.decide_refusal(actor, OWNER, proposer) == refusal


def test_a_system_proposal_without_user_does_not_make_everyone_its_proposer():
    system_proposal = corrections.Proposer(user_id=None, employee_id=None)
    assert corrections.decide_refusal(ADMIN_ONLY, OWNER, system_proposal) is None


@pytest.mark.parametrize(("actor", "kind", "refusal", "second_person"), [
    (FIN, ledger.CASH_RETURN, None, False),
    (FIN, ledger.SALARY_DEDUCTION, None, False),
    (FIN, ledger.WRITE_OFF, None, True),
    (ADMIN_ONLY, ledger.CASH_RETURN, corrections.NEEDS_FINANCE, False),
    (ADMIN_ONLY, ledger.WRITE_OFF, corrections.NEEDS_FINANCE, True),
    (OWNER_FIN, ledger.CASH_RETURN, corrections.OWN_MONEY, False),
    (OWNER_FIN, ledger.WRITE_OFF, corrections.OWN_MONEY, True),
    (EMPLOYEE, ledger.SALARY_DEDUCTION, corrections.NEEDS_FINANCE, False),
])
def test_reversing_takes_the_people_the_original_took(actor, kind, refusal, second_person):
    assert corrections.reverse_refusal(actor, OWNER, kind) == refusal
    assert corrections.needs_second_person(kind) is second_person


def test_check_raises_forbidden_with_the_refusal():
    corrections.check(None)
    with pytest.raises(Forbidden) as raised:
        corrections.check(corrections.OWN_MONEY)
    assert raised.value.code == "FORBIDDEN" and "own money" in i18n.render(raised.value.msg, "en")
