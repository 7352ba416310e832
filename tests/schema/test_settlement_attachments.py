"""Attachments on repayments (issue 12): the cash receipt's photo or the payslip, uploaded with settleLoan
(GraphQL multipart, as the loan's documents), shown on the settlement, downloadable as the loan is."""

from __future__ import annotations

import json

from server.models import Attachment, AuditEntry, LedgerEntry
from tests.factories import PASSWORD, make_org
from tests.schema.test_loan_attachments import PDF, PNG
from tests.services.test_reimbursements import colleague, disbursed_loan

SETTLE = """mutation($id: ID!, $m: SettlementMethod!, $a: Decimal!, $files: [Upload!]) {
  settleLoan(loanId:$id, method:$m, amount:$a, note:"收据 0012", attachments:$files) {
    outstanding settlements { method amount attachments { id filename contentType size url } } } }"""
LOAN = "query($id: ID!) { loan(id:$id) { settlements { attachments { filename url } } } }"


async def _settle(client, token, loan_id, files, method="CASH_RETURN"):
    operations = json.dumps({"query": SETTLE, "variables": {"id": str(loan_id), "m": method, "a": "100.00",
                                                            "files": [None] * len(files)}})
    mapping = json.dumps({str(i): [f"variables.files.{i}"] for i in range(len(files))})
    multipart = {str(i): f for i, f in enumerate(files)}
    response = await client.post("/graphql", data={"operations": operations, "map": mapping}, files=multipart,
                                 headers={"Authorization": f"Bearer {token}"})
    return response.json()


async def test_receipt_is_stored_with_the_settlement_and_downloadable_as_the_loan(client, gql, db):
    await make_org()
    loan = await disbursed_loan("500.00")
    fin = await gql.login("finance", PASSWORD)
    body = await _settle(client, fin, loan.id, [("收据.png", PNG, "image/png"), ("工资条.pdf", PDF, "application/pdf")])
    assert not body.get("errors"), body
    settled = body["data"]["settleLoan"]
    assert settled["outstanding"] == "400.00"
    files = settled["settlements"][0]["attachments"]
    assert [(f["filename"], f["contentType"]) for f in files] == [("收据.png", "image/png"),
                                                                  ("工资条.pdf", "application/pdf")]
    entry = await LedgerEntry.get(loan_id=loan.id, kind="CASH_RETURN")
    assert await Attachment.filter(ledger_entry_id=entry.id, loan_id=None).count() == 2
    audit = await AuditEntry.get(action="loan.cash_return")
    assert len(audit.after["attachments"]) == 2

    # The applicant sees and downloads it; a colleague who may not see the loan gets a 404.
    sales = await gql.login("sales", PASSWORD)
    mine = (await gql.ok(LOAN, {"id": str(loan.id)}, sales))["loan"]["settlements"][0]["attachments"]
    url = mine[0]["url"]
    ok = await client.get(url, headers={"Authorization": f"Bearer {sales}"})
    assert ok.status_code == 200 and ok.content == PNG
    await colleague()
    other = await gql.login("sales2", PASSWORD)  # another salesperson: may not see S1's loan
    assert (await client.get(url, headers={"Authorization": f"Bearer {other}"})).status_code == 404


async def test_a_wrong_file_refuses_the_settlement(client, gql, db):
    await make_org()
    loan = await disbursed_loan("500.00")
    fin = await gql.login("finance", PASSWORD)
    body = await _settle(client, fin, loan.id, [("receipt.png", b"#!/bin/sh\necho\n", "image/png")])
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION"
    assert not await LedgerEntry.filter(loan_id=loan.id, kind="CASH_RETURN").exists()
    assert await Attachment.all().count() == 0


async def test_no_files_with_a_write_off_proposal(client, gql, db):
    await make_org()
    loan = await disbursed_loan("500.00")
    fin = await gql.login("finance", PASSWORD)
    body = await _settle(client, fin, loan.id, [("a.pdf", PDF, "application/pdf")], method="WRITE_OFF")
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION"
    assert body["errors"][0]["extensions"].get("field") == "attachments"
