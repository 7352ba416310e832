"""Demo data that tells the seed's story: a 30-person energy-internet company in Xi'an.

Each area adds its part in order; everything goes through the services, as a user would.
"""

from __future__ import annotations

import importlib

from server.domain.vocab import N_
from server.models import Sequence, User

DEMO_PASSWORD = "demo1234"
# (username, job shown on the login page in the reader's language, role code) — listed only while the
# demo data is loaded.
DEMO_ACCOUNTS = [
    ("zhangwei", N_("区域销售经理"), "SUPERVISOR"),
    ("wangqiang", N_("销售"), "EMPLOYEE"),
    ("lina", N_("销售部经理"), "SUPERVISOR"),
    ("zhaomin", N_("财务经理"), "FINANCE"),
    ("zhouting", N_("人事经理"), "HR"),
    ("qianshen", N_("审计"), "AUDITOR"),
]
# Areas seeded in this order; a module that does not exist yet is skipped.
AREAS = ["org", "loans", "reimbursements", "offboarding"]
MARKER = "demo-loaded"


async def seed_demo() -> bool:
    """Load the demo company into an empty database. Returns False when it was already there."""
    if await Sequence.filter(name=MARKER).exists():
        return False
    for area in AREAS:
        try:
            module = importlib.import_module(f"server.demo.{area}")
        except ModuleNotFoundError as exc:
            if exc.name == f"server.demo.{area}":
                continue
            raise
        await module.seed()
    await Sequence.create(name=MARKER, value=1)
    return True


async def demo_loaded() -> bool:
    return await Sequence.filter(name=MARKER).exists()


async def listed_demo_accounts() -> list[tuple[str, str, str]]:
    """The demo accounts one can still sign in with: a leaver's closed account is not offered."""
    open_names = set(await User.filter(username__in=[a[0] for a in DEMO_ACCOUNTS], is_active=True)
                     .values_list("username", flat=True))
    return [a for a in DEMO_ACCOUNTS if a[0] in open_names]
