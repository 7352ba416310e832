from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0015_inbox')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ApproverDeputy',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('approver', fields.ForeignKeyField('models.Employee', source_field='approver_id', db_constraint=True, to_field='id', related_name='deputies', on_delete=OnDelete.CASCADE)),
                ('deputy', fields.ForeignKeyField('models.Employee', source_field='deputy_id', db_constraint=True, to_field='id', related_name='deputy_for', on_delete=OnDelete.CASCADE)),
                ('starts_on', fields.DateField()),
                ('ends_on', fields.DateField()),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='deputies_named', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('cleared_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'approver_deputy', 'app': 'models', 'indexes': [Index(fields=['approver_id', 'ends_on']), Index(fields=['deputy_id']), Index(fields=['created_by_id'])], 'pk_attr': 'id', 'table_description': 'A deputy named by an approver for a period (issue 12): the SUPERVISOR steps of the approver go to'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LoanExtension',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('loan', fields.ForeignKeyField('models.Loan', source_field='loan_id', db_constraint=True, to_field='id', related_name='extensions', on_delete=OnDelete.CASCADE)),
                ('employee', fields.ForeignKeyField('models.Employee', source_field='employee_id', db_constraint=True, to_field='id', related_name='loan_extensions', on_delete=OnDelete.RESTRICT)),
                ('previous_date', fields.DateField()),
                ('requested_date', fields.DateField()),
                ('reason', fields.TextField(unique=False)),
                ('status', fields.CharField(db_index=True, max_length=20)),
                ('requested_by', fields.ForeignKeyField('models.User', source_field='requested_by_id', null=True, db_constraint=True, to_field='id', related_name='loan_extensions', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'loan_extension', 'app': 'models', 'indexes': [Index(fields=['loan_id', 'created_at', 'id']), Index(fields=['employee_id']), Index(fields=['requested_by_id']), Index(fields=['created_at', 'id'])], 'pk_attr': 'id', 'table_description': 'A settle-date extension (issue 12): the borrower asks to move the expected settle date of a loan and'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='ApprovalStep',
            name='delegated_from',
            field=fields.ForeignKeyField('models.Employee', source_field='delegated_from_id', null=True, db_constraint=True, to_field='id', related_name='delegated_steps', on_delete=OnDelete.SET_NULL),
        ),
        ops.AddField(
            model_name='ApprovalStep',
            name='extension',
            field=fields.ForeignKeyField('models.LoanExtension', source_field='extension_id', null=True, db_constraint=True, to_field='id', related_name='approvals', on_delete=OnDelete.CASCADE),
        ),
        ops.AddIndex(
            model_name='ApprovalStep',
            index=Index(fields=['extension_id', 'order']),
        ),
        ops.AddIndex(
            model_name='ApprovalStep',
            index=Index(fields=['delegated_from_id']),
        ),
    ]
