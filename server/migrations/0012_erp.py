"""Issue 15 part B (erp): outgoing webhooks, payee bank details, salary-deduction consent."""

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0011_analytics')]

    initial = False

    operations = [
        ops.CreateModel(
            name='DeductionConsent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('entry', fields.OneToOneField('models.LedgerEntry', source_field='entry_id', db_constraint=True, to_field='id', related_name='consent', on_delete=OnDelete.CASCADE)),
                ('loan', fields.ForeignKeyField('models.Loan', source_field='loan_id', db_index=True, db_constraint=True, to_field='id', related_name='deduction_consents', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=24)),
                ('note', fields.TextField(null=True, unique=False)),
                ('recorded_by', fields.ForeignKeyField('models.User', source_field='recorded_by_id', null=True, db_index=True, db_constraint=True, to_field='id', related_name='deduction_consents', on_delete=OnDelete.SET_NULL)),
                ('recorded_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'deduction_consent', 'app': 'models', 'pk_attr': 'id', 'table_description': "The employee's consent to one salary deduction (a ledger entry of kind SALARY_DEDUCTION): a signed note"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PayeeAccount',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('employee', fields.OneToOneField('models.Employee', source_field='employee_id', db_constraint=True, to_field='id', related_name='payee_account', on_delete=OnDelete.CASCADE)),
                ('account_name', fields.CharField(max_length=100)),
                ('account_no', fields.CharField(max_length=40)),
                ('bank', fields.CharField(max_length=100)),
                ('branch', fields.CharField(default='', max_length=100)),
                ('updated_by', fields.ForeignKeyField('models.User', source_field='updated_by_id', null=True, db_index=True, db_constraint=True, to_field='id', related_name='payee_updates', on_delete=OnDelete.SET_NULL)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'payee_account', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One per employee. Changed by the employee or HR, audited with the account number masked.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookEndpoint',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('url', fields.CharField(max_length=500)),
                ('secret', fields.CharField(max_length=100)),
                ('events', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('enabled', fields.BooleanField(default=True)),
                ('description', fields.CharField(default='', max_length=200)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='webhook_endpoints', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'webhook_endpoint', 'app': 'models', 'indexes': [Index(fields=['created_by_id'])], 'pk_attr': 'id', 'table_description': "A receiver's URL. `secret` signs every request, and it never leaves the server after creation"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookEvent',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('type', fields.CharField(db_index=True, max_length=40)),
                ('payload', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('audit_entry_id', fields.BigIntField(null=True, unique=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'webhook_event', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One announced change. `id` is the UUID a receiver de-duplicates by (at-least-once delivery).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WebhookDelivery',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('endpoint', fields.ForeignKeyField('models.WebhookEndpoint', source_field='endpoint_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('event', fields.ForeignKeyField('models.WebhookEvent', source_field='event_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('status', fields.CharField(max_length=10)),
                ('attempts', fields.IntField(default=0)),
                ('last_status_code', fields.IntField(null=True)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('last_attempt_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('next_attempt_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('delivered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('replay_of', fields.ForeignKeyField('models.WebhookDelivery', source_field='replay_of_id', null=True, db_constraint=True, to_field='id', related_name='replays', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'webhook_delivery', 'app': 'models', 'indexes': [Index(fields=['endpoint_id', 'created_at', 'id']), Index(fields=['event_id']), Index(fields=['status', 'next_attempt_at']), Index(fields=['created_at', 'id']), Index(fields=['replay_of_id'])], 'pk_attr': 'id', 'table_description': 'One event to one endpoint: its attempts so far and what the last one got back. A replay is a'},
            bases=['Model'],
        ),
    ]
