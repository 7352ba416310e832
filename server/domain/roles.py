"""Roles and what each may do across the system."""

from __future__ import annotations

EMPLOYEE = "EMPLOYEE"
SUPERVISOR = "SUPERVISOR"
FINANCE = "FINANCE"
HR = "HR"
ADMIN = "ADMIN"
AUDITOR = "AUDITOR"
ALL_ROLES = (EMPLOYEE, SUPERVISOR, FINANCE, HR, ADMIN, AUDITOR)

# Who sees every employee's records.
SEE_ALL = frozenset({FINANCE, HR, ADMIN, AUDITOR})
# Who may change org data (departments, regions, positions, employees).
ORG_EDITORS = frozenset({ADMIN, HR})
