"""The contract's enums. Values equal the names stored in the database."""

from enum import Enum

import strawberry


@strawberry.enum
class Role(Enum):
    EMPLOYEE = "EMPLOYEE"
    SUPERVISOR = "SUPERVISOR"
    FINANCE = "FINANCE"
    HR = "HR"
    ADMIN = "ADMIN"
    AUDITOR = "AUDITOR"


@strawberry.enum
class EmployeeStatus(Enum):
    ACTIVE = "ACTIVE"
    OFFBOARDING = "OFFBOARDING"
    LEFT = "LEFT"


@strawberry.enum
class LoanPurpose(Enum):
    CLIENT_VISIT = "CLIENT_VISIT"
    MARKETING = "MARKETING"
    TRAVEL = "TRAVEL"
    PROCUREMENT = "PROCUREMENT"
    OTHER = "OTHER"


@strawberry.enum
class LoanStatus(Enum):
    PENDING_APPROVAL = "PENDING_APPROVAL"
    APPROVED = "APPROVED"
    DISBURSED = "DISBURSED"
    PARTIALLY_SETTLED = "PARTIALLY_SETTLED"
    SETTLED = "SETTLED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"
    WRITTEN_OFF = "WRITTEN_OFF"


@strawberry.enum
class Decision(Enum):
    APPROVE = "APPROVE"
    REJECT = "REJECT"


@strawberry.enum
class ReimbursementStatus(Enum):
    PENDING_APPROVAL = "PENDING_APPROVAL"
    APPROVED = "APPROVED"
    PAID = "PAID"
    REJECTED = "REJECTED"


@strawberry.enum
class OffboardingStatus(Enum):
    CLEARANCE_PENDING = "CLEARANCE_PENDING"
    CLEARED = "CLEARED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


@strawberry.enum
class SettlementMethod(Enum):
    CASH_RETURN = "CASH_RETURN"
    SALARY_DEDUCTION = "SALARY_DEDUCTION"
    WRITE_OFF = "WRITE_OFF"


@strawberry.enum(description="What a write-off proposal would write once an ADMIN approves it.")
class WriteOffProposalKind(Enum):
    WRITE_OFF = "WRITE_OFF"
    REVERSAL = "REVERSAL"


@strawberry.enum
class WriteOffProposalStatus(Enum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


@strawberry.enum
class AlertKind(Enum):
    LARGE_LOAN_NO_BUSINESS = "LARGE_LOAN_NO_BUSINESS"
    OVERDUE = "OVERDUE"
    POSITION_OVERDUE_RATE = "POSITION_OVERDUE_RATE"
    FREQUENT_BORROWING = "FREQUENT_BORROWING"
    OFFBOARDING_OUTSTANDING = "OFFBOARDING_OUTSTANDING"
    MISSING_VOUCHERS = "MISSING_VOUCHERS"


@strawberry.enum
class Severity(Enum):
    INFO = "INFO"
    WARNING = "WARNING"
    CRITICAL = "CRITICAL"


@strawberry.enum
class JobState(Enum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"
