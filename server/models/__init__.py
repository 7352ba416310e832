"""Tortoise models and nothing else. Money columns are integer fen (BigInt)."""

from server.models.alerts import Alert, AlertRecipient, Notification
from server.models.audit import AuditEntry
from server.models.auth import ApiToken, LoginThrottle, Session, User
from server.models.files import Attachment
from server.models.jobs import Job
from server.models.loans import ApprovalStep, LedgerEntry, Loan, WriteOffProposal
from server.models.offboarding import Offboarding
from server.models.org import BusinessRecord, Department, Employee, Position, Region
from server.models.reimbursements import ExpenseLine, Reimbursement, ReimbursementOffset
from server.models.sequences import Sequence

__all__ = [
    "Alert", "AlertRecipient", "ApiToken", "ApprovalStep", "Attachment", "AuditEntry", "BusinessRecord",
    "Department", "Employee", "ExpenseLine", "Job", "LedgerEntry", "Loan", "LoginThrottle", "Notification",
    "Offboarding", "Position", "Region", "Reimbursement", "ReimbursementOffset", "Sequence", "Session", "User",
    "WriteOffProposal",
]
