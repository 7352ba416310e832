"""A file over 5,000 rows runs as an ARQ job on a real worker: importCsv returns at once with its job,
the job reports progress, and the final report is read by id."""

from __future__ import annotations

from server.models import BusinessRecord
from tests.factories import make_org
from tests.schema.test_import_api import csv_bytes, upload

REPORT = "query($id: ID!) { importReport(id: $id) { created updated errorCount state job { state progress } } }"


async def test_a_large_import_runs_as_a_job_and_its_report_is_read_by_id(gql, client, run_burst):
    await make_org()
    finance = await gql.login("finance")
    rows = [["工号", "类型", "编号", "金额", "签订日期"]] + [
        ["S1", "订单", f"DD-{i:05d}", "100.00", "2025-06-01"] for i in range(5001)]
    body = await upload(client, finance, "BUSINESS_RECORDS", csv_bytes(rows))
    report = body["data"]["importCsv"]
    assert report["job"] is not None and report["state"] == "QUEUED" and report["created"] == 0
    assert report["rows"] == 5001
    await run_burst()
    done = (await gql.ok(REPORT, {"id": report["id"]}, finance))["importReport"]
    assert (done["created"], done["errorCount"], done["state"]) == (5001, 0, "DONE")
    assert done["job"] == {"state": "DONE", "progress": 1.0}
    assert await BusinessRecord.all().count() == 5001
    # Another user who may not import business records cannot read the report.
    sales = await gql.login("sales")
    assert (await gql.ok(REPORT, {"id": report["id"]}, sales))["importReport"] is None
