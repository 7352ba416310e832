"""Issue 9 (scale): an index for every foreign key and for every list's order and filters."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0005_accounts')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Alert',
            index=Index(fields=['employee_id', 'created_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Alert',
            index=Index(fields=['loan_id']),
        ),
        ops.AddIndex(
            model_name='Alert',
            index=Index(fields=['position_id']),
        ),
        ops.AddIndex(
            model_name='Alert',
            index=Index(fields=['resolved_by_id']),
        ),
        ops.AddIndex(
            model_name='Alert',
            index=Index(fields=['created_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Alert',
            index=Index(fields=['resolved_at', 'created_at', 'id']),
        ),
        ops.AddIndex(
            model_name='AlertRecipient',
            index=Index(fields=['employee_id']),
        ),
        ops.AddIndex(
            model_name='ApiToken',
            index=Index(fields=['user_id']),
        ),
        ops.AddIndex(
            model_name='ApprovalStep',
            index=Index(fields=['loan_id', 'order']),
        ),
        ops.AddIndex(
            model_name='ApprovalStep',
            index=Index(fields=['reimbursement_id', 'order']),
        ),
        ops.AddIndex(
            model_name='ApprovalStep',
            index=Index(fields=['approver_id']),
        ),
        ops.AddIndex(
            model_name='ApprovalStep',
            index=Index(fields=['decided_by_id']),
        ),
        ops.AddIndex(
            model_name='ApprovalStep',
            index=Index(fields=['is_current', 'role']),
        ),
        ops.AddIndex(
            model_name='Attachment',
            index=Index(fields=['loan_id']),
        ),
        ops.AddIndex(
            model_name='Attachment',
            index=Index(fields=['expense_line_id']),
        ),
        ops.AddIndex(
            model_name='Attachment',
            index=Index(fields=['uploaded_by_id']),
        ),
        ops.AddIndex(
            model_name='Employee',
            index=Index(fields=['supervisor_id']),
        ),
        ops.AddIndex(
            model_name='Employee',
            index=Index(fields=['department_id']),
        ),
        ops.AddIndex(
            model_name='Employee',
            index=Index(fields=['region_id']),
        ),
        ops.AddIndex(
            model_name='Employee',
            index=Index(fields=['position_id']),
        ),
        ops.AddIndex(
            model_name='ExpenseLine',
            index=Index(fields=['reimbursement_id', 'order', 'id']),
        ),
        ops.AddIndex(
            model_name='Job',
            index=Index(fields=['created_by_id']),
        ),
        ops.AddIndex(
            model_name='LedgerEntry',
            index=Index(fields=['loan_id', 'recorded_at', 'id']),
        ),
        ops.AddIndex(
            model_name='LedgerEntry',
            index=Index(fields=['reimbursement_id']),
        ),
        ops.AddIndex(
            model_name='LedgerEntry',
            index=Index(fields=['recorded_by_id']),
        ),
        ops.AddIndex(
            model_name='Loan',
            index=Index(fields=['created_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Loan',
            index=Index(fields=['employee_id', 'created_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Loan',
            index=Index(fields=['status', 'created_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Loan',
            index=Index(fields=['status', 'expected_settle_date', 'id']),
        ),
        ops.AddIndex(
            model_name='Notification',
            index=Index(fields=['user_id', 'created_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Notification',
            index=Index(fields=['alert_id']),
        ),
        ops.AddIndex(
            model_name='Offboarding',
            index=Index(fields=['employee_id']),
        ),
        ops.AddIndex(
            model_name='Offboarding',
            index=Index(fields=['created_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Offboarding',
            index=Index(fields=['status', 'created_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Offboarding',
            index=Index(fields=['started_by_id']),
        ),
        ops.AddIndex(
            model_name='Offboarding',
            index=Index(fields=['cleared_by_id']),
        ),
        ops.AddIndex(
            model_name='Offboarding',
            index=Index(fields=['cleared_by_user_id']),
        ),
        ops.AddIndex(
            model_name='Reimbursement',
            index=Index(fields=['created_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Reimbursement',
            index=Index(fields=['employee_id', 'created_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Reimbursement',
            index=Index(fields=['status', 'created_at', 'id']),
        ),
        ops.AddIndex(
            model_name='ReimbursementOffset',
            index=Index(fields=['reimbursement_id']),
        ),
        ops.AddIndex(
            model_name='ReimbursementOffset',
            index=Index(fields=['loan_id']),
        ),
        ops.AddIndex(
            model_name='Session',
            index=Index(fields=['user_id']),
        ),
    ]
