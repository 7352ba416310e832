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

    class Meta:
        table = "api_token"
        # Every foreign key and every list's order and filters (issue 9; tests/scale/test_explain.py).
        indexes = (
            Index(fields=('user_id',)),
        )


class LoginThrottle(Model):
    """Failed logins per username (known or not): a login is refused while locked."""

    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=64, unique=True)
    failures = fields.IntField(default=0)
    window_started_at = fields.DatetimeField()
    locked_until = fields.DatetimeField(null=True)

    class Meta:
        table = "login_throttle"
