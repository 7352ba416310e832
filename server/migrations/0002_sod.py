from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    operations = [
        ops.CreateModel(
            name='CompanySetting',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, max_length=64)),
                ('value', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_by', fields.ForeignKeyField('models.User', source_field='updated_by_id', null=True, db_constraint=True, to_field='id', related_name='settings_changed', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'company_setting', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One company-wide setting (FOUR_EYES_PAYOUT, risk thresholds …): a key and a JSON value.'},
            bases=['Model'],
        ),
    ]
