"""A generated company (bench/generate.py) with queues longer than a page, for the scale tests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bench.generate import CHECKS, Mix, load_into_tortoise
from server import auth
from server.models import ApprovalStep, User
from server.services.base import today
from tests.factories import PASSWORD

# Every open loan waiting for approval, and a claim waiting from everyone who owes nothing.
QUEUES = Mix(open_weights=(45, 5, 50, 0), claim_share=1.0)


@dataclass
class Company:
    finance: str  # usernames
    supervisor: str
    employee: str


@pytest.fixture
async def company(db) -> Company:
    violations = await load_into_tortoise(600, 1200, seed=11, today=today(), password_hash=auth.hash_password(PASSWORD),
                                          mix=QUEUES)
    assert violations == {name: 0 for name in CHECKS}
    clerk = next(u for u in await User.all().order_by("id") if "FINANCE" in u.roles)
    # The supervisor with the most loans waiting for them.
    steps = await ApprovalStep.filter(is_current=True, role="SUPERVISOR", loan_id__not_isnull=True).values_list(
        "approver_id", flat=True)
    busiest = max(set(steps), key=steps.count)
    supervisor = await User.get(employee_id=busiest)
    plain = next(u for u in await User.all().order_by("-id") if u.roles == ["EMPLOYEE"] and u.is_active)
    return Company(finance=clerk.username, supervisor=supervisor.username, employee=plain.username)
