from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0007_i18n')]

    initial = False

    operations = [
        ops.CreateModel(
            name='EvidencePackage',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('employee', fields.ForeignKeyField('models.Employee', source_field='employee_id', db_constraint=True, to_field='id', related_name='evidence_packages', on_delete=OnDelete.RESTRICT)),
                ('job', fields.ForeignKeyField('models.Job', source_field='job_id', db_constraint=True, to_field='id', related_name='evidence_packages', on_delete=OnDelete.RESTRICT)),
                ('requested_by', fields.ForeignKeyField('models.User', source_field='requested_by_id', null=True, db_constraint=True, to_field='id', related_name='evidence_packages', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('sha256', fields.CharField(null=True, max_length=64)),
                ('size', fields.BigIntField(null=True)),
                ('manifest_sha256', fields.CharField(null=True, max_length=64)),
                ('audit_head_id', fields.BigIntField(null=True)),
                ('audit_head_hash', fields.CharField(null=True, max_length=64)),
                ('timestamped', fields.BooleanField(default=False)),
            ],
            options={'table': 'evidence_package', 'app': 'models', 'indexes': [Index(fields=['employee_id', 'created_at', 'id']), Index(fields=['job_id']), Index(fields=['requested_by_id'])], 'pk_attr': 'id', 'table_description': "One employee's evidence package (证据包): requested, assembled by a job, downloaded."},
            bases=['Model'],
        ),
    ]
