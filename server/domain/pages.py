"""Which pages a viewer's roles open: every rule derived from the duties matrix and the approval rules.

Pure: roles in, page keys out. `server/services/navigation.py` applies it to a viewer; the pages show
a nav item and open a page only when its key is among the viewer's (the services still enforce each
action themselves).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from server.domain import duties
from server.domain.vocab import ALL_ROLES, Role


class PageKey(StrEnum):
    APPROVALS = "APPROVALS"  # 待我审批: the queues of whoever may stand in an approval chain
    FINANCE = "FINANCE"  # 财务: disbursements, payments and write-offs waiting
    ALERTS = "ALERTS"  # 预警: those who resolve alerts, read the figures, or are told about their reports
    ORG = "ORG"  # 组织管理: departments, regions, positions and employees
    SETTINGS = "SETTINGS"  # 公司设置: the company's rules
    START_OFFBOARDING = "START_OFFBOARDING"  # 发起离职 for an employee


def _roles(*actions: str) -> frozenset[str]:
    out: frozenset[str] = frozenset()
    for action in actions:
        out |= duties.roles_for(action)
    return out


PAGE_ROLES: dict[PageKey, frozenset[str]] = {
    PageKey.APPROVALS: frozenset(r for r in ALL_ROLES if r not in duties.NON_APPROVER_ROLES),
    PageKey.FINANCE: _roles(duties.DISBURSE, duties.PAY_REIMBURSEMENT, duties.APPROVE_WRITE_OFF),
    PageKey.ALERTS: _roles(duties.RESOLVE_ALERT, duties.VIEW_ANALYTICS) | {Role.SUPERVISOR},
    PageKey.ORG: _roles(duties.EDIT_ORG),
    PageKey.SETTINGS: _roles(duties.EDIT_SETTING),
    PageKey.START_OFFBOARDING: _roles(duties.COMPLETE_OFFBOARDING),
}


def pages_for(roles: Iterable[str]) -> frozenset[PageKey]:
    held = frozenset(roles)
    return frozenset(key for key, allowed in PAGE_ROLES.items() if held & allowed)


def duties_for(roles: Iterable[str]) -> frozenset[str]:
    """Every action of the duties matrix one of `roles` may perform."""
    held = list(roles)
    return frozenset(action for action in duties.MATRIX if duties.may(held, action))
