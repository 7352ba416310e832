from datetime import date
from decimal import Decimal

import pytest

from server.domain.business import clean_record
from server.domain.errors import ValidationFailed

TODAY = date(2026, 6, 15)


def test_a_record_is_cleaned():
    r = clean_record(" 销售合同 ", "HT-001", "1200.50", date(2026, 6, 1), today=TODAY)
    assert (r.kind, r.reference, r.amount, r.signed_on) == ("销售合同", "HT-001", Decimal("1200.50"), date(2026, 6, 1))


@pytest.mark.parametrize("kind, reference, amount, signed_on, field", [
    ("", "HT-1", "1.00", date(2026, 1, 1), "kind"),
    ("合同", " ", "1.00", date(2026, 1, 1), "reference"),
    ("合同", "HT-1", "1.001", date(2026, 1, 1), "amount"),
    ("合同", "HT-1", "-1", date(2026, 1, 1), "amount"),
    ("合同", "HT-1", "1.00", "2026-01-01", "signedOn"),
    ("合同", "HT-1", "1.00", date(1999, 12, 31), "signedOn"),
    ("合同", "HT-1", "1.00", date(2027, 6, 2), "signedOn"),
])
def test_bad_records_name_the_field(kind, reference, amount, signed_on, field):
    with pytest.raises(ValidationFailed) as caught:
        clean_record(kind, reference, amount, signed_on, today=TODAY)
    assert caught.value.field == field
