"""Outgoing webhooks: endpoints, the events they announce (an outbox), and each delivery attempt's log."""

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model


class WebhookEndpoint(Model):
    """A receiver's URL. `secret` signs every request, and it never leaves the server after creation
    (the API and pages show it masked)."""

    id = fields.IntField(primary_key=True)
    url = fields.CharField(max_length=500)
    secret = fields.CharField(max_length=100)
    # The event types it receives; empty means every type.
    events = fields.JSONField(default=list)
    enabled = fields.BooleanField(default=True)
    description = fields.CharField(max_length=200, default="")
    created_by = fields.ForeignKeyField("models.User", related_name="webhook_endpoints", null=True,
                                        on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "webhook_endpoint"
        indexes = (Index(fields=("created_by_id",)),)


class WebhookEvent(Model):
    """One announced change. `id` is the UUID a receiver de-duplicates by (at-least-once delivery)."""

    id = fields.UUIDField(primary_key=True)
    type = fields.CharField(max_length=40, db_index=True)
    payload = fields.JSONField()
    # The audit entry it was read from (one event per entry; null for events emitted directly).
    audit_entry_id = fields.BigIntField(null=True, unique=True)
    created_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "webhook_event"


class WebhookDelivery(Model):
    """One event to one endpoint: its attempts so far and what the last one got back. A replay is a
    new delivery of the same event, so the log keeps every earlier one."""

    id = fields.BigIntField(primary_key=True)
    endpoint = fields.ForeignKeyField("models.WebhookEndpoint", related_name="deliveries", on_delete=fields.CASCADE)
    event = fields.ForeignKeyField("models.WebhookEvent", related_name="deliveries", on_delete=fields.CASCADE)
    status = fields.CharField(max_length=10)
    attempts = fields.IntField(default=0)
    last_status_code = fields.IntField(null=True)
    last_error = fields.TextField(null=True)
    last_attempt_at = fields.DatetimeField(null=True)
    next_attempt_at = fields.DatetimeField(null=True)
    delivered_at = fields.DatetimeField(null=True)
    replay_of = fields.ForeignKeyField("models.WebhookDelivery", related_name="replays", null=True,
                                       on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField()

    class Meta:
        table = "webhook_delivery"
        # The delivery log pages newest first, per endpoint and per status; the sweep finds due ones.
        indexes = (
            Index(fields=("endpoint_id", "created_at", "id")),
            Index(fields=("event_id",)),
            Index(fields=("status", "next_attempt_at")),
            Index(fields=("created_at", "id")),
            Index(fields=("replay_of_id",)),
        )
