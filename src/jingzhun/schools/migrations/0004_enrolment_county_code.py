"""The county code on enrolments (the partition key on PostgreSQL), filled for existing rows."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0008_audit_keyed_chain"),
        ("registry", "0004_person_county_code"),
        ("schools", "0003_national_roll_fields_degree"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="enrolment",
            name="enrolment_natural_key",
        ),
        migrations.RemoveConstraint(
            model_name="enrolment",
            name="enrolment_one_active_per_year",
        ),
        migrations.AddField(
            model_name="enrolment",
            name="county_code",
            field=models.CharField(
                default="", editable=False, max_length=6, verbose_name="county code"
            ),
        ),
        # Existing rows take their county code, set-wise (core/partitions.py says whose).
        migrations.RunSQL(
            "UPDATE schools_enrolment SET county_code = s.county_code FROM schools_student s WHERE s.id = schools_enrolment.student_id",
            migrations.RunSQL.noop,
        ),
        migrations.AlterField(
            model_name="student",
            name="roll_index",
            field=models.CharField(editable=False, max_length=64),
        ),
        migrations.AddConstraint(
            model_name="enrolment",
            constraint=models.UniqueConstraint(
                fields=("student", "school_year", "school", "county_code"),
                name="enrolment_natural_key",
            ),
        ),
        migrations.AddConstraint(
            model_name="enrolment",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status__in", ["enrolled", "suspended"])),
                fields=("student", "school_year", "county_code"),
                name="enrolment_one_active_per_year",
            ),
        ),
        migrations.AddConstraint(
            model_name="student",
            constraint=models.UniqueConstraint(
                fields=("roll_index", "county_code"), name="student_roll_unique"
            ),
        ),
    ]
