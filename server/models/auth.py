from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model


class User(Model):
    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=64, unique=True)
    password_hash = fields.CharField(max_length=255)
    roles = fields.JSONField(default=list)
    employee = fields.OneToOneField("models.Employee", related_name="user", null=True, on_delete=fields.SET_NULL)
    is_active = fields.BooleanField(default=True)
    locale = fields.CharField(max_length=8, default="zh_CN")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "app_user"


class Session(Model):
    """A browser session: the cookie holds a random key, the database only its sha256."""

    id = fields.IntField(primary_key=True)
    key_hash = fields.CharField(max_length=64, unique=True)
    user = fields.ForeignKeyField("models.User", related_name="sessions", on_delete=fields.CASCADE)
    csrf_token = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)
    # Shown on the account's security page; last_used_at is refreshed at most once a minute.
    last_used_at = fields.DatetimeField(null=True)
    user_agent = fields.CharField(max_length=255, default="")
    client_address = fields.CharField(max_length=64, default="")

    class Meta:
        table = "session"
        # Every foreign key and every list's order and filters (issue 9; tests/scale/test_explain.py).
        indexes = (
            Index(fields=('user_id',)),
        )


class ApiToken(Model):
    """A bearer token from `login`: stored hashed, revocable."""

    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    user = fields.ForeignKeyField("models.User", related_name="tokens", on_delete=fields.CASCADE)
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)
    last_used_at = fields.DatetimeField(null=True)
    user_agent = fields.CharField(max_length=255, default="")
    client_address = fields.CharField(max_length=64, default="")

    class Meta:
        table = "api_token"
        # Every foreign key and every list's order and filters (issue 9; tests/scale/test_explain.py).
        indexes = (
            Index(fields=('user_id',)),
        )


class LoginCounter(Model):
    """Failed logins in the current window, per key: "ua:<address> <username>" or "a:<address>".

    Counted by one INSERT ... ON CONFLICT DO UPDATE ... RETURNING (server/services/org.py), so
    concurrent failures all count. Times are Unix seconds: the SQL compares plain integers on
    SQLite and PostgreSQL alike.
    """

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=200, unique=True)
    failures = fields.IntField(default=0)
    window_started = fields.BigIntField()
    locked_until = fields.BigIntField(null=True)

    class Meta:
        table = "login_counter"
