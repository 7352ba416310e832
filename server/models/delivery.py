"""Where alerts and notifications go beyond the app: channels (a mailbox, chat robots) and each delivery."""

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model


class Channel(Model):
    """A destination configured by ADMIN. `target` is the robot's webhook URL (DingTalk, Feishu), its
    key or URL (WeCom) or a mailbox address (EMAIL); `secret` the robot's signing secret. Both stay
    server-side: the schema and the page show them masked."""

    id = fields.IntField(primary_key=True)
    kind = fields.CharField(max_length=16)
    name = fields.CharField(max_length=100)
    target = fields.CharField(max_length=500)
    secret = fields.CharField(max_length=200, null=True)
    enabled = fields.BooleanField(default=True)
    digest_minutes = fields.IntField(default=15)
    # Group chats are read by many: names and amounts only when this is on.
    include_details = fields.BooleanField(default=False)
    # Alerts up to this id were raised before the channel existed: its digests start after them.
    start_alert_id = fields.IntField(default=0)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()
    created_by = fields.ForeignKeyField("models.User", related_name="channels_created", null=True,
                                        on_delete=fields.SET_NULL)
    updated_by = fields.ForeignKeyField("models.User", related_name="channels_updated", null=True,
                                        on_delete=fields.SET_NULL)

    class Meta:
        table = "channel"
        indexes = (
            Index(fields=('created_by_id',)),
            Index(fields=('updated_by_id',)),
        )


class Delivery(Model):
    """One message to send: a notification e-mailed to its user, a digest or the audit head to a channel.

    `dedupe_key` makes every producer idempotent: `n:<notification>` (a notification is e-mailed
    once), `d:<channel>:<first alert item>` (a digest), `a:<job>:c<channel>` / `a:<job>:u<user>`."""

    id = fields.IntField(primary_key=True)
    kind = fields.CharField(max_length=16)
    dedupe_key = fields.CharField(max_length=200, unique=True)
    channel = fields.ForeignKeyField("models.Channel", related_name="deliveries", null=True,
                                     on_delete=fields.SET_NULL)
    user = fields.ForeignKeyField("models.User", related_name="deliveries", null=True, on_delete=fields.CASCADE)
    address = fields.CharField(max_length=200, null=True)  # the e-mail address when it was created
    notification = fields.ForeignKeyField("models.Notification", related_name="deliveries", null=True,
                                          on_delete=fields.CASCADE)
    payload = fields.JSONField(null=True)  # AUDIT: the verification result
    status = fields.CharField(max_length=10, default="PENDING")
    attempts = fields.IntField(default=0)
    last_error = fields.TextField(null=True)
    created_at = fields.DatetimeField()
    last_attempt_at = fields.DatetimeField(null=True)
    # When it was last handed to the queue: the collector hands over only what is not (or long not) queued.
    queued_at = fields.DatetimeField(null=True)
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "delivery"
        indexes = (
            Index(fields=('created_at', 'id')),  # the settings page's list, newest first
            Index(fields=('status', 'queued_at', 'id')),  # pending rows to hand to the queue
            Index(fields=('channel_id', 'last_attempt_at')),  # the robot's rate over the last minute
            Index(fields=('user_id',)),
            Index(fields=('notification_id',)),
        )


class DigestItem(Model):
    """An alert waiting for (or carried by) a channel's digest: unique per channel and alert, so an
    alert goes into exactly one digest per channel."""

    id = fields.IntField(primary_key=True)
    channel = fields.ForeignKeyField("models.Channel", related_name="digest_items", on_delete=fields.CASCADE)
    alert = fields.ForeignKeyField("models.Alert", related_name="digest_items", on_delete=fields.CASCADE)
    delivery = fields.ForeignKeyField("models.Delivery", related_name="items", null=True, on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField()

    class Meta:
        table = "digest_item"
        unique_together = (("channel", "alert"),)
        indexes = (
            Index(fields=('alert_id',)),
            Index(fields=('delivery_id',)),
            Index(fields=('channel_id', 'delivery_id')),  # a channel's unassigned items
        )


class DeliveryMark(Model):
    """How far the collector has read a source table (notification, alert): its watermark."""

    name = fields.CharField(max_length=32, primary_key=True)
    last_id = fields.IntField(default=0)

    class Meta:
        table = "delivery_mark"
