from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0014_risk')]

    initial = False

    operations = [
        ops.RemoveIndex(
            model_name='ApprovalStep',
            name=None,
            fields=['decided_by_id'],
        ),
        ops.AddIndex(
            model_name='ApprovalStep',
            index=Index(fields=['decided_by_id', 'loan_id']),
        ),
        ops.AddIndex(
            model_name='ApprovalStep',
            index=Index(fields=['decided_by_id', 'reimbursement_id']),
        ),
    ]
