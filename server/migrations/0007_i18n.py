from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0006_scale')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Loan',
            name='rejection_message',
            field=fields.JSONField(null=True),
        ),
        ops.AddField(
            model_name='Alert',
            name='message_data',
            field=fields.JSONField(null=True),
        ),
        ops.AddField(
            model_name='Notification',
            name='title_data',
            field=fields.JSONField(null=True),
        ),
        ops.AddField(
            model_name='Notification',
            name='body_data',
            field=fields.JSONField(null=True),
        ),
    ]
