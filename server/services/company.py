"""Company settings: a small key/value table of rules (FOUR_EYES_PAYOUT …), changed by ADMIN only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from server.domain import duties as D
from server.domain.errors import ValidationFailed
from server.domain.messages import Message, _m
from server.models import CompanySetting
from server.services import audit
from server.services.base import Viewer, atomic, require_login, utcnow

FOUR_EYES_PAYOUT = "FOUR_EYES_PAYOUT"
SETTLE_REMINDER_DAYS = "SETTLE_REMINDER_DAYS"
COMPANY_NAME = "COMPANY_NAME"


@dataclass(frozen=True)
class Definition:
    key: str
    default: Any
    kind: type
    description: Message


# The known settings, their defaults and types. Later issues add theirs here (risk thresholds …).
DEFINITIONS: dict[str, Definition] = {
    FOUR_EYES_PAYOUT: Definition(
        FOUR_EYES_PAYOUT, False, bool,
        _m("开启后，放款或支付报销的人不能是审批过该申请的人"),
    ),
    SETTLE_REMINDER_DAYS: Definition(
        SETTLE_REMINDER_DAYS, 3, int,
        _m("在预计报销日期前多少天提醒借款人（0 为不提醒）"),
    ),
    COMPANY_NAME: Definition(
        COMPANY_NAME, "", str,
        _m("公司名称，印在离职清款证明上"),
    ),
}

# The risk rules (issue 11; server/domain/risk.py RiskRules): effective at the next scan.
RISK_DESCRIPTIONS: dict[str, Message] = {
    "RISK_LARGE_LOAN_SALARY_PERCENT": _m("大额借款：借款金额超过月薪的百分比（严格大于）"),
    "RISK_BUSINESS_WINDOW_DAYS": _m("大额借款：申请日前多少天内的业务记录可作为依据"),
    "RISK_LARGE_LOAN_CATCHUP_DAYS": _m("大额借款：扫描补查最近多少天的申请"),
    "RISK_OVERDUE_CRITICAL_DAYS": _m("逾期超过多少天升级为严重并提醒直属上级"),
    "REMINDER_INTERVAL_DAYS": _m("逾期提醒的最短间隔天数"),
    "RISK_RESOLVE_PAUSE_DAYS": _m("手工处理逾期预警后暂停提醒的默认天数"),
    "RISK_POSITION_WINDOW_DAYS": _m("岗位逾期率：回看放款的天数"),
    "RISK_POSITION_RATE_PERCENT": _m("岗位逾期率：超过该百分比（严格大于）预警"),
    "RISK_POSITION_MIN_LOANS": _m("岗位逾期率：窗口内至少多少笔借款才评估"),
    "RISK_FREQUENT_WINDOW_DAYS": _m("频繁借款：统计申请次数的天数"),
    "RISK_FREQUENT_MIN_APPLICATIONS": _m("频繁借款：至少多少次申请"),
    "RISK_FREQUENT_MULTIPLE": _m("频繁借款：至少为同岗位其他申请人平均次数的倍数"),
    "RISK_VOUCHER_WINDOW_DAYS": _m("缺少凭证：统计报销明细的天数"),
    "RISK_VOUCHER_MIN_PERCENT": _m("缺少凭证：附凭证比例低于该百分比时预警"),
    "RISK_VOUCHER_MIN_LINES": _m("缺少凭证：至少多少行报销明细才评估"),
    "RISK_BAND_WARNING": _m("风险评分达到该分数为警告"),
    "RISK_BAND_CRITICAL": _m("风险评分达到该分数为严重"),
}


def _risk_definitions() -> None:
    from server.domain.risk import SETTING_KEYS, RiskRules

    defaults = RiskRules()
    for name, key in SETTING_KEYS.items():
        DEFINITIONS[key] = Definition(key, getattr(defaults, name), int, RISK_DESCRIPTIONS[key])


_risk_definitions()
RISK_SETTING_KEYS = tuple(RISK_DESCRIPTIONS)


def _dump(value: Any) -> Any:
    """Tortoise's JSON column reads a str as JSON text: a text setting (COMPANY_NAME) is stored wrapped."""
    return {"$text": value} if isinstance(value, str) else value


def _load(raw: Any) -> Any:
    return raw["$text"] if isinstance(raw, dict) and set(raw) == {"$text"} else raw


def _definition(key: str) -> Definition:
    definition = DEFINITIONS.get((key or "").strip())
    if definition is None:
        raise ValidationFailed(_m("未知的公司设置 %(key)s", key=key), field="key")
    return definition


async def get_setting(key: str) -> Any:
    """The stored value, or the default. No viewer: services read settings to apply them."""
    definition = _definition(key)
    row = await CompanySetting.filter(key=definition.key).first()
    return definition.default if row is None or row.value is None else _load(row.value)


async def list_settings(viewer: Viewer) -> list[tuple[Definition, Any]]:
    require_login(viewer)
    stored = {r.key: _load(r.value) for r in await CompanySetting.filter(key__in=list(DEFINITIONS))}
    out = []
    for key, definition in DEFINITIONS.items():
        value = stored.get(key)
        out.append((definition, definition.default if value is None else value))
    return out


async def set_setting(viewer: Viewer, key: str, value: Any) -> Any:
    """ADMIN only; audited with before and after. Returns the new value."""
    require_login(viewer)
    D.require(viewer.roles, D.EDIT_SETTING)
    definition = _definition(key)
    if not isinstance(value, definition.kind) or (definition.kind is int and isinstance(value, bool)):
        raise ValidationFailed(_m("%(key)s 需要 %(type)s 类型的值", key=definition.key, type=definition.kind.__name__),
                               field="value")
    if definition.kind is int and not 0 <= value <= 100_000:
        raise ValidationFailed(_m("%(key)s 须在 0 到 100000 之间", key=definition.key), field="value")
    async with atomic():
        row = await CompanySetting.filter(key=definition.key).first()
        before = definition.default if row is None or row.value is None else _load(row.value)
        stored = _dump(value)
        if row is None:
            row = await CompanySetting.create(key=definition.key, value=stored, updated_at=utcnow(),
                                              updated_by_id=viewer.user_id)
        elif before != value:
            row.value, row.updated_at, row.updated_by_id = stored, utcnow(), viewer.user_id  # type: ignore[attr-defined]
            await row.save()
        if before != value:
            await audit.record(viewer, "setting.update", "setting", definition.key,
                               {"key": definition.key, "value": before}, {"key": definition.key, "value": value})
    return value



# ---------------------------------------------------------------- erp (issue 15): journal account codes
JOURNAL_ACCOUNT_ADVANCE = "JOURNAL_ACCOUNT_ADVANCE"
JOURNAL_ACCOUNT_CASH = "JOURNAL_ACCOUNT_CASH"
JOURNAL_ACCOUNT_BANK = "JOURNAL_ACCOUNT_BANK"
JOURNAL_ACCOUNT_SALES_EXPENSE = "JOURNAL_ACCOUNT_SALES_EXPENSE"
JOURNAL_ACCOUNT_ADMIN_EXPENSE = "JOURNAL_ACCOUNT_ADMIN_EXPENSE"
JOURNAL_ACCOUNT_PAYROLL = "JOURNAL_ACCOUNT_PAYROLL"
JOURNAL_ACCOUNT_WRITE_OFF = "JOURNAL_ACCOUNT_WRITE_OFF"
JOURNAL_SALES_DEPARTMENTS = "JOURNAL_SALES_DEPARTMENTS"
DEFINITIONS.update({
    JOURNAL_ACCOUNT_ADVANCE: Definition(JOURNAL_ACCOUNT_ADVANCE, "1221", str,
                                        _m("凭证导出：员工借款科目（其他应收款—员工借款，职员为核算项目）")),
    JOURNAL_ACCOUNT_CASH: Definition(JOURNAL_ACCOUNT_CASH, "1001", str, _m("凭证导出：库存现金科目（现金还款）")),
    JOURNAL_ACCOUNT_BANK: Definition(JOURNAL_ACCOUNT_BANK, "1002", str, _m("凭证导出：银行存款科目（放款与报销付款）")),
    JOURNAL_ACCOUNT_SALES_EXPENSE: Definition(JOURNAL_ACCOUNT_SALES_EXPENSE, "6601", str,
                                              _m("凭证导出：销售费用科目（销售部门的报销）")),
    JOURNAL_ACCOUNT_ADMIN_EXPENSE: Definition(JOURNAL_ACCOUNT_ADMIN_EXPENSE, "6602", str,
                                              _m("凭证导出：管理费用科目（其他部门的报销）")),
    JOURNAL_ACCOUNT_PAYROLL: Definition(JOURNAL_ACCOUNT_PAYROLL, "2211", str,
                                        _m("凭证导出：应付职工薪酬科目（工资扣回借款）")),
    JOURNAL_ACCOUNT_WRITE_OFF: Definition(JOURNAL_ACCOUNT_WRITE_OFF, "6602", str, _m("凭证导出：借款核销的借方科目")),
    JOURNAL_SALES_DEPARTMENTS: Definition(JOURNAL_SALES_DEPARTMENTS, "SALES", str,
                                          _m("凭证导出：费用记入销售费用的部门编码（逗号分隔），其余部门记入管理费用")),
})
async def get_settings_map(keys: tuple[str, ...]) -> dict[str, Any]:
    """Several settings in one statement: {key: stored value or default}."""
    stored = {r.key: r.value for r in await CompanySetting.filter(key__in=list(keys))}
    return {k: (DEFINITIONS[k].default if stored.get(k) is None else stored[k]) for k in keys}
