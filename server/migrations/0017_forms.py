from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [('models', '0016_approvals')]

    initial = False

    operations = [
        ops.AddField(model_name='LedgerEntry', name='method', field=fields.CharField(null=True, max_length=20)),
        ops.AddField(model_name='LedgerEntry', name='paid_on', field=fields.DateField(null=True)),
        ops.AddField(
            model_name='Attachment',
            name='ledger_entry',
            field=fields.ForeignKeyField('models.LedgerEntry', source_field='ledger_entry_id', db_constraint=True, to_field='id', related_name='attachments', null=True, on_delete=OnDelete.RESTRICT),
        ),
        ops.AddIndex(model_name='Attachment', index=Index(fields=['ledger_entry_id'])),
    ]
