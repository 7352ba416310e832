"""The audit log page: filters, links to objects, constant SQL per page, the streamed CSV export, and the
last chain verification with its head after a verify-now."""

from __future__ import annotations

import csv
import io
import re

from jobs.audit import verify_audit_chain
from server.models import AuditEntry, Job, User
from server.services import loans, sessions
from server.services.base import today
from tests.factories import make_org
from tests.querycount import recording
from tests.web.conftest import text_of


async def viewer(username: str):
    return sessions.viewer_for(await User.get(username=username))


async def company():
    await make_org()
    loan = await loans.apply_for_loan(await viewer("sales"), loans.LoanApplication("600.00", "TRAVEL", "出差"))
    await loans.decide_loan(await viewer("manager"), loan.id, "APPROVE", "同意")
    return loan


async def test_filters_links_and_who_may_see(browser, second_browser, db):
    loan = await company()
    await second_browser.login("finance")
    assert (await second_browser.get("/audit")).status_code == 403
    assert (await second_browser.get("/audit/export.csv")).status_code == 403
    await browser.login("admin")
    page = await browser.get(f"/audit?type=loan&id={loan.id}")
    assert page.status_code == 200
    rows = re.findall(r"<tr>.*?</tr>", page.text.split('<tbody>')[1], re.S)
    assert len(rows) == 2  # loan.apply and loan.approve, newest first
    assert "loan.approve" in rows[0] and "loan.apply" in rows[1]
    assert f'href="/loans/{loan.id}"' in rows[0]
    by_actor = await browser.get("/audit?actor=manager")
    assert all("manager" in r for r in re.findall(r"<tr>.*?</tr>", by_actor.text.split('<tbody>')[1], re.S))
    tomorrow = today().toordinal() + 1
    from datetime import date

    empty = await browser.get(f"/audit?from={date.fromordinal(tomorrow).isoformat()}")
    assert "没有符合条件的记录。" in text_of(empty.text)
    bad = await browser.get(f"/audit?from={today().isoformat()}&to=2000-01-01")
    assert "开始日期不能晚于结束日期" in text_of(bad.text)


async def test_a_page_costs_the_same_for_few_and_many_entries(browser, db):
    await company()
    await browser.login("admin")

    async def statements() -> int:
        with recording() as handler:
            assert (await browser.get("/audit")).status_code == 200
        return len(handler.sql)

    few = await statements()
    for n in range(30):
        await loans.apply_for_loan(await viewer("sales"), loans.LoanApplication(f"{n + 1}.00", "TRAVEL", "出差"))
    assert await AuditEntry.all().count() > 45  # a page of ~48 rows against a handful
    assert await statements() == few


async def test_export_and_verify_now(browser, db):
    loan = await company()
    await browser.login("admin")
    response = await browser.get(f"/audit/export.csv?type=loan&id={loan.id}")
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r[3] for r in rows[1:]] == ["loan.approve", "loan.apply"]
    assert '"comment": "同意"' in rows[1][7]

    page = await browser.get("/audit")
    assert "尚未校验过。" in text_of(page.text)
    requested = await browser.post("/audit/verify")
    assert requested.status_code == 303
    job_id = requested.headers["location"].split("requested=")[1]
    assert (await Job.get(id=job_id)).state == "QUEUED"
    await verify_audit_chain({"job_id": job_id}, job_id)  # what the worker runs
    page = await browser.get("/audit")
    text = text_of(page.text)
    head = await AuditEntry.all().order_by("-id").first()
    assert "上次校验通过" in text
    # The head reported is the last entry when the job ran (verifying writes an entry of its own later).
    assert re.search(r"链头 #\d+ [0-9a-f]{64}", text)
    assert head is not None
