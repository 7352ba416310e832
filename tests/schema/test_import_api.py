"""importCsv over real HTTP (GraphQL multipart): CSV in UTF-8 and GBK, XLSX, Chinese and English headers,
bad rows with their row numbers, all or nothing, re-import, duties, a zip bomb, set-password links."""

from __future__ import annotations

import io
import json
import zipfile

import openpyxl

from server.domain.vocab import EmployeeStatus, EntryKind, LoanStatus
from server.models import Employee, LedgerEntry, Loan, Offboarding, User
from server.services import password_links
from tests.factories import make_org

IMPORT = """mutation($kind: ImportKind!, $file: Upload!, $dry: Boolean!) {
  importCsv(kind: $kind, file: $file, dryRun: $dry) {
    id kind dryRun created updated errorCount rows state job { id }
    errors { row column message }
  }
}"""


async def upload(client, token: str, kind: str, content: bytes, filename: str = "data.csv", dry: bool = False,
                 query: str = IMPORT) -> dict:
    operations = {"query": query, "variables": {"kind": kind, "file": None, "dry": dry}}
    response = await client.post(
        "/graphql", headers={"Authorization": f"Bearer {token}"},
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": (filename, content, "application/octet-stream")},
    )
    assert response.status_code == 200, response.text
    return response.json()


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    import csv

    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[object]], cached: dict[str, str] | None = None) -> bytes:
    """An XLSX; `cached` gives formulas the value Excel would have saved beside them ({"=2500*2": "5000"})."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    if not cached:
        return buffer.getvalue()
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                for formula, value in cached.items():
                    data = data.replace(f"<f>{formula[1:]}</f><v />".encode(), f"<f>{formula[1:]}</f><v>{value}</v>".encode())
            target.writestr(item, data)
    return out.getvalue()


EMP_HEADER_ZH = ["工号", "姓名", "部门编码", "区域编码", "岗位编码", "上级工号", "月薪", "入职日期", "用户名", "角色",
                 "邮箱", "手机", "状态", "最后工作日"]


async def test_employees_utf8_bom_chinese_headers_reimport_and_links(gql, client):
    await make_org()
    hr = await gql.login("hr")
    rows = [EMP_HEADER_ZH,
            ["E2", "钱七", "SALES", "XA", "SALES", "E1", "6000", "2024/3/1", "qianqi", "员工", "", "", "在职", ""],
            ["E1", "孙六", "SALES", "XA", "MGR", "M1", "12000.50", "2023-01-05", "sunliu", "员工、直属上级", "s@x.cn",
             "", "在职", ""],
            ["E3", "离职者", "SALES", "XA", "SALES", "E1", "6000", "2022-01-01", "leaver", "", "", "", "离职中",
             "2026-11-30"],
            ["E4", "已走", "SALES", "XA", "SALES", "", "6000", "2020-01-01", "", "", "", "", "已离职", "2025-06-30"]]
    body = await upload(client, hr, "EMPLOYEES", b"\xef\xbb\xbf" + csv_bytes(rows))
    assert not body.get("errors"), body
    report = body["data"]["importCsv"]
    assert report["errors"] == [] and report["created"] == 4 and report["updated"] == 0, report
    assert report["job"] is None and report["state"] == "DONE"
    e2 = await Employee.get(employee_no="E2")
    e1 = await Employee.get(employee_no="E1")
    assert e2.supervisor_id == e1.id and e1.monthly_salary_fen == 1200050
    assert sorted((await User.get(username="sunliu")).roles) == ["EMPLOYEE", "SUPERVISOR"]
    leaver = await Employee.get(employee_no="E3")
    assert leaver.status == EmployeeStatus.OFFBOARDING
    assert await Offboarding.filter(employee_id=leaver.id, status="CLEARANCE_PENDING").exists()
    gone = await Employee.get(employee_no="E4")
    assert gone.status == EmployeeStatus.LEFT and not await User.filter(employee_id=gone.id).exists()
    # No usable password until a link is used.
    assert (await gql("mutation{login(username:\"qianqi\",password:\"anything-123\"){token}}"))["errors"]

    from server.models import AuditEntry

    entry = await AuditEntry.get(action="import.run", object_id=report["id"])
    assert entry.actor == "hr" and entry.after["created"] == 4 and len(entry.after["sha256"]) == 64

    again = (await upload(client, hr, "EMPLOYEES", csv_bytes(rows)))["data"]["importCsv"]
    assert (again["created"], again["updated"], again["errors"]) == (0, 4, [])
    assert await Employee.all().count() == 8

    links = (await gql.ok("mutation($id:ID!){issueSetPasswordLinks(importId:$id){username url expiresAt}}",
                          {"id": report["id"]}, token=hr))["issueSetPasswordLinks"]
    assert sorted(x["username"] for x in links) == ["leaver", "qianqi", "sunliu"]
    url = next(x["url"] for x in links if x["username"] == "qianqi")
    token = url.rsplit("/", 1)[1]
    await password_links.set_password(token, "Qian-Qi-2026!x")
    assert await gql.login("qianqi", "Qian-Qi-2026!x")
    assert await password_links.token_row(token) is None  # used once


async def test_bad_rows_are_reported_with_row_numbers_and_nothing_is_written(gql, client):
    await make_org()
    hr = await gql.login("hr")
    header = ["employeeNo", "name", "departmentCode", "regionCode", "positionCode", "monthlySalary", "hireDate",
              "username", "备注"]
    rows = [header,
            ["E1", "好人", "SALES", "XA", "SALES", "5000", "2024-01-01", "good1", ""],
            ["E2", "三位小数", "SALES", "XA", "SALES", "5000.123", "2024-01-01", "bad2", ""],
            ["E3", "多行\n姓名", "NOPE", "XA", "SALES", "5000", "not a date", "bad3", ""],
            ["E1", "重复", "SALES", "XA", "SALES", "5000", "2024-01-01", "dup1", ""]]
    body = (await upload(client, hr, "EMPLOYEES", csv_bytes(rows)))["data"]["importCsv"]
    # The unknown column is refused first (row 1, as written).
    assert body["errors"][0]["row"] == 1 and body["errors"][0]["column"] == "备注"
    rows = [r[:-1] for r in rows]
    body = (await upload(client, hr, "EMPLOYEES", csv_bytes(rows), dry=True))["data"]["importCsv"]
    found = {(e["row"], e["column"]) for e in body["errors"]}
    assert (3, "monthlySalary") in found
    # The quoted line break keeps "多行\n姓名" one record: row 4, as the spreadsheet shows it.
    assert (4, "departmentCode") in found and (4, "hireDate") in found
    assert (5, "employeeNo") in found
    assert body["dryRun"] and body["created"] == 1
    real = (await upload(client, hr, "EMPLOYEES", csv_bytes(rows)))["data"]["importCsv"]
    assert real["created"] == 0 and real["errorCount"] == body["errorCount"] > 0
    assert not await Employee.filter(employee_no="E1").exists()


async def test_duties_hr_imports_basic_roles_only_and_others_are_forbidden(gql, client):
    await make_org()
    hr, sales = await gql.login("hr"), await gql.login("sales")
    rows = [EMP_HEADER_ZH[:10], ["E9", "新财务", "FIN", "XA", "STAFF", "", "6000", "2024-01-01", "newfin", "财务"]]
    body = (await upload(client, hr, "EMPLOYEES", csv_bytes(rows)))["data"]["importCsv"]
    assert body["created"] == 0 and body["errors"][0]["column"] == "角色"
    refused = await upload(client, sales, "EMPLOYEES", csv_bytes(rows))
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    refused = await upload(client, hr, "HISTORICAL_LOANS", csv_bytes([["number"]]))
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


LOAN_HEADER = ["借款单号", "工号", "金额", "用途", "说明", "申请日期", "放款日期", "预计报销日期", "已还金额"]


async def test_historical_loans_from_xlsx_keep_their_number_and_derive_status(gql, client):
    await make_org()
    finance = await gql.login("finance")
    rows: list[list[object]] = [
        LOAN_HEADER,
        ["OLD-1", "S1", "=2500*2", "差旅", "北京", "2025-01-01", "2025-01-02", "2025-01-20", 2000],
        ["OLD-2", "S1", "3000.00", "CLIENT_VISIT", "", "2025-02-01", "2025-02-01", "2025-02-15", None],
        ["OLD-3", "M1", "1000", "市场推广", "", "2025-03-01", "2025-03-02", "2025-03-20", "1000"],
    ]
    # A formula counts as the value Excel saved with it.
    body = (await upload(client, finance, "HISTORICAL_LOANS", xlsx_bytes(rows, {"=2500*2": "5000"}),
                         "loans.xlsx"))["data"]["importCsv"]
    assert body["errors"] == [] and body["created"] == 3, body
    old1 = await Loan.get(number="OLD-1")
    assert old1.status == LoanStatus.PARTIALLY_SETTLED
    kinds = sorted(e.kind for e in await LedgerEntry.filter(loan_id=old1.id))
    assert kinds == sorted([EntryKind.DISBURSEMENT, EntryKind.IMPORTED])
    assert (await Loan.get(number="OLD-3")).status == LoanStatus.SETTLED
    overdue = await gql.ok("query($id:ID!){loan(id:$id){status outstanding daysOverdue}}", {"id": str(old1.id)},
                           token=finance)
    assert overdue["loan"]["outstanding"] == "3000.00" and overdue["loan"]["daysOverdue"] > 0

    same = (await upload(client, finance, "HISTORICAL_LOANS", xlsx_bytes(rows, {"=2500*2": "5000"}),
                         "loans.xlsx"))["data"]["importCsv"]
    assert (same["created"], same["updated"], same["errors"]) == (0, 3, [])
    changed = [rows[0], ["OLD-1", "S1", 5000, "差旅", "北京", "2025-01-01", "2025-01-02", "2025-01-20", 2500],
               ["JK-2025-000001", "S1", 100, "差旅", "", "2025-01-01", "2025-01-01", "2025-01-02", 0],
               ["OLD-9", "F1", 100, "差旅", "", "2025-01-01", "2025-01-01", "2025-01-02", 0]]
    bad = (await upload(client, finance, "HISTORICAL_LOANS", xlsx_bytes(changed), "x.xlsx"))["data"]["importCsv"]
    rows_with_errors = {(e["row"], e["column"]) for e in bad["errors"]}
    assert (2, None) in rows_with_errors  # different figures for an imported loan
    assert (3, "借款单号") in rows_with_errors  # Qingkuan's own pattern
    assert (4, "工号") in rows_with_errors  # finance's own loan
    assert await LedgerEntry.filter(loan_id=old1.id).count() == 2


async def test_business_records_gbk_english_headers(gql, client):
    await make_org()
    finance = await gql.login("finance")
    rows = [["employeeNo", "kind", "reference", "amount", "signedOn"],
            ["S1", "销售合同", "HT-001", "120000.00", "2025-06-01"],
            ["S1", "订单", "DD-002", "800", "2025/7/1"]]
    body = (await upload(client, finance, "BUSINESS_RECORDS", csv_bytes(rows, "gbk")))["data"]["importCsv"]
    assert body["errors"] == [] and body["created"] == 2
    again = (await upload(client, finance, "BUSINESS_RECORDS", csv_bytes(rows, "gb18030")))["data"]["importCsv"]
    assert (again["created"], again["updated"]) == (0, 2)
    own = [rows[0], ["F1", "合同", "X-1", "1", "2025-01-01"]]
    mine = (await upload(client, finance, "BUSINESS_RECORDS", csv_bytes(own)))["data"]["importCsv"]
    assert mine["errors"][0]["row"] == 2 and mine["created"] == 0


async def test_a_zip_bomb_is_refused_before_inflating(gql, client):
    await make_org()
    hr = await gql.login("hr")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as entry:  # 20 MB of zeros: ~1,000 to 1
            for _ in range(20):
                entry.write(bytes(1024 * 1024))
    body = await upload(client, hr, "EMPLOYEES", buffer.getvalue(), "bomb.xlsx")
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION"
    assert "压缩炸弹" in body["errors"][0]["message"] or "bomb" in body["errors"][0]["message"].lower()


async def test_a_loop_of_supervisors_in_the_file_is_refused(gql, client):
    await make_org()
    hr = await gql.login("hr")
    rows = [EMP_HEADER_ZH[:9],
            ["E1", "甲", "SALES", "XA", "SALES", "E2", "6000", "2024-01-01", "jia"],
            ["E2", "乙", "SALES", "XA", "SALES", "E1", "6000", "2024-01-01", "yi"],
            ["E3", "丙", "SALES", "XA", "SALES", "E1", "6000", "2024-01-01", "bing"]]
    body = (await upload(client, hr, "EMPLOYEES", csv_bytes(rows)))["data"]["importCsv"]
    assert {(e["row"], e["column"]) for e in body["errors"]} == {(2, "上级工号"), (3, "上级工号")}
    assert body["created"] == 0
