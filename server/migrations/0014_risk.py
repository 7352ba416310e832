from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [('models', '0013_pages')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Alert',
            name='region',
            field=fields.ForeignKeyField('models.Region', source_field='region_id', db_constraint=True, to_field='id', related_name='alerts', null=True, on_delete=OnDelete.CASCADE),
        ),
        ops.AddField(model_name='Alert', name='purpose', field=fields.CharField(null=True, max_length=20)),
        ops.AddField(model_name='Alert', name='paused_until', field=fields.DateField(null=True)),
        ops.AddField(model_name='Alert', name='auto_resolved', field=fields.BooleanField(default=False, null=True)),
        ops.AddField(model_name='Alert', name='score', field=fields.IntField(null=True)),
        ops.AddField(model_name='Alert', name='scorecard_version', field=fields.CharField(null=True, max_length=20)),
        ops.AddIndex(model_name='Alert', index=Index(fields=['region_id'])),
        ops.AddIndex(model_name='Alert', index=Index(fields=['kind', 'resolved_at', 'created_at', 'id'])),
        ops.AddField(
            model_name='BusinessRecord',
            name='created_by',
            field=fields.ForeignKeyField('models.User', source_field='created_by_id', db_constraint=True, to_field='id', related_name='business_records', null=True, on_delete=OnDelete.SET_NULL),
        ),
        ops.AddIndex(model_name='BusinessRecord', index=Index(fields=['employee_id', 'signed_on', 'id'])),
        ops.AddIndex(model_name='BusinessRecord', index=Index(fields=['created_by_id'])),
        ops.CreateModel(
            name='AlertReminder',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('alert', fields.ForeignKeyField('models.Alert', source_field='alert_id', db_constraint=True, to_field='id', related_name='reminders', on_delete=OnDelete.CASCADE)),
                ('employee', fields.ForeignKeyField('models.Employee', source_field='employee_id', db_constraint=True, to_field='id', related_name='alert_reminders', on_delete=OnDelete.CASCADE)),
                ('last_reminded_on', fields.DateField()),
                ('count', fields.IntField(default=1)),
            ],
            options={'table': 'alert_reminder', 'app': 'models', 'unique_together': (('alert', 'employee'),), 'indexes': [Index(fields=['employee_id'])], 'pk_attr': 'id', 'table_description': 'The last reminder one recipient got for one alert: the check-and-set that keeps a repeated or'},
            bases=['Model'],
        ),
    ]
