"""disburseLoan records how and when the money went out and who did it (issue 12)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.models import AuditEntry, LedgerEntry
from server.services.base import today
from tests.factories import make_org
from tests.schema.test_loans_api import DECIDE, Flow

DISBURSE = """mutation($id: ID!, $m: DisbursementMethod, $r: String, $d: Date) {
  disburseLoan(loanId:$id, method:$m, reference:$r, paidOn:$d) {
    status disbursement { method reference paidOn recordedBy }
    ledger { kind recordedBy } } }"""
LOAN = "query($id: ID!) { loan(id:$id) { status disbursement { method reference paidOn recordedBy } } }"


@pytest.fixture
async def flow(gql, db):
    await make_org(limit="10000.00")
    return Flow(gql)


async def _approved(flow) -> str:
    loan = await flow.apply("1200.00")
    await flow.gql.ok(DECIDE, {"id": loan["id"], "d": "APPROVE"}, await flow.token("manager"))
    await flow.gql.ok(DECIDE, {"id": loan["id"], "d": "APPROVE"}, await flow.token("finance"))
    return loan["id"]


async def test_bank_transfer_is_recorded_with_reference_date_and_recorder(flow):
    loan_id = await _approved(flow)
    fin = await flow.token("finance")
    paid = (await flow.gql.ok(DISBURSE, {"id": loan_id, "m": "BANK_TRANSFER", "r": " ICBC-0001 ",
                                         "d": today().isoformat()}, fin))["disburseLoan"]
    assert paid["status"] == "DISBURSED"
    assert paid["disbursement"] == {"method": "BANK_TRANSFER", "reference": "ICBC-0001",
                                    "paidOn": today().isoformat(), "recordedBy": "赵财务"}
    # The applicant sees the same record on their loan.
    mine = (await flow.gql.ok(LOAN, {"id": loan_id}, await flow.token("sales")))["loan"]
    assert mine["disbursement"]["reference"] == "ICBC-0001"
    entry = await AuditEntry.get(action="loan.disburse")
    assert entry.after["method"] == "BANK_TRANSFER" and entry.after["reference"] == "ICBC-0001"
    assert entry.after["paidOn"] == today().isoformat()


async def test_the_contract_call_without_arguments_still_works(flow):
    loan_id = await _approved(flow)
    paid = (await flow.gql.ok(DISBURSE, {"id": loan_id}, await flow.token("finance")))["disburseLoan"]
    assert paid["disbursement"] == {"method": "BANK_TRANSFER", "reference": None, "paidOn": today().isoformat(),
                                    "recordedBy": "赵财务"}


async def test_cash_needs_no_reference(flow):
    loan_id = await _approved(flow)
    paid = (await flow.gql.ok(DISBURSE, {"id": loan_id, "m": "CASH"}, await flow.token("finance")))["disburseLoan"]
    assert paid["disbursement"]["method"] == "CASH" and paid["disbursement"]["reference"] is None


@pytest.mark.parametrize(("variables", "field"), [
    ({"m": "BANK_TRANSFER"}, "reference"),
    ({"m": "CASH", "d": "FUTURE"}, "paidOn"),
    ({"m": "CASH", "d": "BEFORE_APPROVAL"}, "paidOn"),
])
async def test_refused_records_leave_the_loan_approved(flow, variables, field):
    loan_id = await _approved(flow)
    days = {"FUTURE": today() + timedelta(days=1), "BEFORE_APPROVAL": today() - timedelta(days=1)}
    if "d" in variables:
        variables = {**variables, "d": days[variables["d"]].isoformat()}
    err = await flow.gql.error(DISBURSE, {"id": loan_id, **variables}, await flow.token("finance"))
    assert err["extensions"]["code"] == "VALIDATION" and err["extensions"].get("field") == field, err
    assert (await flow.gql.ok(LOAN, {"id": loan_id}, await flow.token("finance")))["loan"] == {
        "status": "APPROVED", "disbursement": None}
    assert await LedgerEntry.all().count() == 0


async def test_the_applicant_cannot_record_their_own_disbursement(flow):
    loan_id = await _approved(flow)
    err = await flow.gql.error(DISBURSE, {"id": loan_id, "m": "CASH"}, await flow.token("sales"))
    assert err["extensions"]["code"] == "FORBIDDEN"
