"""Personal API tokens expire: tokens issued before this get the default 90 days from their creation."""

from datetime import timedelta

from django.db import migrations, models

DEFAULT_DAYS = 90


def expire_existing(apps, schema_editor):
    ApiToken = apps.get_model("dashboard", "ApiToken")
    for token in ApiToken.objects.filter(expires_at__isnull=True).only("pk", "created_at"):
        ApiToken.objects.filter(pk=token.pk).update(expires_at=token.created_at + timedelta(days=DEFAULT_DAYS))


class Migration(migrations.Migration):

    dependencies = [
        ("dashboard", "0005_mfa_secrets_encrypted"),
    ]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.RunPython(expire_existing, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(),
        ),
    ]
