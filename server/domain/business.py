"""Business records (sales contracts, orders): the evidence of business activity that the risk rules weigh.

Pure rules: one place says what a valid record is, for `recordBusinessRecord`, the bulk import and
anything else that writes one. Who may record one (FINANCE, HR, ADMIN; never for oneself) is
`duties.RECORD_BUSINESS` / `duties.IMPORT_BUSINESS` with `duties.own_money`-style checks in the services.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from server.domain import validation
from server.domain.errors import ValidationFailed
from server.domain.messages import _m
from server.domain.money import parse_money

KIND_MAX = 40
EARLIEST_SIGNED_ON = date(2000, 1, 1)


@dataclass(frozen=True)
class CleanRecord:
    kind: str
    reference: str
    amount: Decimal
    signed_on: date


def clean_record(kind: object, reference: object, amount: object, signed_on: object, *, today: date) -> CleanRecord:
    """The record as stored, or ValidationFailed naming the field (kind, reference, amount, signedOn).

    A contract may be dated up to a year ahead (signed for a later start); the risk rule ignores
    records dated after the application it weighs.
    """
    clean_kind = validation.required_text(kind, "kind", KIND_MAX)
    clean_reference = validation.required_text(reference, "reference", validation.REFERENCE)
    clean_amount = parse_money(amount, "amount", allow_zero=True)
    if not isinstance(signed_on, date):
        raise ValidationFailed(_m("%(field)s 须为日期", field="signedOn"), field="signedOn")
    validation.check_date_range(signed_on, "signedOn", EARLIEST_SIGNED_ON, date(today.year + 1, today.month, 1))
    return CleanRecord(clean_kind, clean_reference, clean_amount, signed_on)
