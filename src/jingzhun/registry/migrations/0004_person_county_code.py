"""The county code on persons (the partition key on PostgreSQL), filled for existing rows."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0003_national_registry_fields"),
    ]

    operations = [
        migrations.AddField(
            model_name="person",
            name="county_code",
            field=models.CharField(
                default="", editable=False, max_length=6, verbose_name="county code"
            ),
        ),
        # Existing rows take their county code, set-wise (core/partitions.py says whose).
        migrations.RunSQL(
            "UPDATE registry_person SET county_code = substr(a.code, 1, 6) FROM registry_household h JOIN registry_area a ON a.id = h.village_id WHERE h.id = registry_person.household_id",
            migrations.RunSQL.noop,
        ),
        migrations.AlterField(
            model_name="person",
            name="id_index",
            field=models.CharField(editable=False, max_length=64, null=True),
        ),
        migrations.AlterField(
            model_name="person",
            name="person_no",
            field=models.CharField(
                blank=True, max_length=40, null=True, verbose_name="person number"
            ),
        ),
        migrations.AddConstraint(
            model_name="person",
            constraint=models.UniqueConstraint(
                fields=("person_no", "county_code"), name="person_no_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="person",
            constraint=models.UniqueConstraint(
                fields=("id_index", "county_code"), name="person_id_unique"
            ),
        ),
    ]
