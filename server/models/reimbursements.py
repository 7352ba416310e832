from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from server.domain.vocab import OffsetState


class Reimbursement(Model):
    id = fields.IntField(primary_key=True)
    number = fields.CharField(max_length=32, unique=True)
    employee = fields.ForeignKeyField("models.Employee", related_name="reimbursements", on_delete=fields.RESTRICT)
    status = fields.CharField(max_length=20, db_index=True)
    total_fen = fields.BigIntField()
    created_at = fields.DatetimeField()
    decided_at = fields.DatetimeField(null=True)
    paid_at = fields.DatetimeField(null=True)

    class Meta:
        table = "reimbursement"
        # Every foreign key and every list's order and filters (issue 9; tests/scale/test_explain.py).
        indexes = (
            Index(fields=('created_at', 'id')),
            Index(fields=('employee_id', 'created_at', 'id')),
            Index(fields=('status', 'created_at', 'id')),
        )


class ExpenseLine(Model):
    id = fields.IntField(primary_key=True)
    reimbursement = fields.ForeignKeyField("models.Reimbursement", related_name="lines", on_delete=fields.CASCADE)
    order = fields.IntField()
    category = fields.CharField(max_length=20)
    amount_fen = fields.BigIntField()
    incurred_on = fields.DateField()
    invoice_no = fields.CharField(max_length=64, null=True, db_index=True)
    description = fields.TextField(null=True)

    class Meta:
        table = "expense_line"
        # Every foreign key and every list's order and filters (issue 9; tests/scale/test_explain.py).
        indexes = (
            Index(fields=('reimbursement_id', 'order', 'id')),
        )


class ReimbursementOffset(Model):
    """An offset reserved at submission, applied (a ledger entry) at approval, released on rejection."""

    id = fields.IntField(primary_key=True)
    reimbursement = fields.ForeignKeyField("models.Reimbursement", related_name="offsets", on_delete=fields.CASCADE)
    loan = fields.ForeignKeyField("models.Loan", related_name="offsets", on_delete=fields.RESTRICT)
    amount_fen = fields.BigIntField()
    state = fields.CharField(max_length=10, default=OffsetState.RESERVED, db_index=True)

    class Meta:
        table = "reimbursement_offset"
        # Every foreign key and every list's order and filters (issue 9; tests/scale/test_explain.py).
        indexes = (
            Index(fields=('reimbursement_id',)),
            Index(fields=('loan_id',)),
        )
