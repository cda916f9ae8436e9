"""Province runs: one identification task per county on the task queue, and its summary."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("identification", "0006_link_county_code"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ProvinceRun",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("province", models.CharField(db_index=True, max_length=2, verbose_name="province code")),
                ("as_of", models.DateField(verbose_name="as of")),
                ("started_at", models.DateTimeField(auto_now_add=True, verbose_name="started at")),
                ("finished_at", models.DateTimeField(blank=True, null=True, verbose_name="finished at")),
                (
                    "started_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="started by",
                    ),
                ),
            ],
            options={
                "verbose_name": "province run",
                "verbose_name_plural": "province runs",
                "ordering": ["-id"],
            },
        ),
        migrations.CreateModel(
            name="ProvinceCountyRun",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("county_code", models.CharField(max_length=6, verbose_name="county code")),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("queued", "Queued"),
                            ("running", "Running"),
                            ("confirmed", "Confirmed"),
                            ("unchanged", "Unchanged since the current run"),
                            ("held", "Held for an officer"),
                            ("failed", "Failed"),
                        ],
                        default="queued",
                        max_length=10,
                        verbose_name="state",
                    ),
                ),
                ("task_id", models.CharField(blank=True, max_length=64, verbose_name="task id")),
                ("counts", models.JSONField(blank=True, default=dict, verbose_name="counts")),
                ("error", models.TextField(blank=True, verbose_name="error")),
                ("started_at", models.DateTimeField(blank=True, null=True, verbose_name="started at")),
                ("finished_at", models.DateTimeField(blank=True, null=True, verbose_name="finished at")),
                (
                    "province_run",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="counties",
                        to="identification.provincerun",
                        verbose_name="province run",
                    ),
                ),
                (
                    "run",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="identification.identificationrun",
                        verbose_name="run",
                    ),
                ),
            ],
            options={
                "verbose_name": "county of a province run",
                "verbose_name_plural": "counties of a province run",
                "ordering": ["county_code"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("province_run", "county_code"), name="province_run_county_once"
                    )
                ],
            },
        ),
    ]
