from tortoise import fields
from tortoise.models import Model


class Sequence(Model):
    """Per-prefix, per-year counters for human-readable numbers (JK-2026-000123)."""

    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=32, unique=True)
    value = fields.BigIntField(default=0)

    class Meta:
        table = "number_sequence"
