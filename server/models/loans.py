from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model


class Loan(Model):
    id = fields.IntField(primary_key=True)
    number = fields.CharField(max_length=32, unique=True)
    employee = fields.ForeignKeyField("models.Employee", related_name="loans", on_delete=fields.RESTRICT)
    amount_fen = fields.BigIntField()
    purpose = fields.CharField(max_length=20)
    description = fields.TextField()
    expected_settle_date = fields.DateField()
    # Derived: before disbursement from the approval chain, afterwards from the ledger
    # (recomputed in the same transaction as every ledger entry; see services/loans.py).
    status = fields.CharField(max_length=20, db_index=True)
    rejection_reason = fields.TextField(null=True)  # the zh-CN text (rows before 0007 have only this)
    rejection_message = fields.JSONField(null=True)  # {"id": msgid, "params": {...}}: shown in the reader's language
    applied_on = fields.DateField()  # company-local date, for monthly limits
    created_at = fields.DatetimeField()
    decided_at = fields.DatetimeField(null=True)
    disbursed_at = fields.DatetimeField(null=True)
    settled_at = fields.DatetimeField(null=True)
    cancelled_at = fields.DatetimeField(null=True)

    class Meta:
        table = "loan"
        # Every foreign key and every list's order and filters (issue 9; tests/scale/test_explain.py).
        indexes = (
            Index(fields=('created_at', 'id')),
            Index(fields=('employee_id', 'created_at', 'id')),
            Index(fields=('status', 'created_at', 'id')),
            Index(fields=('status', 'expected_settle_date', 'id')),
            Index(fields=('disbursed_at',)),  # analytics: loans disbursed in a range (issue 13)
        )


class LedgerEntry(Model):
    """Append-only (only ever inserted). delta_fen: + for the disbursement, - for offsets and
    settlements; a REVERSAL carries the negation of the entry it points at (at most one each)."""

    id = fields.IntField(primary_key=True)
    loan = fields.ForeignKeyField("models.Loan", related_name="ledger", on_delete=fields.RESTRICT)
    kind = fields.CharField(max_length=20)
    delta_fen = fields.BigIntField()
    reimbursement = fields.ForeignKeyField(
        "models.Reimbursement", related_name="ledger_entries", null=True, on_delete=fields.RESTRICT
    )
    reference = fields.CharField(max_length=100, null=True)
    note = fields.TextField(null=True)
    recorded_by = fields.ForeignKeyField("models.User", related_name="ledger_entries", null=True,
                                         on_delete=fields.SET_NULL)
    recorded_at = fields.DatetimeField()
    # A DISBURSEMENT's record of how and when the money went out (vocab.DisbursementMethod; the
    # bank's transaction number is `reference`); null for other kinds and for rows before 0016.
    method = fields.CharField(max_length=20, null=True)
    paid_on = fields.DateField(null=True)
    # At most one reversal per entry: checked under the loan's employee lock (services/corrections.py).
    reverses = fields.ForeignKeyField("models.LedgerEntry", related_name="reversals", null=True,
                                      on_delete=fields.RESTRICT)

    class Meta:
        table = "ledger_entry"
        # Every foreign key and every list's order and filters (issue 9; tests/scale/test_explain.py).
        indexes = (
            Index(fields=('loan_id', 'recorded_at', 'id')),
            Index(fields=('reimbursement_id',)),
            Index(fields=('recorded_by_id',)),
        )


class WriteOffProposal(Model):
    """A write-off (or the reversal of one) waiting for a second person: FINANCE proposes, an ADMIN
    decides. The ledger is written only on approval. One PENDING proposal per loan at a time."""

    id = fields.IntField(primary_key=True)
    loan = fields.ForeignKeyField("models.Loan", related_name="write_off_proposals", on_delete=fields.RESTRICT)
    # WRITE_OFF: take amount off the loan; REVERSAL: undo the write-off entry `reverses`.
    kind = fields.CharField(max_length=20)
    reverses = fields.ForeignKeyField("models.LedgerEntry", related_name="reversal_proposals", null=True,
                                      on_delete=fields.RESTRICT)
    amount_fen = fields.BigIntField()
    reason = fields.TextField()
    status = fields.CharField(max_length=12, db_index=True)  # PENDING, APPROVED, REJECTED
    proposed_by = fields.ForeignKeyField("models.User", related_name="write_off_proposals", null=True,
                                         on_delete=fields.SET_NULL)
    proposer_employee = fields.ForeignKeyField("models.Employee", related_name="write_off_proposals",
                                               null=True, on_delete=fields.SET_NULL)
    proposed_at = fields.DatetimeField()
    decided_by = fields.ForeignKeyField("models.User", related_name="write_off_decisions", null=True,
                                        on_delete=fields.SET_NULL)
    decided_at = fields.DatetimeField(null=True)
    comment = fields.TextField(null=True)
    entry = fields.ForeignKeyField("models.LedgerEntry", related_name="write_off_approvals", null=True,
                                   on_delete=fields.RESTRICT)

    class Meta:
        table = "write_off_proposal"


class ApprovalStep(Model):
    id = fields.IntField(primary_key=True)
    loan = fields.ForeignKeyField("models.Loan", related_name="approvals", null=True, on_delete=fields.CASCADE)
    reimbursement = fields.ForeignKeyField(
        "models.Reimbursement", related_name="approvals", null=True, on_delete=fields.CASCADE
    )
    order = fields.IntField()
    role = fields.CharField(max_length=16)
    # For SUPERVISOR steps fixed at creation; for role steps whoever decided.
    approver = fields.ForeignKeyField("models.Employee", related_name="approval_steps", null=True,
                                      on_delete=fields.SET_NULL)
    decided_by = fields.ForeignKeyField("models.User", related_name="decisions", null=True,
                                        on_delete=fields.SET_NULL)
    decision = fields.CharField(max_length=8, null=True)
    comment = fields.TextField(null=True)
    decided_at = fields.DatetimeField(null=True)
    skipped = fields.BooleanField(default=False)
    # True for the step waiting for a decision: lets the inbox be one indexed query.
    is_current = fields.BooleanField(default=False, db_index=True)
    # Issue 12: a settle-date extension's chain (LoanExtension) uses the same steps.
    extension = fields.ForeignKeyField("models.LoanExtension", related_name="approvals", null=True,
                                       on_delete=fields.CASCADE)
    # A SUPERVISOR step handed to the approver's deputy: whose step it is (it goes back when the deputy ends).
    delegated_from = fields.ForeignKeyField("models.Employee", related_name="delegated_steps", null=True,
                                            on_delete=fields.SET_NULL)

    class Meta:
        table = "approval_step"
        # Every foreign key and every list's order and filters (issue 9; tests/scale/test_explain.py).
        indexes = (
            Index(fields=('loan_id', 'order')),
            Index(fields=('reimbursement_id', 'order')),
            Index(fields=('approver_id',)),
            # "not already decided by me" in the inbox reads these without the table (an index-only scan:
            # a finance clerk with 20,000 decisions paid 260 ms of heap reads per inbox page at 1M loans).
            Index(fields=('decided_by_id', 'loan_id')),
            Index(fields=('decided_by_id', 'reimbursement_id')),
            Index(fields=('is_current', 'role')),
            Index(fields=('extension_id', 'order')),
            Index(fields=('delegated_from_id',)),
        )
