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
    ANALYTICS = "ANALYTICS"  # 分析: the company's figures (a supervisor: their reports')
    RISK_DASHBOARD = "RISK_DASHBOARD"  # the home page's risk block: those who act on the report
    IMPORTS = "IMPORTS"  # 导入: migrating history
    CHANNELS = "CHANNELS"  # 通知渠道: e-mail and chat robots
    WEBHOOKS = "WEBHOOKS"  # webhooks for ERP/OA systems
    LEDGER = "LEDGER"  # 借款台账 / 报销台账
    AUDIT_LOG = "AUDIT_LOG"  # 审计日志
    JOURNAL = "JOURNAL"  # 会计凭证导出 and bank batch files


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
    PageKey.ANALYTICS: _roles(duties.VIEW_ANALYTICS) | {Role.SUPERVISOR},
    PageKey.RISK_DASHBOARD: _roles(duties.GENERATE_REPORT),
    PageKey.IMPORTS: _roles(duties.IMPORT_EMPLOYEES, duties.IMPORT_LOANS, duties.IMPORT_BUSINESS),
    PageKey.CHANNELS: _roles(duties.MANAGE_CHANNELS),
    PageKey.WEBHOOKS: _roles(duties.MANAGE_WEBHOOKS),
    PageKey.LEDGER: _roles(duties.VIEW_LEDGER),
    PageKey.AUDIT_LOG: _roles(duties.VIEW_AUDIT_LOG),
    PageKey.JOURNAL: _roles(duties.EXPORT_JOURNAL),
}


def pages_for(roles: Iterable[str]) -> frozenset[PageKey]:
    held = frozenset(roles)
    return frozenset(key for key, allowed in PAGE_ROLES.items() if held & allowed)


def duties_for(roles: Iterable[str]) -> frozenset[str]:
    """Every action of the duties matrix one of `roles` may perform."""
    held = list(roles)
    return frozenset(action for action in duties.MATRIX if duties.may(held, action))
