from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

from server.domain.vocab import EmployeeStatus


class Department(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=32, unique=True)
    name = fields.CharField(max_length=100)

    class Meta:
        table = "department"


class Region(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=32, unique=True)
    name = fields.CharField(max_length=100)

    class Meta:
        table = "region"


class Position(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=32, unique=True)
    name = fields.CharField(max_length=100)
    level = fields.IntField(default=1)
    loan_limit_fen = fields.BigIntField()
    monthly_limit_fen = fields.BigIntField(null=True)
    settle_days = fields.IntField(default=15)
    approval_chain = fields.JSONField(default=list)

    class Meta:
        table = "position"


class Employee(Model):
    id = fields.IntField(primary_key=True)
    employee_no = fields.CharField(max_length=32, unique=True)
    name = fields.CharField(max_length=100)
    department = fields.ForeignKeyField("models.Department", related_name="employees", on_delete=fields.RESTRICT)
    region = fields.ForeignKeyField("models.Region", related_name="employees", on_delete=fields.RESTRICT)
    position = fields.ForeignKeyField("models.Position", related_name="employees", on_delete=fields.RESTRICT)
    supervisor = fields.ForeignKeyField(
        "models.Employee", related_name="reports", null=True, on_delete=fields.SET_NULL
    )
    monthly_salary_fen = fields.BigIntField(default=0)
    hire_date = fields.DateField()
    status = fields.CharField(max_length=16, default=EmployeeStatus.ACTIVE, db_index=True)
    email = fields.CharField(max_length=200, null=True)
    phone = fields.CharField(max_length=40, null=True)
    # Bumped by every money-committing transaction on this employee: the row lock that
    # serializes limit checks and offset reservations (PostgreSQL row lock, SQLite write lock).
    lock_version = fields.BigIntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "employee"
        # Every foreign key and every list's order and filters (issue 9; tests/scale/test_explain.py).
        indexes = (
            Index(fields=('supervisor_id',)),
            Index(fields=('department_id',)),
            Index(fields=('region_id',)),
            Index(fields=('position_id',)),
        )


class BusinessRecord(Model):
    """A signed contract, order or similar: evidence that a loan served real business."""

    id = fields.IntField(primary_key=True)
    employee = fields.ForeignKeyField("models.Employee", related_name="business_records", on_delete=fields.CASCADE)
    kind = fields.CharField(max_length=40)
    reference = fields.CharField(max_length=100)
    amount_fen = fields.BigIntField(default=0)
    signed_on = fields.DateField()
    created_at = fields.DatetimeField(auto_now_add=True)
    created_by = fields.ForeignKeyField("models.User", related_name="business_records", null=True,
                                        on_delete=fields.SET_NULL)

    class Meta:
        table = "business_record"
        unique_together = (("employee", "kind", "reference"),)
        indexes = (
            Index(fields=('employee_id', 'signed_on', 'id')),  # the risk rule's window; the employee page's list
            Index(fields=('created_by_id',)),
        )
