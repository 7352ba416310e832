"""Employees' payee bank details (收款账户), for bank transfers of advances and reimbursements."""

from tortoise import fields
from tortoise.models import Model


class PayeeAccount(Model):
    """One per employee. Changed by the employee or HR, audited with the account number masked."""

    id = fields.IntField(primary_key=True)
    employee = fields.OneToOneField("models.Employee", related_name="payee_account", on_delete=fields.CASCADE)
    account_name = fields.CharField(max_length=100)
    account_no = fields.CharField(max_length=40)
    bank = fields.CharField(max_length=100)
    branch = fields.CharField(max_length=100, default="")
    updated_by = fields.ForeignKeyField("models.User", related_name="payee_updates", null=True,
                                        on_delete=fields.SET_NULL, db_index=True)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "payee_account"


class DeductionConsent(Model):
    """The employee's consent to one salary deduction (a ledger entry of kind SALARY_DEDUCTION): a signed note
    recorded by FINANCE or HR, or the employee's own confirmation in Qingkuan. A deduction without one is flagged."""

    id = fields.IntField(primary_key=True)
    entry = fields.OneToOneField("models.LedgerEntry", related_name="consent", on_delete=fields.CASCADE)
    loan = fields.ForeignKeyField("models.Loan", related_name="deduction_consents", on_delete=fields.CASCADE,
                                  db_index=True)
    kind = fields.CharField(max_length=24)
    note = fields.TextField(null=True)
    recorded_by = fields.ForeignKeyField("models.User", related_name="deduction_consents", null=True,
                                         on_delete=fields.SET_NULL, db_index=True)
    recorded_at = fields.DatetimeField()

    class Meta:
        table = "deduction_consent"
