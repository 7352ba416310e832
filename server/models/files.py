from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model


class Attachment(Model):
    """An uploaded file, stored content-addressed by sha256 under DATA_DIR/uploads."""

    id = fields.IntField(primary_key=True)
    sha256 = fields.CharField(max_length=64, db_index=True)
    filename = fields.CharField(max_length=255)
    content_type = fields.CharField(max_length=100)
    size = fields.IntField()
    uploaded_by = fields.ForeignKeyField("models.User", related_name="uploads", null=True, on_delete=fields.SET_NULL)
    loan = fields.ForeignKeyField("models.Loan", related_name="attachments", null=True, on_delete=fields.CASCADE)
    expense_line = fields.ForeignKeyField(
        "models.ExpenseLine", related_name="vouchers", null=True, on_delete=fields.CASCADE
    )
    # A receipt or payslip behind a settlement (settleLoan attachments).
    ledger_entry = fields.ForeignKeyField(
        "models.LedgerEntry", related_name="attachments", null=True, on_delete=fields.RESTRICT
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "attachment"
        # Every foreign key and every list's order and filters (issue 9; tests/scale/test_explain.py).
        indexes = (
            Index(fields=('loan_id',)),
            Index(fields=('expense_line_id',)),
            Index(fields=('uploaded_by_id',)),
            Index(fields=('ledger_entry_id',)),
        )
