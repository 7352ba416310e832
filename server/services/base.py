"""What every service shares: the viewer, the clock, transactions, locks and numbering."""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from server.domain.errors import Forbidden, NotFound, Unauthenticated, ValidationFailed
from server.domain.messages import _m
from server.domain.roles import ADMIN, SEE_ALL
from server.models import Employee, Sequence
from server.settings import get_settings

NEWEST_FIRST: tuple[str, ...] = ("-created_at", "-id")


@dataclass(frozen=True)
class Page:
    """One page of a list in keyset order, with what a connection needs.

    `keys(row)` is the row's position (its sort key and id) for its cursor; `count()` runs the
    COUNT only when a client asks for totalCount.
    """

    rows: list[Any]
    has_next: bool
    keys: Callable[[Any], list[Any]]
    count: Callable[[], Awaitable[int]]
    # The list's rows unpaged (filters and authorization applied): for sums a client selects.
    query: Any = None


def _key_value(model: Any, name: str, raw: Any) -> Any:
    """A cursor's raw JSON value back to the sort field's Python type (ValueError when it does not fit)."""
    from tortoise import fields as tf

    field_ = model._meta.fields_map[name]
    if isinstance(field_, tf.DatetimeField):
        value = datetime.fromisoformat(str(raw))
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value
    if isinstance(field_, tf.DateField):
        return date.fromisoformat(str(raw))
    if isinstance(field_, (tf.IntField, tf.BigIntField, tf.SmallIntField)):
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ValueError("not an integer")
        return raw
    if isinstance(raw, (str, int)):
        return raw
    raise ValueError("unsupported key")


def _json_key(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (datetime, date)) else value


def _after_q(model: Any, order: tuple[str, ...], after: list[Any]) -> Q:
    """Rows strictly after the cursor in `order`: (k1, k2, id) > (c1, c2, cid) spelled with AND/OR so that
    every database uses the (k1, k2, id) index for the range (row-value comparison is not portable)."""
    if len(after) != len(order):
        raise ValueError("cursor does not match this list")
    names = [o.lstrip("-") for o in order]
    values = [_key_value(model, n, raw) for n, raw in zip(names, after, strict=True)]
    result: Q | None = None
    for i in range(len(order) - 1, -1, -1):
        op = "lt" if order[i].startswith("-") else "gt"
        strict = Q(**{f"{names[i]}__{op}": values[i]})
        if result is None:
            result = strict
        else:
            # (k_i > c_i) OR (k_i = c_i AND rest > rest), with k_i >= c_i in front for the index.
            result = Q(**{f"{names[i]}__{op}e": values[i]}) & (strict | result)
    assert result is not None
    return result


async def paginate(qs: Any, first: int, after: list[Any] | None = None,
                   order: tuple[str, ...] = NEWEST_FIRST) -> Page:
    """A keyset page: the `first` rows after the cursor position `after` (decoded sort key and id).

    Page 1,000 costs what page 1 costs, and a row inserted between two requests is neither repeated
    nor skipped. `order` must end with the id so that positions are unique.
    """
    model = qs.model
    page_qs = qs
    if after:
        try:
            page_qs = qs.filter(_after_q(model, order, list(after)))
        except (ValueError, TypeError, KeyError):
            raise ValidationFailed("after is not a valid cursor", field="after") from None
    names = [o.lstrip("-") for o in order]
    rows = await page_qs.order_by(*order).limit(first + 1) if first > 0 else []
    has_next = len(rows) > first
    if first == 0:
        # first: 0 asks for totals only; whether a row exists is a cheap indexed probe.
        has_next = await qs.exists() if after is None else await page_qs.exists()

    def keys(row: Any) -> list[Any]:
        return [_json_key(getattr(row, n)) for n in names]

    return Page(list(rows[:first]), has_next, keys, qs.count, qs)


@dataclass(frozen=True)
class Viewer:
    """Who is asking. Built once per request (schema/context.py) or per job."""

    user_id: int | None
    username: str
    roles: frozenset[str] = field(default_factory=frozenset)
    employee_id: int | None = None
    request_id: str | None = None
    locale: str = "zh_CN"
    # Which browser session or bearer token this request came with (logout, "this device").
    session_id: int | None = None
    token_id: int | None = None

    @property
    def authenticated(self) -> bool:
        return self.user_id is not None

    def has(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)

    @property
    def sees_all(self) -> bool:
        return bool(self.roles & SEE_ALL)


ANONYMOUS = Viewer(user_id=None, username="anonymous")
SYSTEM = Viewer(user_id=None, username="system", roles=frozenset({ADMIN}))


def require_login(viewer: Viewer) -> None:
    if not viewer.authenticated and viewer is not SYSTEM:
        raise Unauthenticated(_m("请先登录"))


def require_role(viewer: Viewer, *roles: str) -> None:
    require_login(viewer)
    if not viewer.has(*roles):
        raise Forbidden(_m("需要以下角色之一：%(roles)s", roles=", ".join(roles)))


# The labels get_locked is given (the callers pass the zh-CN text; here for the message catalog).
OBJECT_LABELS = (_m("借款"), _m("报销单"), _m("离职办理"))


def utcnow() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    """The company's date (TIMEZONE), which is what people mean by 'today'."""
    return datetime.now(get_settings().tz).date()


def local_date(moment: datetime) -> date:
    return moment.astimezone(get_settings().tz).date()


def day_start(day: date, hour: int = 0) -> datetime:
    """The instant a company-local day (or its `hour`) starts, in UTC. Filters compare in UTC on both sides:
    SQLite compares stored datetimes as text, so "2026-12-02 00:00+08:00" would sort after the UTC row
    "2026-12-01 16:30+00:00" that it precedes (a day's rows vanished from 00:00 to 08:00 company time)."""
    return datetime.combine(day, time(hour), tzinfo=get_settings().tz).astimezone(UTC)


def lookup_id(value: Any) -> int:
    """A row id from an API id: ASCII digits only (no sign, spaces, '_' or other scripts' digits).

    0, which no row has, for a malformed id: a lookup then finds nothing, as for an unknown id.
    """
    text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not (0 < len(text) <= 18 and text.isascii() and text.isdigit()):
        return 0
    number = int(text)
    return number if 0 < number <= 2**62 else 0


def parse_id(value: Any, what: str = "id") -> int:
    number = lookup_id(value)
    if not number:
        raise NotFound(_m("记录 %(id)s 不存在", id=repr(value)))
    return number


async def lock_employee(employee_id: int) -> None:
    """Serialize money-committing work on one employee inside the current transaction.

    A single-statement update takes PostgreSQL's row lock until commit; on SQLite it takes
    the database write lock. Either way a second limit check waits for the first to commit.
    """
    updated = await Employee.filter(id=employee_id).update(lock_version=F("lock_version") + 1)
    if not updated:
        raise NotFound(_m("员工不存在"))


async def get_locked(model: Any, object_id: Any, label: str, what: str) -> Any:
    """An employee-owned row for a state change: fetched, its employee locked, re-read under the lock.

    `label` names the object for people (借款, 报销单 …), `what` for the API (loan, reimbursement …).
    """
    row = await model.filter(id=parse_id(object_id, what)).first()
    if row is None:
        raise NotFound(_m("%(label)s %(id)s 不存在", label=_m(label), id=object_id))
    await lock_employee(row.employee_id)
    await row.refresh_from_db()
    return row


async def next_sequence(name: str, by: int = 1) -> int:
    """Next value of a named counter, inside the caller's transaction (gapless per commit).

    `by` > 1 reserves that many numbers at once and returns the last of them.
    """
    for _ in range(3):
        # One statement (UPDATE ... RETURNING): the row lock it takes is held until commit, so the
        # fewer statements that follow it, the less other writers wait (callers take it last).
        db = Sequence._choose_db(True)
        if db.capabilities.dialect == "postgres":  # its client returns rows for a SELECT/WITH only
            sql = "WITH s AS (UPDATE number_sequence SET value = value + $2 WHERE name = $1 RETURNING value) " \
                  "SELECT value FROM s"
        else:
            sql = "UPDATE number_sequence SET value = value + ? WHERE name = ? RETURNING value"
        params = [name, by] if db.capabilities.dialect == "postgres" else [by, name]
        _, rows = await db.execute_query(sql, params)
        if rows:
            return int(rows[0]["value"])
        try:
            async with in_transaction():  # a savepoint: a concurrent creator may win the insert
                await Sequence.create(name=name, value=0)
        except IntegrityError:
            pass
    raise RuntimeError(f"could not advance sequence {name}")


_after_commit: contextvars.ContextVar[list[Callable[[], Awaitable[None]]] | None] = contextvars.ContextVar(
    "after_commit", default=None
)


class atomic:
    """`async with atomic():` a transaction whose after-commit callbacks run only on success.

    Nested use joins the outer transaction (a savepoint) and its callbacks.
    """

    def __init__(self) -> None:
        self._tx: Any = None
        self._token: contextvars.Token | None = None
        self._buffers_token: contextvars.Token | None = None
        self._marks: dict[str, int] = {}
        self._outer = False

    async def __aenter__(self) -> Any:
        self._outer = _after_commit.get() is None
        if self._outer:
            self._token = _after_commit.set([])
            self._buffers_token = _tx_buffers.set({})
        else:
            # A savepoint: what it buffers is dropped again if it rolls back.
            self._marks = {name: len(items) for name, items in (_tx_buffers.get() or {}).items()}
        self._tx = in_transaction()
        return await self._tx.__aenter__()

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        callbacks = _after_commit.get() or []
        try:
            if self._outer and exc_type is None:
                try:
                    await _flush_buffers()
                except BaseException as error:
                    await self._tx.__aexit__(type(error), error, error.__traceback__)
                    raise
            elif not self._outer and exc_type is not None:
                for name, items in (_tx_buffers.get() or {}).items():
                    del items[self._marks.get(name, 0):]
            await self._tx.__aexit__(exc_type, exc, tb)
        finally:
            if self._outer and self._token is not None:
                _after_commit.reset(self._token)
            if self._outer and self._buffers_token is not None:
                _tx_buffers.reset(self._buffers_token)
        if self._outer and exc_type is None:
            for callback in callbacks:
                await callback()


# Work that must run inside the transaction, just before it commits, over what the transaction
# collected (the audit log writes its entries so, holding the chain's head for the fewest statements).
_tx_buffers: contextvars.ContextVar[dict[str, list[Any]] | None] = contextvars.ContextVar("tx_buffers", default=None)
_flushers: dict[str, Callable[[list[Any]], Awaitable[None]]] = {}


def register_flusher(name: str, flush: Callable[[list[Any]], Awaitable[None]]) -> None:
    """`flush(items)` runs before the outermost atomic() commits, when its buffer `name` is not empty."""
    _flushers[name] = flush


def tx_buffer(name: str) -> list[Any] | None:
    """The current transaction's buffer `name` (created on first use); None outside atomic()."""
    buffers = _tx_buffers.get()
    if buffers is None:
        return None
    return buffers.setdefault(name, [])


async def _flush_buffers() -> None:
    buffers = _tx_buffers.get() or {}
    for name, items in buffers.items():
        if items:
            pending = list(items)
            items.clear()
            await _flushers[name](pending)


def after_commit(callback: Callable[[], Awaitable[None]]) -> None:
    """Run `callback` once the current transaction commits (now, when there is none)."""
    pending = _after_commit.get()
    if pending is None:
        raise RuntimeError("after_commit outside atomic()")
    pending.append(callback)
