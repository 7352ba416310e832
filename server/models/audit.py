from tortoise import fields
from tortoise.models import Model


class AuditEntry(Model):
    """Append-only, hash-chained: `hash` covers the entry's content and `prev_hash`."""

    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField()
    actor_user_id = fields.IntField(null=True)
    actor = fields.CharField(max_length=64)
    action = fields.CharField(max_length=64, db_index=True)
    object_type = fields.CharField(max_length=40, db_index=True)
    object_id = fields.CharField(max_length=40, db_index=True)
    before = fields.JSONField(null=True)
    after = fields.JSONField(null=True)
    request_id = fields.CharField(max_length=64, null=True)
    prev_hash = fields.CharField(max_length=64)
    hash = fields.CharField(max_length=64, unique=True)

    class Meta:
        table = "audit_entry"
