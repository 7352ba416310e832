from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model


class Alert(Model):
    id = fields.IntField(primary_key=True)
    kind = fields.CharField(max_length=32, db_index=True)
    severity = fields.CharField(max_length=10)
    message = fields.TextField()  # the zh-CN text (rows before 0007 have only this)
    message_data = fields.JSONField(null=True)  # {"id": msgid, "params": {...}}: shown in the reader's language
    employee = fields.ForeignKeyField("models.Employee", related_name="alerts", null=True, on_delete=fields.CASCADE)
    loan = fields.ForeignKeyField("models.Loan", related_name="alerts", null=True, on_delete=fields.CASCADE)
    position = fields.ForeignKeyField("models.Position", related_name="alerts", null=True, on_delete=fields.CASCADE)
    # Unique per rule, subject and period: re-running a rule never duplicates an alert.
    dedupe_key = fields.CharField(max_length=200, unique=True)
    created_at = fields.DatetimeField()
    resolved_at = fields.DatetimeField(null=True)
    resolved_by = fields.ForeignKeyField("models.User", related_name="alerts_resolved", null=True,
                                         on_delete=fields.SET_NULL)
    resolution_note = fields.TextField(null=True)
    # Issue 11 (risk engine): the region × purpose of a MISSING_VOUCHERS alert; the pause of an OVERDUE
    # alert's reminders after a resolution by hand; whether the system closed it (a reversal reopens it);
    # the subject's score when raised, with the scorecard version that computed it.
    region = fields.ForeignKeyField("models.Region", related_name="alerts", null=True, on_delete=fields.CASCADE)
    purpose = fields.CharField(max_length=20, null=True)
    paused_until = fields.DateField(null=True)
    auto_resolved = fields.BooleanField(default=False, null=True)  # nullable: bulk loaders that predate it
    score = fields.IntField(null=True)
    scorecard_version = fields.CharField(max_length=20, null=True)

    class Meta:
        table = "alert"
        # Every foreign key and every list's order and filters (issue 9; tests/scale/test_explain.py).
        indexes = (
            Index(fields=('employee_id', 'created_at', 'id')),
            Index(fields=('loan_id',)),
            Index(fields=('position_id',)),
            Index(fields=('resolved_by_id',)),
            Index(fields=('created_at', 'id')),
            Index(fields=('resolved_at', 'created_at', 'id')),  # unresolved, newest first
            Index(fields=('region_id',)),
            Index(fields=('kind', 'resolved_at', 'created_at', 'id')),  # the 风险预警 page by kind
        )


class AlertRecipient(Model):
    id = fields.IntField(primary_key=True)
    alert = fields.ForeignKeyField("models.Alert", related_name="recipient_links", on_delete=fields.CASCADE)
    employee = fields.ForeignKeyField("models.Employee", related_name="alert_links", on_delete=fields.CASCADE)

    class Meta:
        table = "alert_recipient"
        # Every foreign key and every list's order and filters (issue 9; tests/scale/test_explain.py).
        indexes = (
            Index(fields=('employee_id',)),
        )
        unique_together = (("alert", "employee"),)


class Notification(Model):
    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("models.User", related_name="notifications", on_delete=fields.CASCADE)
    title = fields.CharField(max_length=200)
    body = fields.TextField()
    # The message ids and parameters of title and body, rendered in the reader's language (0007).
    title_data = fields.JSONField(null=True)
    body_data = fields.JSONField(null=True)
    alert = fields.ForeignKeyField("models.Alert", related_name="notifications", null=True, on_delete=fields.CASCADE)
    created_at = fields.DatetimeField()
    read_at = fields.DatetimeField(null=True, db_index=True)
    # The object the notification is about: a page path such as /loans/12 (0008).
    link = fields.CharField(max_length=300, null=True)

    class Meta:
        table = "notification"
        # Every foreign key and every list's order and filters (issue 9; tests/scale/test_explain.py).
        indexes = (
            Index(fields=('user_id', 'created_at', 'id')),
            Index(fields=('alert_id',)),
        )


class SettleReminder(Model):
    """One reminder per loan and expected settle date: the daily job's re-runs write nothing (0008)."""

    id = fields.IntField(primary_key=True)
    loan = fields.ForeignKeyField("models.Loan", related_name="settle_reminders", on_delete=fields.CASCADE)
    due_on = fields.DateField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "settle_reminder"
        unique_together = (("loan", "due_on"),)
class AlertReminder(Model):
    """The last reminder one recipient got for one alert: the check-and-set that keeps a repeated or
    concurrent scan from reminding twice within an interval (unique per alert and employee)."""

    id = fields.IntField(primary_key=True)
    alert = fields.ForeignKeyField("models.Alert", related_name="reminders", on_delete=fields.CASCADE)
    employee = fields.ForeignKeyField("models.Employee", related_name="alert_reminders", on_delete=fields.CASCADE)
    last_reminded_on = fields.DateField()
    count = fields.IntField(default=1)

    class Meta:
        table = "alert_reminder"
        indexes = (
            Index(fields=('employee_id',)),
        )
        unique_together = (("alert", "employee"),)
