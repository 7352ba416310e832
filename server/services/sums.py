"""SUM over every row of a list, in one SQL statement: the one way the schema's list totals are computed.

A list filtered across a join (a supervisor's reports, a department) would be grouped by every column by
Tortoise and summed per row, so such a list is summed by id through a subquery. A list on its own table is
summed directly: at 1,000,000 loans the needless subquery costs seconds (BENCHMARKS.md, 借款台账).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tortoise.expressions import Subquery
from tortoise.functions import Sum

from server.domain.money import from_fen


def query_shape(qs: Any) -> tuple[bool, bool]:
    """(joins another table, has a condition) of a queryset's SQL, read without running it."""
    sql = qs.values("id").sql()
    return " JOIN " in sql, " WHERE " in sql


async def sum_fen(qs: Any, column: str) -> int:
    joined, _filtered = query_shape(qs)
    plain = qs.model.filter(id__in=Subquery(qs.values("id"))) if joined else qs
    rows = await plain.annotate(total=Sum(column)).values_list("total", flat=True)
    return int((rows or [0])[0] or 0)


async def total(qs: Any, column: str) -> Decimal:
    return from_fen(await sum_fen(qs, column))


def rows_of(model: Any, column: str, parents: Any) -> Any:
    """`model`'s rows whose `column` points at a row of `parents` (all of them when `parents` has no condition)."""
    _joined, filtered = query_shape(parents)
    return model.filter(**{f"{column}__in": Subquery(parents.values("id"))}) if filtered else model.all()
