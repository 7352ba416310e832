from datetime import UTC, datetime

import pytest

from server.domain import approvals as A
from server.domain.errors import Forbidden, InvalidTransition, ValidationFailed

NOW = datetime(2026, 11, 27, tzinfo=UTC)
APPLICANT, BOSS, CLERK = 1, 2, 3
boss = A.Actor(user_id=20, employee_id=BOSS, roles=frozenset({"SUPERVISOR"}))
clerk = A.Actor(user_id=30, employee_id=CLERK, roles=frozenset({"FINANCE"}))


def test_supervisor_then_finance():
    steps = A.build_chain(["SUPERVISOR", "FINANCE"], BOSS)
    with pytest.raises(Forbidden):  # finance cannot skip the supervisor
        A.decide(steps, clerk, APPLICANT, "APPROVE", None, NOW)
    assert A.decide(steps, boss, APPLICANT, "APPROVE", "ok", NOW)[1] is None
    assert A.decide(steps, clerk, APPLICANT, "APPROVE", None, NOW)[1] == "APPROVED"
    with pytest.raises(InvalidTransition):
        A.decide(steps, clerk, APPLICANT, "APPROVE", None, NOW)


def test_missing_supervisor_is_skipped_with_a_note():
    steps = A.build_chain(["SUPERVISOR", "FINANCE"], None)
    assert steps[0].skipped and steps[0].comment == A.SKIPPED_NO_SUPERVISOR
    assert A.current_step(steps).role == "FINANCE"


def test_rejection_ends_the_chain_and_needs_a_comment():
    steps = A.build_chain(["SUPERVISOR", "FINANCE"], BOSS)
    with pytest.raises(ValidationFailed):
        A.decide(steps, boss, APPLICANT, "REJECT", " ", NOW)
    assert A.decide(steps, boss, APPLICANT, "REJECT", "用途不明", NOW)[1] == "REJECTED"
    assert A.current_step(steps) is None and A.chain_outcome(steps) == "REJECTED"


def test_nobody_approves_their_own():
    steps = A.build_chain(["FINANCE"], None)
    own = A.Actor(user_id=30, employee_id=CLERK, roles=frozenset({"FINANCE"}))
    with pytest.raises(Forbidden):
        A.decide(steps, own, CLERK, "APPROVE", None, NOW)


def test_other_supervisor_cannot_decide():
    steps = A.build_chain(["SUPERVISOR"], BOSS)
    other = A.Actor(user_id=99, employee_id=99, roles=frozenset({"SUPERVISOR"}))
    with pytest.raises(Forbidden):
        A.decide(steps, other, APPLICANT, "APPROVE", None, NOW)


def test_chain_validation():
    with pytest.raises(ValidationFailed):
        A.validate_chain([])
    with pytest.raises(ValidationFailed):
        A.validate_chain(["BOSS"])
