"""The county code on entitlements (the partition key on PostgreSQL), filled for existing rows."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("aid", "0004_county_run_base"),
        ("registry", "0004_person_county_code"),
        ("schools", "0004_enrolment_county_code"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="entitlement",
            name="entitlement_once_per_period",
        ),
        migrations.AddField(
            model_name="entitlement",
            name="county_code",
            field=models.CharField(
                default="", editable=False, max_length=6, verbose_name="county code"
            ),
        ),
        # Existing rows take their county code, set-wise (core/partitions.py says whose).
        migrations.RunSQL(
            "UPDATE aid_entitlement SET county_code = substr(village_code, 1, 6)",
            migrations.RunSQL.noop,
        ),
        migrations.AddConstraint(
            model_name="entitlement",
            constraint=models.UniqueConstraint(
                fields=("student", "programme", "school_year", "semester", "county_code"),
                name="entitlement_once_per_period",
            ),
        ),
    ]
