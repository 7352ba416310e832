from datetime import UTC, datetime

import pytest

from server.domain import approvals
from server.domain.errors import Forbidden, InvalidTransition, ValidationFailed

NOW = datetime(2026, 11, 27, tzinfo=UTC)
APPLICANT, BOSS, CLERK = 1, 2, 3
boss = approvals.Actor(user_id=20, employee_id=BOSS, roles=frozenset({"SUPERVISOR"}))
clerk = approvals.Actor(user_id=30, employee_id=CLERK, roles=frozenset({"FINANCE"}))


def test_supervisor_then_finance():
    steps = approvals.build_chain(["SUPERVISOR", "FINANCE"], BOSS)
    with pytest.raises(Forbidden):  # finance cannot skip the supervisor
        approvals.decide(steps, clerk, APPLICANT, "APPROVE", None, NOW)
    assert approvals.decide(steps, boss, APPLICANT, "APPROVE", "ok", NOW)[1] is None
    assert approvals.decide(steps, clerk, APPLICANT, "APPROVE", None, NOW)[1] == "APPROVED"
    with pytest.raises(InvalidTransition):
        approvals.decide(steps, clerk, APPLICANT, "APPROVE", None, NOW)


def test_missing_supervisor_is_skipped_with_a_note():
    steps = approvals.build_chain(["SUPERVISOR", "FINANCE"], None)
    assert steps[0].skipped and steps[0].comment == approvals.SKIPPED_NO_SUPERVISOR
    assert approvals.current_step(steps).role == "FINANCE"


def test_rejection_ends_the_chain_and_needs_a_comment():
    steps = approvals.build_chain(["SUPERVISOR", "FINANCE"], BOSS)
    with pytest.raises(ValidationFailed):
        approvals.decide(steps, boss, APPLICANT, "REJECT", " ", NOW)
    assert approvals.decide(steps, boss, APPLICANT, "REJECT", "用途不明", NOW)[1] == "REJECTED"
    assert approvals.current_step(steps) is None and approvals.chain_outcome(steps) == "REJECTED"


def test_nobody_approves_their_own():
    steps = approvals.build_chain(["FINANCE"], None)
    own = approvals.Actor(user_id=30, employee_id=CLERK, roles=frozenset({"FINANCE"}))
    with pytest.raises(Forbidden):
        approvals.decide(steps, own, CLERK, "APPROVE", None, NOW)


def test_other_supervisor_cannot_decide():
    steps = approvals.build_chain(["SUPERVISOR"], BOSS)
    other = approvals.Actor(user_id=99, employee_id=99, roles=frozenset({"SUPERVISOR"}))
    with pytest.raises(Forbidden):
        approvals.decide(steps, other, APPLICANT, "APPROVE", None, NOW)


def test_chain_validation():
    with pytest.raises(ValidationFailed):
        approvals.validate_chain([])
    with pytest.raises(ValidationFailed):
        approvals.validate_chain(["BOSS"])
