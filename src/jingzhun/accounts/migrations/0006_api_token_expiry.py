"""API tokens expire: tokens made before this get created_at + API_TOKEN_DAYS.

The column becomes NOT NULL in 0007 (on PostgreSQL, not in the same transaction as the update).
"""

from datetime import timedelta

from django.conf import settings
from django.db import migrations, models
from django.db.models import F


def set_expiry(apps, schema_editor):
    ApiToken = apps.get_model("accounts", "ApiToken")
    days = int(getattr(settings, "API_TOKEN_DAYS", 30))
    ApiToken.objects.filter(expires_at__isnull=True).update(
        expires_at=F("created_at") + timedelta(days=days)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_staff_member"),
    ]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(null=True, verbose_name="expires at"),
        ),
        migrations.RunPython(set_expiry, migrations.RunPython.noop),
    ]
