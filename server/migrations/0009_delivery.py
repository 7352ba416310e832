from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0008_evidence')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Channel',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharField(max_length=16)),
                ('name', fields.CharField(max_length=100)),
                ('target', fields.CharField(max_length=500)),
                ('secret', fields.CharField(null=True, max_length=200)),
                ('enabled', fields.BooleanField(default=True)),
                ('digest_minutes', fields.IntField(default=15)),
                ('include_details', fields.BooleanField(default=False)),
                ('start_alert_id', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='channels_created', on_delete=OnDelete.SET_NULL)),
                ('updated_by', fields.ForeignKeyField('models.User', source_field='updated_by_id', null=True, db_constraint=True, to_field='id', related_name='channels_updated', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'channel', 'app': 'models', 'indexes': [Index(fields=['created_by_id']), Index(fields=['updated_by_id'])], 'pk_attr': 'id', 'table_description': "A destination configured by ADMIN. `target` is the robot's webhook URL (DingTalk, Feishu), its"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Delivery',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharField(max_length=16)),
                ('dedupe_key', fields.CharField(unique=True, max_length=200)),
                ('channel', fields.ForeignKeyField('models.Channel', source_field='channel_id', null=True, db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.SET_NULL)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('address', fields.CharField(null=True, max_length=200)),
                ('notification', fields.ForeignKeyField('models.Notification', source_field='notification_id', null=True, db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('payload', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharField(default='PENDING', max_length=10)),
                ('attempts', fields.IntField(default=0)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_attempt_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('queued_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'delivery', 'app': 'models', 'indexes': [Index(fields=['created_at', 'id']), Index(fields=['status', 'queued_at', 'id']), Index(fields=['channel_id', 'last_attempt_at']), Index(fields=['user_id']), Index(fields=['notification_id'])], 'pk_attr': 'id', 'table_description': 'One message to send: a notification e-mailed to its user, a digest or the audit head to a channel.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DeliveryMark',
            fields=[
                ('name', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('last_id', fields.IntField(default=0)),
            ],
            options={'table': 'delivery_mark', 'app': 'models', 'pk_attr': 'name', 'table_description': 'How far the collector has read a source table (notification, alert): its watermark.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DigestItem',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('channel', fields.ForeignKeyField('models.Channel', source_field='channel_id', db_constraint=True, to_field='id', related_name='digest_items', on_delete=OnDelete.CASCADE)),
                ('alert', fields.ForeignKeyField('models.Alert', source_field='alert_id', db_constraint=True, to_field='id', related_name='digest_items', on_delete=OnDelete.CASCADE)),
                ('delivery', fields.ForeignKeyField('models.Delivery', source_field='delivery_id', null=True, db_constraint=True, to_field='id', related_name='items', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'digest_item', 'app': 'models', 'unique_together': (('channel', 'alert'),), 'indexes': [Index(fields=['alert_id']), Index(fields=['delivery_id']), Index(fields=['channel_id', 'delivery_id'])], 'pk_attr': 'id', 'table_description': "An alert waiting for (or carried by) a channel's digest: unique per channel and alert, so an"},
            bases=['Model'],
        ),
    ]
