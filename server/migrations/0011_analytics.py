from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [('models', '0010_imports')]

    initial = False

    operations = [
        ops.CreateModel(
            name='RiskReport',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('month', fields.CharField(unique=True, max_length=7)),
                ('content', fields.JSONField()),
                ('as_of', fields.DateField()),
                ('generated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('generated_by', fields.ForeignKeyField('models.User', source_field='generated_by_id',
                                                        db_constraint=True, to_field='id',
                                                        related_name='risk_reports', null=True,
                                                        on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'risk_report', 'app': 'models', 'pk_attr': 'id',
                     'table_description': 'A monthly loan-risk report (月度借款风险报告), one per month, replaced when regenerated.'},
            bases=['Model'],
        ),
        ops.AddIndex(
            model_name='RiskReport',
            index=Index(fields=['generated_by_id']),
        ),
        ops.AddIndex(
            model_name='Loan',
            index=Index(fields=['disbursed_at']),
        ),
    ]
