"""One enum per vocabulary, its derived sets beside it, and a zh-CN label for each value.

Values are the strings stored in the database and spelled by the GraphQL contract; a
`StrEnum` member compares equal to its string, so rows and inputs need no conversion.
The Strawberry enums (schema/types/enums.py) are built from these classes. Labels are
zh-CN source strings marked with `N_` for extraction; the English text is in the
locales/en catalog and the pages translate them in the reader's language.
"""

from __future__ import annotations

from enum import StrEnum


def N_(message: str) -> str:
    """Marks a label for extraction (babel's default keywords); translated where it is shown."""
    return message


class Role(StrEnum):
    EMPLOYEE = "EMPLOYEE"
    SUPERVISOR = "SUPERVISOR"
    FINANCE = "FINANCE"
    HR = "HR"
    ADMIN = "ADMIN"
    AUDITOR = "AUDITOR"


ALL_ROLES = tuple(Role)
# Who sees every employee's records.
SEE_ALL = frozenset({Role.FINANCE, Role.HR, Role.ADMIN, Role.AUDITOR})
# Who may change org data (departments, regions, positions, employees).
ORG_EDITORS = frozenset({Role.ADMIN, Role.HR})
BASIC_ROLES = frozenset({Role.EMPLOYEE, Role.SUPERVISOR})
PRIVILEGED_ROLES = frozenset({Role.FINANCE, Role.HR, Role.AUDITOR, Role.ADMIN})


class EmployeeStatus(StrEnum):
    ACTIVE = "ACTIVE"
    OFFBOARDING = "OFFBOARDING"
    LEFT = "LEFT"


class LoanPurpose(StrEnum):
    CLIENT_VISIT = "CLIENT_VISIT"
    MARKETING = "MARKETING"
    TRAVEL = "TRAVEL"
    PROCUREMENT = "PROCUREMENT"
    OTHER = "OTHER"


class LoanStatus(StrEnum):
    PENDING_APPROVAL = "PENDING_APPROVAL"
    APPROVED = "APPROVED"
    DISBURSED = "DISBURSED"
    PARTIALLY_SETTLED = "PARTIALLY_SETTLED"
    SETTLED = "SETTLED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"
    WRITTEN_OFF = "WRITTEN_OFF"


# Applied for, not yet paid out: the applicant may still cancel; the amount reserves quota.
CANCELLABLE_LOAN_STATUSES = frozenset({LoanStatus.PENDING_APPROVAL, LoanStatus.APPROVED})
# Loan statuses in which a ledger exists.
LEDGER_STATUSES = frozenset({LoanStatus.DISBURSED, LoanStatus.PARTIALLY_SETTLED, LoanStatus.SETTLED,
                             LoanStatus.WRITTEN_OFF})
# Paid out and something still owed: settlements, offsets and write-offs apply.
OPEN_STATUSES = frozenset({LoanStatus.DISBURSED, LoanStatus.PARTIALLY_SETTLED})
# Nothing owed any more.
CLOSED_LOAN_STATUSES = frozenset({LoanStatus.SETTLED, LoanStatus.WRITTEN_OFF})
# Statuses whose amount counts against the quota: reserved before payout, owed after.
COMMITTING_STATUSES = CANCELLABLE_LOAN_STATUSES | OPEN_STATUSES


class Decision(StrEnum):
    APPROVE = "APPROVE"
    REJECT = "REJECT"


class ReimbursementStatus(StrEnum):
    PENDING_APPROVAL = "PENDING_APPROVAL"
    APPROVED = "APPROVED"
    PAID = "PAID"
    REJECTED = "REJECTED"


# Not yet paid out: the company still owes the payable.
UNPAID_REIMBURSEMENT_STATUSES = frozenset({ReimbursementStatus.PENDING_APPROVAL, ReimbursementStatus.APPROVED})
# Counted in a list's figures (a rejected claim claims nothing).
COUNTED_REIMBURSEMENT_STATUSES = frozenset(ReimbursementStatus) - {ReimbursementStatus.REJECTED}


class OffsetState(StrEnum):
    """A reimbursement's offset against a loan: reserved while pending, applied once approved."""

    RESERVED = "RESERVED"
    APPLIED = "APPLIED"
    RELEASED = "RELEASED"


class OffboardingStatus(StrEnum):
    CLEARANCE_PENDING = "CLEARANCE_PENDING"
    CLEARED = "CLEARED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


OPEN_OFFBOARDING_STATUSES = frozenset({OffboardingStatus.CLEARANCE_PENDING, OffboardingStatus.CLEARED})


class EntryKind(StrEnum):
    """The kinds of a loan's ledger entries."""

    DISBURSEMENT = "DISBURSEMENT"
    OFFSET = "OFFSET"
    CASH_RETURN = "CASH_RETURN"
    SALARY_DEDUCTION = "SALARY_DEDUCTION"
    WRITE_OFF = "WRITE_OFF"
    REVERSAL = "REVERSAL"
    # A historical loan's settled amount from the old system (importCsv HISTORICAL_LOANS): one entry.
    IMPORTED = "IMPORTED"


class SettlementMethod(StrEnum):
    CASH_RETURN = EntryKind.CASH_RETURN.value
    SALARY_DEDUCTION = EntryKind.SALARY_DEDUCTION.value
    WRITE_OFF = EntryKind.WRITE_OFF.value


class DisbursementMethod(StrEnum):
    """How a loan's money went out (recorded on its DISBURSEMENT ledger entry)."""

    BANK_TRANSFER = "BANK_TRANSFER"
    CASH = "CASH"


SETTLEMENT_KINDS = tuple(EntryKind(m.value) for m in SettlementMethod)
REDUCING_KINDS = (EntryKind.OFFSET, *SETTLEMENT_KINDS)
# What a REVERSAL may undo. An offset is undone through its reimbursement, never here.
REVERSIBLE_KINDS = SETTLEMENT_KINDS


class WriteOffProposalKind(StrEnum):
    WRITE_OFF = "WRITE_OFF"
    REVERSAL = "REVERSAL"


class WriteOffProposalStatus(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class AlertKind(StrEnum):
    LARGE_LOAN_NO_BUSINESS = "LARGE_LOAN_NO_BUSINESS"
    OVERDUE = "OVERDUE"
    POSITION_OVERDUE_RATE = "POSITION_OVERDUE_RATE"
    FREQUENT_BORROWING = "FREQUENT_BORROWING"
    OFFBOARDING_OUTSTANDING = "OFFBOARDING_OUTSTANDING"
    MISSING_VOUCHERS = "MISSING_VOUCHERS"


class Severity(StrEnum):
    INFO = "INFO"
    WARNING = "WARNING"
    CRITICAL = "CRITICAL"


class JobState(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"


# ---------------------------------------------------------------- labels (zh-CN source)

STATUS_LABELS: dict[str, str] = {
    LoanStatus.PENDING_APPROVAL: N_("待审批"), LoanStatus.APPROVED: N_("已批准"),
    LoanStatus.DISBURSED: N_("已放款"), LoanStatus.PARTIALLY_SETTLED: N_("部分结清"),
    LoanStatus.SETTLED: N_("已结清"), LoanStatus.REJECTED: N_("已驳回"),
    LoanStatus.CANCELLED: N_("已撤销"), LoanStatus.WRITTEN_OFF: N_("已核销"),
    ReimbursementStatus.PAID: N_("已付款"),
    EmployeeStatus.ACTIVE: N_("在职"), EmployeeStatus.OFFBOARDING: N_("离职办理中"),
    EmployeeStatus.LEFT: N_("已离职"),
}
PURPOSE_LABELS: dict[str, str] = {
    LoanPurpose.CLIENT_VISIT: N_("客户拜访"), LoanPurpose.MARKETING: N_("市场活动"),
    LoanPurpose.TRAVEL: N_("差旅"), LoanPurpose.PROCUREMENT: N_("采购"), LoanPurpose.OTHER: N_("其他"),
}
ROLE_LABELS: dict[str, str] = {
    Role.EMPLOYEE: N_("员工"), Role.SUPERVISOR: N_("直属上级"), Role.FINANCE: N_("财务"),
    Role.HR: N_("人事"), Role.ADMIN: N_("管理员"), Role.AUDITOR: N_("审计"),
}
ENTRY_LABELS: dict[str, str] = {
    EntryKind.DISBURSEMENT: N_("放款"), EntryKind.OFFSET: N_("报销冲抵"),
    EntryKind.CASH_RETURN: N_("现金归还"), EntryKind.SALARY_DEDUCTION: N_("工资扣款"),
    EntryKind.WRITE_OFF: N_("核销"), EntryKind.REVERSAL: N_("冲销"),
    EntryKind.IMPORTED: N_("历史已还（导入）"),
}
DISBURSEMENT_LABELS: dict[str, str] = {DisbursementMethod.BANK_TRANSFER: N_("银行转账"), DisbursementMethod.CASH: N_("现金")}
DECISION_LABELS: dict[str, str] = {Decision.APPROVE: N_("同意"), Decision.REJECT: N_("驳回")}
SEVERITY_LABELS: dict[str, str] = {Severity.INFO: N_("提示"), Severity.WARNING: N_("警告"),
                                   Severity.CRITICAL: N_("严重")}

LABELS: dict[str, dict[str, str]] = {
    "status": STATUS_LABELS, "purpose": PURPOSE_LABELS, "role": ROLE_LABELS, "entry": ENTRY_LABELS,
    "decision": DECISION_LABELS, "severity": SEVERITY_LABELS, "disbursement": DISBURSEMENT_LABELS,
}


def label(vocabulary: str, value: object) -> str:
    """The zh-CN source label of `value` (the value itself when it has none); translate where shown."""
    key = str(getattr(value, "value", value))
    return LABELS[vocabulary].get(key, key)
ALERT_KIND_LABELS: dict[str, str] = {
    AlertKind.LARGE_LOAN_NO_BUSINESS: N_("大额借款无业务记录"), AlertKind.OVERDUE: N_("借款逾期"),
    AlertKind.POSITION_OVERDUE_RATE: N_("岗位逾期率过高"), AlertKind.FREQUENT_BORROWING: N_("频繁借款"),
    AlertKind.OFFBOARDING_OUTSTANDING: N_("离职未清款"), AlertKind.MISSING_VOUCHERS: N_("报销缺少凭证"),
}
LABELS["alert_kind"] = ALERT_KIND_LABELS


class DuplicateKind(StrEnum):
    """What an expense line shares with another reimbursement."""

    INVOICE_NO = "INVOICE_NO"
    VOUCHER_FILE = "VOUCHER_FILE"


STATUS_LABELS.update({
    OffboardingStatus.CLEARANCE_PENDING: N_("待清款"), OffboardingStatus.CLEARED: N_("已确认清款"),
    OffboardingStatus.COMPLETED: N_("已办结"),
})
OFFSET_STATE_LABELS: dict[str, str] = {
    OffsetState.RESERVED: N_("待冲抵"), OffsetState.APPLIED: N_("已冲抵"), OffsetState.RELEASED: N_("已释放"),
}
LABELS["offset_state"] = OFFSET_STATE_LABELS
# A background job's state as a page shows it (evidence packages, issue 14).
JOB_STATE_LABELS: dict[str, str] = {
    JobState.QUEUED: N_("排队中"), JobState.RUNNING: N_("生成中"), JobState.DONE: N_("已完成"),
    JobState.FAILED: N_("失败"),
}
LABELS["job_state"] = JOB_STATE_LABELS
# ---------------------------------------------------------------- delivery (issue 11: e-mail and chat robots)


class ChannelKind(StrEnum):
    EMAIL = "EMAIL"  # a mailbox (a team address) that receives digests and the audit head
    DINGTALK = "DINGTALK"
    WECOM = "WECOM"
    FEISHU = "FEISHU"


ROBOT_KINDS = frozenset({ChannelKind.DINGTALK, ChannelKind.WECOM, ChannelKind.FEISHU})


class DeliveryKind(StrEnum):
    NOTIFICATION = "NOTIFICATION"  # one in-app notification, e-mailed to its user
    DIGEST = "DIGEST"  # the alerts of one interval, counted per kind, to one channel
    AUDIT = "AUDIT"  # the audit-chain verification's result and head
    TEST = "TEST"  # the settings page's test-send


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"
    SENT = "SENT"
    FAILED = "FAILED"


CHANNEL_KIND_LABELS: dict[str, str] = {
    ChannelKind.EMAIL: N_("电子邮件"), ChannelKind.DINGTALK: N_("钉钉机器人"),
    ChannelKind.WECOM: N_("企业微信机器人"), ChannelKind.FEISHU: N_("飞书机器人"),
}
DELIVERY_STATUS_LABELS: dict[str, str] = {
    DeliveryStatus.PENDING: N_("待发送"), DeliveryStatus.SENT: N_("已发送"), DeliveryStatus.FAILED: N_("发送失败"),
}
DELIVERY_KIND_LABELS: dict[str, str] = {
    DeliveryKind.NOTIFICATION: N_("通知邮件"), DeliveryKind.DIGEST: N_("预警汇总"),
    DeliveryKind.AUDIT: N_("审计校验结果"), DeliveryKind.TEST: N_("测试消息"),
}
LABELS["channel_kind"] = CHANNEL_KIND_LABELS
LABELS["delivery_status"] = DELIVERY_STATUS_LABELS
LABELS["delivery_kind"] = DELIVERY_KIND_LABELS
class ImportKind(StrEnum):
    EMPLOYEES = "EMPLOYEES"
    BUSINESS_RECORDS = "BUSINESS_RECORDS"
    HISTORICAL_LOANS = "HISTORICAL_LOANS"


IMPORT_KIND_LABELS: dict[str, str] = {
    ImportKind.EMPLOYEES: N_("员工"), ImportKind.BUSINESS_RECORDS: N_("业务记录"),
    ImportKind.HISTORICAL_LOANS: N_("历史借款"),
}
LABELS["import_kind"] = IMPORT_KIND_LABELS
class Dimension(StrEnum):
    """What the analytics break loans down by (the contract's Dimension)."""

    POSITION = "POSITION"
    REGION = "REGION"
    DEPARTMENT = "DEPARTMENT"
    PURPOSE = "PURPOSE"
    MONTH = "MONTH"


# Kinds of ledger entries that recover a loan's money (write-offs are losses, not recoveries).
RECOVERY_KINDS = (EntryKind.OFFSET, EntryKind.CASH_RETURN, EntryKind.SALARY_DEDUCTION)
# ---------------------------------------------------------------- erp (issue 15 part B)
class WebhookEventType(StrEnum):
    """What an outgoing webhook announces; the value is the `type` in the JSON body."""

    LOAN_SUBMITTED = "loan.submitted"
    LOAN_APPROVED = "loan.approved"
    LOAN_REJECTED = "loan.rejected"
    LOAN_DISBURSED = "loan.disbursed"
    LOAN_SETTLED = "loan.settled"
    REIMBURSEMENT_APPROVED = "reimbursement.approved"
    REIMBURSEMENT_PAID = "reimbursement.paid"
    OFFBOARDING_STARTED = "offboarding.started"
    OFFBOARDING_COMPLETED = "offboarding.completed"
    ALERT_RAISED = "alert.raised"


class WebhookDeliveryStatus(StrEnum):
    PENDING = "PENDING"  # waiting for its first attempt
    RETRYING = "RETRYING"  # an attempt failed; another one is scheduled at next_attempt_at
    DELIVERED = "DELIVERED"  # the receiver answered 2xx
    FAILED = "FAILED"  # every attempt failed; a person may replay it


WEBHOOK_DELIVERY_LABELS: dict[str, str] = {
    WebhookDeliveryStatus.PENDING: N_("待发送"), WebhookDeliveryStatus.RETRYING: N_("重试中"),
    WebhookDeliveryStatus.DELIVERED: N_("已送达"), WebhookDeliveryStatus.FAILED: N_("发送失败"),
}
LABELS["webhook_delivery"] = WEBHOOK_DELIVERY_LABELS
