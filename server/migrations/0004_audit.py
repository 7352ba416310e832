from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields

# Entries written before this migration were sealed by the old rule (plain SHA-256, no key): they keep
# verifying by it up to this boundary, and every later entry must carry the keyed seal.
BOUNDARY_SQL = (
    "INSERT INTO number_sequence (name, value) "
    "SELECT 'audit_v1_boundary', COALESCE(MAX(id), 0) FROM audit_entry"
)


class Migration(migrations.Migration):
    dependencies = [('models', '0003_ledger')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AuditAnchor',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('head_id', fields.BigIntField()),
                ('head_hash', fields.CharField(max_length=64)),
                ('count', fields.BigIntField()),
                ('boundary_id', fields.BigIntField(default=0)),
                ('key_id', fields.CharField(max_length=16)),
                ('signature', fields.CharField(max_length=64)),
            ],
            options={'table': 'audit_anchor', 'app': 'models', 'pk_attr': 'id', 'table_description': "The chain's head (last id, last hash, count) as a verification run saw it, signed with the audit"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OutboxJob',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('job_id', fields.CharField(unique=True, max_length=64)),
                ('function', fields.CharField(max_length=100)),
                ('args', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('kwargs', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('sent_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ('attempts', fields.IntField(default=0)),
                ('last_error', fields.TextField(null=True, unique=False)),
            ],
            options={'table': 'job_outbox', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A job to hand to the queue, written in the transaction that requested it (the outbox).'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='AuditEntry',
            name='client_request_id',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name='AuditEntry',
            name='key_id',
            field=fields.CharField(null=True, max_length=16),
        ),
        ops.RunSQL(BOUNDARY_SQL, reverse_sql="DELETE FROM number_sequence WHERE name = 'audit_v1_boundary'"),
    ]
