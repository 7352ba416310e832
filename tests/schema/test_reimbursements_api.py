"""Reimbursements through the GraphQL contract: offsets (oldest first and explicit), approval, payment,
every refusal, and vouchers uploaded as multipart requests (GraphQL multipart request spec)."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from typing import Any

from server.models import AuditEntry, Reimbursement, User
from server.services import sessions
from server.services.base import today
from server.settings import override_settings
from tests.conftest import SETTINGS
from tests.factories import make_org
from tests.services.test_reimbursements import colleague, disbursed_loan, pdf_bytes, png_bytes

RFIELDS = """id number status total offsetTotal payable createdAt
  employee { employeeNo }
  offsets { amount state loan { id number outstanding status } reimbursement { number } }
  lines { category amount incurredOn invoiceNo description voucherMissing
          vouchers { filename contentType size sha256 url } }
  approvals { order role decision comment isCurrent }"""
SUBMIT = f"mutation($input: ReimbursementInput!) {{ submitReimbursement(input: $input) {{ {RFIELDS} }} }}"
DECIDE = f"""mutation($id: ID!, $d: Decision!, $c: String) {{
  decideReimbursement(reimbursementId: $id, decision: $d, comment: $c) {{ {RFIELDS} }} }}"""
PAY = "mutation($id: ID!) { payReimbursement(reimbursementId: $id) { status payable } }"
GET = f"query($id: ID!) {{ reimbursement(id: $id) {{ {RFIELDS} }} }}"
LOAN = """query($id: ID!) { loan(id: $id) { number status outstanding settledAt
  offsets { amount state reimbursement { number status } } } }"""
PENDING = "{ pendingReimbursementApprovals { number } }"
PREVIEW = """query($t: Decimal!) { offsetPreview(total: $t) { total owed offsetTotal payable
  offsets { amount loan { number } } } }"""


async def token(username: str) -> str:
    """A bearer token as `login` issues it, without paying argon2 for every login (tested in test_org_api)."""
    return await sessions.issue_token(await User.get(username=username))


def day(n: int = 1) -> str:
    return (today() - timedelta(days=n)).isoformat()


def claim(*amounts: str, offsets: list[tuple[Any, str]] | None = None, invoices: list[str | None] | None = None
          ) -> dict:
    lines = [{"category": "CLIENT_VISIT", "amount": a, "incurredOn": day(), "description": "客户拜访"}
             for a in amounts]
    for line, invoice in zip(lines, invoices or [], strict=False):
        line["invoiceNo"] = invoice
    body: dict[str, Any] = {"lines": lines}
    if offsets is not None:
        body["offsets"] = [{"loanId": str(i), "amount": a} for i, a in offsets]
    return {"input": body}


async def submit(gql, token: str, variables: dict) -> dict:
    return (await gql.ok(SUBMIT, variables, token=token))["submitReimbursement"]


async def approve_all(gql, rid: str, supervisor: str = "manager") -> dict:
    """Sales' chain: their supervisor, then FINANCE."""
    await gql.ok(DECIDE, {"id": rid, "d": "APPROVE"}, token=await token(supervisor))
    return (await gql.ok(DECIDE, {"id": rid, "d": "APPROVE"}, token=await token("finance")))[
        "decideReimbursement"]


async def loan_view(gql, loan_id: int, token: str) -> dict:
    return (await gql.ok(LOAN, {"id": str(loan_id)}, token=token))["loan"]


async def upload(client, query: str, variables: dict, files: dict[str, tuple[str, bytes, str]], token: str) -> dict:
    """POST /graphql as multipart/form-data: `operations`, `map`, then one part per file.

    `files` maps a variable path ("variables.input.lines.0.vouchers.0") to (filename, bytes, declared type).
    Strawberry 0.341 needs no CSRF preflight header here; the bearer token authenticates.
    """
    parts = {str(i): spec for i, spec in enumerate(files.values())}
    mapping = {str(i): [path] for i, path in enumerate(files)}
    response = await client.post(
        "/graphql", headers={"Authorization": f"Bearer {token}"},
        data={"operations": json.dumps({"query": query, "variables": variables}), "map": json.dumps(mapping)},
        files=parts,
    )
    assert response.status_code in (200, 400), response.text
    return response.json()


def with_vouchers(variables: dict, per_line: list[int]) -> dict:
    for line, n in zip(variables["input"]["lines"], per_line, strict=True):
        line["vouchers"] = [None] * n
    return variables


# ---------------------------------------------------------------- the seed's examples


async def test_full_offset_pays_the_rest(gql, db):
    """10,000.00 against a 5,000.00 loan offsets 5,000.00 and pays 5,000.00; the loan is settled."""
    await make_org()
    loan = await disbursed_loan("5000.00")
    sales = await token("sales")
    r = await submit(gql, sales, claim("6000.00", "4000.00"))
    assert r["number"] == f"BX-{today().year}-000001"
    assert (r["status"], r["total"], r["offsetTotal"], r["payable"]) == ("PENDING_APPROVAL", "10000.00", "5000.00",
                                                                         "5000.00")
    assert r["offsets"] == [{"amount": "5000.00", "state": "RESERVED", "reimbursement": {"number": r["number"]},
                             "loan": {"id": str(loan.id), "number": loan.number, "outstanding": "5000.00",
                                      "status": "DISBURSED"}}]
    assert [(a["role"], a["isCurrent"]) for a in r["approvals"]] == [("SUPERVISOR", True), ("FINANCE", False)]
    assert [ln["amount"] for ln in r["lines"]] == ["6000.00", "4000.00"]
    assert all(ln["voucherMissing"] and ln["vouchers"] == [] for ln in r["lines"])

    r = await approve_all(gql, r["id"])
    assert (r["status"], r["offsetTotal"], r["payable"]) == ("APPROVED", "5000.00", "5000.00")
    assert r["offsets"][0]["state"] == "APPLIED"
    view = await loan_view(gql, loan.id, sales)
    assert (view["status"], view["outstanding"]) == ("SETTLED", "0.00")
    assert view["settledAt"] is not None
    assert view["offsets"] == [{"amount": "5000.00", "state": "APPLIED",
                                "reimbursement": {"number": r["number"], "status": "APPROVED"}}]
    me = await gql.ok("{ me { employee { outstanding } } }", token=sales)
    assert me["me"]["employee"]["outstanding"] == "0.00"

    paid = await gql.ok(PAY, {"id": r["id"]}, token=await token("finance"))
    assert paid["payReimbursement"] == {"status": "PAID", "payable": "5000.00"}


async def test_partial_offset_pays_nothing_and_leaves_the_rest_owed(gql, db):
    """3,000.00 against a 5,000.00 loan offsets 3,000.00, pays 0.00 and leaves 2,000.00 owed."""
    await make_org()
    loan = await disbursed_loan("5000.00")
    sales = await token("sales")
    r = await submit(gql, sales, claim("3000.00"))
    assert (r["offsetTotal"], r["payable"]) == ("3000.00", "0.00")
    r = await approve_all(gql, r["id"])
    assert r["status"] == "PAID"  # nothing to pay out: closed at its approval, no payment queued
    view = await loan_view(gql, loan.id, sales)
    assert (view["status"], view["outstanding"]) == ("PARTIALLY_SETTLED", "2000.00")
    assert [o["amount"] for o in view["offsets"]] == ["3000.00"]


async def test_without_loans_everything_is_paid(gql, db):
    await make_org()
    r = await submit(gql, await token("sales"), claim("123.45", "0.55"))
    assert (r["total"], r["offsetTotal"], r["payable"], r["offsets"]) == ("124.00", "0.00", "124.00", [])


# ---------------------------------------------------------------- allocation


async def test_oldest_first_over_several_loans(gql, db):
    await make_org()
    older = await disbursed_loan("3000.00")
    newer = await disbursed_loan("4000.00")
    sales = await token("sales")
    preview = (await gql.ok(PREVIEW, {"t": "5000.00"}, token=sales))["offsetPreview"]
    assert preview == {"total": "5000.00", "owed": "7000.00", "offsetTotal": "5000.00", "payable": "0.00",
                       "offsets": [{"amount": "3000.00", "loan": {"number": older.number}},
                                   {"amount": "2000.00", "loan": {"number": newer.number}}]}
    r = await submit(gql, sales, claim("2500.00", "2500.00"))
    assert [(o["loan"]["number"], o["amount"]) for o in r["offsets"]] == [(older.number, "3000.00"),
                                                                          (newer.number, "2000.00")]
    # The preview now leaves out what the pending claim reserved.
    preview = (await gql.ok(PREVIEW, {"t": "5000.00"}, token=sales))["offsetPreview"]
    assert (preview["owed"], preview["offsetTotal"], preview["payable"]) == ("2000.00", "2000.00", "3000.00")
    await approve_all(gql, r["id"])
    assert (await loan_view(gql, older.id, sales))["status"] == "SETTLED"
    view = await loan_view(gql, newer.id, sales)
    assert (view["status"], view["outstanding"]) == ("PARTIALLY_SETTLED", "2000.00")


async def test_explicit_offsets_on_the_loan_the_employee_chooses(gql, db):
    await make_org()
    older = await disbursed_loan("3000.00")
    newer = await disbursed_loan("4000.00")
    sales = await token("sales")
    r = await submit(gql, sales, claim("2000.00", offsets=[(newer.id, "2000.00")]))
    assert [(o["loan"]["number"], o["amount"]) for o in r["offsets"]] == [(newer.number, "2000.00")]
    assert r["payable"] == "0.00"
    await approve_all(gql, r["id"])
    assert (await loan_view(gql, older.id, sales))["outstanding"] == "3000.00"
    assert (await loan_view(gql, newer.id, sales))["outstanding"] == "2000.00"


async def test_a_reserved_balance_is_not_offset_twice(gql, db):
    await make_org()
    loan = await disbursed_loan("5000.00")
    sales = await token("sales")
    first = await submit(gql, sales, claim("3000.00"))
    second = await submit(gql, sales, claim("4000.00"))
    assert (second["offsetTotal"], second["payable"]) == ("2000.00", "2000.00")
    err = await gql.error(SUBMIT, claim("1000.00", offsets=[(loan.id, "1000.00")]), token=sales)
    assert {k: err["extensions"].get(k) for k in ("code", "field")} == {"code": "VALIDATION", "field": "offsets"}
    assert "超过可冲抵余额 0.00" in err["message"]
    third = await submit(gql, sales, claim("1000.00"))
    assert (third["offsetTotal"], third["payable"]) == ("0.00", "1000.00")
    await approve_all(gql, first["id"])
    await approve_all(gql, second["id"])
    view = await loan_view(gql, loan.id, sales)
    assert (view["status"], view["outstanding"]) == ("SETTLED", "0.00")
    assert sorted(o["amount"] for o in view["offsets"]) == ["2000.00", "3000.00"]


# ---------------------------------------------------------------- refusals


async def test_refusals_change_nothing(gql, db):
    await make_org()
    await colleague()
    mine = await disbursed_loan("5000.00")
    theirs = await disbursed_loan("900.00", "sales2")
    sales = await token("sales")
    audit_before = await AuditEntry.all().count()
    cases = [
        # over-offset: more than the loan's balance
        (claim("6000.00", offsets=[(mine.id, "5000.01")]), "超过可冲抵余额"),
        # offsets over the total
        (claim("1000.00", offsets=[(mine.id, "1000.01")]), "超过报销总额"),
        # someone else's loan
        (claim("6000.00", offsets=[(mine.id, "5000.00"), (theirs.id, "900.00")]), "不是本人的借款"),
        # too little offset while owing
        (claim("6000.00", offsets=[(mine.id, "4000.00")]), "必须冲抵"),
        (claim("6000.00", offsets=[]), "必须冲抵"),
        (claim("6000.00", offsets=[(999999, "1.00")]), "不存在"),
    ]
    for variables, message in cases:
        err = await gql.error(SUBMIT, variables, token=sales)
        assert err["extensions"]["code"] == "VALIDATION", err
        assert message in err["message"], err
    # Someone else's loan is not described to the claimant.
    err = await gql.error(SUBMIT, cases[2][0], token=sales)
    assert theirs.number not in err["message"]
    assert await Reimbursement.all().count() == 0
    assert await AuditEntry.all().count() == audit_before


async def test_loan_not_yet_disbursed_cannot_be_offset(gql, db):
    await make_org()
    sales = await token("sales")
    applied = await gql.ok("""mutation { applyForLoan(input:{amount:"1000.00", purpose:TRAVEL,
        description:"出差"}) { id status } }""", token=sales)
    err = await gql.error(SUBMIT, claim("500.00", offsets=[(applied["applyForLoan"]["id"], "500.00")]), token=sales)
    assert err["extensions"]["code"] == "VALIDATION"
    assert "未放款" in err["message"]


async def test_invalid_lines_are_validation(gql, db):
    await make_org()
    sales = await token("sales")
    future = claim("10.00")
    future["input"]["lines"][0]["incurredOn"] = (today() + timedelta(days=2)).isoformat()
    for variables in (claim("10.001"), claim("-5.00"), claim(), future, claim("1", "2", invoices=["X1", "x1"])):
        err = await gql.error(SUBMIT, variables, token=sales)
        assert err["extensions"]["code"] == "VALIDATION", err
    assert await Reimbursement.all().count() == 0


async def test_duplicate_invoice_hides_another_persons_number(gql, db):
    await make_org()
    await colleague()
    sales, other = await token("sales"), await token("sales2")
    first = await submit(gql, sales, claim("100.00", "50.00", invoices=["FP 2026 0001", None]))
    assert [ln["invoiceNo"] for ln in first["lines"]] == ["FP20260001", None]
    # Another employee, different spacing and case: the same invoice.
    err = await gql.error(SUBMIT, claim("100.00", invoices=["fp20260001"]), token=other)
    assert {k: err["extensions"].get(k) for k in ("code", "field")} == {"code": "VALIDATION", "field": "lines.0.invoiceNo"}
    # The employee is refused without the other person's document number ...
    assert first["number"] not in err["message"] and "FP20260001" in err["message"]
    assert "duplicateOf" not in err["extensions"] and first["number"] not in str(err["extensions"])
    # ... while a second claim of one's own names the earlier reimbursement.
    own = await gql.error(SUBMIT, claim("100.00", invoices=["FP20260001"]), token=sales)
    assert own["extensions"]["field"] == "lines.0.invoiceNo" and first["number"] in own["message"]
    assert own["extensions"]["duplicateOf"] == first["number"]  # the viewer's own: named in the details too
    assert own["extensions"]["messageId"] == "发票号 %(invoice)s 已在报销单 %(number)s 中使用"
    assert await Reimbursement.all().count() == 1
    # Once the first claim is rejected, the invoice may be claimed again.
    err = await gql.error(DECIDE, {"id": first["id"], "d": "REJECT"}, token=await token("manager"))
    assert err["extensions"]["code"] == "VALIDATION"  # a rejection needs a comment
    rejected = (await gql.ok(DECIDE, {"id": first["id"], "d": "REJECT", "c": "金额与发票不符"},
                             token=await token("manager")))["decideReimbursement"]
    assert rejected["status"] == "REJECTED"
    again = await submit(gql, other, claim("100.00", invoices=["FP20260001"]))
    assert again["status"] == "PENDING_APPROVAL"


async def test_rejection_releases_the_reserved_offsets(gql, db):
    await make_org()
    loan = await disbursed_loan("5000.00")
    sales, manager = await token("sales"), await token("manager")
    r = await submit(gql, sales, claim("3000.00"))
    r = (await gql.ok(DECIDE, {"id": r["id"], "d": "REJECT", "c": "缺少发票"}, token=manager))[
        "decideReimbursement"]
    assert r["status"] == "REJECTED"
    assert [o["state"] for o in r["offsets"]] == ["RELEASED"]
    assert r["approvals"][0]["decision"] == "REJECT" and r["approvals"][0]["comment"] == "缺少发票"
    view = await loan_view(gql, loan.id, sales)
    assert (view["outstanding"], view["offsets"]) == ("5000.00", [])
    again = await submit(gql, sales, claim("5000.00"))
    assert again["offsetTotal"] == "5000.00"
    err = await gql.error(DECIDE, {"id": r["id"], "d": "APPROVE"}, token=manager)
    assert err["extensions"]["code"] == "CONFLICT"


# ---------------------------------------------------------------- who may do what


async def test_approval_chain_and_authorization(gql, db):
    await make_org()
    await colleague()
    await disbursed_loan("1000.00")
    sales, other = await token("sales"), await token("sales2")
    manager, finance = await token("manager"), await token("finance")
    r = await submit(gql, sales, claim("800.00"))
    rid = r["id"]
    assert (await gql.error(GET, {"id": rid}, token=other))["extensions"]["code"] == "FORBIDDEN"
    assert (await gql.error(GET, {"id": rid}))["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await gql.ok(GET, {"id": "999999"}, token=sales))["reimbursement"] is None
    assert (await gql.error(DECIDE, {"id": rid, "d": "APPROVE"}, token=sales))["extensions"]["code"] == "FORBIDDEN"
    assert (await gql.error(DECIDE, {"id": rid, "d": "APPROVE"}, token=finance))["extensions"]["code"] == "FORBIDDEN"
    assert (await gql.error(PAY, {"id": rid}, token=finance))["extensions"]["code"] == "CONFLICT"
    assert (await gql.ok(PENDING, token=manager))["pendingReimbursementApprovals"] == [{"number": r["number"]}]
    assert (await gql.ok(PENDING, token=finance))["pendingReimbursementApprovals"] == []

    r = (await gql.ok(DECIDE, {"id": rid, "d": "APPROVE", "c": "同意"}, token=manager))["decideReimbursement"]
    assert r["status"] == "PENDING_APPROVAL"
    assert [(a["decision"], a["isCurrent"]) for a in r["approvals"]] == [("APPROVE", False), (None, True)]
    assert (await gql.ok(PENDING, token=manager))["pendingReimbursementApprovals"] == []
    assert (await gql.ok(PENDING, token=finance))["pendingReimbursementApprovals"] == [{"number": r["number"]}]
    r = (await gql.ok(DECIDE, {"id": rid, "d": "APPROVE"}, token=finance))["decideReimbursement"]
    # Fully offset (payable 0.00): PAID at its final approval, with no payment left to record.
    assert r["status"] == "PAID"
    assert (await gql.error(DECIDE, {"id": rid, "d": "APPROVE"}, token=finance))["extensions"]["code"] == "CONFLICT"
    assert (await gql.error(PAY, {"id": rid}, token=sales))["extensions"]["code"] == "FORBIDDEN"
    assert (await gql.error(PAY, {"id": rid}, token=manager))["extensions"]["code"] == "FORBIDDEN"
    assert (await gql.error(PAY, {"id": rid}, token=finance))["extensions"]["code"] == "CONFLICT"


async def test_reimbursement_list_follows_visibility(gql, db):
    await make_org()
    await colleague()
    sales, other = await token("sales"), await token("sales2")
    for amount in ("10.00", "20.00", "30.00"):
        await submit(gql, sales, claim(amount))
    await submit(gql, other, claim("40.00"))
    query = """query($first: Int, $after: String, $status: [ReimbursementStatus!]) {
      reimbursements(first: $first, after: $after, status: $status) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { total employee { employeeNo } } } } }"""
    page = (await gql.ok(query, {"first": 2}, token=sales))["reimbursements"]
    assert page["totalCount"] == 3 and page["pageInfo"]["hasNextPage"]
    assert [e["node"]["total"] for e in page["edges"]] == ["30.00", "20.00"]
    rest = (await gql.ok(query, {"first": 2, "after": page["pageInfo"]["endCursor"]}, token=sales))["reimbursements"]
    assert [e["node"]["total"] for e in rest["edges"]] == ["10.00"] and not rest["pageInfo"]["hasNextPage"]
    manager = await token("manager")
    assert (await gql.ok(query, {}, token=manager))["reimbursements"]["totalCount"] == 4
    assert (await gql.ok(query, {"status": ["APPROVED"]}, token=manager))["reimbursements"]["totalCount"] == 0


# ---------------------------------------------------------------- vouchers (multipart)


async def test_vouchers_upload_and_missing_ones_are_flagged(gql, client, db):
    await make_org()
    sales = await token("sales")
    variables = with_vouchers(claim("300.00", "200.00", "50.00", invoices=["INV-1", "INV-2"]), [2, 0, 0])
    body = await upload(client, SUBMIT, variables, {
        "variables.input.lines.0.vouchers.0": ("发票.pdf", pdf_bytes("INV-1"), "application/pdf"),
        # Declared as JPEG by the client; the content says PNG, and the content wins.
        "variables.input.lines.0.vouchers.1": ("receipt.jpg", png_bytes(1), "image/jpeg"),
    }, sales)
    assert not body.get("errors"), body
    r = body["data"]["submitReimbursement"]
    first = r["lines"][0]
    assert [(v["filename"], v["contentType"], v["size"]) for v in first["vouchers"]] == [
        ("发票.pdf", "application/pdf", len(pdf_bytes("INV-1"))), ("receipt.jpg", "image/png", len(png_bytes(1)))]
    assert first["vouchers"][0]["url"].startswith("/files/")
    assert [ln["voucherMissing"] for ln in r["lines"]] == [False, True, True]


async def test_duplicate_voucher_file_hides_another_persons_number(gql, client, db):
    await make_org()
    await colleague()
    sales, other = await token("sales"), await token("sales2")
    first = await upload(client, SUBMIT, with_vouchers(claim("300.00"), [1]), {
        "variables.input.lines.0.vouchers.0": ("taxi.png", png_bytes(42), "image/png")}, sales)
    number = first["data"]["submitReimbursement"]["number"]
    # The same bytes under another name, by someone else.
    body = await upload(client, SUBMIT, with_vouchers(claim("300.00"), [1]), {
        "variables.input.lines.0.vouchers.0": ("renamed.png", png_bytes(42), "image/png")}, other)
    err = body["errors"][0]
    assert {k: err["extensions"].get(k) for k in ("code", "field")} == {"code": "VALIDATION", "field": "lines.0.vouchers"}
    assert number not in err["message"] and "renamed.png" in err["message"]
    assert "duplicateOf" not in err["extensions"]
    # The same file twice in one claim.
    body = await upload(client, SUBMIT, with_vouchers(claim("1.00", "2.00"), [1, 1]), {
        "variables.input.lines.0.vouchers.0": ("a.pdf", pdf_bytes("x"), "application/pdf"),
        "variables.input.lines.1.vouchers.0": ("b.pdf", pdf_bytes("x"), "application/pdf")}, other)
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION"
    # A different file is fine.
    body = await upload(client, SUBMIT, with_vouchers(claim("300.00"), [1]), {
        "variables.input.lines.0.vouchers.0": ("taxi.png", png_bytes(43), "image/png")}, other)
    assert not body.get("errors"), body
    assert await Reimbursement.all().count() == 2


async def test_voucher_type_is_checked_by_content(gql, client, db):
    await make_org()
    sales = await token("sales")
    for name, data, declared in [("invoice.pdf", b"just some text, not a PDF", "application/pdf"),
                                 ("macro.pdf", b"PK\x03\x04" + b"\0" * 60, "application/pdf")]:
        body = await upload(client, SUBMIT, with_vouchers(claim("10.00"), [1]), {
            "variables.input.lines.0.vouchers.0": (name, data, declared)}, sales)
        err = body["errors"][0]
        assert {k: err["extensions"].get(k) for k in ("code", "field")} == {"code": "VALIDATION", "field": "lines.0.vouchers"}, err
        assert "不支持的文件类型" in err["message"]
    assert await Reimbursement.all().count() == 0


async def test_voucher_size_is_limited(gql, client, db):
    await make_org()
    sales = await token("sales")
    override_settings(dataclasses.replace(SETTINGS, max_upload_bytes=1024))
    try:
        body = await upload(client, SUBMIT, with_vouchers(claim("10.00"), [1]), {
            "variables.input.lines.0.vouchers.0": ("big.pdf", pdf_bytes("y" * 2000), "application/pdf")}, sales)
    finally:
        override_settings(SETTINGS)
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION"
    assert "超过" in body["errors"][0]["message"]
    assert await Reimbursement.all().count() == 0
