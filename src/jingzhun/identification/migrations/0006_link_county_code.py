"""The county code on links (the partition key on PostgreSQL), filled for existing rows."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("identification", "0005_existing_runs_confirmed"),
    ]

    operations = [
        migrations.AddField(
            model_name="link",
            name="county_code",
            field=models.CharField(
                db_index=True, default="", editable=False, max_length=6, verbose_name="county code"
            ),
        ),
        # Existing rows take their county code, set-wise (core/partitions.py says whose).
        migrations.RunSQL(
            "UPDATE identification_link SET county_code = s.county_code FROM schools_student s WHERE s.id = identification_link.student_id",
            migrations.RunSQL.noop,
        ),
    ]
