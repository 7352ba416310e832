"""Evidence packages end to end: a full history, requested through GraphQL, built by a real ARQ worker on
real Redis, downloaded over HTTP, checked file by file, verified, then tampered with three ways."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from datetime import timedelta
from pathlib import Path

from starlette.datastructures import UploadFile

from server.demo import history
from server.domain import evidence as evidence_rules
from server.models import Alert, AuditEntry, EvidencePackage, LedgerEntry, Notification, User
from server.services import alerts, corrections, loans, offboarding, sessions
from server.services import evidence as evidence_service
from server.services import reimbursements as reimbursement_service
from server.services.base import SYSTEM, today
from tests.factories import make_org
from tests.services.test_reimbursements import approve_loan_chain, approve_reimbursement_chain, pdf_bytes, png_bytes

CONTRACT = pdf_bytes("contract JK evidence")
PLAN = png_bytes(11)
VOUCHER_A = pdf_bytes("invoice 0001")
VOUCHER_B = png_bytes(12)

REQUEST = "mutation($id: ID!) { requestEvidencePackage(employeeId: $id) { id url sha256 createdAt job { id state } employee { id name } } }"
PACKAGE = "query($id: ID!) { evidencePackage(id: $id) { id url sha256 job { id state progress error } } }"


def upload(name: str, data: bytes) -> UploadFile:
    return UploadFile(io.BytesIO(data), filename=name)


async def viewer(username: str):
    return sessions.viewer_for(await User.get(username=username))


async def full_history() -> dict:
    """A loan with documents, approved and paid out; a reimbursement with vouchers offsetting it; a cash
    return reversed; the loan overdue with reminders sent; the employee offboarding."""
    people = await make_org()
    sales, finance, hr = await viewer("sales"), await viewer("finance"), await viewer("hr")
    loan = await loans.apply_for_loan(sales, loans.LoanApplication(
        "3000.00", "CLIENT_VISIT", "拜访西安客户，洽谈年度合同", attachments=[upload("合同.pdf", CONTRACT),
                                                                     upload("活动方案.png", PLAN)]))
    await approve_loan_chain(loan.id)
    await loans.disburse_loan(finance, loan.id)
    row = await reimbursement_service.submit_reimbursement(sales, reimbursement_service.ReimbursementData(lines=[
        reimbursement_service.ExpenseLineData("CLIENT_VISIT", "1200.00", today() - timedelta(days=1), "04400001",
                                              "客户拜访差旅", [upload("发票.pdf", VOUCHER_A),
                                                              upload("小票.png", VOUCHER_B)]),
    ]))
    await approve_reimbursement_chain(row.id)
    await loans.settle_loan(finance, loan.id, "CASH_RETURN", "500.00", "现金归还")
    cash = await LedgerEntry.get(loan_id=loan.id, kind="CASH_RETURN")
    await corrections.reverse_settlement(finance, cash.id, "金额登记错误")
    await history.backdate_loan(SYSTEM, loan.id, 40)
    raised = await alerts.raise_alert(
        SYSTEM, kind="OVERDUE", severity="WARNING", message=f"借款 {loan.number} 已逾期 25 天",
        dedupe_key=f"OVERDUE:{loan.id}:test", recipients=[people.sales, people.manager],
        employee_id=people.sales, loan_id=loan.id)
    await offboarding.start_offboarding(hr, people.sales, today() + timedelta(days=10), "个人原因")
    return {"people": people, "loan": await loans.Loan.get(id=loan.id), "reimbursement": row,
            "alert": raised.alert if hasattr(raised, "alert") else await Alert.get(dedupe_key=f"OVERDUE:{loan.id}:test")}


def _keep(data: bytes) -> None:
    """EVIDENCE_KEEP=path: a copy of the package to look at (the PDF's first page, the files)."""
    if os.environ.get("EVIDENCE_KEEP"):
        Path(os.environ["EVIDENCE_KEEP"]).write_bytes(data)


def names(archive: zipfile.ZipFile) -> set[str]:
    return {i.filename for i in archive.infolist()}


def rewrite(data: bytes, change: dict[str, bytes | None]) -> bytes:
    """A copy of the ZIP with some entries replaced (bytes) or removed (None)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename in change:
                if change[info.filename] is not None:
                    target.writestr(info.filename, change[info.filename])
                continue
            target.writestr(info.filename, source.read(info.filename))
    return out.getvalue()


def pdf_text(data: bytes) -> str:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(data)
        handle.flush()
        return subprocess.run(["pdftotext", "-layout", handle.name, "-"], capture_output=True, check=True,
                              text=True).stdout


async def build_through_api(gql, client, run_burst, employee_id: int, username: str = "finance") -> tuple[dict, bytes]:
    token = await gql.login(username)
    requested = (await gql.ok(REQUEST, {"id": str(employee_id)}, token=token))["requestEvidencePackage"]
    assert requested["url"] is None and requested["job"]["state"] == "QUEUED"
    assert requested["employee"]["id"] == str(employee_id)
    worker = await run_burst()
    assert worker.jobs_failed == 0
    package = (await gql.ok(PACKAGE, {"id": requested["id"]}, token=token))["evidencePackage"]
    assert package["job"]["state"] == "DONE", package["job"]["error"]
    assert package["job"]["progress"] == 1.0
    response = await client.get(package["url"], headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    return package, response.content


async def test_full_history_package_is_complete_and_verifies(db, gql, client, job_settings, run_burst):
    story = await full_history()
    people, loan = story["people"], story["loan"]
    assert await Notification.filter(alert_id=story["alert"].id).count() == 2

    package, data = await build_through_api(gql, client, run_burst, people.sales)
    assert evidence_rules.sha256_hex(data) == package["sha256"]
    _keep(data)
    stored = await EvidencePackage.get(id=int(package["id"]))
    assert stored.sha256 == package["sha256"] and stored.size == len(data)

    archive = zipfile.ZipFile(io.BytesIO(data))
    number, reimbursement_number = loan.number, story["reimbursement"].number
    expected_originals = {
        f"借款/{number}/01-合同.pdf": CONTRACT, f"借款/{number}/02-活动方案.png": PLAN,
        f"报销/{reimbursement_number}/01-发票.pdf": VOUCHER_A, f"报销/{reimbursement_number}/02-小票.png": VOUCHER_B,
    }
    for path, original in expected_originals.items():
        assert archive.read(path) == original, path  # byte-identical to the upload
    assert names(archive) == set(expected_originals) | {
        "证据摘要.pdf", "records.json", "audit.jsonl", "audit-links.tsv", "manifest.json"}

    manifest = json.loads(archive.read("manifest.json"))
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == names(archive) - {"manifest.json"}
    for path, item in listed.items():
        content = archive.read(path)
        assert (item["size"], item["sha256"]) == (len(content), evidence_rules.sha256_hex(content)), path
    assert manifest["createdBy"]["username"] == "finance"
    assert manifest["employee"]["employeeNo"] == "S1"
    head = manifest["auditHead"]
    head_row = await AuditEntry.get(id=head["id"])
    assert head_row.hash == head["hash"]

    records = json.loads(archive.read("records.json"))
    record_loan = records["loans"][0]
    assert record_loan["number"] == number and record_loan["amount"] == "3000.00"
    assert [x["kind"] for x in record_loan["ledger"]] == ["DISBURSEMENT", "OFFSET", "CASH_RETURN", "REVERSAL"]
    assert record_loan["outstanding"] == "1800.00" and records["balance"]["outstanding"] == "1800.00"
    assert record_loan["disbursement"]["by"]["username"] == "finance"
    assert [s["decidedBy"]["username"] for s in record_loan["approvals"]] == ["manager", "finance"]
    assert {r["to"]["username"] for r in record_loan["reminders"]} == {"sales", "manager"}
    assert record_loan["enteredBy"]["username"] == "sales" and record_loan["enteredAt"]
    assert records["offboardings"][0]["startedBy"]["username"] == "hr"
    assert records["employee"]["lastWorkingDay"] == (today() + timedelta(days=10)).isoformat()

    audit_lines = [json.loads(x) for x in archive.read("audit.jsonl").decode().splitlines()]
    actions = {e["action"] for e in audit_lines}
    assert {"loan.apply", "loan.approve", "loan.disburse", "loan.reversal", "reimbursement.submit",
            "alert.raise", "offboarding.start", "employee.create"} <= actions
    assert all(e["id"] <= head["id"] for e in audit_lines)

    text = pdf_text(archive.read("证据摘要.pdf"))
    for needle in (number, "张三", "李经理", "赵财务", "3000.00", "1200.00", "1800.00", "周人事", "冲销",
                   reimbursement_number):
        assert needle in text, needle

    verdict = evidence_service.verify_package(data)
    assert verdict.ok, [str(p.message) for p in verdict.problems]
    assert verdict.seals_checked and verdict.checked_files == len(listed)
    assert verdict.checked_entries == len(audit_lines)

    # Downloads are audited, with the package's hash.
    download = await AuditEntry.filter(action="evidence.download").first()
    assert download is not None and download.after["sha256"] == package["sha256"]
    assert download.actor == "finance"

    # Tampered copies each fail, naming what changed.
    voucher = f"报销/{reimbursement_number}/01-发票.pdf"
    changed = evidence_service.verify_package(rewrite(data, {voucher: VOUCHER_A + b"%tampered"}))
    assert changed.codes == ["FILE_CHANGED"] and changed.problems[0].subject == voucher

    lines = archive.read("audit.jsonl").decode().splitlines()
    victim = json.loads(lines[1])
    victim["after"] = {**(victim["after"] or {}), "amount": "30000.00"}
    lines[1] = json.dumps(victim, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    edited = evidence_service.verify_package(rewrite(data, {"audit.jsonl": ("\n".join(lines) + "\n").encode()}))
    assert "FILE_CHANGED" in edited.codes and "AUDIT_LINE_CHANGED" in edited.codes
    assert "AUDIT_SEAL_INVALID" in edited.codes
    assert {p.subject for p in edited.problems if p.code != "FILE_CHANGED"} == {str(victim["id"])}
    assert {p.subject for p in edited.problems if p.code == "FILE_CHANGED"} == {"audit.jsonl"}

    removed_path = f"借款/{number}/02-活动方案.png"
    removed = evidence_service.verify_package(rewrite(data, {removed_path: None}))
    assert removed.codes == ["FILE_MISSING"] and removed.problems[0].subject == removed_path

    # The CLI says the same, in the viewer's language, with its exit status.
    with tempfile.TemporaryDirectory() as folder:
        good, bad = Path(folder) / "good.zip", Path(folder) / "bad.zip"
        good.write_bytes(data)
        bad.write_bytes(rewrite(data, {removed_path: None}))
        ok_run = _cli(good, job_settings)
        assert ok_run.returncode == 0, ok_run.stdout + ok_run.stderr
        assert "校验通过" in ok_run.stdout
        bad_run = _cli(bad, job_settings, locale="en")
        assert bad_run.returncode == 1
        assert "File missing" in bad_run.stdout and removed_path in bad_run.stdout


def _cli(path: Path, settings, locale: str = "zh_CN") -> subprocess.CompletedProcess:
    env = {**os.environ, "DATA_DIR": str(settings.data_dir), "DATABASE_URL": settings.database_url,
           "SECRET_KEY": settings.secret_key, "DEMO_DATA": "0", "LANG": "C.UTF-8"}
    return subprocess.run([sys.executable, "main.py", "verify-evidence", str(path), "--lang", locale],
                          capture_output=True, text=True, env=env, cwd=Path(__file__).resolve().parents[2],
                          timeout=120)


async def test_same_data_gives_identical_records_and_pdfs(db, gql, client, job_settings, run_burst):
    people = await make_org()
    sales, finance = await viewer("sales"), await viewer("finance")
    loan = await loans.apply_for_loan(sales, loans.LoanApplication(
        "800.00", "TRAVEL", "出差", attachments=[upload("行程.pdf", CONTRACT)]))
    await approve_loan_chain(loan.id)
    await loans.disburse_loan(finance, loan.id)
    _, first = await build_through_api(gql, client, run_burst, people.sales)
    _, second = await build_through_api(gql, client, run_burst, people.sales, username="admin")
    a, b = zipfile.ZipFile(io.BytesIO(first)), zipfile.ZipFile(io.BytesIO(second))
    for name in ("records.json", "证据摘要.pdf", f"借款/{loan.number}/01-行程.pdf"):
        assert a.read(name) == b.read(name), name
    # Only the creation, the creator and the audit head covered differ (the downloads were audited).
    ma, mb = json.loads(a.read("manifest.json")), json.loads(b.read("manifest.json"))
    assert ma["createdBy"]["username"] == "finance" and mb["createdBy"]["username"] == "admin"
    assert mb["auditHead"]["id"] > ma["auditHead"]["id"]
    same = {k for k in ma if ma[k] == mb[k]}
    assert {"format", "employee", "system"} <= same


async def test_roles_without_the_duty_are_refused(db, gql, client, job_settings, run_burst):
    people = await make_org()
    finance = await gql.login("finance")
    requested = (await gql.ok(REQUEST, {"id": str(people.sales)}, token=finance))["requestEvidencePackage"]
    await run_burst()
    url = f"/evidence/{requested['id']}/download"
    for username in ("sales", "manager"):
        token = await gql.login(username)
        error = await gql.error(REQUEST, {"id": str(people.sales)}, token=token)
        assert error["extensions"]["code"] == "FORBIDDEN"
        error = await gql.error(PACKAGE, {"id": requested["id"]}, token=token)
        assert error["extensions"]["code"] == "FORBIDDEN"
        response = await client.get(url, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 403
    anonymous = await client.get(url)
    assert anonymous.status_code in (302, 303) and anonymous.headers["location"].startswith("/login")
    bad_token = await client.get(url, headers={"Authorization": "Bearer nonsense"})
    assert bad_token.status_code == 401
    error = await gql.error(REQUEST, {"id": str(people.sales)})
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    missing = await gql.error(REQUEST, {"id": "999999"}, token=finance)
    assert missing["extensions"]["code"] == "NOT_FOUND"
    assert (await gql.ok(PACKAGE, {"id": "999999"}, token=finance))["evidencePackage"] is None
    # Nobody but finance downloaded; HR and the auditor roles may.
    assert await AuditEntry.filter(action="evidence.download").count() == 0
    hr = await gql.login("hr")
    assert (await client.get(url, headers={"Authorization": f"Bearer {hr}"})).status_code == 200
    assert await AuditEntry.filter(action="evidence.download", actor="hr").count() == 1
