"""DataLoaders: a page of 50 loans costs a constant number of SQL queries.

`load(info, "employees", id)` batches every load of one name within a request.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from strawberry.types import Info

from server.services import alerts as alert_service
from server.services import extensions as extension_service
from server.services import loans as loan_service
from server.services import readers
from server.services import risk as risk_service

BATCHES = {
    "employees": readers.employees,
    "positions": readers.positions,
    "departments": readers.departments,
    "regions": readers.regions,
    "loans": readers.loans,
    "reimbursements": readers.reimbursements,
    "loan_approvals": readers.loan_approvals,
    "reimbursement_approvals": readers.reimbursement_approvals,
    "loan_ledgers": readers.loan_ledgers,
    "loan_write_off_proposals": readers.loan_write_off_proposals,
    "loan_attachments": readers.loan_attachments,
    "entry_attachments": readers.entry_attachments,
    "line_vouchers": readers.line_vouchers,
    "reimbursement_lines": readers.reimbursement_lines,
    "loan_offsets": readers.loan_offsets,
    "reimbursement_offsets": readers.reimbursement_offsets,
    "outstanding": readers.outstanding,
    "alerts": readers.alerts,
    "alert_recipients": readers.alert_recipients,
    "clearances": readers.clearances,
    "loan_blocked": readers.loan_blocked,
    "reimbursement_blocked": readers.reimbursement_blocked,
    "position_histories": readers.position_histories,
    "employee_roles": readers.employee_roles,
    "settings": readers.settings,
    "user_labels": readers.user_labels,
}


# Batches that answer for the viewer (they authorize each key in the service): name -> fn(viewer, keys).
VIEWER_BATCHES = {
    "employee_loans": loan_service.employees_loans,
    "employee_alerts": alert_service.unresolved_by_employee,
}


async def _quotas(employees: Sequence[Any]) -> list[Any]:
    quotas = await loan_service.quotas_for(list({e.id: e for e in employees}.values()))
    return [quotas[e.id] for e in employees]


async def _employee_outstanding(ids: Sequence[int]) -> list[Any]:
    owed = await loan_service.employee_outstanding(ids)
    return [owed[i] for i in ids]


BATCHES["quotas"] = _quotas


async def _employee_loan_counts(ids: Sequence[int]) -> list[Any]:
    counts = await loan_service.employee_loan_counts(ids)
    return [counts[i] for i in ids]


BATCHES["employee_loan_counts"] = _employee_loan_counts
VIEWER_BATCHES["risk_scores"] = risk_service.employee_scores
VIEWER_BATCHES["loan_alerts"] = alert_service.alerts_by_loan
BATCHES["employee_outstanding"] = _employee_outstanding
# Issue 12: settle-date extensions.
BATCHES["loan_extensions"] = extension_service.extensions_by_loan
BATCHES["extension_approvals"] = extension_service.extension_approvals


async def load(info: Info, name: str, key: Any) -> Any:
    if name in VIEWER_BATCHES:
        batch = functools.partial(VIEWER_BATCHES[name], info.context.viewer)
        return await info.context.loader(name, batch).load(key)
    return await info.context.loader(name, BATCHES[name]).load(key)


# ---------------------------------------------------------------- values already loaded
# graphql-core pays for every awaitable a resolver returns (a task per list item, a completion
# callback per field). A connection primes the batches its selection needs in a few gathers; the
# fields then return the cached value synchronously and only fall back to an awaitable when nothing
# was primed (BENCHMARKS.md: that halved a page's Python time).


def ready(info: Info, name: str, key: Any) -> tuple[bool, Any]:
    loader = info.context._loaders.get(name)
    future = loader.cache_map.get(key) if loader is not None else None
    if future is not None and future.done() and not future.cancelled() and future.exception() is None:
        return True, future.result()
    return False, None


def now_or_later(info: Info, name: str, key: Any, then: Any) -> Any:
    """`then(value)` at once when the batch already ran, else an awaitable of it."""
    done, value = ready(info, name, key)
    if done:
        return then(value)

    async def later() -> Any:
        return then(await load(info, name, key))

    return later()


async def prime(info: Info, name: str, keys: Sequence[Any]) -> list[Any]:
    """Load many keys of one batch now (one statement), so that fields find them ready."""
    if not keys:
        return []
    if name in VIEWER_BATCHES:
        batch = functools.partial(VIEWER_BATCHES[name], info.context.viewer)
        return list(await info.context.loader(name, batch).load_many(list(keys)))
    return list(await info.context.loader(name, BATCHES[name]).load_many(list(keys)))


def selected_names(info: Info) -> set[str]:
    """Every field name selected anywhere below the current field (fragments included)."""
    names: set[str] = set()

    def walk(selections: Any) -> None:
        for sel in selections or []:
            name = getattr(sel, "name", None)
            if name:
                names.add(name)
            walk(getattr(sel, "selections", None))

    for field in info.selected_fields:
        walk(field.selections)
    return names
