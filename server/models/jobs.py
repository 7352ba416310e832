from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from server.domain.vocab import JobState


class Job(Model):
    """A background job's progress as clients see it (the contract's Job)."""

    id = fields.CharField(max_length=64, primary_key=True)
    kind = fields.CharField(max_length=40)
    state = fields.CharField(max_length=10, default=JobState.QUEUED)
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


class OutboxJob(Model):
    """A job to hand to the queue, written in the transaction that requested it (the outbox).

    The relay enqueues it under its deterministic `job_id` and sets `sent_at`; while Redis is down it
    stays unsent and a later sweep hands it over, once.
    """

    id = fields.BigIntField(primary_key=True)
    job_id = fields.CharField(max_length=64, unique=True)
    function = fields.CharField(max_length=100)
    args = fields.JSONField(default=list)
    kwargs = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True, db_index=True)
    attempts = fields.IntField(default=0)
    last_error = fields.TextField(null=True)

    class Meta:
        table = "job_outbox"
