"""Every list query and the quota query can use an index (PostgreSQL).

The pages' own operations run on a generated company while their SQL is captured; each statement is
then EXPLAINed with `enable_seqscan = off`. A plan that still scans one of the big tables
sequentially has no index to use: a new list cannot ship without its index.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from tortoise import Tortoise

from server.web import admin as admin_pages
from server.web import home as home_pages
from server.web import loans as loan_pages
from server.web import offboarding as offboarding_pages
from server.web import reimbursements as reimbursement_pages
from server.web.alerts import ALERTS
from tests.conftest import IS_POSTGRES
from tests.factories import PASSWORD

pytestmark = [pytest.mark.postgres_only,
              pytest.mark.skipif(not IS_POSTGRES, reason="EXPLAIN plans are PostgreSQL's")]

BIG_TABLES = {"loan", "ledger_entry", "approval_step", "reimbursement", "expense_line", "reimbursement_offset",
              "attachment", "employee", "alert", "alert_recipient", "notification", "offboarding"}


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[tuple[str, list[Any]]] = []

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        query = str(args[0]) if args else record.getMessage()
        values = list(args[1]) if len(args) > 1 and isinstance(args[1], (list, tuple)) else []
        if query.lstrip().upper().startswith(("SELECT", "WITH")):
            self.statements.append((query, values))


@contextmanager
def capture() -> Iterator[_Capture]:
    logger = logging.getLogger("tortoise.db_client")
    handler, level = _Capture(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _seq_scans(plan: dict[str, Any]) -> Iterator[str]:
    if plan.get("Node Type") == "Seq Scan" and plan.get("Relation Name") in BIG_TABLES:
        yield plan["Relation Name"]
    for child in plan.get("Plans", []):
        yield from _seq_scans(child)


LOANS = "query($e: ID, $s: [LoanStatus!], $a: String) { loans(employeeId: $e, status: $s, first: 50, after: $a) { " \
        "totalCount pageInfo { endCursor } edges { node { id number amount " \
        "outstanding daysOverdue status employee { name position { name } department { name } } " \
        "approvals { role decision approver { name } } settlements { amount } } } } }"
QUOTA = "{ me { employee { outstanding quota { limit committed available monthlyUsed } } } }"


async def test_every_list_and_the_quota_use_an_index(gql, company):
    from server.models import Employee, Loan

    finance = await gql.login(company.finance, PASSWORD)
    supervisor = await gql.login(company.supervisor, PASSWORD)
    employee = await gql.login(company.employee, PASSWORD)
    someone = await Employee.filter(status="ACTIVE").order_by("-id").first()
    with capture() as captured:
        first = await gql.ok(LOANS, {}, finance)
        await gql.ok(LOANS, {"a": first["loans"]["pageInfo"]["endCursor"]}, finance)
        await gql.ok(LOANS, {"e": str(someone.id)}, finance)
        await gql.ok(LOANS, {"s": ["DISBURSED", "PARTIALLY_SETTLED"]}, finance)
        # Sums over a filtered list (what the pages show); a sum over the whole table is a full read
        # by nature and is not a list query.
        await gql.ok("query($s: [LoanStatus!]) { loans(status: $s) { totalAmount totalOutstanding overdueCount "
                     "overdueOutstanding } }", {"s": ["APPROVED"]}, finance)
        for token in (finance, supervisor, employee):
            await gql.ok(LOANS, {}, token)
            await gql.ok(QUOTA, token=token)
            await gql.ok(loan_pages.INBOX, {"open": loan_pages.UNSETTLED}, token)
            await gql.ok(reimbursement_pages.INBOX, {}, token)
            await gql.ok(ALERTS, {"first": 50, "unresolvedOnly": True}, token)
            await gql.ok(offboarding_pages.LIST, {"first": 50}, token)
            await gql.ok(home_pages.HOME if hasattr(home_pages, "HOME") else QUOTA, {}, token)
            await gql.ok("{ notifications(first: 50) { totalCount edges { node { id } } } "
                         "reimbursements(first: 50) { totalCount edges { node { id number } } } }", token=token)
        await gql.ok(loan_pages.FINANCE, {"approved": ["APPROVED"]}, finance)
        await gql.ok(admin_pages.EMPLOYEES, {}, finance)
        loan = await Loan.filter(status="PARTIALLY_SETTLED").first()
        await gql.ok("query($id: ID!) { loan(id: $id) { ledger { delta } offsets { amount } attachments { id } } }",
                     {"id": str(loan.id)}, finance)
    assert len(captured.statements) > 50

    conn = Tortoise.get_connection("default")
    failures = []
    async with conn.acquire_connection() as raw:
        async with raw.transaction():
            await raw.execute("SET LOCAL enable_seqscan = off")
            for query, values in dict.fromkeys((q, tuple(v)) for q, v in captured.statements):
                rows = await raw.fetchval("EXPLAIN (FORMAT JSON) " + query, *values)
                plan = (json.loads(rows) if isinstance(rows, str) else rows)[0]["Plan"]
                scans = sorted(set(_seq_scans(plan)))
                if scans:
                    failures.append(f"{', '.join(scans)}: {query[:300]}")
    assert not failures, "sequential scans with enable_seqscan=off (missing index):\n" + "\n".join(failures)
