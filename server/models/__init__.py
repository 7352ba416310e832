"""Tortoise models and nothing else. Money columns are integer fen (BigInt)."""

from server.models.alerts import Alert, AlertRecipient, AlertReminder, Notification
from server.models.audit import AuditAnchor, AuditEntry
from server.models.auth import ApiToken, LoginCounter, Session, User
from server.models.company import CompanySetting
from server.models.files import Attachment
from server.models.jobs import Job, OutboxJob
from server.models.loans import ApprovalStep, LedgerEntry, Loan, WriteOffProposal
from server.models.offboarding import Offboarding
from server.models.org import BusinessRecord, Department, Employee, Position, Region
from server.models.reimbursements import ExpenseLine, Reimbursement, ReimbursementOffset
from server.models.sequences import Sequence

__all__ = [
    "Alert", "AlertRecipient", "ApiToken", "AuditAnchor", "ApprovalStep", "Attachment", "AuditEntry", "BusinessRecord",
    "CompanySetting",
    "Department", "Employee", "ExpenseLine", "Job", "LedgerEntry", "Loan", "LoginCounter", "Notification",
    "Offboarding", "OutboxJob", "Position", "Region", "Reimbursement", "ReimbursementOffset", "Sequence", "Session", "User",
    "WriteOffProposal",
]
__all__ += ["AlertReminder"]
