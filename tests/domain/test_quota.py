"""The seed's rule at its edges: limit 10,000, 8,000 owed → 2,000.00 passes, 2,000.01 is rejected."""

from datetime import date
from decimal import Decimal

from server.domain.quota import LoanSnapshot, compute_quota, rejection_reason

TODAY = date(2026, 11, 27)


def snap(amount, status, outstanding="0", on=TODAY):
    return LoanSnapshot(Decimal(amount), status, Decimal(outstanding), on)


def test_seed_rule_edges():
    quota = compute_quota(Decimal("10000.00"), None, [snap("8000", "DISBURSED", "8000")], TODAY)
    assert (quota.committed, quota.available) == (Decimal("8000"), Decimal("2000"))
    assert rejection_reason(quota, Decimal("2000.00")) is None
    reason = rejection_reason(quota, Decimal("2000.01"))
    assert reason is not None
    assert "额度 10,000.00" in str(reason) and "已占用 8,000.00" in str(reason) and "可借 2,000.00" in str(reason)


def test_committed_counts_pending_and_approved_amounts_and_owed_balances():
    loans = [
        snap("3000", "PENDING_APPROVAL"), snap("1000", "APPROVED"), snap("5000", "PARTIALLY_SETTLED", "1500"),
        snap("4000", "SETTLED", "0"), snap("9000", "REJECTED"), snap("700", "CANCELLED"),
        snap("2000", "WRITTEN_OFF", "0"),
    ]
    quota = compute_quota(Decimal("10000"), None, loans, TODAY)
    assert quota.committed == Decimal("5500")
    assert quota.available == Decimal("4500")


def test_available_never_negative():
    quota = compute_quota(Decimal("1000"), None, [snap("3000", "DISBURSED", "3000")], TODAY)
    assert quota.available == Decimal("0")
    assert rejection_reason(quota, Decimal("0.01")) is not None


def test_monthly_limit_counts_this_month_only_excluding_rejected_and_cancelled():
    loans = [
        snap("2000", "SETTLED", "0", date(2026, 11, 2)), snap("1000", "REJECTED", on=date(2026, 11, 3)),
        snap("500", "CANCELLED", on=date(2026, 11, 4)), snap("3000", "SETTLED", "0", date(2026, 10, 31)),
    ]
    quota = compute_quota(Decimal("10000"), Decimal("6000"), loans, TODAY)
    assert quota.monthly_used == Decimal("2000")
    assert rejection_reason(quota, Decimal("4000.00")) is None
    reason = rejection_reason(quota, Decimal("4000.01"))
    assert reason is not None and "月度限额 6,000.00" in str(reason) and "本月可借 4,000.00" in str(reason)


def test_position_limit_checked_before_monthly():
    quota = compute_quota(Decimal("1000"), Decimal("500"), [], TODAY)
    reason = rejection_reason(quota, Decimal("1000.01"))
    assert reason is not None and "岗位借款额度" in str(reason)
