"""The scale generator (bench/generate.py) at its CI size: it loads a consistent company into the
test database, and the services work on what it loaded."""

from __future__ import annotations

from datetime import UTC, datetime

from bench.generate import CHECKS, load_into_tortoise
from server.models import ApprovalStep, Employee, LedgerEntry, Loan, Reimbursement, User
from server.services import loans as loan_service
from server.services.base import Viewer, today


async def _viewer(username: str) -> Viewer:
    from server.services import sessions

    return sessions.viewer_for(await User.get(username=username).prefetch_related("employee"), None)


async def test_tiny_company_is_consistent_and_usable(db):
    violations = await load_into_tortoise(60, 600, seed=7, today=today(), password_hash="x")
    assert violations == {name: 0 for name in CHECKS}, violations
    assert await Employee.all().count() == 60
    loans = await Loan.all().count()
    assert 400 <= loans <= 800
    assert await LedgerEntry.all().count() > loans  # a disbursement and its settlements
    assert await ApprovalStep.filter(loan_id__not_isnull=True).count() > loans
    assert await Reimbursement.all().count() > 0
    statuses = set(await Loan.all().distinct().values_list("status", flat=True))
    assert {"SETTLED", "DISBURSED", "PENDING_APPROVAL", "REJECTED"} <= statuses

    # The services read it: every employee's quota is within the limit, the inboxes are not empty.
    for employee in await Employee.filter(status="ACTIVE").limit(20):
        quota = await loan_service.quota_for(employee)
        assert quota.committed <= quota.limit
    clerks = [u for u in await User.all() if "FINANCE" in u.roles]
    assert clerks
    assert len(await loan_service.pending_loan_approvals(await _viewer(clerks[0].username))) > 0

    # A new application continues the loaded numbering instead of colliding with it.
    applicant = await Employee.filter(status="ACTIVE", supervisor_id__not_isnull=True).order_by("-id").first()
    user = await User.get(employee_id=applicant.id)
    loan = await loan_service.apply_for_loan(await _viewer(user.username), loan_service.LoanApplication(
        amount="1.00", purpose="OTHER", description="文具"))
    year = datetime.now(UTC).year
    assert loan.number.startswith(f"JK-{today().year}-") or loan.number.startswith(f"JK-{year}-")
    assert await Loan.filter(number=loan.number).count() == 1
