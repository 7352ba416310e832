from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0009_delivery')]

    initial = False

    operations = [
        ops.CreateModel(
            name='IdempotencyKey',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='idempotency_keys', on_delete=OnDelete.CASCADE)),
                ('key', fields.CharField(max_length=255)),
                ('fingerprint', fields.CharField(max_length=64)),
                ('status_code', fields.IntField(null=True)),
                ('response', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('completed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'idempotency_key', 'app': 'models', 'unique_together': (('user', 'key'),), 'indexes': [Index(fields=['created_at'])], 'pk_attr': 'id', 'table_description': "A mutation request's Idempotency-Key, per user: inserted before the mutation runs (the unique"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ImportReport',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharField(max_length=20)),
                ('dry_run', fields.BooleanField(default=False)),
                ('state', fields.CharField(default='QUEUED', max_length=10)),
                ('filename', fields.CharField(default='', max_length=200)),
                ('file_sha256', fields.CharField(max_length=64)),
                ('file_size', fields.BigIntField(default=0)),
                ('encoding', fields.CharField(null=True, max_length=20)),
                ('rows', fields.IntField(default=0)),
                ('created', fields.IntField(default=0)),
                ('updated', fields.IntField(default=0)),
                ('error_count', fields.IntField(default=0)),
                ('errors', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('job_id', fields.CharField(null=True, max_length=64)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='import_reports', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'import_report', 'app': 'models', 'indexes': [Index(fields=['created_by_id', 'created_at', 'id']), Index(fields=['created_at', 'id'])], 'pk_attr': 'id', 'table_description': 'One importCsv run: what was asked, and (once finished) what it did. Its id is readable by'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ImportedLoan',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('loan', fields.OneToOneField('models.Loan', source_field='loan_id', db_constraint=True, to_field='id', related_name='imported', on_delete=OnDelete.CASCADE)),
                ('report', fields.ForeignKeyField('models.ImportReport', source_field='report_id', null=True, db_constraint=True, to_field='id', related_name='loans', on_delete=OnDelete.SET_NULL)),
                ('fingerprint', fields.CharField(max_length=64)),
            ],
            options={'table': 'imported_loan', 'app': 'models', 'indexes': [Index(fields=['report_id'])], 'pk_attr': 'id', 'table_description': 'Marks a loan as brought in from the old system (a re-import may match only these).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PasswordToken',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='password_tokens', on_delete=OnDelete.CASCADE)),
                ('report', fields.ForeignKeyField('models.ImportReport', source_field='report_id', null=True, db_constraint=True, to_field='id', related_name='password_tokens', on_delete=OnDelete.SET_NULL)),
                ('token_hash', fields.CharField(null=True, unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('issued_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'password_token', 'app': 'models', 'indexes': [Index(fields=['user_id']), Index(fields=['report_id', 'id'])], 'pk_attr': 'id', 'table_description': 'A one-time set-password link for an account without a usable password (imported accounts).'},
            bases=['Model'],
        ),
    ]
