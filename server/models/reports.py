from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model


class RiskReport(Model):
    """A monthly loan-risk report (月度借款风险报告), one per month, replaced when regenerated."""

    # `content` holds figures and findings as message ids with parameters (the zh-CN text is the id),
    # so the report is stored in Chinese and rendered in a reader's language on demand.

    id = fields.IntField(primary_key=True)
    month = fields.CharField(max_length=7, unique=True)  # YYYY-MM
    content = fields.JSONField()
    as_of = fields.DateField()  # the company date whose overdue rule the figures use
    generated_at = fields.DatetimeField()
    generated_by = fields.ForeignKeyField("models.User", related_name="risk_reports", null=True,
                                          on_delete=fields.SET_NULL)

    class Meta:
        table = "risk_report"
        indexes = (
            Index(fields=('generated_by_id',)),
        )
