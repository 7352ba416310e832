"""What blocks an offboarding: pure rules, table-driven."""

from __future__ import annotations

from decimal import Decimal

import pytest

from server import i18n
from server.domain.clearance import OwedLoan, PendingReimbursement, blocked_message, blockers, total_owed

D = Decimal


@pytest.mark.parametrize(
    ("loans", "pending", "expected"),
    [
        ([], [], []),
        ([OwedLoan("JK-2026-000001", D("0.00"))], [], []),
        ([OwedLoan("JK-2026-000001", D("0.01"))], [], ["借款 JK-2026-000001 未结清 0.01"]),
        (
            [OwedLoan("JK-2026-000001", D("18000.00")), OwedLoan("JK-2026-000002", D("12000.00"))],
            [],
            ["借款 JK-2026-000001 未结清 18,000.00", "借款 JK-2026-000002 未结清 12,000.00"],
        ),
        # A pending reimbursement that still reserves an offset blocks on its own.
        ([], [PendingReimbursement("BX-2026-000001", D("500.00"))], ["报销单 BX-2026-000001 待审批，拟冲抵 500.00"]),
        # One that offsets nothing (the company owes the employee) does not.
        ([], [PendingReimbursement("BX-2026-000002", D("0.00"))], []),
        (
            [OwedLoan("JK-2026-000003", D("1000.00"))],
            [PendingReimbursement("BX-2026-000003", D("1000.00"))],
            ["借款 JK-2026-000003 未结清 1,000.00", "报销单 BX-2026-000003 待审批，拟冲抵 1,000.00"],
        ),
    ],
)
def test_blockers(loans, pending, expected):
    assert [str(m) for m in blockers(loans, pending)] == expected


@pytest.mark.parametrize(
    ("amounts", "owed"),
    [([], "0.00"), (["0.00"], "0.00"), (["18000.00", "12000.00"], "30000.00"), (["0.01", "0.02"], "0.03")],
)
def test_total_owed(amounts, owed):
    total = total_owed([OwedLoan(f"JK-{i}", D(a)) for i, a in enumerate(amounts)])
    assert total == D(owed)
    assert str(total) == owed  # two places, never a float


def test_blocked_message_names_loans_and_amounts():
    loans = [OwedLoan("JK-2026-000001", D("18000.00")), OwedLoan("JK-2026-000002", D("12000.00"))]
    message = blocked_message(blockers(loans, []), total_owed(loans))
    chinese, english = i18n.render(message, "zh_CN"), i18n.render(message, "en")
    assert chinese.startswith("离职清款未完成，尚欠 30,000.00：")
    assert "JK-2026-000001 未结清 18,000.00" in chinese and "JK-2026-000002 未结清 12,000.00" in chinese
    assert english == ("Clearance blocked: 30,000.00 owed: Loan JK-2026-000001: 18,000.00 outstanding; "
                       "Loan JK-2026-000002: 12,000.00 outstanding")
