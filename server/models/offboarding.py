from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model


class Offboarding(Model):
    id = fields.IntField(primary_key=True)
    employee = fields.ForeignKeyField("models.Employee", related_name="offboardings", on_delete=fields.RESTRICT)
    status = fields.CharField(max_length=20, db_index=True)
    last_working_day = fields.DateField()
    reason = fields.TextField(null=True)
    started_by = fields.ForeignKeyField("models.User", related_name="offboardings_started", null=True,
                                        on_delete=fields.SET_NULL)
    cleared_by = fields.ForeignKeyField("models.Employee", related_name="clearances", null=True,
                                        on_delete=fields.SET_NULL)
    cleared_by_user = fields.ForeignKeyField("models.User", related_name="clearances", null=True,
                                             on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField()
    cleared_at = fields.DatetimeField(null=True)
    completed_at = fields.DatetimeField(null=True)
    cancelled_at = fields.DatetimeField(null=True)

    class Meta:
        table = "offboarding"
        # Every foreign key and every list's order and filters (issue 9; tests/scale/test_explain.py).
        indexes = (
            Index(fields=('employee_id',)),
            Index(fields=('created_at', 'id')),
            Index(fields=('status', 'created_at', 'id')),
            Index(fields=('started_by_id',)),
            Index(fields=('cleared_by_id',)),
            Index(fields=('cleared_by_user_id',)),
        )


class CertificateCode(Model):
    """The 离职清款证明's verification code: random and unguessable, unlike the sequential number (0008)."""

    id = fields.IntField(primary_key=True)
    offboarding = fields.OneToOneField("models.Offboarding", related_name="certificate_code", on_delete=fields.CASCADE)
    code = fields.CharField(max_length=32, unique=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "certificate_code"
