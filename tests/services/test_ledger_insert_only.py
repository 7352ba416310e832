"""The ledger is only ever inserted into.

1. Every SQL statement of a full loan lifecycle (settlements, offsets, write-offs, reversals, a
   rejected proposal) is recorded: none updates or deletes a ledger_entry row, and inserts are seen.
2. The production code (server/ and schema/, not the demo loader) has no code path that saves,
   updates or deletes a LedgerEntry: a scan of the source, checked against the demo loader's
   backdating, which does rewrite entries and must be found.
"""

from __future__ import annotations

import ast
import re
from datetime import timedelta
from pathlib import Path

from server.models import LedgerEntry, Loan, User
from server.services import corrections, loans, sessions
from server.services import reimbursements as rsvc
from server.services.base import today
from server.settings import ROOT
from tests.factories import make_org
from tests.querycount import recording

WRITES = re.compile(r'^\s*(UPDATE\s+"?ledger_entry"?\b|DELETE\s+FROM\s+"?ledger_entry"?\b)', re.I)
INSERTS = re.compile(r'^\s*INSERT\s+INTO\s+"?ledger_entry"?\b', re.I)


async def _viewer(username: str):
    return sessions.viewer_for(await User.get(username=username))


async def _decide_all(decide, row_id: int, *approvers: str) -> None:
    for _ in range(4):
        for who in approvers:
            try:
                await decide(await _viewer(who), row_id, "APPROVE")
            except Exception:  # not this approver's step (or already decided)
                continue


async def test_a_whole_lifecycle_never_updates_or_deletes_a_ledger_row(db):
    await make_org(limit="10000.00")
    fin, admin = await _viewer("finance"), await _viewer("admin")
    with recording() as statements:
        a = await loans.apply_for_loan(await _viewer("sales"), loans.LoanApplication("5000.00", "TRAVEL", "出差"))
        await _decide_all(loans.decide_loan, a.id, "manager", "finance")
        await loans.disburse_loan(fin, a.id)
        await loans.settle_loan(fin, a.id, "CASH_RETURN", "1000.00", "收据 1")
        await loans.settle_loan(fin, a.id, "SALARY_DEDUCTION", "500.00", "工资单 1")
        cash = await LedgerEntry.get(loan_id=a.id, kind="CASH_RETURN")
        await corrections.reverse_settlement(fin, cash.id, "收据作废")
        claim = await rsvc.submit_reimbursement(await _viewer("sales"), rsvc.ReimbursementData(lines=[
            rsvc.ExpenseLineData("TRAVEL", "800.00", today() - timedelta(days=1), None, "差旅", None)]))
        await _decide_all(rsvc.decide_reimbursement, claim.id, "manager", "finance")
        await loans.settle_loan(fin, a.id, "WRITE_OFF", "1000.00", "部分核销")
        await corrections.reject_write_off(admin, a.id, "不同意")
        await loans.settle_loan(fin, a.id, "WRITE_OFF", "3700.00", "剩余核销")
        await loans.settle_loan(admin, a.id, "WRITE_OFF", "3700.00")
        written = await LedgerEntry.get(loan_id=a.id, kind="WRITE_OFF")
        await corrections.reverse_settlement(fin, written.id, "员工愿意还款")
        await corrections.approve_write_off(admin, a.id, "同意")
        await loans.settle_loan(fin, a.id, "CASH_RETURN", "3700.00", "收据 2")
    loan = await Loan.get(id=a.id)
    kinds = await LedgerEntry.filter(loan_id=a.id).order_by("id").values_list("kind", flat=True)
    assert loan.status == "SETTLED" and await loans.loan_outstanding(loan) == 0
    assert kinds == ["DISBURSEMENT", "CASH_RETURN", "SALARY_DEDUCTION", "REVERSAL", "OFFSET", "WRITE_OFF",
                     "REVERSAL", "CASH_RETURN"]
    assert len([s for s in statements.sql if INSERTS.search(s)]) == len(kinds)  # the recorder sees the ledger
    offending = [s for s in statements.sql if WRITES.search(s)]
    assert not offending, offending


# ---------------------------------------------------------------- the source


MUTATORS = {"save", "delete", "update", "bulk_update", "bulk_create_or_update", "update_or_create",
            "update_from_dict"}


def ledger_writes(source: str) -> list[int]:
    """Line numbers where a LedgerEntry (a query on the model, or a name bound from one) is saved,
    updated or deleted, or raw SQL updates/deletes ledger_entry."""
    tree = ast.parse(source)
    found: list[int] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and WRITES.search(node.value.strip()):
            found.append(node.lineno)
    scopes = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    for scope in scopes:
        bound: set[str] = set()
        for node in ast.walk(scope):
            value, targets = None, []
            if isinstance(node, ast.Assign):
                value, targets = node.value, node.targets
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                value, targets = node.value, [node.target]
            elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
                value, targets = node.iter, [node.target]
            if value is not None and "LedgerEntry" in ast.unparse(value):
                bound |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        for arg in scope.args.args + scope.args.kwonlyargs:
            if arg.annotation is not None and "LedgerEntry" in ast.unparse(arg.annotation):
                bound.add(arg.arg)
        for node in ast.walk(scope):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MUTATORS:
                receiver = node.func.value
                text = ast.unparse(receiver)
                if "LedgerEntry" in text or (isinstance(receiver, ast.Name) and receiver.id in bound):
                    found.append(node.lineno)
    return sorted(set(found))


def test_the_scan_finds_the_demo_loaders_backdating():
    demo = (ROOT / "server" / "demo" / "history.py").read_text()
    assert ledger_writes(demo), "the scan must see entry.save() in the demo's backdating"
    assert ledger_writes("async def f():\n    await LedgerEntry.filter(id=1).update(delta_fen=0)\n")
    assert ledger_writes("async def f(e: LedgerEntry):\n    await e.delete()\n")
    assert ledger_writes("X = 'DELETE FROM \"ledger_entry\" WHERE id=1'\n")
    assert not ledger_writes("async def f():\n    await LedgerEntry.create(delta_fen=1)\n")


def test_production_code_has_no_path_that_updates_or_deletes_a_ledger_row():
    files = [p for base in ("server", "schema") for p in (ROOT / base).rglob("*.py")
             if "demo" not in p.relative_to(ROOT).parts]
    assert any(p.name == "corrections.py" for p in files) and len(files) > 30
    offending = {str(p.relative_to(ROOT)): lines for p in files if (lines := ledger_writes(p.read_text()))}
    assert not offending, offending


def test_no_history_rewriting_among_the_production_services():
    services = Path(ROOT / "server" / "services")
    assert not (services / "history.py").exists()
    for path in services.rglob("*.py"):
        assert "backdate" not in path.read_text(), path
