"""The contract's enums, built from the one vocabulary in server/domain/vocab.py (values = database names)."""

import strawberry

from server.domain import vocab

Role = strawberry.enum(vocab.Role, name="Role")
EmployeeStatus = strawberry.enum(vocab.EmployeeStatus, name="EmployeeStatus")
LoanPurpose = strawberry.enum(vocab.LoanPurpose, name="LoanPurpose")
LoanStatus = strawberry.enum(vocab.LoanStatus, name="LoanStatus")
Decision = strawberry.enum(vocab.Decision, name="Decision")
ReimbursementStatus = strawberry.enum(vocab.ReimbursementStatus, name="ReimbursementStatus")
OffboardingStatus = strawberry.enum(vocab.OffboardingStatus, name="OffboardingStatus")
SettlementMethod = strawberry.enum(vocab.SettlementMethod, name="SettlementMethod")
DisbursementMethod = strawberry.enum(vocab.DisbursementMethod, name="DisbursementMethod",
                                     description="How a loan's money went out.")
WriteOffProposalKind = strawberry.enum(
    vocab.WriteOffProposalKind, name="WriteOffProposalKind",
    description="What a write-off proposal would write once an ADMIN approves it.",
)
WriteOffProposalStatus = strawberry.enum(vocab.WriteOffProposalStatus, name="WriteOffProposalStatus")
AlertKind = strawberry.enum(vocab.AlertKind, name="AlertKind")
Severity = strawberry.enum(vocab.Severity, name="Severity")
JobState = strawberry.enum(vocab.JobState, name="JobState")
ImportKind = strawberry.enum(vocab.ImportKind, name="ImportKind")
Dimension = strawberry.enum(vocab.Dimension, name="Dimension")
