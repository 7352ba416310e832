"""Tortoise models and nothing else. Money columns are integer fen (BigInt)."""

from server.models.alerts import Alert, AlertRecipient, AlertReminder, Notification, SettleReminder
from server.models.approvals import ApproverDeputy, LoanExtension
from server.models.audit import AuditAnchor, AuditEntry
from server.models.auth import ApiToken, LoginCounter, Session, User
from server.models.company import CompanySetting
from server.models.delivery import Channel, Delivery, DeliveryMark, DigestItem
from server.models.evidence import EvidencePackage
from server.models.files import Attachment
from server.models.imports import IdempotencyKey, ImportedLoan, ImportReport, PasswordToken
from server.models.jobs import Job, OutboxJob
from server.models.loans import ApprovalStep, LedgerEntry, Loan, WriteOffProposal
from server.models.offboarding import CertificateCode, Offboarding
from server.models.org import BusinessRecord, Department, Employee, Position, Region
from server.models.payees import DeductionConsent, PayeeAccount
from server.models.reimbursements import ExpenseLine, Reimbursement, ReimbursementOffset
from server.models.reports import RiskReport
from server.models.sequences import Sequence
from server.models.webhooks import WebhookDelivery, WebhookEndpoint, WebhookEvent

__all__ = [
    "Alert", "AlertRecipient", "ApiToken", "AuditAnchor", "ApprovalStep", "Attachment", "AuditEntry", "BusinessRecord",
    "CompanySetting", "EvidencePackage",
    "Department", "Employee", "ExpenseLine", "Job", "LedgerEntry", "Loan", "LoginCounter", "Notification",
    "Offboarding", "OutboxJob", "Position", "Region", "Reimbursement", "ReimbursementOffset", "Sequence", "Session", "User",
    "WriteOffProposal",
]
__all__ += ["Channel", "Delivery", "DeliveryMark", "DigestItem"]
__all__ += ["IdempotencyKey", "ImportReport", "ImportedLoan", "PasswordToken"]
__all__ += ["RiskReport"]
__all__ += ["DeductionConsent", "PayeeAccount", "WebhookDelivery", "WebhookEndpoint", "WebhookEvent"]

__all__ += ["CertificateCode", "SettleReminder"]
__all__ += ["AlertReminder"]
__all__ += ["ApproverDeputy", "LoanExtension"]
