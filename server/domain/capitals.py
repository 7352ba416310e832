"""Amounts in Chinese capitals (人民币大写), as 《会计基础工作规范》第52条 asks, for printed 借款单 and 报销单.

- Digits 零壹贰叁肆伍陆柒捌玖, units 拾佰仟 within a section, sections 万 and 亿; 10.00 is 壹拾元整.
- A zero inside the figure is written 零, once for a run of zeros (100,010.00 is 壹拾万零壹拾元整); zeros at
  the end of a section are not written.
- When the 元 digit is 0 but a 角/分 follows, one 零 is written (1,000,000.10 is 壹佰万元零壹角整; the rule
  allows either, we write it so that nothing can be added in between); 角 0 with 分 not 0 gives 零 (1.05 is
  壹元零伍分).
- 整 after 元 or 角 when the figure ends there; none after 分.
- Below one yuan there is no 元: 0.05 is 伍分, 0.50 is 伍角整; 0.00 is 零元整.
The figure beside it is written ¥1,234.56: ¥ with no gap, always to 分 (`figure`).
"""

from __future__ import annotations

from decimal import Decimal

from server.domain.money import CENT, fmt

DIGITS = "零壹贰叁肆伍陆柒捌玖"
UNITS = ("仟", "佰", "拾", "")
SECTIONS = ("", "万", "亿", "万亿")


def _section(value: int) -> str:
    """0 < value < 10000, without leading 零."""
    out, zero = "", False
    for unit, digit in zip(UNITS, f"{value:04d}", strict=True):
        d = int(digit)
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += DIGITS[d] + unit
    return out


def _integer(value: int) -> str:
    if value == 0:
        return ""
    groups: list[int] = []
    while value:
        groups.append(value % 10000)
        value //= 10000
    if len(groups) > len(SECTIONS):
        raise ValueError("amount too large for capitals")
    out, pending_zero = "", False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            pending_zero = bool(out)
            continue
        if out and (pending_zero or group < 1000):
            out += "零"
        out += _section(group) + SECTIONS[index]
        pending_zero = False
    return out


def capitals(amount: Decimal) -> str:
    """壹仟贰佰叁拾肆元伍角陆分 for 1234.56 (no 人民币 prefix: the form prints it)."""
    value = Decimal(amount).quantize(CENT)
    if value < 0:
        return "负" + capitals(-value)
    fen_total = int(value * 100)
    yuan, jiao, fen = fen_total // 100, (fen_total // 10) % 10, fen_total % 10
    if fen_total == 0:
        return "零元整"
    out = ""
    if yuan:
        out = _integer(yuan) + "元"
        if jiao == 0 and fen == 0:
            return out + "整"
        if yuan % 10 == 0 or jiao == 0:
            out += "零"
    if jiao:
        out += DIGITS[jiao] + "角"
    if fen:
        return out + DIGITS[fen] + "分"
    return out + "整"


def figure(amount: Decimal) -> str:
    """¥1,234.56"""
    value = Decimal(amount).quantize(CENT)
    return ("-¥" if value < 0 else "¥") + fmt(abs(value))
