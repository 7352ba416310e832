from tortoise import fields
from tortoise.models import Model


class CompanySetting(Model):
    """One company-wide setting (FOUR_EYES_PAYOUT, risk thresholds …): a key and a JSON value."""

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=64, unique=True)
    value = fields.JSONField(null=True)
    updated_at = fields.DatetimeField()
    updated_by = fields.ForeignKeyField("models.User", related_name="settings_changed", null=True,
                                        on_delete=fields.SET_NULL)

    class Meta:
        table = "company_setting"
