from datetime import timedelta

from server.demo import history
from server.domain.errors import DomainError
from server.models import AuditEntry, LedgerEntry, User
from server.services import loans, sessions
from server.services.base import SYSTEM
from tests.factories import make_org


async def test_backdating_moves_the_whole_history_and_is_audited(db):
    await make_org()
    v = {u.username: sessions.viewer_for(u) for u in await User.all()}
    loan = await loans.apply_for_loan(v["sales"], loans.LoanApplication("1000.00", "TRAVEL", "出差"))
    await loans.decide_loan(v["manager"], loan.id, "APPROVE")
    await loans.decide_loan(v["finance"], loan.id, "APPROVE")
    await loans.disburse_loan(v["finance"], loan.id)
    due, disbursed = loan.expected_settle_date, (await LedgerEntry.get(loan_id=loan.id)).recorded_at
    try:
        await history.backdate_loan(v["finance"], loan.id, 40)
        raise AssertionError("finance may not rewrite history")
    except DomainError as exc:
        assert exc.code == "FORBIDDEN"
    moved = await history.backdate_loan(SYSTEM, loan.id, 40)
    assert moved.expected_settle_date == due - timedelta(days=40)
    assert (await LedgerEntry.get(loan_id=loan.id)).recorded_at == disbursed - timedelta(days=40)
    assert loans.overdue_days(moved, await loans.loan_outstanding(moved)) == 40 - 15
    assert await AuditEntry.filter(action="loan.backdate").count() == 1
