from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0012_erp')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Notification',
            name='link',
            field=fields.CharField(max_length=300, null=True),
        ),
        ops.CreateModel(
            name='SettleReminder',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('loan', fields.ForeignKeyField('models.Loan', source_field='loan_id', db_constraint=True, to_field='id', related_name='settle_reminders', on_delete=OnDelete.CASCADE)),
                ('due_on', fields.DateField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'settle_reminder', 'app': 'models', 'unique_together': (('loan', 'due_on'),), 'pk_attr': 'id', 'table_description': "One reminder per loan and expected settle date: the daily job's re-runs write nothing (0008)."},
            bases=['Model'],
        ),
        ops.AddIndex(
            model_name='AuditEntry',
            index=Index(fields=['object_type', 'object_id', 'id']),
        ),
        ops.AddIndex(
            model_name='AuditEntry',
            index=Index(fields=['actor', 'id']),
        ),
        ops.AddIndex(
            model_name='AuditEntry',
            index=Index(fields=['at']),
        ),
        ops.CreateModel(
            name='CertificateCode',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('offboarding', fields.OneToOneField('models.Offboarding', source_field='offboarding_id', db_constraint=True, to_field='id', related_name='certificate_code', on_delete=OnDelete.CASCADE)),
                ('code', fields.CharField(unique=True, max_length=32)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'certificate_code', 'app': 'models', 'pk_attr': 'id', 'table_description': "The 离职清款证明's verification code: random and unguessable, unlike the sequential number (0008)."},
            bases=['Model'],
        ),
    ]
