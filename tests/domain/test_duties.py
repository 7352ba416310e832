"""The separation-of-duties matrix, cell by cell, and its predicates over plain data."""

from datetime import UTC, datetime

import pytest

from server.domain import approvals
from server.domain import duties as duty_rules
from server.domain.errors import Forbidden, ValidationFailed
from server.domain.roles import ADMIN, ALL_ROLES, AUDITOR, EMPLOYEE, FINANCE, HR, SUPERVISOR

# Every action and every role: Y may, . may not. Read it as the policy an auditor signs.
TABLE = """
action                 EMPLOYEE SUPERVISOR FINANCE HR ADMIN AUDITOR
EDIT_POSITION          .        .          .       .  Y     .
EDIT_SETTING           .        .          .       .  Y     .
EDIT_ORG               .        .          .       Y  Y     .
VIEW_POSITION_HISTORY  .        .          Y       Y  Y     Y
DISBURSE               .        .          Y       .  .     .
SETTLE_CASH            .        .          Y       .  .     .
SETTLE_SALARY          .        .          Y       .  .     .
PAY_REIMBURSEMENT      .        .          Y       .  .     .
CONFIRM_CLEARANCE      .        .          Y       .  .     .
PROPOSE_WRITE_OFF      .        .          Y       .  .     .
APPROVE_WRITE_OFF      .        .          .       .  Y     .
CREATE_EMPLOYEE        .        .          .       Y  Y     .
EDIT_EMPLOYEE          .        .          .       Y  Y     .
GRANT_BASIC_ROLE       .        .          .       Y  Y     .
GRANT_PRIVILEGED_ROLE  .        .          .       .  Y     .
COMPLETE_OFFBOARDING   .        .          .       Y  .     .
RESOLVE_ALERT          .        .          Y       Y  Y     .
RECORD_BUSINESS        .        .          Y       Y  Y     .
RUN_RISK_SCAN          .        .          Y       .  Y     .
REQUEST_EVIDENCE       .        .          Y       Y  Y     Y
VIEW_ANALYTICS         .        .          Y       Y  Y     Y
GENERATE_REPORT        .        .          Y       .  Y     .
IMPORT_EMPLOYEES       .        .          .       Y  Y     .
IMPORT_LOANS           .        .          Y       .  Y     .
IMPORT_BUSINESS        .        .          Y       Y  Y     .
EXPORT_JOURNAL         .        .          Y       .  Y     Y
VIEW_LEDGER            .        .          Y       .  Y     Y
VIEW_AUDIT_LOG         .        .          .       .  Y     Y
MANAGE_CHANNELS        .        .          .       .  Y     .
MANAGE_WEBHOOKS        .        .          .       .  Y     .
"""


def _cells() -> list[tuple[str, str, bool]]:
    lines = [ln.split() for ln in TABLE.strip().splitlines()]
    roles = lines[0][1:]
    assert tuple(roles) == ALL_ROLES
    return [(row[0], role, mark == "Y") for row in lines[1:] for role, mark in zip(roles, row[1:], strict=True)]


CELLS = _cells()


def test_the_table_covers_every_action():
    assert {action for action, _, _ in CELLS} == set(duty_rules.ACTIONS)


@pytest.mark.parametrize(("action", "role", "allowed"), CELLS, ids=[f"{a}-{r}" for a, r, _ in CELLS])
def test_matrix_cell(action, role, allowed):
    assert duty_rules.may({role}, action) is allowed
    if allowed:
        duty_rules.require({role}, action)
    else:
        with pytest.raises(Forbidden):
            duty_rules.require({role}, action)


def test_an_admin_without_finance_moves_no_money():
    for action in (duty_rules.DISBURSE, duty_rules.SETTLE_CASH, duty_rules.SETTLE_SALARY, duty_rules.PAY_REIMBURSEMENT, duty_rules.PROPOSE_WRITE_OFF):
        assert not duty_rules.may({ADMIN, HR, AUDITOR, SUPERVISOR, EMPLOYEE}, action)
        assert duty_rules.may({EMPLOYEE, FINANCE}, action)


def test_unknown_action_is_nobodys():
    assert not duty_rules.may(set(ALL_ROLES), "LAUNCH_ROCKET")


def test_own_money():
    assert duty_rules.own_money(7, 7)
    assert not duty_rules.own_money(7, 8)
    assert not duty_rules.own_money(None, 7)  # an account without an employee record owns no money
    assert not duty_rules.own_money(None, None)
    with pytest.raises(Forbidden):
        duty_rules.refuse_own_money(7, 7, "放款 (disburse)")
    duty_rules.refuse_own_money(7, 8, "放款 (disburse)")


@pytest.mark.parametrize(("granter", "before", "after", "refused"), [
    ({ADMIN}, [EMPLOYEE], [EMPLOYEE, FINANCE], False),
    ({ADMIN}, [EMPLOYEE, HR], [EMPLOYEE], False),  # removal by ADMIN
    ({HR}, [EMPLOYEE], [EMPLOYEE, SUPERVISOR], False),
    ({HR}, [EMPLOYEE, SUPERVISOR], [EMPLOYEE], False),
    ({HR}, [EMPLOYEE], [EMPLOYEE, FINANCE], True),
    ({HR}, [EMPLOYEE], [EMPLOYEE, HR], True),
    ({HR}, [EMPLOYEE], [EMPLOYEE, AUDITOR], True),
    ({HR}, [EMPLOYEE], [EMPLOYEE, ADMIN], True),
    ({HR}, [EMPLOYEE, FINANCE], [EMPLOYEE], True),  # removal is a change of the same kind
    ({FINANCE}, [EMPLOYEE], [EMPLOYEE, SUPERVISOR], True),
    ({FINANCE, SUPERVISOR}, [EMPLOYEE], [EMPLOYEE, FINANCE], True),
    ({HR}, [EMPLOYEE, FINANCE], [EMPLOYEE, FINANCE], False),  # no change at all
])
def test_role_changes(granter, before, after, refused):
    reason = duty_rules.role_change_violation(granter, 1, 2, before, after)
    assert (reason is not None) is refused


def test_nobody_changes_their_own_roles():
    assert duty_rules.role_change_violation({ADMIN}, 1, 1, [ADMIN], [ADMIN, FINANCE]) is not None
    assert duty_rules.role_change_violation({ADMIN}, 1, 1, [ADMIN, EMPLOYEE], [ADMIN]) is not None
    assert duty_rules.role_change_violation({ADMIN}, 1, 1, [ADMIN], [ADMIN]) is None


@pytest.mark.parametrize(("editor", "target", "allowed"), [
    ({ADMIN}, [EMPLOYEE, FINANCE], True),
    ({HR}, [EMPLOYEE], True),
    ({HR}, [EMPLOYEE, SUPERVISOR], True),
    ({HR}, [EMPLOYEE, FINANCE], False),
    ({HR}, [EMPLOYEE, HR], False),
    ({HR}, [EMPLOYEE, ADMIN], False),
    ({HR}, [EMPLOYEE, AUDITOR], False),
    ({FINANCE}, [EMPLOYEE], False),
])
def test_who_edits_whom(editor, target, allowed):
    assert duty_rules.may_edit_person(editor, target) is allowed


# ---------------------------------------------------------------- approval chains

NOW = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.mark.parametrize(("chain", "ok"), [
    (["SUPERVISOR", "FINANCE"], True),
    (["HR"], True),
    (["FINANCE", "ADMIN", "HR"], True),
    ([], False),
    (["EMPLOYEE"], False),
    (["SUPERVISOR", "AUDITOR"], False),
    (["FINANCE", "FINANCE"], False),
    (["SUPERVISOR", "FINANCE", "SUPERVISOR"], False),
])
def test_chain_validity(chain, ok):
    if ok:
        assert approvals.validate_chain(chain) == chain
    else:
        with pytest.raises(ValidationFailed):
            approvals.validate_chain(chain)


def test_one_person_one_step_even_with_both_roles():
    both = approvals.Actor(user_id=20, employee_id=2, roles=frozenset({SUPERVISOR, FINANCE}))
    other = approvals.Actor(user_id=30, employee_id=3, roles=frozenset({FINANCE}))
    steps = approvals.build_chain([SUPERVISOR, FINANCE], 2)
    assert approvals.decide(steps, both, 1, "APPROVE", None, NOW)[1] is None
    assert not approvals.can_decide(steps[1], both, 1, steps)
    with pytest.raises(Forbidden):
        approvals.decide(steps, both, 1, "APPROVE", None, NOW)
    assert steps[1].decision is None
    assert approvals.decide(steps, other, 1, "APPROVE", None, NOW)[1] == "APPROVED"
    assert duty_rules.one_person_one_step(30, [20]) and not duty_rules.one_person_one_step(20, [20])


HOLDERS = [
    duty_rules.Holder(user_id=10, employee_id=1, roles=frozenset({EMPLOYEE})),  # the applicant
    duty_rules.Holder(user_id=20, employee_id=2, roles=frozenset({EMPLOYEE, SUPERVISOR, FINANCE})),
    duty_rules.Holder(user_id=40, employee_id=None, roles=frozenset({ADMIN})),
]


def test_blocked_reason():
    # A FINANCE step: the only other holder decided the supervisor step already.
    assert duty_rules.blocked_reason(FINANCE, None, HOLDERS, 1, [20]) is not None
    assert "FINANCE" in str(duty_rules.blocked_reason(FINANCE, None, HOLDERS, 1, [20]))
    assert duty_rules.blocked_reason(FINANCE, None, HOLDERS, 1, []) is None
    # The applicant never counts, even holding the role.
    applicant_finance = [duty_rules.Holder(10, 1, frozenset({FINANCE}))]
    assert duty_rules.blocked_reason(FINANCE, None, applicant_finance, 1, []) is not None
    # A SUPERVISOR step is the fixed supervisor's only.
    assert duty_rules.blocked_reason(SUPERVISOR, 2, HOLDERS, 1, []) is None
    assert duty_rules.blocked_reason(SUPERVISOR, 3, HOLDERS, 1, []) is not None  # no active account
    assert duty_rules.blocked_reason(ADMIN, None, HOLDERS, 1, [20]) is None
    assert duty_rules.blocked_reason(HR, None, HOLDERS, 1, []) is not None


def test_four_eyes():
    assert not duty_rules.four_eyes_violation(False, 20, [20])
    assert duty_rules.four_eyes_violation(True, 20, [20, 30])
    assert not duty_rules.four_eyes_violation(True, 40, [20, 30])
    assert not duty_rules.four_eyes_violation(True, None, [None])
