"""借款台账 and 报销台账: search, buckets at their edges, totals over the filtered set, constant SQL per
page, exports (CSV with BOM, XLSX) of exactly the filtered list, and who may see them."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import timedelta

from server.domain import ledger
from server.models import Employee, LedgerEntry, Loan, Reimbursement, User
from server.services import ledger_search, sessions
from server.services.base import today, utcnow
from tests.factories import make_org
from tests.querycount import recording
from tests.web.conftest import text_of

HTMX = {"HX-Request": "true"}


async def make_loan(employee_id: int, number: str, amount_fen: int, status: str = "DISBURSED",
                    overdue_days: int = 0, purpose: str = "TRAVEL", owed_fen: int | None = None) -> Loan:
    """A loan row with its ledger, straight through the models (the ledger's shape is what matters here)."""
    now = utcnow()
    loan = await Loan.create(number=number, employee_id=employee_id, amount_fen=amount_fen, purpose=purpose,
                             description="出差", expected_settle_date=today() - timedelta(days=overdue_days),
                             status=status, applied_on=today() - timedelta(days=overdue_days + 10), created_at=now)
    if status in ledger.LEDGER_STATUSES:
        await LedgerEntry.create(loan=loan, kind="DISBURSEMENT", delta_fen=amount_fen, recorded_at=now)
        if owed_fen is not None and owed_fen != amount_fen:
            await LedgerEntry.create(loan=loan, kind="CASH_RETURN", delta_fen=owed_fen - amount_fen, recorded_at=now)
    return loan


async def company():
    people = await make_org()
    await make_loan(people.sales, "JK-2026-000001", 100_000, overdue_days=30)      # 1–30
    await make_loan(people.sales, "JK-2026-000002", 200_000, overdue_days=31)      # 31–60
    await make_loan(people.manager, "JK-2026-000003", 300_000, overdue_days=90)    # 61–90
    await make_loan(people.manager, "JK-2026-000004", 400_000, overdue_days=91, owed_fen=150_000)  # >90
    await make_loan(people.finance, "JK-2026-000005", 500_000, overdue_days=0)     # due today: not overdue
    await make_loan(people.finance, "JK-2026-000006", 600_000, status="SETTLED", overdue_days=100, owed_fen=0)
    await make_loan(people.sales, "JK-2026-000007", 700_000, status="PENDING_APPROVAL", purpose="MARKETING")
    return people


async def ledger_of(username: str, **search) -> list[str]:
    viewer = sessions.viewer_for(await User.get(username=username))
    page = await ledger_search.search_loans(viewer, ledger_search.LedgerSearch(**search), first=100)
    return [r.number[-1] for r in page.rows]


async def test_buckets_at_their_edges_and_the_search(db):
    await company()
    assert await ledger_of("finance", overdue_bucket="D1_30") == ["1"]
    assert await ledger_of("finance", overdue_bucket="D31_60") == ["2"]
    assert await ledger_of("finance", overdue_bucket="D61_90") == ["3"]
    assert await ledger_of("finance", overdue_bucket="D90_PLUS") == ["4"]  # the settled one is not overdue
    assert await ledger_of("finance", text="张三") == ["7", "2", "1"]
    assert await ledger_of("finance", text="张") == ["7", "2", "1"]
    assert await ledger_of("finance", text="M1") == ["4", "3"]
    assert await ledger_of("finance", text="jk-2026-000005") == ["5"]
    assert await ledger_of("finance", statuses=("SETTLED", "PENDING_APPROVAL")) == ["7", "6"]
    assert await ledger_of("finance", purpose="MARKETING") == ["7"]
    assert await ledger_of("finance", sort="AMOUNT_ASC") == ["1", "2", "3", "4", "5", "6", "7"]
    dept = (await Employee.get(employee_no="F1")).department_id
    assert await ledger_of("finance", department_id=dept) == ["6", "5"]
    day = today() - timedelta(days=40)
    assert await ledger_of("finance", date_from=day, date_to=day) == ["1"]
    assert await ledger_of("finance", date_from=day - timedelta(days=1), date_to=day) == ["2", "1"]


async def test_pages_totals_and_who_may_see(browser, second_browser, db):
    await company()
    await second_browser.login("sales")
    assert (await second_browser.get("/ledger")).status_code == 403
    assert (await second_browser.get("/ledger/export.csv")).status_code == 403
    await browser.login("finance")
    page = await browser.get("/ledger?overdue=D90_PLUS")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "JK-2026-000004" in text and "JK-2026-000003" not in text
    assert "4,000.00" in text and "1,500.00" in text
    # Totals are over the whole filtered set, not the page: ask for one row.
    data = await browser.client.post("/graphql", json={"query": """{ loanLedger(first: 1) {
        totalCount totalAmount totalOutstanding overdueCount overdueOutstanding edges { node { number } } } }"""},
                                     headers={"X-CSRF-Token": browser.csrf})
    assert not data.json().get("errors"), data.json()
    got = data.json()["data"]["loanLedger"]
    assert (got["totalCount"], got["totalAmount"], got["totalOutstanding"]) == (7, "28000.00", "12500.00")
    assert (got["overdueCount"], got["overdueOutstanding"]) == (4, "7500.00")
    assert len(got["edges"]) == 1
    fragment = await browser.get("/ledger?q=%E5%BC%A0%E4%B8%89", headers=HTMX)
    assert fragment.text.lstrip().startswith('<section id="ledger-results">')
    assert "JK-2026-000007" in fragment.text and "JK-2026-000004" not in fragment.text


async def test_a_page_costs_the_same_for_3_and_40_loans(browser, db):
    people = await make_org()
    await browser.login("finance")

    async def statements() -> int:
        with recording() as handler:
            page = await browser.get("/ledger?sort=AMOUNT_DESC")
        assert page.status_code == 200
        return len(handler.sql)

    for i in range(3):
        await make_loan(people.sales, f"JK-2026-1{i:05d}", 10_000 + i, overdue_days=i)
    few = await statements()
    for i in range(3, 40):
        await make_loan([people.sales, people.manager, people.hr][i % 3], f"JK-2026-1{i:05d}", 10_000 + i,
                        overdue_days=i)
    assert await statements() == few


async def test_exports_are_the_filtered_list(browser, db):
    await company()
    await browser.login("finance")
    response = await browser.get("/ledger/export.csv?status=DISBURSED&sort=AMOUNT_ASC")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["单号", "员工编号", "员工"]
    assert [r[0] for r in rows[1:]] == ["JK-2026-000001", "JK-2026-000002", "JK-2026-000003", "JK-2026-000004",
                                       "JK-2026-000005"]
    assert rows[4][6:9] == ["4000.00", "1500.00", "已放款"] and rows[4][-1] == "91"

    response = await browser.get("/ledger/export.xlsx?q=M1")
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    with zipfile.ZipFile(io.BytesIO(response.content)) as book:
        assert book.testzip() is None
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert sheet.count("<row>") == 3 and "JK-2026-000004" in sheet and "JK-2026-000001" not in sheet
    assert re.search(r"<c><v>4000.00</v></c>", sheet)


async def test_reimbursement_ledger(browser, db):
    people = await make_org()
    now = utcnow()
    await Reimbursement.create(number="BX-2026-000001", employee_id=people.sales, status="PAID", total_fen=12_300,
                               created_at=now)
    await Reimbursement.create(number="BX-2026-000002", employee_id=people.manager, status="APPROVED",
                               total_fen=45_600, created_at=now)
    await browser.login("admin")
    page = await browser.get("/ledger/reimbursements?status=PAID")
    text = text_of(page.text)
    assert "BX-2026-000001" in text and "BX-2026-000002" not in text and "123.00" in text
    response = await browser.get("/ledger/reimbursements/export.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["BX-2026-000002", "BX-2026-000001"]
