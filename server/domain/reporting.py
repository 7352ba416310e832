"""Pure rules of the monthly loan-risk report: which findings it states and what limit it suggests.

Plain data in, plain data out: the report service (server/services/reports.py) gathers the figures
in SQL and stores what these functions return as message ids and parameters, so that a report
written in Chinese reads in English for a reader who chose English.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal

from server.domain.messages import Message, _m

# Overdue rate → factor applied to the position's limit (the first band the rate reaches).
LIMIT_BANDS: tuple[tuple[float, Decimal], ...] = (
    (0.30, Decimal("0.5")),
    (0.15, Decimal("0.7")),
    (0.05, Decimal("0.9")),
)
LIMIT_STEP = Decimal("100")  # suggested limits are whole hundreds of yuan
COMPLIANCE_TARGET = 0.8  # a region × purpose below this voucher compliance is a finding
WORST_SHOWN = 3


def suggested_limit(limit: Decimal, overdue_rate: float) -> Decimal:
    """The limit the report suggests for a position with this overdue rate (the same when it is low)."""
    for threshold, factor in LIMIT_BANDS:
        if overdue_rate >= threshold:
            cut = (limit * factor / LIMIT_STEP).to_integral_value(rounding=ROUND_FLOOR) * LIMIT_STEP
            return max(cut, Decimal("0")).quantize(Decimal("0.01"))
    return limit.quantize(Decimal("0.01"))


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


@dataclass(frozen=True)
class PositionFigure:
    code: str
    name: str
    loans: int
    overdue_loans: int
    limit: Decimal

    @property
    def rate(self) -> float:
        return self.overdue_loans / self.loans if self.loans else 0.0


def worst_positions(positions: list[PositionFigure]) -> list[PositionFigure]:
    """The three positions with the highest overdue rate among those that borrowed and have overdue loans."""
    ranked = sorted((p for p in positions if p.loans and p.overdue_loans),
                    key=lambda p: (-p.rate, -p.overdue_loans, p.code))
    return ranked[:WORST_SHOWN]


def position_findings(positions: list[PositionFigure]) -> list[Message]:
    worst = worst_positions(positions)
    if not worst:
        return [_m("本月没有逾期借款的岗位。")]
    out = [
        _m("%(position)s 逾期率 %(rate)s（%(overdue)s/%(loans)s 笔），建议借款额度由 %(limit)s 元调整为 %(suggested)s 元。",
           position=p.name, rate=percent(p.rate), overdue=p.overdue_loans, loans=p.loans, limit=p.limit,
           suggested=suggested_limit(p.limit, p.rate))
        for p in worst
    ]
    best = min((p for p in positions if p.loans), key=lambda p: (p.rate, p.code), default=None)
    top = worst[0]
    if best is not None and best.code != top.code and best.rate > 0:
        out.append(_m("%(worst)s 的逾期率是 %(best)s 的 %(times)s 倍。", worst=top.name, best=best.name,
                      times=f"{top.rate / best.rate:.1f}"))
    return out
