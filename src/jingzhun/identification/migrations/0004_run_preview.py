"""A run is a preview until an officer confirms it; add the confirmation and its evidence."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("identification", "0003_roll_duplicates"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="identificationrun",
            name="status",
            field=models.CharField(
                choices=[
                    ("running", "Running"),
                    ("preview", "Preview, not confirmed"),
                    ("done", "Confirmed"),
                    ("discarded", "Discarded"),
                    ("failed", "Failed"),
                ],
                default="running",
                max_length=10,
                verbose_name="status",
            ),
        ),
        migrations.AddField(
            model_name="identificationrun",
            name="confirmed_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="confirmed at"),
        ),
        migrations.AddField(
            model_name="identificationrun",
            name="confirmed_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="confirmed by",
            ),
        ),
        migrations.AddField(
            model_name="identificationrun",
            name="held",
            field=models.BooleanField(default=False, verbose_name="held"),
        ),
        migrations.AddField(
            model_name="identificationrun",
            name="diff",
            field=models.JSONField(blank=True, default=dict, verbose_name="differences"),
        ),
        migrations.AddField(
            model_name="identificationrun",
            name="pending",
            field=models.JSONField(
                blank=True, default=dict, verbose_name="waiting for confirmation"
            ),
        ),
    ]
