"""The one vocabulary: every value labelled, derived sets inside their enum, the contract's enums built from it."""

from __future__ import annotations

from server.domain import ledger, quota, roles, vocab


def test_every_value_of_a_labelled_vocabulary_has_a_zh_cn_label():
    labelled = {
        "purpose": vocab.LoanPurpose, "role": vocab.Role, "entry": vocab.EntryKind, "decision": vocab.Decision,
        "severity": vocab.Severity, "alert_kind": vocab.AlertKind,
    }
    for name, enum in labelled.items():
        for value in enum:
            assert vocab.label(name, value) != value.value, (name, value)
    for enum in (vocab.LoanStatus, vocab.ReimbursementStatus, vocab.EmployeeStatus):
        for value in enum:
            assert vocab.label("status", value) != value.value, value
    assert vocab.label("status", "SOMETHING_NEW") == "SOMETHING_NEW"


def test_derived_sets_are_made_of_their_enum():
    assert vocab.OPEN_STATUSES < vocab.LEDGER_STATUSES <= set(vocab.LoanStatus)
    assert vocab.CLOSED_LOAN_STATUSES == vocab.LEDGER_STATUSES - vocab.OPEN_STATUSES
    assert vocab.COMMITTING_STATUSES == vocab.CANCELLABLE_LOAN_STATUSES | vocab.OPEN_STATUSES
    assert not vocab.CANCELLABLE_LOAN_STATUSES & vocab.LEDGER_STATUSES
    assert vocab.OPEN_OFFBOARDING_STATUSES < set(vocab.OffboardingStatus)
    assert {m.value for m in vocab.SettlementMethod} == {k.value for k in vocab.SETTLEMENT_KINDS}
    assert vocab.BASIC_ROLES | vocab.PRIVILEGED_ROLES == set(vocab.Role)


def test_older_names_are_the_vocabulary():
    assert ledger.OPEN_STATUSES is vocab.OPEN_STATUSES and ledger.WRITE_OFF is vocab.EntryKind.WRITE_OFF
    assert quota.RESERVING_STATUSES is vocab.CANCELLABLE_LOAN_STATUSES
    assert roles.FINANCE is vocab.Role.FINANCE and roles.ALL_ROLES == tuple(vocab.Role)
    # Values are the stored and contract strings: a member equals its string.
    assert vocab.LoanStatus.DISBURSED == "DISBURSED" and f"{vocab.Role.HR}" == "HR"

