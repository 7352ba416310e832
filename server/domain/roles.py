"""Roles and who sees what across the system: names from the one vocabulary (server/domain/vocab.py)."""

from __future__ import annotations

from server.domain.vocab import ALL_ROLES, ORG_EDITORS, SEE_ALL, Role

EMPLOYEE = Role.EMPLOYEE
SUPERVISOR = Role.SUPERVISOR
FINANCE = Role.FINANCE
HR = Role.HR
ADMIN = Role.ADMIN
AUDITOR = Role.AUDITOR

__all__ = ["ADMIN", "ALL_ROLES", "AUDITOR", "EMPLOYEE", "FINANCE", "HR", "ORG_EDITORS", "SEE_ALL", "SUPERVISOR", "Role"]
