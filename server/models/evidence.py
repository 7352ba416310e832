from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model


class EvidencePackage(Model):
    """One employee's evidence package (证据包): requested, assembled by a job, downloaded.

    The ZIP lives under DATA_DIR/evidence/<id>.zip; `sha256` is the whole ZIP's hash (shown to the
    viewer and written in the audit log), `manifest_sha256` the hash of its manifest.json."""

    id = fields.IntField(primary_key=True)
    employee = fields.ForeignKeyField("models.Employee", related_name="evidence_packages", on_delete=fields.RESTRICT)
    job = fields.ForeignKeyField("models.Job", related_name="evidence_packages", on_delete=fields.RESTRICT)
    requested_by = fields.ForeignKeyField("models.User", related_name="evidence_packages", null=True,
                                          on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField()
    finished_at = fields.DatetimeField(null=True)
    sha256 = fields.CharField(max_length=64, null=True)
    size = fields.BigIntField(null=True)
    manifest_sha256 = fields.CharField(max_length=64, null=True)
    audit_head_id = fields.BigIntField(null=True)
    audit_head_hash = fields.CharField(max_length=64, null=True)
    timestamped = fields.BooleanField(default=False)

    class Meta:
        table = "evidence_package"
        indexes = (
            Index(fields=('employee_id', 'created_at', 'id')),
            Index(fields=('job_id',)),
            Index(fields=('requested_by_id',)),
        )
