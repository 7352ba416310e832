"""Strict input: every refusal is VALIDATION (never INTERNAL), names the field, and changes nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from server.models import ApprovalStep, AuditEntry, Department, Employee, LedgerEntry, Loan, Position, User
from server.services.base import today
from tests.factories import PASSWORD, make_org

APPLY = """mutation($amount: Decimal!, $d: String!, $date: Date) {
  applyForLoan(input:{amount:$amount, purpose:CLIENT_VISIT, description:$d, expectedSettleDate:$date}) { id } }"""
EMPLOYEE = """mutation($salary: Decimal!, $hire: Date!, $name: String!, $email: String) {
  createEmployee(input:{employeeNo:"N1", name:$name, departmentCode:"SALES", regionCode:"XA",
    positionCode:"SALES", monthlySalary:$salary, hireDate:$hire, username:"newbie", password:"long-enough-1",
    email:$email}) { id } }"""
POSITION = """mutation($days: Int!, $limit: Decimal!) {
  upsertPosition(input:{code:"P1", name:"岗位", level:1, loanLimit:$limit, approvalChain:[FINANCE],
    settleDays:$days}) { code } }"""


@pytest.fixture
async def people(gql, db):
    await make_org()
    return {who: await gql.login(who, PASSWORD) for who in ("sales", "hr", "finance")}


async def _counts() -> tuple[int, ...]:
    return (await Loan.all().count(), await LedgerEntry.all().count(), await AuditEntry.all().count(),
            await Employee.all().count(), await User.all().count(), await Position.all().count(),
            await ApprovalStep.all().count(), await Department.all().count())


async def _refused(gql, query, variables, token, field: str) -> dict:
    before = await _counts()
    body = await gql(query, variables, token)
    assert body.get("errors"), body
    error = body["errors"][0]
    assert error["extensions"]["code"] == "VALIDATION", error
    assert field in error["message"] or field in (error["extensions"].get("field"), error["extensions"].get("type")), error
    assert await _counts() == before
    return error


@pytest.mark.parametrize("amount", [
    1200, 1200.5, "1e3", "1e9999999", "1E2", "-100.00", "+100", "NaN", "Infinity", "-Infinity", "１２００",
    "1,200.00", " 100", "100.", ".5", "0x10", "100.001", "1234567890123", "", True, None,
])
async def test_amounts_must_be_strings_of_digits(gql, people, amount):
    variables = {"amount": amount, "d": "拜访客户"}
    error = await _refused(gql, APPLY, variables, people["sales"], "amount")
    assert "INTERNAL" not in str(error)


async def test_zero_amount_is_refused_by_the_service(gql, people):
    error = await _refused(gql, APPLY, {"amount": "0.00", "d": "拜访客户"}, people["sales"], "amount")
    assert error["message"] == "amount 须大于 0"


async def test_a_good_amount_passes(gql, people):
    data = await gql.ok(APPLY, {"amount": "1200.50", "d": "拜访客户"}, people["sales"])
    assert data["applyForLoan"]["id"]


async def test_inline_number_literal_is_refused(gql, people):
    query = 'mutation { applyForLoan(input:{amount:1200, purpose:OTHER, description:"x"}) { id } }'
    error = await _refused(gql, query, None, people["sales"], "Decimal")
    assert '金额须为字符串，例如 "1200.00"' in error["message"]


@pytest.mark.parametrize("text, why", [("x" * 2001, "2000"), ("   ", "请填写借款用途说明")])
async def test_description_length_and_presence(gql, people, text, why):
    error = await _refused(gql, APPLY, {"amount": "100.00", "d": text}, people["sales"], "description")
    assert why in error["message"]


async def test_description_of_2000_characters_is_accepted(gql, people):
    assert (await gql.ok(APPLY, {"amount": "100.00", "d": "说" * 2000}, people["sales"]))["applyForLoan"]["id"]


@pytest.mark.parametrize("days", [-1, 366])
async def test_expected_settle_date_from_today_to_a_year(gql, people, days):
    date = (today() + timedelta(days=days)).isoformat()
    await _refused(gql, APPLY, {"amount": "100.00", "d": "x", "date": date}, people["sales"], "expectedSettleDate")


async def test_expected_settle_date_bounds_are_inclusive(gql, people):
    for days in (0, 365):
        date = (today() + timedelta(days=days)).isoformat()
        assert (await gql.ok(APPLY, {"amount": "100.00", "d": "x", "date": date}, people["sales"]))["applyForLoan"]


@pytest.mark.parametrize("hire", ["1949-12-31", "0001-01-01"])
async def test_hire_date_not_before_1950(gql, people, hire):
    await _refused(gql, EMPLOYEE, {"salary": "5000.00", "hire": hire, "name": "新人"}, people["hr"], "hireDate")


async def test_hire_date_not_more_than_a_year_ahead(gql, people):
    hire = (today() + timedelta(days=400)).isoformat()
    await _refused(gql, EMPLOYEE, {"salary": "5000.00", "hire": hire, "name": "新人"}, people["hr"], "hireDate")


async def test_names_and_contacts_have_limits(gql, people):
    base = {"salary": "5000.00", "hire": "2020-01-01"}
    await _refused(gql, EMPLOYEE, {**base, "name": "名" * 101}, people["hr"], "name")
    await _refused(gql, EMPLOYEE, {**base, "name": "新人", "email": "a" * 201}, people["hr"], "email")
    assert (await gql.ok(EMPLOYEE, {**base, "name": "名" * 100}, people["hr"]))["createEmployee"]["id"]


@pytest.mark.parametrize("days", [0, 366, -5])
async def test_settle_days_from_1_to_365(gql, db, days):
    await make_org()
    token = await gql.login("admin", PASSWORD)
    await _refused(gql, POSITION, {"days": days, "limit": "1000.00"}, token, "settleDays")


async def test_comment_and_note_limits(gql, people):
    loan = (await gql.ok(APPLY, {"amount": "100.00", "d": "x"}, people["sales"]))["applyForLoan"]["id"]
    manager = await gql.login("manager", PASSWORD)
    await _refused(gql, 'mutation($id: ID!, $c: String) { decideLoan(loanId:$id, decision:REJECT, comment:$c) { id } }',
                   {"id": loan, "c": "驳" * 2001}, manager, "comment")
    assert await ApprovalStep.filter(decision__not_isnull=True).count() == 0


# ---------------------------------------------------------------- ids and cursors

SOON = (date.today() + timedelta(days=30)).isoformat()
NULLABLE_BY_ID = ["employee", "loan", "reimbursement", "offboarding", "job"]


@pytest.mark.parametrize("field", NULLABLE_BY_ID)
@pytest.mark.parametrize("bad", ["abc", "-1", "0", " 1", "1.5", "１", "99999999999999999999999", "999999"])
async def test_malformed_or_unknown_id_on_a_nullable_query_is_null(gql, people, field, bad):
    body = await gql(f"query($id: ID!) {{ {field}(id:$id) {{ id }} }}", {"id": bad}, people["finance"])
    assert body == {"data": {field: None}}, body


@pytest.mark.parametrize("who, mutation", [
    ("finance", "decideLoan(loanId:$id, decision:APPROVE)"), ("sales", "cancelLoan(loanId:$id)"),
    ("finance", "disburseLoan(loanId:$id)"), ("finance", 'settleLoan(loanId:$id, method:CASH_RETURN, amount:"1.00")'),
    ("finance", "decideReimbursement(reimbursementId:$id, decision:APPROVE)"),
    ("finance", "payReimbursement(reimbursementId:$id)"),
    ("hr", f'startOffboarding(employeeId:$id, lastWorkingDay:"{SOON}")'),
    ("finance", "confirmClearance(offboardingId:$id)"), ("hr", "completeOffboarding(offboardingId:$id)"),
    ("hr", "cancelOffboarding(offboardingId:$id)"), ("finance", "resolveAlert(alertId:$id)"),
    ("sales", "markNotificationRead(notificationId:$id)"),
])
@pytest.mark.parametrize("bad", ["abc", "0", "1e3", "999999"])
async def test_malformed_or_unknown_id_on_a_mutation_is_not_found(gql, people, who, mutation, bad):
    before = await _counts()
    body = await gql(f"mutation($id: ID!) {{ x: {mutation} {{ id }} }}", {"id": bad}, people[who])
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND", body
    assert await _counts() == before


async def test_clearance_certificate_of_a_malformed_id_is_not_found(gql, people):
    body = await gql('{ clearanceCertificate(offboardingId:"abc") { number } }', None, people["finance"])
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND", body


@pytest.mark.parametrize("cursor", ["abc", "!!!", "bzotMQ==", "eyJ4IjoxfQ==", "\u00e9\u00e9"])
@pytest.mark.parametrize("connection", ["loans", "reimbursements", "alerts"])
async def test_malformed_cursor_is_validation(gql, people, cursor, connection):
    body = await gql(f"query($c: String) {{ {connection}(after:$c) {{ totalCount }} }}", {"c": cursor},
                     people["finance"])
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION", body
