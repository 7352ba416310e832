"""The contract's Job over GraphQL: an auditor asks for the chain check, a real worker runs it, the job is polled."""

from __future__ import annotations

from tests.factories import PASSWORD, make_org

JOB = "query($id: ID!) { job(id:$id) { id state progress error result kind } }"


async def test_auditor_requests_chain_check_and_polls_the_job(gql, db, run_burst):
    await make_org()
    from server.services import org
    from server.services.base import SYSTEM

    await org.create_employee(SYSTEM, org.EmployeeData(
        employee_no="A1", name="审计", department_code="FIN", region_code="XA", position_code="STAFF",
        supervisor_no=None, monthly_salary="9000", hire_date=__import__("datetime").date(2024, 1, 1),
        username="auditor", password=PASSWORD, roles=["EMPLOYEE", "AUDITOR"]))
    auditor = await gql.login("auditor", PASSWORD)
    job = (await gql.ok("mutation { verifyAuditChain { id state progress } }", token=auditor))["verifyAuditChain"]
    assert job["state"] == "QUEUED" and job["progress"] == 0.0
    await run_burst()
    done = (await gql.ok(JOB, {"id": job["id"]}, auditor))["job"]
    assert done["state"] == "DONE" and done["progress"] == 1.0 and done["kind"] == "VERIFY_AUDIT_CHAIN"
    assert done["result"]["ok"] is True and done["result"]["checked"] >= 10
    assert done["result"]["kind"] is None and done["result"]["firstBadId"] is None
    assert done["result"]["headId"] == done["result"]["checked"]

    # Someone else's job is not visible to an employee; an employee may not ask for the check.
    sales = await gql.login("sales", PASSWORD)
    assert (await gql.ok(JOB, {"id": job["id"]}, sales))["job"] is None
    err = await gql.error("mutation { verifyAuditChain { id } }", token=sales)
    assert err["extensions"]["code"] == "FORBIDDEN"


async def test_chain_check_over_graphql_names_the_tampered_entry(gql, db, run_burst):
    from server.models import AuditEntry

    await make_org()
    admin = await gql.login("admin", PASSWORD)
    await AuditEntry.filter(id=4).update(actor="mallory")
    job = (await gql.ok("mutation { verifyAuditChain { id state } }", token=admin))["verifyAuditChain"]
    await run_burst()
    done = (await gql.ok(JOB, {"id": job["id"]}, admin))["job"]
    assert done["state"] == "DONE"
    result = done["result"]
    assert (result["ok"], result["firstBadId"], result["kind"], result["checked"]) == (False, 4, "EDITED", 3)
    assert result["message"].startswith("第 4 条被改动") and result["headId"] is None
    assert result["messageData"]["id"] == "第 %(entry)s 条被改动：内容与其签封不符"
    assert result["messageData"]["params"] == {"entry": 4}
