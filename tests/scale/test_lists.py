"""Issue 9: every list at constant cost, keyset cursors, the finance queue in SQL order, totals on demand.

Run on a generated company (tests/scale/conftest.py) whose queues are longer than a page, through
GraphQL with the fields the pages ask for.
"""

from __future__ import annotations

import base64
from datetime import date

from server.models import LedgerEntry, Loan
from server.services import loans as loan_service
from server.services.base import today
from server.web import loans as loan_pages
from server.web import offboarding as offboarding_pages
from server.web import reimbursements as reimbursement_pages
from server.web.alerts import ALERTS
from tests.factories import PASSWORD
from tests.querycount import count_queries, recording

LOAN_INBOX = ("query($n: Int, $after: String) { loanApprovalInbox(first: $n, after: $after) {"
              " totalCount edges { cursor node { " + loan_pages.INBOX_FIELDS + " } } } }")


async def _one_like_the_rest(gql, token) -> dict:
    """Variables for a 1-row inbox page whose applicant, like most, has other open loans too (a
    page whose only applicant owes nothing else would skip a batch because there is nothing to ask)."""
    edges = (await gql.ok(LOAN_INBOX, {"n": 50}, token))["loanApprovalInbox"]["edges"]
    for i, edge in enumerate(edges):
        if edge["node"]["employee"]["openLoanCount"] >= 1:  # the pending loan itself is not open yet
            return {"n": 1, "after": edges[i - 1]["cursor"] if i else None}
    # Nobody on the page owes anything else: the applicant's figures are grouped counts now, asked for
    # whatever they are, so any one row costs what the others do.
    return {"n": 1, "after": None}
CLAIM_INBOX = ("query($n: Int) { reimbursementApprovalInbox(first: $n) { totalCount "
               "edges { node { " + reimbursement_pages.DETAIL_FIELDS + " } } } }")
FINANCE = loan_pages.FINANCE.replace(f"first: {loan_pages.FINANCE_PAGE}", "first: $n").replace(
    "query($approved", "query($n: Int, $approved")
EMPLOYEES = """query($search: String) { employees(search: $search) {
  id employeeNo name status department { name } region { name } position { name } supervisor { employeeNo name }
  outstanding quota { limit committed available } unresolvedAlertCount } }"""


async def _costs(gql, token, query, variables_1, variables_50, path):
    """Statements for the 1-row and the 50-row request, and the rows each returned."""
    counts, sizes = [], []
    for variables in (variables_1, variables_50):
        body, n = await count_queries(gql.ok(query, variables, token))
        node = body
        for key in path:
            node = node[key]
        counts.append(n)
        sizes.append(len(node))
    return counts, sizes


async def test_every_list_costs_the_same_for_1_and_50_rows(gql, company):
    finance = await gql.login(company.finance, PASSWORD)
    cases = {
        "loan inbox": (LOAN_INBOX, await _one_like_the_rest(gql, finance), {"n": 50},
                       ("loanApprovalInbox", "edges")),
        "reimbursement inbox": (CLAIM_INBOX, {"n": 1}, {"n": 50}, ("reimbursementApprovalInbox", "edges")),
        "finance: open loans": (FINANCE, {"n": 1, "approved": ["APPROVED"]}, {"n": 50, "approved": ["APPROVED"]},
                                ("open", "edges")),
        "offboardings": (offboarding_pages.LIST, {"first": 1}, {"first": 50}, ("offboardings", "edges")),
        "alerts": (ALERTS, {"first": 1, "unresolvedOnly": True}, {"first": 50, "unresolvedOnly": True},
                   ("alerts", "edges")),
        "employees": (EMPLOYEES, {"search": "E000060"}, {"search": "E0000"}, ("employees",)),
    }
    for name, (query, one, fifty, path) in cases.items():
        counts, sizes = await _costs(gql, finance, query, one, fifty, path)
        if name == "offboardings":
            assert sizes[0] == 1 and sizes[1] >= 5, (name, sizes)  # every person who left, one each
        else:
            assert sizes == [1, 50] if name != "employees" else sizes[0] == 1 and sizes[1] >= 50, (name, sizes)
        assert counts[0] == counts[1], f"{name}: {counts[0]} statements for 1 row, {counts[1]} for {sizes[1]}"


async def test_the_supervisors_inbox_costs_the_same_for_1_and_all_rows(gql, company):
    token = await gql.login(company.supervisor, PASSWORD)
    counts, sizes = await _costs(gql, token, LOAN_INBOX, await _one_like_the_rest(gql, token),
                                 {"n": 50}, ("loanApprovalInbox", "edges"))
    assert sizes[0] == 1 and sizes[1] > 1
    assert counts[0] == counts[1]


LOANS = """query($after: String, $n: Int) { loans(first: $n, after: $after) {
  pageInfo { hasNextPage endCursor } edges { cursor node { id number createdAt } } } }"""


async def test_a_row_inserted_between_two_pages_is_neither_repeated_nor_skipped(gql, company):
    from server.models import Employee, User
    from server.services import sessions

    token = await gql.login(company.finance, PASSWORD)
    everything = [int(i) for i in await Loan.all().order_by("-created_at", "-id").values_list("id", flat=True)]
    first = (await gql.ok(LOANS, {"n": 20}, token))["loans"]
    # A new application lands on top of the newest-first list while the client reads page 1.
    applicant = await Employee.filter(status="ACTIVE", supervisor_id__not_isnull=True).order_by("id").first()
    user = await User.get(employee_id=applicant.id)
    new = await loan_service.apply_for_loan(sessions.viewer_for(user, None), loan_service.LoanApplication(
        amount="1.00", purpose="OTHER", description="文具"))
    second = (await gql.ok(LOANS, {"n": 20, "after": first["pageInfo"]["endCursor"]}, token))["loans"]
    ids = [int(e["node"]["id"]) for e in first["edges"] + second["edges"]]
    assert len(ids) == len(set(ids)) == 40  # nothing twice (an OFFSET would repeat page 1's last row)
    assert ids == everything[:40]  # nothing skipped, in order
    assert new.id not in ids


async def test_page_deep_in_the_list_continues_exactly(gql, company):
    token = await gql.login(company.finance, PASSWORD)
    everything = [int(i) for i in await Loan.all().order_by("-created_at", "-id").values_list("id", flat=True)]
    seen, after = [], None
    while True:
        page = (await gql.ok(LOANS, {"n": 200, "after": after}, token))["loans"]
        seen += [int(e["node"]["id"]) for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == everything


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


async def test_a_malformed_cursor_is_a_validation_error(gql, company):
    token = await gql.login(company.finance, PASSWORD)
    before = await Loan.all().count()
    for bad in ("not-a-cursor", _b64("o:50"), _b64('k:["yesterday",1]'), _b64("k:[1]"), _b64('k:{"a":1}'),
                _b64('k:["2026-01-01T00:00:00",3]')):
        error = await gql.error(LOANS, {"n": 5, "after": bad}, token)
        assert error["extensions"]["code"] == "VALIDATION", (bad, error)
    # A cursor of one list does not fit another's sort key (the finance queue orders by date).
    cursor = (await gql.ok(LOANS, {"n": 1}, token))["loans"]["pageInfo"]["endCursor"]
    error = await gql.error("query($a: String) { openLoansByOverdue(after: $a) { edges { cursor } } }",
                            {"a": cursor}, token)
    assert error["extensions"]["code"] == "VALIDATION"
    assert await Loan.all().count() == before


OVERDUE = """query($after: String) { openLoansByOverdue(first: 50, after: $after) {
  totalCount totalOutstanding overdueCount overdueOutstanding pageInfo { hasNextPage endCursor }
  edges { node { id daysOverdue outstanding expectedSettleDate } } } }"""


async def test_finance_sees_the_most_overdue_first_over_all_open_loans(gql, company):
    token = await gql.login(company.finance, PASSWORD)
    open_ids = set(await Loan.filter(status__in=["DISBURSED", "PARTIALLY_SETTLED"]).values_list("id", flat=True))
    assert len(open_ids) > 50  # more than a page: a sort of the first page would be wrong
    oldest = await Loan.filter(id__in=list(open_ids)).order_by("expected_settle_date", "id").first()
    first = (await gql.ok(OVERDUE, {}, token))["openLoansByOverdue"]
    assert first["edges"][0]["node"]["id"] == str(oldest.id)
    assert first["edges"][0]["node"]["daysOverdue"] == (today() - oldest.expected_settle_date).days
    seen, page = [], first
    while True:
        seen += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        page = (await gql.ok(OVERDUE, {"after": page["pageInfo"]["endCursor"]}, token))["openLoansByOverdue"]
    assert {int(n["id"]) for n in seen} == open_ids and len(seen) == len(open_ids)
    days = [n["daysOverdue"] for n in seen]
    assert days == sorted(days, reverse=True)
    # The figures are SQL sums over every open loan, not over the page.
    owed = sum(e.delta_fen for e in await LedgerEntry.filter(loan_id__in=list(open_ids)))
    assert first["totalCount"] == len(open_ids)
    assert first["totalOutstanding"] == f"{owed / 100:.2f}"
    late = [n for n in seen if date.fromisoformat(n["expectedSettleDate"]) < today()]
    assert first["overdueCount"] == len(late) > 0
    late_owed = sum(int(round(float(n["outstanding"]) * 100)) for n in late)
    assert first["overdueOutstanding"] == f"{late_owed / 100:.2f}"


async def test_totals_are_counted_only_when_selected(gql, company):
    token = await gql.login(company.finance, PASSWORD)
    with recording() as without:
        await gql.ok("{ loans(first: 5) { edges { node { id } } } }", token=token)
    with recording() as with_total:
        data = await gql.ok("{ loans(first: 5) { totalCount totalAmount edges { node { id } } } }", token=token)
    assert not any("COUNT(" in s.upper() or "SUM(" in s.upper() for s in without.sql)
    assert any("COUNT(" in s.upper() for s in with_total.sql) and any("SUM(" in s.upper() for s in with_total.sql)
    assert data["loans"]["totalCount"] == await Loan.all().count()
    amounts = await Loan.all().values_list("amount_fen", flat=True)
    assert data["loans"]["totalAmount"] == f"{sum(amounts) / 100:.2f}"
