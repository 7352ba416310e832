from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0004_audit')]

    initial = False

    operations = [
        ops.CreateModel(
            name='LoginCounter',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, max_length=200)),
                ('failures', fields.IntField(default=0)),
                ('window_started', fields.BigIntField()),
                ('locked_until', fields.BigIntField(null=True)),
            ],
            options={'table': 'login_counter', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Failed logins in the current window, per key: "ua:<address> <username>" or "a:<address>".'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='ApiToken',
            name='client_address',
            field=fields.CharField(default='', max_length=64),
        ),
        ops.AddField(
            model_name='ApiToken',
            name='last_used_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='ApiToken',
            name='user_agent',
            field=fields.CharField(default='', max_length=255),
        ),
        ops.AddField(
            model_name='Session',
            name='client_address',
            field=fields.CharField(default='', max_length=64),
        ),
        ops.AddField(
            model_name='Session',
            name='last_used_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Session',
            name='user_agent',
            field=fields.CharField(default='', max_length=255),
        ),
        ops.DeleteModel(name='LoginThrottle'),
    ]
