"""The demo's offboardings: one blocked by an open loan, one completed after settling through the services."""

from __future__ import annotations

from decimal import Decimal

from server.demo import DEMO_ACCOUNTS
from server.demo import offboarding as demo_offboarding
from server.demo import org as demo_org
from server.models import Alert, Employee, LedgerEntry, Loan, Offboarding, User
from server.services import offboarding
from server.services.base import SYSTEM


async def test_demo_has_one_blocked_and_one_completed_offboarding(db):
    await demo_org.seed()
    await demo_offboarding.seed()  # without the demo loans it makes the loans it needs itself

    blocked = await Offboarding.get(employee__employee_no="E004")
    assert blocked.status == "CLEARANCE_PENDING"
    c = await offboarding.clearance_for(blocked.employee_id)
    assert c.outstanding == Decimal("18000.00") and not c.clear
    alert = await Alert.get(dedupe_key=offboarding.alert_key(blocked.id))
    assert alert.resolved_at is None and alert.severity == "CRITICAL"
    assert (await Employee.get(employee_no="E004")).status == "OFFBOARDING"

    done = await Offboarding.get(employee__employee_no="E014")
    assert done.status == "COMPLETED"
    assert (await Employee.get(employee_no="E014")).status == "LEFT"
    assert not (await User.get(username="hubin")).is_active
    loan = await Loan.get(employee__employee_no="E014")
    assert loan.status == "SETTLED"
    kinds = await LedgerEntry.filter(loan_id=loan.id).order_by("id").values_list("kind", "delta_fen")
    assert kinds == [("DISBURSEMENT", 600_000), ("CASH_RETURN", -200_000), ("SALARY_DEDUCTION", -400_000)]
    assert (await Alert.get(dedupe_key=offboarding.alert_key(done.id))).resolved_at is not None
    cert = await offboarding.clearance_certificate(SYSTEM, done.id)
    assert cert.outstanding == Decimal("0.00") and cert.cleared_by_name == "赵敏"
    # The login accounts offered on the demo's login page stay usable.
    for username, _job, _role in DEMO_ACCOUNTS:
        assert (await User.get(username=username)).is_active, username
