"""Separation of duties: who sets the rules, who moves the money, never on their own money.

Pure rules over plain data (roles as strings, ids as ints). The services call these and raise;
the schema's `viewerCan` flags are computed from the same functions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from server.domain.errors import Forbidden
from server.domain.messages import Message, _m
from server.domain.roles import ADMIN, AUDITOR, EMPLOYEE, FINANCE, HR, SUPERVISOR
from server.domain.vocab import BASIC_ROLES, PRIVILEGED_ROLES

# ---------------------------------------------------------------- actions

# Rules: what limits and approvals money is subject to.
EDIT_POSITION = "EDIT_POSITION"  # limits, monthly limits, settle days, approval chains
EDIT_SETTING = "EDIT_SETTING"  # company settings such as FOUR_EYES_PAYOUT, risk thresholds
EDIT_ORG = "EDIT_ORG"  # departments and regions: org data, not money rules
VIEW_POSITION_HISTORY = "VIEW_POSITION_HISTORY"
# Money: what moves cash.
DISBURSE = "DISBURSE"
SETTLE_CASH = "SETTLE_CASH"
SETTLE_SALARY = "SETTLE_SALARY"
PAY_REIMBURSEMENT = "PAY_REIMBURSEMENT"
CONFIRM_CLEARANCE = "CONFIRM_CLEARANCE"
PROPOSE_WRITE_OFF = "PROPOSE_WRITE_OFF"
APPROVE_WRITE_OFF = "APPROVE_WRITE_OFF"
# People and roles.
CREATE_EMPLOYEE = "CREATE_EMPLOYEE"
EDIT_EMPLOYEE = "EDIT_EMPLOYEE"
GRANT_BASIC_ROLE = "GRANT_BASIC_ROLE"  # EMPLOYEE, SUPERVISOR
GRANT_PRIVILEGED_ROLE = "GRANT_PRIVILEGED_ROLE"  # FINANCE, HR, AUDITOR, ADMIN
COMPLETE_OFFBOARDING = "COMPLETE_OFFBOARDING"
RESOLVE_ALERT = "RESOLVE_ALERT"
# Risk, evidence, analytics and integration (issues 11–15): reading and feeding, never moving money.
RECORD_BUSINESS = "RECORD_BUSINESS"  # business records (contracts, orders), never one's own
RUN_RISK_SCAN = "RUN_RISK_SCAN"
REQUEST_EVIDENCE = "REQUEST_EVIDENCE"  # evidence packages: request and download
VIEW_ANALYTICS = "VIEW_ANALYTICS"  # the whole company's figures (a supervisor sees their reports' only)
GENERATE_REPORT = "GENERATE_REPORT"  # the monthly loan-risk report on demand
IMPORT_EMPLOYEES = "IMPORT_EMPLOYEES"
IMPORT_LOANS = "IMPORT_LOANS"  # historical loans, never one's own
IMPORT_BUSINESS = "IMPORT_BUSINESS"
EXPORT_JOURNAL = "EXPORT_JOURNAL"  # accounting vouchers and bank batch files
VIEW_LEDGER = "VIEW_LEDGER"  # 借款台账: every loan and reimbursement
VIEW_AUDIT_LOG = "VIEW_AUDIT_LOG"
MANAGE_CHANNELS = "MANAGE_CHANNELS"  # e-mail and chat robots: where alerts go
MANAGE_WEBHOOKS = "MANAGE_WEBHOOKS"

MATRIX: dict[str, frozenset[str]] = {
    EDIT_POSITION: frozenset({ADMIN}),
    EDIT_SETTING: frozenset({ADMIN}),
    EDIT_ORG: frozenset({ADMIN, HR}),
    VIEW_POSITION_HISTORY: frozenset({ADMIN, FINANCE, AUDITOR, HR}),
    DISBURSE: frozenset({FINANCE}),
    SETTLE_CASH: frozenset({FINANCE}),
    SETTLE_SALARY: frozenset({FINANCE}),
    PAY_REIMBURSEMENT: frozenset({FINANCE}),
    CONFIRM_CLEARANCE: frozenset({FINANCE}),
    PROPOSE_WRITE_OFF: frozenset({FINANCE}),
    APPROVE_WRITE_OFF: frozenset({ADMIN}),
    CREATE_EMPLOYEE: frozenset({ADMIN, HR}),
    EDIT_EMPLOYEE: frozenset({ADMIN, HR}),
    GRANT_BASIC_ROLE: frozenset({ADMIN, HR}),
    GRANT_PRIVILEGED_ROLE: frozenset({ADMIN}),
    COMPLETE_OFFBOARDING: frozenset({HR}),
    RESOLVE_ALERT: frozenset({FINANCE, HR, ADMIN}),
    RECORD_BUSINESS: frozenset({FINANCE, HR, ADMIN}),
    RUN_RISK_SCAN: frozenset({FINANCE, ADMIN}),
    REQUEST_EVIDENCE: frozenset({FINANCE, HR, ADMIN, AUDITOR}),
    VIEW_ANALYTICS: frozenset({FINANCE, HR, ADMIN, AUDITOR}),
    GENERATE_REPORT: frozenset({FINANCE, ADMIN}),
    IMPORT_EMPLOYEES: frozenset({HR, ADMIN}),
    IMPORT_LOANS: frozenset({FINANCE, ADMIN}),
    IMPORT_BUSINESS: frozenset({FINANCE, HR, ADMIN}),
    EXPORT_JOURNAL: frozenset({FINANCE, ADMIN, AUDITOR}),
    VIEW_LEDGER: frozenset({FINANCE, ADMIN, AUDITOR}),
    VIEW_AUDIT_LOG: frozenset({ADMIN, AUDITOR}),
    MANAGE_CHANNELS: frozenset({ADMIN}),
    MANAGE_WEBHOOKS: frozenset({ADMIN}),
}
ACTIONS = tuple(MATRIX)

# Roles that may never be a step of an approval chain: an employee decides nothing,
# an auditor only reads.
NON_APPROVER_ROLES = frozenset({EMPLOYEE, AUDITOR})


def roles_for(action: str) -> frozenset[str]:
    return MATRIX[action]


def may(roles: Iterable[str], action: str) -> bool:
    """True when one of `roles` may perform `action` (unknown actions: nobody)."""
    return bool(set(roles) & MATRIX.get(action, frozenset()))


def role_refusal(roles: Iterable[str], action: str) -> Forbidden | None:
    """Why none of `roles` may perform `action`, or None when one may."""
    if not may(roles, action):
        allowed = ", ".join(sorted(MATRIX.get(action, ())))
        return Forbidden(_m("需要以下角色之一：%(roles)s", roles=allowed))
    return None


def require(roles: Iterable[str], action: str) -> None:
    refusal = role_refusal(roles, action)
    if refusal is not None:
        raise refusal


# ---------------------------------------------------------------- own money


def own_money(viewer_employee_id: int | None, owner_employee_id: int | None) -> bool:
    """True when the record belongs to the viewer: their loan, reimbursement, clearance, alert…"""
    return viewer_employee_id is not None and viewer_employee_id == owner_employee_id


def refuse_own_money(viewer_employee_id: int | None, owner_employee_id: int | None, what: str | Message) -> None:
    """`what` is the refused action (a Message, or a plain string shown as is)."""
    if own_money(viewer_employee_id, owner_employee_id):
        raise Forbidden(_m("不能处理自己的款项：%(what)s", what=what))


# ---------------------------------------------------------------- roles granted


def role_change_violation(
    granter_roles: Iterable[str], granter_user_id: int | None, target_user_id: int | None,
    before: Iterable[str], after: Iterable[str],
) -> Message | None:
    """Why this change of `target`'s roles is refused, or None when it is allowed.

    Only ADMIN grants or removes FINANCE, HR, AUDITOR and ADMIN, and never to themself;
    ADMIN and HR grant or remove EMPLOYEE and SUPERVISOR.
    """
    changed = set(before) ^ set(after)
    if not changed:
        return None
    if granter_user_id is not None and granter_user_id == target_user_id:
        return _m("不能修改自己的角色")
    if changed & PRIVILEGED_ROLES and not may(granter_roles, GRANT_PRIVILEGED_ROLE):
        names = ", ".join(sorted(changed & PRIVILEGED_ROLES))
        return _m("只有管理员可以授予或撤销 %(roles)s", roles=names)
    if changed & BASIC_ROLES and not may(granter_roles, GRANT_BASIC_ROLE):
        return _m("无权修改角色")
    return None


def may_edit_person(editor_roles: Iterable[str], target_roles: Iterable[str]) -> bool:
    """HR creates and edits people holding EMPLOYEE and SUPERVISOR only; ADMIN anyone."""
    if may(editor_roles, GRANT_PRIVILEGED_ROLE):
        return True
    return may(editor_roles, EDIT_EMPLOYEE) and not set(target_roles) & PRIVILEGED_ROLES


# ---------------------------------------------------------------- approval chains


@dataclass(frozen=True)
class Holder:
    """An active account that could decide an approval step."""

    user_id: int
    employee_id: int | None
    roles: frozenset[str]


def one_person_one_step(actor_user_id: int | None, earlier_deciders: Iterable[int | None]) -> bool:
    """True when the actor has not decided another step of this chain already."""
    return actor_user_id is None or actor_user_id not in set(earlier_deciders)


def eligible_deciders(
    role: str, fixed_employee_id: int | None, holders: Iterable[Holder], applicant_employee_id: int,
    earlier_deciders: Iterable[int | None],
) -> list[Holder]:
    """Who may decide a waiting step: holders of its role (for SUPERVISOR: the fixed supervisor),
    never the applicant, never one who decided an earlier step of the same chain."""
    done = set(earlier_deciders)
    out = []
    for h in holders:
        if role == SUPERVISOR:
            if fixed_employee_id is None or h.employee_id != fixed_employee_id:
                continue
        elif role not in h.roles:
            continue
        if own_money(h.employee_id, applicant_employee_id) or h.user_id in done:
            continue
        out.append(h)
    return out


def blocked_reason(
    role: str, fixed_employee_id: int | None, holders: Iterable[Holder], applicant_employee_id: int,
    earlier_deciders: Iterable[int | None],
) -> Message | None:
    """Why nobody can complete a waiting step, or None when somebody can."""
    if eligible_deciders(role, fixed_employee_id, holders, applicant_employee_id, earlier_deciders):
        return None
    if role == SUPERVISOR:
        return _m("直属上级无可用账号，无人能审批此步骤")
    return _m("没有其他 %(role)s 角色的人员可以审批此步骤", role=role)


# ---------------------------------------------------------------- four eyes


def four_eyes_violation(enabled: bool, actor_user_id: int | None, approver_user_ids: Iterable[int | None]) -> bool:
    """With FOUR_EYES_PAYOUT on, the person paying out must not be one who approved."""
    return enabled and actor_user_id is not None and actor_user_id in set(approver_user_ids)
