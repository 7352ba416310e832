"""Each risk rule at its edges through `runRiskScan(asOf)`, run by a real ARQ burst worker on real Redis
(issue 11, "Done when"), on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.models import Alert, AlertRecipient, AuditEntry, Notification, User
from tests.factories import make_org
from tests.jobs.risk_helpers import (
    AS_OF,
    bulk_loans,
    business,
    colleague,
    lines,
    loan,
    reverse,
    run_scan,
    settle,
)

DAY = timedelta(days=1)


async def notes(username: str, alert: Alert | None = None) -> list[Notification]:
    user = await User.get(username=username)
    qs = Notification.filter(user_id=user.id)
    if alert is not None:
        qs = qs.filter(alert_id=alert.id)
    return await qs.order_by("id")


# ---------------------------------------------------------------- LARGE_LOAN_NO_BUSINESS


@pytest.mark.parametrize(("amount", "signed_days_before", "alert"), [
    ("4000.00", None, False),  # 50.00% of 8,000.00
    ("4000.80", None, True),  # 50.01%
    ("4000.80", 30, False),  # a record 30 days before the application counts
    ("4000.80", 31, True),  # 31 days before does not
])
async def test_large_loan_no_business(db, gql, run_burst, amount, signed_days_before, alert):
    people = await make_org()
    if signed_days_before is not None:
        await business(people.sales, AS_OF - timedelta(days=signed_days_before))
    row = await loan(people.sales, amount, applied_on=AS_OF, status="PENDING_APPROVAL")
    await run_scan(gql, run_burst, AS_OF)
    found = await Alert.filter(kind="LARGE_LOAN_NO_BUSINESS").all()
    assert len(found) == (1 if alert else 0)
    if alert:
        (a,) = found
        assert (a.loan_id, a.employee_id, a.severity) == (row.id, people.sales, "WARNING")
        assert a.message.startswith("该员工借款金额异常，请核查用途")
        recipients = set(await AlertRecipient.filter(alert_id=a.id).values_list("employee_id", flat=True))
        assert recipients == {people.manager, people.finance}
        assert a.scorecard_version and a.score is not None


async def test_large_loan_rejected_or_old_applications_raise_nothing(db, gql, run_burst):
    people = await make_org()
    await loan(people.sales, "9000.00", applied_on=AS_OF, status="REJECTED")
    await loan(people.sales, "9000.00", applied_on=AS_OF, status="CANCELLED")
    await loan(people.sales, "9000.00", applied_on=AS_OF - 8 * DAY, status="PENDING_APPROVAL")  # outside the catch-up
    await run_scan(gql, run_burst, AS_OF)
    assert not await Alert.filter(kind="LARGE_LOAN_NO_BUSINESS").exists()


# ---------------------------------------------------------------- OVERDUE


async def test_overdue_reminders_escalation_and_supervisor(db, gql, run_burst):
    people = await make_org()
    row = await loan(people.sales, "4000.00", applied_on=AS_OF - 40 * DAY, settle_on=AS_OF - DAY)
    await run_scan(gql, run_burst, AS_OF)  # 1 day overdue: the first reminder
    (alert,) = await Alert.filter(kind="OVERDUE")
    assert (alert.loan_id, alert.severity) == (row.id, "WARNING")
    assert [n.body for n in await notes("sales", alert)] == ["您有一笔借款已逾期，请尽快报销"]
    await run_scan(gql, run_burst, AS_OF)  # the same day again: nothing more
    await run_scan(gql, run_burst, AS_OF + 6 * DAY)  # 6 days later: too soon
    assert len(await notes("sales", alert)) == 1
    await run_scan(gql, run_burst, AS_OF + 7 * DAY)  # 7 days later: reminded again
    assert len(await notes("sales", alert)) == 2
    await run_scan(gql, run_burst, AS_OF + 29 * DAY)  # 30 days overdue: still WARNING, no supervisor
    await alert.refresh_from_db()
    assert alert.severity == "WARNING"
    assert await notes("manager", alert) == []
    assert len(await notes("sales", alert)) == 3
    await run_scan(gql, run_burst, AS_OF + 30 * DAY)  # 31 days: CRITICAL and the supervisor reminded
    await alert.refresh_from_db()
    assert alert.severity == "CRITICAL"
    (boss_note,) = await notes("manager", alert)
    assert boss_note.body == "您部门员工张三借款逾期，请督促其报销"
    assert len(await notes("sales", alert)) == 3  # the employee's interval has not passed (1 day since)
    assert await Alert.filter(kind="OVERDUE").count() == 1
    assert await AuditEntry.filter(action="alert.escalate").count() == 1


async def test_overdue_resolves_when_settled_and_reopens_on_reversal(db, gql, run_burst):
    people = await make_org()
    row = await loan(people.sales, "1000.00", applied_on=AS_OF - 30 * DAY, settle_on=AS_OF - 5 * DAY)
    await run_scan(gql, run_burst, AS_OF)
    (alert,) = await Alert.filter(kind="OVERDUE")
    entry = await settle(row)
    await run_scan(gql, run_burst, AS_OF + 7 * DAY)
    await alert.refresh_from_db()
    assert alert.resolved_at is not None and alert.auto_resolved
    assert len(await notes("sales", alert)) == 1  # no reminder after settlement
    await reverse(row, entry)
    await run_scan(gql, run_burst, AS_OF + 14 * DAY)
    await alert.refresh_from_db()
    assert alert.resolved_at is None
    assert await Alert.filter(kind="OVERDUE").count() == 1
    assert await AuditEntry.filter(action="alert.reopen", object_id=str(alert.id)).count() == 1
    assert len(await notes("sales", alert)) == 2


async def test_written_off_loan_resolves(db, gql, run_burst):
    people = await make_org()
    row = await loan(people.sales, "1000.00", applied_on=AS_OF - 30 * DAY, settle_on=AS_OF - 5 * DAY)
    await run_scan(gql, run_burst, AS_OF)
    await settle(row, "WRITE_OFF")
    await run_scan(gql, run_burst, AS_OF + DAY)
    assert await Alert.filter(kind="OVERDUE", resolved_at__isnull=True).count() == 0


async def test_hand_resolution_pauses_reminders(db, gql, run_burst):
    people = await make_org()
    await loan(people.sales, "1000.00", applied_on=AS_OF - 30 * DAY, settle_on=AS_OF - 5 * DAY)
    await run_scan(gql, run_burst, AS_OF)
    (alert,) = await Alert.filter(kind="OVERDUE")
    token = await gql.login("finance")
    resolve = "mutation($id: ID!, $note: String, $until: Date) { resolveAlert(alertId: $id, note: $note, " \
              "pauseUntil: $until) { resolvedAt pausedUntil } }"
    error = await gql.error(resolve, {"id": str(alert.id)}, token=token)
    assert error["extensions"]["code"] == "VALIDATION"
    until = AS_OF + 20 * DAY
    done = (await gql.ok(resolve, {"id": str(alert.id), "note": "已电话联系，承诺月底前报销",
                                   "until": "2099-01-01"}, token=token))["resolveAlert"]
    assert done["resolvedAt"] and done["pausedUntil"] == "2099-01-01"
    await Alert.filter(id=alert.id).update(paused_until=until)  # the pause, moved into the scans' calendar
    await run_scan(gql, run_burst, AS_OF + 14 * DAY)  # paused: no reminder although 14 days passed
    assert len(await notes("sales", alert)) == 1
    await run_scan(gql, run_burst, until)  # the pause is over and the loan still overdue: resumed
    await alert.refresh_from_db()
    assert alert.resolved_at is None
    assert len(await notes("sales", alert)) == 2


# ---------------------------------------------------------------- POSITION_OVERDUE_RATE


@pytest.mark.parametrize(("loans", "overdue", "alert"), [
    (10, 1, False),  # 10%
    (1000, 101, True),  # 10.1%
    (4, 4, False),  # 4 loans
    (5, 1, True),  # 5 loans, 20%
])
async def test_position_overdue_rate(db, gql, run_burst, loans, overdue, alert):
    people = await make_org()
    await bulk_loans(people.sales, overdue, applied_on=AS_OF - 60 * DAY, settle_on=AS_OF - 30 * DAY)
    await bulk_loans(people.sales, loans - overdue, applied_on=AS_OF - 10 * DAY, settle_on=AS_OF + 30 * DAY)
    await run_scan(gql, run_burst, AS_OF)
    found = await Alert.filter(kind="POSITION_OVERDUE_RATE")
    assert len(found) == (1 if alert else 0)
    if alert:
        (a,) = found
        assert a.dedupe_key.endswith(":2026-11")
        assert "增加一级审批" in a.message and "公司整体" in a.message
        recipients = set(await AlertRecipient.filter(alert_id=a.id).values_list("employee_id", flat=True))
        assert people.finance in recipients and people.sales not in recipients


# ---------------------------------------------------------------- FREQUENT_BORROWING


@pytest.mark.parametrize(("mine", "theirs", "alert"), [
    (2, None, False),  # 2 applications, nobody else of the position applied
    (3, None, True),  # 3 suffice alone
    (29, 10, False),  # 2.9× the other applicant
    (30, 10, True),  # 3×
])
async def test_frequent_borrowing(db, gql, run_burst, mine, theirs, alert):
    people = await make_org()
    await bulk_loans(people.sales, mine, applied_on=AS_OF - 3 * DAY, status="REJECTED")
    if theirs:
        other = await colleague("S2", "王五", "sales2")
        await bulk_loans(other, theirs, applied_on=AS_OF - 29 * DAY, status="REJECTED")
    await run_scan(gql, run_burst, AS_OF)
    found = await Alert.filter(kind="FREQUENT_BORROWING")
    assert [a.employee_id for a in found] == ([people.sales] if alert else [])


# ---------------------------------------------------------------- MISSING_VOUCHERS


@pytest.mark.parametrize(("vouchered", "alert"), [(79, True), (80, False)])
async def test_missing_vouchers(db, gql, run_burst, vouchered, alert):
    people = await make_org()
    await lines(people.sales, 100, vouchered)
    await run_scan(gql, run_burst, AS_OF)
    found = await Alert.filter(kind="MISSING_VOUCHERS")
    assert len(found) == (1 if alert else 0)
    if alert:
        (a,) = found
        assert a.purpose == "MARKETING" and a.region_id is not None
        token = await gql.login("finance")
        data = await gql.ok("{ alerts(kind: MISSING_VOUCHERS) { edges { node { region { code } purpose } } } }",
                            token=token)
        assert data["alerts"]["edges"][0]["node"] == {"region": {"code": "XA"}, "purpose": "MARKETING"}


async def test_four_lines_are_too_few(db, gql, run_burst):
    people = await make_org()
    await lines(people.sales, 4, 0)
    await run_scan(gql, run_burst, AS_OF)
    assert not await Alert.filter(kind="MISSING_VOUCHERS").exists()


# ---------------------------------------------------------------- who may scan


@pytest.mark.parametrize(("username", "code"), [("sales", "FORBIDDEN"), ("hr", "FORBIDDEN"), ("manager", "FORBIDDEN")])
async def test_only_finance_or_admin_scans(db, gql, username, code):
    await make_org()
    token = await gql.login(username)
    error = await gql.error("mutation { runRiskScan { id } }", token=token)
    assert error["extensions"]["code"] == code
