"""The facts of one employee's evidence package, read set-based: a fixed number of queries per kind of
record (chunked IN lists), never one per loan or voucher.

The result is plain JSON data (money as "1200.00" strings, times as UTC ISO strings), in a stable
order (by number, then id), so the same data gives the same `records.json` and the same PDFs. Every
record says who entered it and when: from its own columns, else from its first audit entry.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from tortoise.expressions import Q

from server.domain import evidence as evidence_rules
from server.domain.money import from_fen
from server.models import (
    Alert,
    ApprovalStep,
    Attachment,
    AuditEntry,
    Department,
    Employee,
    ExpenseLine,
    LedgerEntry,
    Loan,
    Notification,
    Offboarding,
    Position,
    Region,
    Reimbursement,
    ReimbursementOffset,
    User,
)

CHUNK = 500
# The objects whose audit entries go into the package.
AUDITED = ("employee", "loan", "reimbursement", "offboarding", "alert", "notification")


def _money(fen: int | None) -> str | None:
    return None if fen is None else str(from_fen(int(fen)))


def _time(value: datetime | date | None) -> str | None:
    return None if value is None else value.isoformat()


def _chunks(ids: Sequence[Any]) -> Iterable[list[Any]]:
    ids = list(ids)
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


async def _rows_in(model: Any, column: str, ids: Sequence[Any], order: tuple[str, ...] = ("id",)) -> list[Any]:
    rows: list[Any] = []
    for chunk in _chunks(sorted(set(ids))):
        rows.extend(await model.filter(**{f"{column}__in": chunk}).order_by(*order))
    return rows


@dataclass
class Facts:
    """What the package holds: `records` for records.json and the PDFs; `files` the originals to copy;
    `objects` the ids whose audit entries are exported, `audit` those entries (by id)."""

    records: dict[str, Any]
    # (zip path, stored sha256, size) of every original file
    files: list[tuple[str, str, int]] = field(default_factory=list)
    objects: dict[str, list[str]] = field(default_factory=dict)
    audit: list[dict[str, Any]] = field(default_factory=list)


def _who(users: dict[int, Any], people: dict[int, Any], user_id: int | None) -> dict[str, Any] | None:
    if user_id is None:
        return None
    user = users.get(int(user_id))
    if user is None:
        return {"userId": int(user_id), "username": None, "name": None}
    person = people.get(user.employee_id) if user.employee_id is not None else None
    return {"userId": user.id, "username": user.username, "name": person.name if person else None}


async def gather(employee_id: int, up_to: int | None = None) -> Facts:
    """Everything about the employee; audit entries up to `up_to` (the head the package covers)."""
    employee = await Employee.get(id=employee_id)
    department = await Department.get(id=employee.department_id)
    position = await Position.get(id=employee.position_id)
    region = await Region.get(id=employee.region_id)
    account = await User.filter(employee_id=employee.id).first()

    loans = await Loan.filter(employee_id=employee.id).order_by("created_at", "id")
    loan_ids = [loan.id for loan in loans]
    reimbursements = await Reimbursement.filter(employee_id=employee.id).order_by("created_at", "id")
    reimbursement_ids = [r.id for r in reimbursements]
    offboardings = await Offboarding.filter(employee_id=employee.id).order_by("created_at", "id")

    loan_steps = await _rows_in(ApprovalStep, "loan_id", loan_ids, ("loan_id", "order", "id"))
    reimbursement_steps = await _rows_in(ApprovalStep, "reimbursement_id", reimbursement_ids,
                                         ("reimbursement_id", "order", "id"))
    ledger = await _rows_in(LedgerEntry, "loan_id", loan_ids, ("loan_id", "recorded_at", "id"))
    documents = await _rows_in(Attachment, "loan_id", loan_ids, ("loan_id", "id"))
    lines = await _rows_in(ExpenseLine, "reimbursement_id", reimbursement_ids, ("reimbursement_id", "order", "id"))
    vouchers = await _rows_in(Attachment, "expense_line_id", [x.id for x in lines], ("expense_line_id", "id"))
    offsets = await _rows_in(ReimbursementOffset, "reimbursement_id", reimbursement_ids, ("reimbursement_id", "id"))

    alerts = list(await Alert.filter(employee_id=employee.id).order_by("created_at", "id"))
    seen = {a.id for a in alerts}
    alerts += [a for a in await _rows_in(Alert, "loan_id", loan_ids, ("created_at", "id")) if a.id not in seen]
    alerts.sort(key=lambda a: (a.created_at, a.id))
    notifications = await _rows_in(Notification, "alert_id", [a.id for a in alerts], ("created_at", "id"))

    user_ids = {s.decided_by_id for s in loan_steps + reimbursement_steps} | {e.recorded_by_id for e in ledger}
    user_ids |= {a.uploaded_by_id for a in documents + vouchers} | {n.user_id for n in notifications}
    user_ids |= {o.started_by_id for o in offboardings} | {o.cleared_by_user_id for o in offboardings}
    user_ids |= {a.resolved_by_id for a in alerts}
    users = {u.id: u for u in await _rows_in(User, "id", [i for i in user_ids if i is not None])}
    person_ids = {u.employee_id for u in users.values()} | {s.approver_id for s in loan_steps + reimbursement_steps}
    person_ids |= {o.cleared_by_id for o in offboardings}
    people = {p.id: p for p in await _rows_in(Employee, "id", [i for i in person_ids if i is not None])}
    people[employee.id] = employee

    objects = {
        "employee": [str(employee.id)], "loan": [str(i) for i in loan_ids],
        "reimbursement": [str(i) for i in reimbursement_ids], "offboarding": [str(o.id) for o in offboardings],
        "alert": [str(a.id) for a in alerts], "notification": [str(n.id) for n in notifications],
    }
    audit = [entry async for entry in audit_entries(objects, up_to)]
    first_entries: dict[tuple[str, str], dict[str, Any]] = {}
    for entry in audit:
        first_entries.setdefault((entry["objectType"], entry["objectId"]), entry)

    def who(user_id: int | None) -> dict[str, Any] | None:
        return _who(users, people, user_id)

    def entered(kind: str, object_id: int, user_id: int | None = None, at: Any = None) -> dict[str, Any]:
        """Who entered a record and when: its own columns, else its first audit entry."""
        first = first_entries.get((kind, str(object_id)))
        by = who(user_id) if user_id is not None else (
            who(first["actorUserId"]) if first and first["actorUserId"] is not None else
            ({"userId": None, "username": first["actor"], "name": None} if first else None))
        when = _time(at) if at is not None else (first["at"] if first else None)
        return {"enteredBy": by, "enteredAt": when, "auditEntryId": first["id"] if first else None}

    def step(s: ApprovalStep) -> dict[str, Any]:
        approver = people.get(s.approver_id) if s.approver_id is not None else None
        return {"order": s.order, "role": s.role, "approver": approver.name if approver else None,
                "decidedBy": who(s.decided_by_id), "decision": s.decision, "comment": s.comment,
                "decidedAt": _time(s.decided_at), "skipped": bool(s.skipped)}

    def stored_file(a: Attachment, path: str) -> dict[str, Any]:
        return {"id": a.id, "filename": a.filename, "contentType": a.content_type, "size": a.size,
                "sha256": a.sha256, "path": path, "uploadedBy": who(a.uploaded_by_id),
                "uploadedAt": _time(a.created_at)}

    facts = Facts(records={}, objects=objects, audit=audit)
    numbers = {loan.id: loan.number for loan in loans}
    reimbursement_numbers = {r.id: r.number for r in reimbursements}
    by_loan: dict[int, dict[str, list[Any]]] = {i: {"steps": [], "ledger": [], "documents": [], "alerts": []}
                                                for i in loan_ids}
    for s in loan_steps:
        by_loan[s.loan_id]["steps"].append(step(s))
    for a in documents:
        files = by_loan[a.loan_id]["documents"]
        path = evidence_rules.original_path(evidence_rules.LOAN_FILES, numbers[a.loan_id], len(files) + 1,
                                            a.filename)
        files.append(stored_file(a, path))
        facts.files.append((path, a.sha256, a.size))
    outstanding: dict[int, int] = dict.fromkeys(loan_ids, 0)
    for e in ledger:
        outstanding[e.loan_id] += int(e.delta_fen)
        by_loan[e.loan_id]["ledger"].append({
            "id": e.id, "kind": e.kind, "amount": _money(e.delta_fen),
            "reimbursement": reimbursement_numbers.get(e.reimbursement_id) if e.reimbursement_id else None,
            "reference": e.reference, "note": e.note, "reverses": e.reverses_id,
            "recordedBy": who(e.recorded_by_id), "recordedAt": _time(e.recorded_at),
        })
    reminders_by_alert: dict[int, list[dict[str, Any]]] = {}
    for n in notifications:
        reminders_by_alert.setdefault(n.alert_id, []).append({
            "id": n.id, "to": who(n.user_id), "title": n.title, "body": n.body, "channel": "IN_APP",
            "sentAt": _time(n.created_at), "delivered": True, "readAt": _time(n.read_at),
        })
    alert_rows = []
    for a in alerts:
        row = {"id": a.id, "kind": a.kind, "severity": a.severity, "message": a.message,
               "loan": numbers.get(a.loan_id) if a.loan_id else None, "createdAt": _time(a.created_at),
               "resolvedAt": _time(a.resolved_at), "resolvedBy": who(a.resolved_by_id),
               "resolutionNote": a.resolution_note, "reminders": reminders_by_alert.get(a.id, []),
               **entered("alert", a.id, at=a.created_at)}
        alert_rows.append(row)
        if a.loan_id in by_loan:
            by_loan[a.loan_id]["alerts"].append(row)

    loan_rows = []
    for loan in loans:
        parts = by_loan[loan.id]
        disbursement = next((x for x in parts["ledger"] if x["kind"] == "DISBURSEMENT"), None)
        loan_rows.append({
            "id": loan.id, "number": loan.number, "amount": _money(loan.amount_fen), "purpose": loan.purpose,
            "description": loan.description, "expectedSettleDate": _time(loan.expected_settle_date),
            "appliedOn": _time(loan.applied_on), "createdAt": _time(loan.created_at), "status": loan.status,
            "rejectionReason": loan.rejection_reason, "decidedAt": _time(loan.decided_at),
            "disbursedAt": _time(loan.disbursed_at), "settledAt": _time(loan.settled_at),
            "cancelledAt": _time(loan.cancelled_at),
            "disbursement": ({"by": disbursement["recordedBy"], "at": disbursement["recordedAt"]}
                             if disbursement else None),
            "outstanding": _money(outstanding[loan.id]), "documents": parts["documents"],
            "approvals": parts["steps"], "ledger": parts["ledger"],
            "reminders": [r for a in parts["alerts"] for r in a["reminders"]],
            **entered("loan", loan.id),
        })

    reimbursement_rows = _reimbursements(reimbursements, lines, vouchers, offsets, reimbursement_steps, numbers,
                                         step, stored_file, entered, facts)
    offboarding_rows = [{
        "id": o.id, "status": o.status, "lastWorkingDay": _time(o.last_working_day), "reason": o.reason,
        "startedBy": who(o.started_by_id), "createdAt": _time(o.created_at),
        "clearedBy": (people[o.cleared_by_id].name if o.cleared_by_id in people else None),
        "clearedByUser": who(o.cleared_by_user_id), "clearedAt": _time(o.cleared_at),
        "completedAt": _time(o.completed_at), "cancelledAt": _time(o.cancelled_at),
        **entered("offboarding", o.id, o.started_by_id, o.created_at),
    } for o in offboardings]
    last_day = next((o.last_working_day for o in reversed(offboardings) if o.cancelled_at is None), None)
    facts.records = {
        "employee": {
            "id": employee.id, "employeeNo": employee.employee_no, "name": employee.name,
            "department": {"code": department.code, "name": department.name},
            "position": {"code": position.code, "name": position.name},
            "region": {"code": region.code, "name": region.name},
            "hireDate": _time(employee.hire_date), "lastWorkingDay": _time(last_day), "status": employee.status,
            "username": account.username if account else None, **entered("employee", employee.id),
        },
        "loans": loan_rows,
        "reimbursements": reimbursement_rows,
        "offboardings": offboarding_rows,
        "alerts": alert_rows,
        "balance": {"outstanding": _money(sum(outstanding.values())),
                    "loans": sum(1 for v in outstanding.values() if v > 0)},
    }
    return facts


def _reimbursements(reimbursements: list[Any], lines: list[Any], vouchers: list[Any], offsets: list[Any],
                    steps: list[Any], loan_numbers: dict[int, str], step: Any, stored_file: Any, entered: Any,
                    facts: Facts) -> list[dict[str, Any]]:
    lines_of: dict[int, list[Any]] = {}
    for line in lines:
        lines_of.setdefault(line.reimbursement_id, []).append(line)
    vouchers_of: dict[int, list[Any]] = {}
    for v in vouchers:
        vouchers_of.setdefault(v.expense_line_id, []).append(v)
    offsets_of: dict[int, list[Any]] = {}
    for o in offsets:
        offsets_of.setdefault(o.reimbursement_id, []).append(o)
    steps_of: dict[int, list[Any]] = {}
    for s in steps:
        steps_of.setdefault(s.reimbursement_id, []).append(step(s))
    rows = []
    for r in reimbursements:
        position = 0
        line_rows = []
        for line in lines_of.get(r.id, []):
            files = []
            for v in vouchers_of.get(line.id, []):
                position += 1
                path = evidence_rules.original_path(evidence_rules.REIMBURSEMENT_FILES, r.number, position, v.filename)
                files.append(stored_file(v, path))
                facts.files.append((path, v.sha256, v.size))
            line_rows.append({"order": line.order, "category": line.category, "amount": _money(line.amount_fen),
                              "incurredOn": _time(line.incurred_on), "invoiceNo": line.invoice_no,
                              "description": line.description, "vouchers": files})
        rows.append({
            "id": r.id, "number": r.number, "status": r.status, "total": _money(r.total_fen),
            "createdAt": _time(r.created_at), "decidedAt": _time(r.decided_at), "paidAt": _time(r.paid_at),
            "lines": line_rows, "approvals": steps_of.get(r.id, []),
            "offsets": [{"loan": loan_numbers.get(o.loan_id), "amount": _money(o.amount_fen), "state": o.state}
                        for o in offsets_of.get(r.id, [])],
            **entered("reimbursement", r.id),
        })
    return rows


def _objects_q(objects: dict[str, list[str]]) -> Iterable[Q]:
    for kind, ids in objects.items():
        for chunk in _chunks(ids):
            yield Q(object_type=kind, object_id__in=chunk)


def entry_json(row: Any) -> dict[str, Any]:
    """An audit entry's every column, as audit.jsonl holds it."""
    return {
        "id": int(row.id), "at": row.at.isoformat(), "actorUserId": row.actor_user_id, "actor": row.actor,
        "action": row.action, "objectType": row.object_type, "objectId": row.object_id, "before": row.before,
        "after": row.after, "requestId": row.request_id, "clientRequestId": row.client_request_id,
        "keyId": row.key_id, "prevHash": row.prev_hash, "hash": row.hash,
    }


async def audit_entries(objects: dict[str, list[str]], up_to: int | None = None) -> AsyncIterator[dict[str, Any]]:
    """The audit entries of these objects, by id (each chunk's query returns them sorted; merged here)."""
    rows: list[dict[str, Any]] = []
    for q in _objects_q(objects):
        qs = AuditEntry.filter(q)
        if up_to is not None:
            qs = qs.filter(id__lte=up_to)
        rows.extend(entry_json(r) for r in await qs.order_by("id"))
    rows.sort(key=lambda e: e["id"])
    for entry in rows:
        yield entry


async def links(first_id: int, head_id: int, batch: int = 5000) -> AsyncIterator[str]:
    """The chain's links (id, previous hash, hash) from `first_id` to the head, in batches."""
    last = first_id - 1
    while last < head_id:
        rows = await AuditEntry.filter(id__gt=last, id__lte=head_id).order_by("id").limit(batch).values_list(
            "id", "prev_hash", "hash")
        if not rows:
            break
        for entry_id, prev_hash, entry_hash in rows:
            yield evidence_rules.link_line(int(entry_id), prev_hash, entry_hash)
        last = int(rows[-1][0])
