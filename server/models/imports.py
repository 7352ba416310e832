"""Imports (importCsv), one-time set-password links, and Idempotency-Key records."""

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model


class ImportReport(Model):
    """One importCsv run: what was asked, and (once finished) what it did. Its id is readable by
    `importReport(id)`; a large file runs as a job (`job_id`) and the report is filled when it ends."""

    id = fields.IntField(primary_key=True)
    kind = fields.CharField(max_length=20)
    dry_run = fields.BooleanField(default=False)
    state = fields.CharField(max_length=10, default="QUEUED")  # JobState
    filename = fields.CharField(max_length=200, default="")
    file_sha256 = fields.CharField(max_length=64)
    file_size = fields.BigIntField(default=0)
    encoding = fields.CharField(max_length=20, null=True)
    rows = fields.IntField(default=0)
    created = fields.IntField(default=0)
    updated = fields.IntField(default=0)
    error_count = fields.IntField(default=0)
    # The first MAX_ERRORS errors: [{"row", "column", "message": {"id", "params"}}]
    errors = fields.JSONField(default=list)
    job_id = fields.CharField(max_length=64, null=True)
    created_by = fields.ForeignKeyField("models.User", related_name="import_reports", null=True,
                                        on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField()
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "import_report"
        indexes = (
            Index(fields=('created_by_id', 'created_at', 'id')),
            Index(fields=('created_at', 'id')),
        )


class ImportedLoan(Model):
    """Marks a loan as brought in from the old system (a re-import may match only these)."""

    id = fields.IntField(primary_key=True)
    loan = fields.OneToOneField("models.Loan", related_name="imported", on_delete=fields.CASCADE)
    report = fields.ForeignKeyField("models.ImportReport", related_name="loans", null=True,
                                    on_delete=fields.SET_NULL)
    # sha256 of the row's figures as imported: a re-import with other figures is refused.
    fingerprint = fields.CharField(max_length=64)

    class Meta:
        table = "imported_loan"
        indexes = (Index(fields=('report_id',)),)


class PasswordToken(Model):
    """A one-time set-password link for an account without a usable password (imported accounts).

    Created pending (no token) by the import; `issue` gives it a fresh random token (stored as its
    sha256) valid 7 days, replacing the previous link. Used once."""

    id = fields.IntField(primary_key=True)
    user = fields.ForeignKeyField("models.User", related_name="password_tokens", on_delete=fields.CASCADE)
    report = fields.ForeignKeyField("models.ImportReport", related_name="password_tokens", null=True,
                                    on_delete=fields.SET_NULL)
    token_hash = fields.CharField(max_length=64, null=True, unique=True)
    created_at = fields.DatetimeField()
    issued_at = fields.DatetimeField(null=True)
    expires_at = fields.DatetimeField(null=True)
    used_at = fields.DatetimeField(null=True)

    class Meta:
        table = "password_token"
        indexes = (
            Index(fields=('user_id',)),
            Index(fields=('report_id', 'id')),
        )


class IdempotencyKey(Model):
    """A mutation request's Idempotency-Key, per user: inserted before the mutation runs (the unique
    pair is the lock), completed with the response to replay. Expired after 24 hours."""

    id = fields.BigIntField(primary_key=True)
    user = fields.ForeignKeyField("models.User", related_name="idempotency_keys", on_delete=fields.CASCADE)
    key = fields.CharField(max_length=255)
    fingerprint = fields.CharField(max_length=64)
    status_code = fields.IntField(null=True)
    response = fields.TextField(null=True)
    created_at = fields.DatetimeField()
    completed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "idempotency_key"
        unique_together = (("user", "key"),)
        indexes = (Index(fields=('created_at',)),)
