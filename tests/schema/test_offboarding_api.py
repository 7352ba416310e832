"""Offboarding clearance, alerts and notifications through the GraphQL contract: the seed's case end to end."""

from __future__ import annotations

from datetime import timedelta

from server.models import AuditEntry
from server.services.base import today
from tests.factories import PASSWORD
from tests.querycount import count_queries
from tests.services.test_offboarding import disbursed, make_rsm_with_debt, state

START = """mutation($e: ID!, $d: Date!, $r: String) {
  startOffboarding(employeeId:$e, lastWorkingDay:$d, reason:$r) {
    id status lastWorkingDay reason outstanding blockers
    employee { employeeNo status } openLoans { number outstanding status } clearedBy { name } clearedAt completedAt
  } }"""
OFFBOARDING = """query($id: ID!) { offboarding(id:$id) {
  id status outstanding blockers openLoans { number outstanding } pendingReimbursements { number }
  employee { name status } clearedBy { employeeNo name } clearedAt completedAt cancelledAt } }"""
CONFIRM = "mutation($id: ID!) { confirmClearance(offboardingId:$id) { status clearedBy { employeeNo } clearedAt } }"
COMPLETE = "mutation($id: ID!) { completeOffboarding(offboardingId:$id) { status completedAt employee { status } } }"
CANCEL = "mutation($id: ID!) { cancelOffboarding(offboardingId:$id) { status cancelledAt employee { status } } }"
SETTLE = """mutation($id: ID!, $m: SettlementMethod!, $a: Decimal!, $n: String) {
  settleLoan(loanId:$id, method:$m, amount:$a, note:$n) { status outstanding } }"""
ALERTS = """query($kind: AlertKind, $e: ID, $u: Boolean) {
  alerts(kind:$kind, employeeId:$e, unresolvedOnly:$u) { totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id kind severity message employee { employeeNo } loan { number } position { code }
      recipients { employeeNo } createdAt resolvedAt resolutionNote } } } }"""
NOTIFICATIONS = """query($u: Boolean) { unreadNotificationCount
  notifications(unreadOnly:$u) { totalCount edges { node { id title body readAt alert { id kind severity } } } } }"""
READ = "mutation($id: ID!) { markNotificationRead(notificationId:$id) { id readAt } }"
RESOLVE = "mutation($id: ID!, $n: String) { resolveAlert(alertId:$id, note:$n) { id resolvedAt resolutionNote } }"


class Tokens:
    def __init__(self, gql):
        self.gql, self.cache = gql, {}

    async def __call__(self, who: str) -> str:
        if who not in self.cache:
            self.cache[who] = await self.gql.login(who, PASSWORD)
        return self.cache[who]


async def test_seed_case_regional_manager_owing_30000_resigns(gql, db):
    people, rsm, first, second = await make_rsm_with_debt()
    token = Tokens(gql)
    leaver_token = await token("zhangwei")
    last_day = (today() + timedelta(days=14)).isoformat()

    # HR starts the offboarding: status OFFBOARDING, the clearance lists both loans.
    off = (await gql.ok(START, {"e": str(rsm), "d": last_day, "r": "个人原因辞职"}, await token("hr")))[
        "startOffboarding"]
    assert off["status"] == "CLEARANCE_PENDING" and off["lastWorkingDay"] == last_day
    assert off["employee"] == {"employeeNo": "R1", "status": "OFFBOARDING"}
    assert off["outstanding"] == "30000.00"
    assert off["openLoans"] == [{"number": first.number, "outstanding": "18000.00", "status": "DISBURSED"},
                                {"number": second.number, "outstanding": "12000.00", "status": "DISBURSED"}]
    assert len(off["blockers"]) == 2
    assert (off["clearedBy"], off["clearedAt"], off["completedAt"]) == (None, None, None)

    # At once: one CRITICAL alert to finance, HR and the supervisor, with the amount and the last working day.
    alerts = (await gql.ok(ALERTS, {"kind": "OFFBOARDING_OUTSTANDING"}, await token("finance")))["alerts"]
    assert alerts["totalCount"] == 1
    alert = alerts["edges"][0]["node"]
    assert alert["severity"] == "CRITICAL" and alert["employee"] == {"employeeNo": "R1"}
    assert "30,000.00" in alert["message"] and last_day in alert["message"]
    assert sorted(r["employeeNo"] for r in alert["recipients"]) == ["F1", "H1", "M1"]
    assert alert["resolvedAt"] is None and alert["loan"] is None and alert["position"] is None
    for who in ("finance", "hr", "manager"):
        notes = (await gql.ok(NOTIFICATIONS, {"u": True}, await token(who)))
        # Beside workflow notifications (the loan's approvals and disbursement), exactly one about the alert.
        about_alerts = [e["node"] for e in notes["notifications"]["edges"] if e["node"]["alert"]]
        assert len(about_alerts) == 1, who
        node = about_alerts[0]
        assert node["alert"] == {"id": alert["id"], "kind": "OFFBOARDING_OUTSTANDING", "severity": "CRITICAL"}
        assert "张伟" in node["title"] and "30,000.00" in node["body"]
    leaver = (await gql.ok(NOTIFICATIONS, token=await token("sales")))["notifications"]["edges"]
    assert [e for e in leaver if e["node"]["alert"]] == []
    # The supervisor, a recipient, sees it in their list; the leaver does not.
    assert (await gql.ok(ALERTS, {}, await token("manager")))["alerts"]["totalCount"] == 1
    assert (await gql.ok(ALERTS, {}, leaver_token))["alerts"]["totalCount"] == 0

    # No new loans while offboarding.
    err = await gql.error("""mutation { applyForLoan(input:{amount:"100", purpose:TRAVEL, description:"x"}) { id } }""",
                          token=leaver_token)
    assert err["extensions"]["code"] == "CONFLICT"

    # The gate: finance cannot confirm, HR cannot complete; nothing changes (rows and audit log).
    before = await state(int(off["id"]), rsm)
    err = await gql.error(CONFIRM, {"id": off["id"]}, await token("finance"))
    assert err["extensions"]["code"] == "CLEARANCE_BLOCKED"
    assert first.number in err["message"] and "18,000.00" in err["message"]
    assert second.number in err["message"] and "12,000.00" in err["message"] and "30,000.00" in err["message"]
    # The details the message names: each blocking loan with its id and outstanding amount.
    assert err["extensions"]["loans"] == [
        {"id": str(first.id), "number": first.number, "outstanding": "18000.00"},
        {"id": str(second.id), "number": second.number, "outstanding": "12000.00"},
    ]
    assert err["extensions"]["outstanding"] == "30000.00"
    assert err["extensions"]["messageId"] == "离职清款未完成，尚欠 %(owed)s：%(reasons)s"
    assert err["extensions"]["params"]["owed"] == "30000.00"
    err = await gql.error(COMPLETE, {"id": off["id"]}, await token("hr"))
    assert err["extensions"]["code"] == "CLEARANCE_BLOCKED"
    assert [x["number"] for x in err["extensions"]["loans"]] == [first.number, second.number]
    assert await state(int(off["id"]), rsm) == before

    # Settlement inside the clearance, each a ledger entry on the loan it settles; the clearance follows.
    fin = await token("finance")
    await gql.ok(SETTLE, {"id": str(first.id), "m": "CASH_RETURN", "a": "10000.00", "n": "现金退回 收据 SJ-101"}, fin)
    view = (await gql.ok(OFFBOARDING, {"id": off["id"]}, await token("hr")))["offboarding"]
    assert view["outstanding"] == "20000.00"
    settled = (await gql.ok(SETTLE, {"id": str(first.id), "m": "SALARY_DEDUCTION", "a": "8000.00",
                                     "n": "最后一个月工资扣款 工资单 PR-2026-11-R1"}, fin))["settleLoan"]
    assert settled == {"status": "SETTLED", "outstanding": "0.00"}
    view = (await gql.ok(OFFBOARDING, {"id": off["id"]}, await token("hr")))["offboarding"]
    assert view["outstanding"] == "12000.00"
    assert view["openLoans"] == [{"number": second.number, "outstanding": "12000.00"}]
    err = await gql.error(SETTLE, {"id": str(second.id), "m": "WRITE_OFF", "a": "12000.00"}, fin)
    assert err["extensions"]["code"] == "VALIDATION"  # a proposal needs its reason
    err = await gql.error(SETTLE, {"id": str(second.id), "m": "WRITE_OFF", "a": "12000.00", "n": "核销"},
                          await token("admin"))
    assert err["extensions"]["code"] == "CONFLICT"  # an ADMIN approves what finance proposed, nothing else
    proposed = (await gql.ok(SETTLE, {"id": str(second.id), "m": "WRITE_OFF", "a": "12000.00",
                                      "n": "员工已无力偿还，经总经理批准核销"}, fin))["settleLoan"]
    assert proposed == {"status": "DISBURSED", "outstanding": "12000.00"}
    written = (await gql.ok(SETTLE, {"id": str(second.id), "m": "WRITE_OFF", "a": "12000.00"},
                            await token("admin")))["settleLoan"]
    assert written == {"status": "WRITTEN_OFF", "outstanding": "0.00"}

    view = (await gql.ok(OFFBOARDING, {"id": off["id"]}, await token("hr")))["offboarding"]
    assert (view["outstanding"], view["openLoans"], view["blockers"], view["pendingReimbursements"]) == (
        "0.00", [], [], [])
    err = await gql.error(COMPLETE, {"id": off["id"]}, await token("hr"))
    assert err["extensions"]["code"] == "CLEARANCE_BLOCKED"  # still waiting for finance's confirmation

    cleared = (await gql.ok(CONFIRM, {"id": off["id"]}, fin))["confirmClearance"]
    assert cleared["status"] == "CLEARED" and cleared["clearedBy"] == {"employeeNo": "F1"} and cleared["clearedAt"]
    # The cause is gone: the alert is closed by the system with a note.
    assert (await gql.ok(ALERTS, {}, fin))["alerts"]["totalCount"] == 0
    closed = (await gql.ok(ALERTS, {"u": False}, fin))["alerts"]["edges"][0]["node"]
    assert closed["resolvedAt"] and "确认" in closed["resolutionNote"]

    done = (await gql.ok(COMPLETE, {"id": off["id"]}, await token("hr")))["completeOffboarding"]
    assert done["status"] == "COMPLETED" and done["completedAt"] and done["employee"] == {"status": "LEFT"}

    # The account can no longer log in (the right password is told the account is closed, a wrong one is not
    # told anything) or use its old token.
    login = "mutation($p: String!) { login(username:\"zhangwei\", password:$p) { token } }"
    err = await gql.error(login, {"p": PASSWORD})
    assert err["extensions"]["code"] == "ACCOUNT_CLOSED"
    err = await gql.error(login, {"p": PASSWORD + "x"})
    assert err["extensions"]["code"] == "UNAUTHENTICATED"
    err = await gql.error("{ me { username } }", token=leaver_token)
    assert err["extensions"]["code"] == "UNAUTHENTICATED"
    actions = await AuditEntry.all().order_by("id").values_list("action", flat=True)
    tail = [a for a in actions if a.startswith(("offboarding.", "alert.", "user.deactivate"))]
    assert tail == ["offboarding.start", "alert.raise", "offboarding.confirm_clearance", "alert.resolve",
                    "offboarding.complete", "user.deactivate"]


async def test_employee_resigns_and_hr_cancels(gql, db):
    people, rsm, *_ = await make_rsm_with_debt()
    token = Tokens(gql)
    err = await gql.error(START, {"e": str(people.sales), "d": today().isoformat()}, await token("zhangwei"))
    assert err["extensions"]["code"] == "FORBIDDEN"  # only for themself
    off = (await gql.ok(START, {"e": str(rsm), "d": (today() + timedelta(days=30)).isoformat(), "r": "回老家"},
                        await token("zhangwei")))["startOffboarding"]
    assert off["status"] == "CLEARANCE_PENDING" and off["reason"] == "回老家"
    err = await gql.error(START, {"e": str(rsm), "d": today().isoformat()}, await token("hr"))
    assert err["extensions"]["code"] == "CONFLICT"
    err = await gql.error(CANCEL, {"id": off["id"]}, await token("zhangwei"))
    assert err["extensions"]["code"] == "FORBIDDEN"
    cancelled = (await gql.ok(CANCEL, {"id": off["id"]}, await token("hr")))["cancelOffboarding"]
    assert cancelled["status"] == "CANCELLED" and cancelled["cancelledAt"]
    assert cancelled["employee"] == {"status": "ACTIVE"}
    err = await gql.error(CANCEL, {"id": off["id"]}, await token("hr"))
    assert err["extensions"]["code"] == "CONFLICT"
    # Still an active account.
    assert (await gql.ok("{ me { username } }", token=await token("zhangwei")))["me"]["username"] == "zhangwei"


async def test_errors_and_visibility(gql, db):
    people, rsm, *_ = await make_rsm_with_debt()
    token = Tokens(gql)
    assert (await gql.error(START, {"e": str(rsm), "d": today().isoformat()}))["extensions"]["code"] == (
        "UNAUTHENTICATED")
    err = await gql.error(START, {"e": "999999", "d": today().isoformat()}, await token("hr"))
    assert err["extensions"]["code"] == "NOT_FOUND"
    err = await gql.error(START, {"e": str(rsm), "d": (today() + timedelta(days=400)).isoformat()},
                          await token("hr"))
    assert err["extensions"]["code"] == "VALIDATION" and err["extensions"]["field"] == "lastWorkingDay"
    off = (await gql.ok(START, {"e": str(rsm), "d": today().isoformat()}, await token("hr")))["startOffboarding"]
    err = await gql.error(OFFBOARDING, {"id": off["id"]}, await token("sales"))
    assert err["extensions"]["code"] == "FORBIDDEN"
    assert (await gql.ok(OFFBOARDING, {"id": "424242"}, await token("hr")))["offboarding"] is None
    assert (await gql.ok(OFFBOARDING, {"id": off["id"]}, await token("zhangwei")))["offboarding"]["id"] == off["id"]
    assert (await gql.ok(OFFBOARDING, {"id": off["id"]}, await token("manager")))["offboarding"]["id"] == off["id"]
    err = await gql.error(CONFIRM, {"id": off["id"]}, await token("hr"))
    assert err["extensions"]["code"] == "FORBIDDEN"
    err = await gql.error(COMPLETE, {"id": off["id"]}, await token("finance"))
    assert err["extensions"]["code"] == "FORBIDDEN"

    alert_id = (await gql.ok(ALERTS, {}, await token("hr")))["alerts"]["edges"][0]["node"]["id"]
    err = await gql.error(RESOLVE, {"id": alert_id}, await token("manager"))
    assert err["extensions"]["code"] == "FORBIDDEN"
    err = await gql.error(RESOLVE, {"id": alert_id}, await token("sales"))
    assert err["extensions"]["code"] == "FORBIDDEN"
    err = await gql.error(RESOLVE, {"id": "0"}, await token("hr"))
    assert err["extensions"]["code"] == "NOT_FOUND"
    resolved = (await gql.ok(RESOLVE, {"id": alert_id, "n": "已与本人约定还款计划"}, await token("hr")))["resolveAlert"]
    assert resolved["resolvedAt"] and resolved["resolutionNote"] == "已与本人约定还款计划"
    err = await gql.error(RESOLVE, {"id": alert_id}, await token("finance"))
    assert err["extensions"]["code"] == "CONFLICT"

    note = next(e["node"] for e in (await gql.ok(NOTIFICATIONS, {}, await token("manager")))["notifications"]["edges"]
                if e["node"]["alert"])
    err = await gql.error(READ, {"id": note["id"]}, await token("finance"))
    assert err["extensions"]["code"] == "FORBIDDEN"
    read = (await gql.ok(READ, {"id": note["id"]}, await token("manager")))["markNotificationRead"]
    assert read["id"] == note["id"] and read["readAt"]
    again = (await gql.ok(READ, {"id": note["id"]}, await token("manager")))["markNotificationRead"]
    assert again["readAt"] == read["readAt"]
    counts = await gql.ok(NOTIFICATIONS, {"u": True}, await token("manager"))
    assert [e for e in counts["notifications"]["edges"] if e["node"]["alert"]] == []
    assert counts["unreadNotificationCount"] == counts["notifications"]["totalCount"]
    managers = (await gql.ok(NOTIFICATIONS, {}, await token("manager")))["notifications"]["edges"]
    assert len([e for e in managers if e["node"]["alert"]]) == 1




OFFBOARDINGS = """{ offboardings(first: 50) { totalCount edges { node { id status outstanding blockers
  openLoans { number outstanding } pendingReimbursements { number } employee { name position { name } }
  clearedBy { name } } } } }"""
ALERT_PAGE = """{ alerts(first: 50) { totalCount edges { node { id message recipients { name position { name } }
  employee { name } } } } }"""


async def test_lists_cost_a_constant_number_of_queries(gql, db):
    people, rsm, *_ = await make_rsm_with_debt()
    hr = await gql.login("hr", PASSWORD)
    await gql.ok(START, {"e": str(rsm), "d": today().isoformat()}, hr)
    _, small = await count_queries(gql.ok(OFFBOARDINGS, token=hr))
    _, small_alerts = await count_queries(gql.ok(ALERT_PAGE, token=hr))
    # Two more leavers with debts (each with an alert), one without.
    for username in ("sales", "manager"):
        await disbursed(username, "100.00")
    for employee_id in (people.sales, people.manager, people.finance):
        await gql.ok(START, {"e": str(employee_id), "d": today().isoformat()}, hr)
    result, large = await count_queries(gql.ok(OFFBOARDINGS, token=hr))
    assert result["offboardings"]["totalCount"] == 4
    # Same slack as the loans page: a DataLoader may split across event-loop ticks on PostgreSQL.
    assert large <= small + 2, f"{small} queries for 1 offboarding, {large} for 4"
    result, large_alerts = await count_queries(gql.ok(ALERT_PAGE, token=hr))
    assert result["alerts"]["totalCount"] == 3
    assert large_alerts <= small_alerts + 2, f"{small_alerts} queries for 1 alert, {large_alerts} for 3"


async def test_pagination_of_offboardings_and_status_filter(gql, db):
    people, rsm, *_ = await make_rsm_with_debt()
    hr = await gql.login("hr", PASSWORD)
    for employee_id in (rsm, people.sales, people.manager):
        await gql.ok(START, {"e": str(employee_id), "d": today().isoformat()}, hr)
    page = (await gql.ok("{ offboardings(first: 2) { totalCount pageInfo { hasNextPage endCursor } "
                         "edges { node { id } } } }", token=hr))["offboardings"]
    assert page["totalCount"] == 3 and page["pageInfo"]["hasNextPage"] and len(page["edges"]) == 2
    rest = (await gql.ok("query($a: String) { offboardings(first: 2, after: $a) { pageInfo { hasNextPage } "
                         "edges { node { id } } } }", {"a": page["pageInfo"]["endCursor"]}, hr))["offboardings"]
    assert not rest["pageInfo"]["hasNextPage"] and len(rest["edges"]) == 1
    ids = {e["node"]["id"] for e in page["edges"] + rest["edges"]}
    assert len(ids) == 3
    none = (await gql.ok("{ offboardings(status: [COMPLETED, CANCELLED]) { totalCount } }", token=hr))
    assert none["offboardings"]["totalCount"] == 0
    pending = (await gql.ok("{ offboardings(status: CLEARANCE_PENDING) { totalCount } }", token=hr))
    assert pending["offboardings"]["totalCount"] == 3
