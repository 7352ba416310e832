"""How and when a loan's money went out: the method, the bank reference, the payment date's range."""

from __future__ import annotations

from datetime import date

import pytest

from server.domain.errors import ValidationFailed
from server.domain.ledger import DEFAULT_DISBURSEMENT_METHOD, check_disbursement

APPROVED, TODAY = date(2026, 11, 20), date(2026, 12, 1)


def test_no_method_named_is_a_bank_transfer_without_reference_paid_today():
    paid = check_disbursement(None, None, None, approved_on=APPROVED, today=TODAY)
    assert (paid.method, paid.reference, paid.paid_on) == (DEFAULT_DISBURSEMENT_METHOD, None, TODAY)
    assert DEFAULT_DISBURSEMENT_METHOD == "BANK_TRANSFER"


def test_a_named_bank_transfer_needs_its_reference():
    with pytest.raises(ValidationFailed) as err:
        check_disbursement("BANK_TRANSFER", None, TODAY, approved_on=APPROVED, today=TODAY)
    assert err.value.field == "reference"
    paid = check_disbursement("BANK_TRANSFER", "ICBC-20261201-001", TODAY, approved_on=APPROVED, today=TODAY)
    assert paid.reference == "ICBC-20261201-001"


def test_cash_needs_no_reference():
    assert check_disbursement("CASH", None, None, approved_on=APPROVED, today=TODAY).method == "CASH"


@pytest.mark.parametrize(("day", "ok"), [
    (date(2026, 12, 2), False),  # tomorrow
    (TODAY, True),
    (APPROVED, True),  # the approval day itself
    (date(2026, 11, 19), False),  # the day before the approval
])
def test_payment_date_edges(day, ok):
    if ok:
        assert check_disbursement("CASH", None, day, approved_on=APPROVED, today=TODAY).paid_on == day
    else:
        with pytest.raises(ValidationFailed) as err:
            check_disbursement("CASH", None, day, approved_on=APPROVED, today=TODAY)
        assert err.value.field == "paidOn"


def test_unknown_method():
    with pytest.raises(ValidationFailed) as err:
        check_disbursement("CHEQUE", None, None, approved_on=APPROVED, today=TODAY)
    assert err.value.field == "method"
