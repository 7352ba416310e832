from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model


class ApproverDeputy(Model):
    """A deputy named by an approver for a period (issue 12): the SUPERVISOR steps of the approver go to
    the deputy while it runs (never applications of the deputy) and come back when it ends or is cleared."""

    id = fields.IntField(primary_key=True)
    approver = fields.ForeignKeyField("models.Employee", related_name="deputies", on_delete=fields.CASCADE)
    deputy = fields.ForeignKeyField("models.Employee", related_name="deputy_for", on_delete=fields.CASCADE)
    starts_on = fields.DateField()
    ends_on = fields.DateField()
    created_by = fields.ForeignKeyField("models.User", related_name="deputies_named", null=True,
                                        on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField()
    cleared_at = fields.DatetimeField(null=True)  # ended early by clearDeputy (or replaced by a new one)

    class Meta:
        table = "approver_deputy"
        indexes = (
            Index(fields=("approver_id", "ends_on")),
            Index(fields=("deputy_id",)),
            Index(fields=("created_by_id",)),
        )


class LoanExtension(Model):
    """A settle-date extension (issue 12): the borrower asks to move the expected settle date of a loan and
    the approval chain of the loan decides (ApprovalStep.extension); approved, the date moves."""

    id = fields.IntField(primary_key=True)
    loan = fields.ForeignKeyField("models.Loan", related_name="extensions", on_delete=fields.CASCADE)
    employee = fields.ForeignKeyField("models.Employee", related_name="loan_extensions", on_delete=fields.RESTRICT)
    previous_date = fields.DateField()
    requested_date = fields.DateField()
    reason = fields.TextField()
    status = fields.CharField(max_length=20, db_index=True)  # PENDING_APPROVAL, APPROVED, REJECTED
    requested_by = fields.ForeignKeyField("models.User", related_name="loan_extensions", null=True,
                                          on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField()
    decided_at = fields.DatetimeField(null=True)

    class Meta:
        table = "loan_extension"
        indexes = (
            Index(fields=("loan_id", "created_at", "id")),
            Index(fields=("employee_id",)),
            Index(fields=("requested_by_id",)),
            Index(fields=("created_at", "id")),
        )
