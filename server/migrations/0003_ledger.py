from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_sod')]

    initial = False

    operations = [
        ops.CreateModel(
            name='WriteOffProposal',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('loan', fields.ForeignKeyField('models.Loan', source_field='loan_id', db_constraint=True, to_field='id', related_name='write_off_proposals', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharField(max_length=20)),
                ('reverses', fields.ForeignKeyField('models.LedgerEntry', source_field='reverses_id', null=True, db_constraint=True, to_field='id', related_name='reversal_proposals', on_delete=OnDelete.RESTRICT)),
                ('amount_fen', fields.BigIntField()),
                ('reason', fields.TextField(unique=False)),
                ('status', fields.CharField(db_index=True, max_length=12)),
                ('proposed_by', fields.ForeignKeyField('models.User', source_field='proposed_by_id', null=True, db_constraint=True, to_field='id', related_name='write_off_proposals', on_delete=OnDelete.SET_NULL)),
                ('proposer_employee', fields.ForeignKeyField('models.Employee', source_field='proposer_employee_id', null=True, db_constraint=True, to_field='id', related_name='write_off_proposals', on_delete=OnDelete.SET_NULL)),
                ('proposed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('decided_by', fields.ForeignKeyField('models.User', source_field='decided_by_id', null=True, db_constraint=True, to_field='id', related_name='write_off_decisions', on_delete=OnDelete.SET_NULL)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('comment', fields.TextField(null=True, unique=False)),
                ('entry', fields.ForeignKeyField('models.LedgerEntry', source_field='entry_id', null=True, db_constraint=True, to_field='id', related_name='write_off_approvals', on_delete=OnDelete.RESTRICT)),
            ],
            options={'table': 'write_off_proposal', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A write-off (or the reversal of one) waiting for a second person: FINANCE proposes, an ADMIN'},
            bases=['Model'],
        ),
        ops.AlterModelOptions(
            name='LedgerEntry',
            options={'table': 'ledger_entry', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Append-only (only ever inserted). delta_fen: + for the disbursement, - for offsets and'},
        ),
        ops.AddField(
            model_name='LedgerEntry',
            name='reverses',
            field=fields.ForeignKeyField('models.LedgerEntry', source_field='reverses_id', null=True, db_constraint=True, to_field='id', related_name='reversals', on_delete=OnDelete.RESTRICT),
        ),
    ]
