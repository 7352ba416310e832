"""The contract's enums are the domain vocabulary's: one definition."""

from __future__ import annotations

from server.domain import vocab


def test_the_contract_enums_are_the_domain_enums():
    from schema.types import enums

    for name in ("Role", "EmployeeStatus", "LoanPurpose", "LoanStatus", "Decision", "ReimbursementStatus",
                 "OffboardingStatus", "SettlementMethod", "WriteOffProposalKind", "WriteOffProposalStatus",
                 "AlertKind", "Severity", "JobState"):
        assert getattr(enums, name) is getattr(vocab, name), name
