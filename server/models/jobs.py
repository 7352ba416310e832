from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model


class Job(Model):
    """A background job's progress as clients see it (the contract's Job)."""

    id = fields.CharField(max_length=64, primary_key=True)
    kind = fields.CharField(max_length=40)
    state = fields.CharField(max_length=10, default="QUEUED")
    progress = fields.FloatField(default=0.0)
    error = fields.TextField(null=True)
    result = fields.JSONField(null=True)
    created_by = fields.ForeignKeyField("models.User", related_name="jobs", null=True, on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "job"
        # Every foreign key and every list's order and filters (issue 9; tests/scale/test_explain.py).
        indexes = (
            Index(fields=('created_by_id',)),
        )
